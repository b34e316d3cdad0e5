"""
Shutdown (spec §1, §3): services stopped at once, jobs joined for joinsecs,
tendd exits only when every child is reaped; critical programs; tendd killed
abruptly (PDEATHSIG for services, jobs run on); priority order.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (TENDCTL, alive, exists, holds_for, holds_open,
                      read_records, wait_for)


def first_pid(path, timeout=5):
    return wait_for(lambda: read_records(path) and read_records(path)[0][0],
                    timeout, what="a record in %s" % path)


@pytest.mark.parametrize("how", ["TERM", "INT", "QUIT", "tendctl"])
def test_shutdown_stops_services_and_joins_jobs(tend, how):
    """The service is stopped at once; the job is joined: it runs on until
    the test lets it finish (a FIFO barrier), and tendd exits after it."""
    srec, jrec, jdone = tend.path("srec"), tend.path("jrec"), tend.path("jdone")
    fifo = tend.path("barrier")
    os.mkfifo(fifo)
    # Held open by the test: the job's open() returns at once, and its
    # read sees EOF only once this descriptor is closed.
    wfd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        tend.write_config(f"""
            [program:svc]
            command = {tend.helper("sleeper", "--record", srec)}
            startsecs = 0
            [program:job]
            command = {tend.helper("exitwith", 0, "--barrier", fifo,
                                   "--record", jrec, "--done", jdone)}
            daemon = false
            startsecs = 0
            joinsecs = 30
        """)
        tend.start()
        spid, jpid = first_pid(srec), first_pid(jrec)
        # The job opens the barrier after its record: closed before that,
        # it would never release it.
        wait_for(lambda: holds_open(jpid, fifo), what="the job on the barrier")
        tend.wait_state("svc", "RUNNING")
        ctl = None
        if how == "tendctl":
            # tendctl shutdown may wait for tendd to exit: run it aside.
            ctl = subprocess.Popen([str(TENDCTL), "-s", str(tend.sock),
                                    "shutdown"], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        else:
            tend.signal(getattr(signal, "SIG" + how))
        # The service is stopped at once: while the job still runs ...
        wait_for(lambda: not alive(spid), what="the service stopped")
        assert alive(jpid), "the job was not joined: it died with the service"
        # ... and tendd waits for the job.
        assert tend.proc.poll() is None, "tendd did not wait for the job"
        assert read_records(jdone) == []
        assert ("job", "RUNNING", "STOPPING") not in tend.transitions("job")
    finally:
        os.close(wfd)           # the job may finish now
    rc = tend.wait_exit()
    assert rc == 0, "tendd exited %d after a requested shutdown" % rc
    # The job finished by itself (exit 0, not a signal), before tendd exited.
    assert [r[0] for r in read_records(jdone)] == [jpid]
    assert ("job", "RUNNING", "EXITED") in tend.transitions("job"), \
        tend.transitions("job")
    # Every child was reaped before tendd exited.
    assert not exists(spid) and not exists(jpid)
    if ctl is not None:
        out, err = ctl.communicate(timeout=15)
        assert ctl.returncode == 0, (ctl.returncode, out, err)


def test_job_exceeding_joinsecs_is_stopped(tend):
    jrec, jdone = tend.path("jrec"), tend.path("jdone")
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("exitwith", 0, "--after", 30,
                               "--record", jrec, "--done", jdone)}
        daemon = false
        startsecs = 0
        joinsecs = 1
        stopwaitsecs = 5
    """)
    tend.start()
    jpid = first_pid(jrec)
    tend.wait_state("job", "RUNNING")
    t0 = time.monotonic()
    tend.signal(signal.SIGTERM)
    rc = tend.wait_exit()
    took = time.monotonic() - t0
    assert rc == 0
    # Joined for joinsecs = 1 first, then stopped for it.
    assert took >= 0.9, took
    assert read_records(jdone) == [], "the job was not stopped"
    assert not exists(jpid)
    log = tend.log()
    joined = log.index("job: not finished after joinsecs=1s; stopping")
    assert joined < log.index("job: RUNNING -> STOPPING"), log
    tr = [(o, n) for _, o, n in tend.transitions("job")]
    assert tr[-2:] == [("RUNNING", "STOPPING"), ("STOPPING", "STOPPED")], tr


def test_tendd_exits_only_after_children_are_reaped(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:stubborn]
        command = {tend.helper("sleeper", "--ignore-term", "--record", rec)}
        startsecs = 0
        stopwaitsecs = 2
    """)
    tend.start()
    pid = first_pid(rec)
    tend.wait_state("stubborn", "RUNNING")
    t0 = time.monotonic()
    tend.signal(signal.SIGTERM)
    rc = tend.wait_exit(timeout=8)
    took = time.monotonic() - t0
    assert rc == 0
    assert took >= 1.6, "tendd exited before stopwaitsecs: %.2fs" % took
    # Reaped by tendd itself: not alive, not a zombie left to init.
    assert not exists(pid), "child %d left behind (state %s)" % (
        pid, open("/proc/%d/stat" % pid).read().split()[2]
        if exists(pid) else "-")


def test_shutdown_order_is_reverse_priority(tend):
    tend.write_config(f"""
        [program:low]
        command = {tend.helper("sleeper")}
        priority = 100
        startsecs = 0
        [program:high]
        command = {tend.helper("sleeper")}
        priority = 300
        startsecs = 0
        [program:mid]
        command = {tend.helper("sleeper")}
        priority = 200
        startsecs = 0
    """)
    tend.start()
    for n in ("low", "mid", "high"):
        tend.wait_state(n, "RUNNING")
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0
    order = [name for name, old, new in tend.transitions()
             if new == "STOPPING"]
    assert order == ["high", "mid", "low"], order


def test_critical_fatal_stops_everything_and_exits_1(tend):
    """(vital's startsecs: it ends within it however late it gets to run,
    a failed start; svc's pid is tendd's, since svc may be stopped before
    its helper has run.)"""
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:vital]
        command = {tend.helper("exitwith", 1, "--after", 0.5)}
        startsecs = 10
        startretries = 1
        critical = true
    """)
    proc = tend.spawn_tendd()
    tend.proc, tend.pid = proc, proc.pid
    spid = int(wait_for(lambda: re.search(r"svc: NEW -> STARTING \(pid (\d+)",
                                          tend.log()), 5,
                        what="svc's spawn in the log").group(1))
    rc = tend.wait_exit(timeout=10)
    assert rc == 1, "tendd exited %d after a critical FATAL" % rc
    assert not exists(spid), "the other service was not stopped and reaped"
    tr = tend.transitions("vital")
    assert tr and tr[-1][2] == "FATAL", tr
    assert ("svc", "RUNNING", "STOPPING") in tend.transitions("svc")


def test_critical_spawn_error_exits_1(tend):
    tend.write_config("""
        [program:vital]
        command = /nonexistent/tend-critical
        critical = true
    """)
    proc = tend.spawn_tendd()
    tend.proc, tend.pid = proc, proc.pid
    assert tend.wait_exit(timeout=10) == 1
    assert "cannot execute /nonexistent/tend-critical" in tend.log()


def test_noncritical_fatal_keeps_tendd_running(tend):
    tend.write_config("""
        [program:broken]
        command = /nonexistent/tend-broken
    """)
    tend.start()
    tend.wait_state("broken", "FATAL")
    holds_for(lambda: tend.proc.poll() is None, 1.0, what="tendd runs on")


def test_sigkill_of_tendd_kills_services_not_jobs(tend):
    srec, jrec = tend.path("srec"), tend.path("jrec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper", "--record", srec)}
        startsecs = 0
        [program:job]
        command = {tend.helper("sleeper", "--record", jrec)}
        daemon = false
        startsecs = 0
    """)
    tend.start()
    spid, jpid = first_pid(srec), first_pid(jrec)
    tend.track(spid, jpid)
    tend.wait_state("svc", "RUNNING")
    tend.wait_state("job", "RUNNING")
    tend.signal(signal.SIGKILL)
    tend.wait_exit(timeout=5)
    wait_for(lambda: not alive(spid), 3,
             what="the service to die with tendd (parent-death signal)")
    holds_for(lambda: alive(jpid), 1.0, what="the job runs on")
    os.kill(jpid, signal.SIGKILL)
    # The socket file left behind is stale: a new tendd replaces it.
    assert tend.sock.exists()
    tend.start()
    tend.wait_state("svc", "RUNNING")


def test_shutdown_refuses_new_starts_and_exits_cleanly_with_backoff(tend):
    # A process waiting in BACKOFF must not be respawned during shutdown.
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:flaky]
        command = {tend.helper("exitwith", 1, "--record", rec)}
        startsecs = 1
        startretries = 10
    """)
    tend.start()
    tend.wait_state("flaky", "BACKOFF")
    n = len(read_records(rec))
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit(timeout=5) == 0
    assert len(read_records(rec)) == n


def test_shutdown_sends_sigcont_to_a_stopped_service(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 0
        stopwaitsecs = 10
    """)
    tend.start()
    pid = first_pid(rec)
    tend.wait_state("svc", "RUNNING")
    os.kill(pid, signal.SIGSTOP)
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0
    # Dead of the SIGTERM (SIGCONT let it act on it), not of the SIGKILL
    # after stopwaitsecs.
    assert "svc: STOPPING -> STOPPED (killed by SIGTERM)" in tend.log(), \
        tend.log()
    assert "svc: still running" not in tend.log(), tend.log()
    assert not exists(pid)


def test_no_new_starts_while_shutting_down(tend):
    jrec = tend.path("jrec")
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("exitwith", 0, "--after", 2.5, "--record", jrec)}
        daemon = false
        startsecs = 0
        [program:idle]
        command = {tend.helper("sleeper")}
        autostart = false
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    first_pid(jrec)
    tend.wait_state("svc", "RUNNING")
    tend.signal(signal.SIGTERM)
    tend.wait_state("svc", "STOPPED", timeout=2)     # shutdown has begun
    # Still serving while it joins the job, but starting nothing new.
    st = tend.status()
    assert st["job"]["state"] == "RUNNING"
    r = tend.request("start", names=["idle"])
    assert r["ok"] is False and r["error"]["code"] == "shutting_down", r
    assert tend.proc_status("idle")["state"] == "NEW"
    assert tend.wait_exit(timeout=8) == 0


def test_shutdown_with_nothing_running_still_replies(tend):
    """tendd exits in the very callback that queued the reply: the reply
    must still be written before it closes the connection."""
    tend.write_config(f"""
        [program:idle]
        command = {tend.helper("sleeper")}
        autostart = false
    """)
    tend.start()
    rc, out, err = tend.ctl("shutdown")
    assert (rc, out.strip()) == (0, "Shut down"), (rc, out, err)
    assert tend.wait_exit(timeout=5) == 0
