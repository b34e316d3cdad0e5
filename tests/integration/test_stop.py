"""
Stopping (spec §1, §4): a user's stop is never followed by a restart,
stopsignal, stopwaitsecs escalation to SIGKILL, stopasgroup/killasgroup.
"""
import os
import signal
import subprocess
import time

from conftest import (TENDCTL, alive, exists, forker_pids, holds_for,
                      proc_stat, read_records, wait_for)


def test_stop_is_never_followed_by_restart(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 1
        autorestart = true
    """)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING", timeout=5)["pid"]
    rc, out, err = tend.ctl("stop", "svc")
    assert rc == 0, (rc, out, err)
    p = tend.proc_status("svc")
    assert p["state"] == "STOPPED", p
    assert p["pid"] is None
    assert not alive(pid)
    # Past any restart delay: still STOPPED, still one spawn.
    holds_for(lambda: tend.proc_status("svc")["state"] == "STOPPED" and
              len(read_records(rec)) == 1, 2.5, what="STOPPED, no respawn")
    # start after stop works.
    rc, out, err = tend.ctl("start", "svc")
    assert rc == 0, (rc, out, err)
    p = tend.wait_state("svc", "RUNNING", timeout=3)
    assert p["pid"] != pid
    assert len(read_records(rec)) == 2


def test_stop_in_backoff_cancels_the_restart(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:flaky]
        command = {tend.helper("exitwith", 1, "--record", rec)}
        startsecs = 1
        startretries = 10
    """)
    tend.start()
    wait_for(lambda: len(read_records(rec)) >= 2, 5, what="a retry")
    tend.wait_state("flaky", "BACKOFF", timeout=5)
    rc, out, err = tend.ctl("stop", "flaky")
    assert rc == 0, (rc, out, err)
    n = len(read_records(rec))
    tend.wait_state("flaky", "STOPPED", timeout=2)
    holds_for(lambda: tend.proc_status("flaky")["state"] == "STOPPED" and
              len(read_records(rec)) == n, 3.0,
              what="the pending retry is cancelled")


def test_stop_while_starting_is_stopped(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:slow]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 60
    """)
    tend.start()
    tend.wait_state("slow", "STARTING", timeout=3)
    rc, out, err = tend.ctl("stop", "slow")
    assert rc == 0, (rc, out, err)
    tend.wait_state("slow", "STOPPED", timeout=2)
    assert ("slow", "STARTING", "STOPPING") in tend.transitions("slow")
    holds_for(lambda: tend.proc_status("slow")["state"] == "STOPPED" and
              len(read_records(rec)) == 1, 1.5, what="no respawn")


def test_stopsignal_is_used(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        stopsignal = INT
    """)
    tend.start()
    tend.wait_state("svc", "RUNNING", timeout=5)
    rc, out, err = tend.ctl("stop", "svc")
    assert rc == 0, (rc, out, err)
    p = tend.wait_state("svc", "STOPPED", timeout=2)
    assert p["exitcode"] == -2, p


def test_stopwaitsecs_escalates_to_sigkill(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:stubborn]
        command = {tend.helper("sleeper", "--ignore-term", "--record", rec)}
        startsecs = 0
        stopwaitsecs = 2
    """)
    tend.start()
    pid = tend.wait_state("stubborn", "RUNNING", timeout=5)["pid"]
    t0 = time.monotonic()
    rc, out, err = tend.ctl("stop", "stubborn")
    took = time.monotonic() - t0
    assert rc == 0, (rc, out, err)
    # Not before stopwaitsecs; then SIGKILL, by the stopwaitsecs timer.
    assert took >= 1.9, took
    assert "stubborn: still running 2s after SIGTERM; sending SIGKILL" \
        in tend.log(), tend.log()
    p = tend.proc_status("stubborn")
    assert p["state"] == "STOPPED", p
    assert p["exitcode"] == -9, p
    assert not exists(pid), "the killed child was not reaped"
    # Each state change is logged once.
    tr = [(o, n) for _, o, n in tend.transitions("stubborn")]
    assert tr == [("NEW", "STARTING"), ("STARTING", "RUNNING"),
                  ("RUNNING", "STOPPING"), ("STOPPING", "STOPPED")], tr


def test_stop_waits_without_blocking_tendd(tend):
    """While `tendctl stop` waits out stopwaitsecs, tendd answers others and
    shows STOPPING. (stopwaitsecs is long: the test ends the wait itself,
    by killing the process, once it has seen what it must.)"""
    tend.write_config(f"""
        [program:stubborn]
        command = {tend.helper("sleeper", "--ignore-term")}
        startsecs = 0
        stopwaitsecs = 60
        [program:other]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    pid = tend.wait_state("stubborn", "RUNNING", timeout=5)["pid"]
    ctl = subprocess.Popen([str(TENDCTL), "-s", str(tend.sock), "stop",
                            "stubborn"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p = tend.wait_state("stubborn", "STOPPING")
        assert p["pid"] == pid
        # Others are served while that stop waits.
        assert tend.proc_status("other")["state"] == "RUNNING"
        assert tend.request("stop", names=["other"])["ok"]
        assert tend.proc_status("other")["state"] == "STOPPED"
        assert tend.proc_status("stubborn")["state"] == "STOPPING"
        assert ctl.poll() is None, "tendctl stop returned before the end"
        os.kill(pid, signal.SIGKILL)        # the end of the wait
        out, err = ctl.communicate(timeout=15)
        assert ctl.returncode == 0, (ctl.returncode, out, err)
        p = tend.proc_status("stubborn")
        assert p["state"] == "STOPPED" and p["exitcode"] == -9, p
    finally:
        if ctl.poll() is None:
            ctl.kill()
            ctl.wait()


def test_stopasgroup_stops_the_grandchild(tend):
    pf = tend.path("pids")
    tend.write_config(f"""
        [program:grp]
        command = {tend.helper("forker", "--pidfile", pf)}
        startsecs = 0
        stopasgroup = true
    """)
    tend.start()
    tend.wait_state("grp", "RUNNING", timeout=5)
    leader, child = forker_pids(pf)
    tend.track(leader, child)
    assert proc_stat(child)[2] == leader, "grandchild not in the leader's pgrp"
    rc, out, err = tend.ctl("stop", "grp")
    assert rc == 0, (rc, out, err)
    wait_for(lambda: not alive(child), 3, what="the grandchild to die")
    # tendd is a subreaper: the grandchild is reaped, not left a zombie.
    wait_for(lambda: not exists(child), 3, what="the grandchild to be reaped")
    assert not exists(leader)


def test_without_stopasgroup_the_grandchild_survives(tend):
    pf = tend.path("pids")
    tend.write_config(f"""
        [program:grp]
        command = {tend.helper("forker", "--pidfile", pf)}
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("grp", "RUNNING", timeout=5)
    leader, child = forker_pids(pf)
    tend.track(leader, child)
    rc, out, err = tend.ctl("stop", "grp")
    assert rc == 0, (rc, out, err)
    wait_for(lambda: not exists(leader), 3, what="the leader to be reaped")
    holds_for(lambda: alive(child), 1.0, what="the grandchild survives")
    # Reparented to tendd, the child subreaper.
    assert proc_stat(child)[1] == tend.pid
    os.kill(child, 9)
    wait_for(lambda: not exists(child), 3,
             what="tendd to reap the orphaned grandchild")


def test_killasgroup_kills_the_group_after_stopwaitsecs(tend):
    pf = tend.path("pids")
    tend.write_config(f"""
        [program:grp]
        command = {tend.helper("forker", "--pidfile", pf, "--ignore-term")}
        startsecs = 0
        stopwaitsecs = 1
        killasgroup = true
    """)
    tend.start()
    tend.wait_state("grp", "RUNNING", timeout=5)
    leader, child = forker_pids(pf)
    tend.track(leader, child)
    t0 = time.monotonic()
    rc, out, err = tend.ctl("stop", "grp")
    took = time.monotonic() - t0
    assert rc == 0, (rc, out, err)
    # Not before stopwaitsecs; then the whole group gets SIGKILL.
    assert took >= 0.9, took
    assert "grp: still running 1s after SIGTERM; sending SIGKILL" \
        in tend.log(), tend.log()
    assert tend.proc_status("grp")["exitcode"] == -9
    wait_for(lambda: not alive(child), 2, what="the grandchild killed")
    wait_for(lambda: not exists(child), 3, what="the grandchild reaped")


def test_restart_gives_a_new_process(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 0
    """)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING", timeout=5)["pid"]
    rc, out, err = tend.ctl("restart", "svc")
    assert rc == 0, (rc, out, err)
    p = tend.wait_state("svc", "RUNNING", timeout=3)
    assert p["pid"] != pid and not exists(pid)
    assert [r[0] for r in read_records(rec)] == [pid, p["pid"]]


def test_stop_of_a_sigstopped_child_sends_sigcont(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        stopwaitsecs = 10
    """)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING", timeout=5)["pid"]
    os.kill(pid, signal.SIGSTOP)
    wait_for(lambda: proc_stat(pid)[0] == "T", 2, what="the child stopped")
    rc, out, err = tend.ctl("stop", "svc")
    assert rc == 0, (rc, out, err)
    # Dead of SIGTERM (-15): SIGCONT let it act on it; it did not wait
    # for the SIGKILL after stopwaitsecs.
    p = tend.proc_status("svc")
    assert p["state"] == "STOPPED" and p["exitcode"] == -15, p
    assert "svc: still running" not in tend.log(), tend.log()
