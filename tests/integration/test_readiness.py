"""
Readiness (spec §2: ready, ready_timeout, watchdog_secs, pidfile): notify
programs are STARTING until READY=1 (startsecs does not apply), a silent
one is a failed start, a silent watchdog is a restart; self-daemonizing
programs are supervised through their pidfile.
"""
import os
import signal
import socket
import time

from conftest import alive, exists, holds_for, read_records, wait_for


def records(path, tag):
    return [(pid, t) for pid, t, g in read_records(path) if g == tag]


def test_notify_program_is_starting_until_ready(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:slow]
        command = {tend.helper("notifier", "--record", rec,
                               "--status", "warming up", "--ready-after", 1.5,
                               "--ready-status", "serving requests")}
        ready = notify
        startsecs = 1
    """)
    tend.start()
    t0 = wait_for(lambda: read_records(rec), 5)[0][1]
    p = wait_for(lambda: (lambda s: s if "warming up" in s["description"]
                          else None)(tend.proc_status("slow")), 5,
                 what="STATUS= in the description")
    assert p["state"] == "STARTING", p
    # startsecs = 1 does not make it RUNNING: only READY=1 does.
    holds_for(lambda: tend.proc_status("slow")["state"] == "STARTING"
              or records(rec, "ready"), 1.8, what="STARTING until READY=1")
    p = tend.wait_state("slow", "RUNNING", timeout=5)
    t_ready = records(rec, "ready")[0][1]
    assert t_ready - t0 >= 1.4
    assert "serving requests" in p["description"], p
    assert ("slow", "STARTING", "RUNNING") in tend.transitions("slow")
    rc, out, _ = tend.ctl("status", "slow")
    assert rc == 0 and "serving requests" in out, out


def test_notify_program_never_ready_is_a_failed_start(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:mute]
        command = {tend.helper("notifier", "--never-ready", "--record", rec)}
        ready = notify
        ready_timeout = 1
        startretries = 0
    """)
    t0 = time.monotonic()
    tend.start()
    pid = wait_for(lambda: read_records(rec), 5)[0][0]
    p = tend.wait_state("mute", "FATAL", timeout=6)
    assert time.monotonic() - t0 >= 0.9
    assert "not ready after ready_timeout=1s" in p["description"], p
    wait_for(lambda: not exists(pid), 5, what="the process to be stopped")
    tr = tend.transitions("mute")
    assert ("mute", "STARTING", "STOPPING") in tr, tr
    assert tr[-1] == ("mute", "STOPPING", "FATAL"), tr


def test_ready_from_the_process_group_counts_strangers_do_not(tend):
    tend.write_config(f"""
        [program:viachild]
        command = {tend.helper("notifier", "--ready-from-child")}
        ready = notify
        [program:other]
        command = {tend.helper("notifier", "--never-ready")}
        ready = notify
        ready_timeout = 0
    """, tend="loglevel = debug")
    tend.start()
    tend.wait_state("viachild", "RUNNING", timeout=5)
    # The test is no process of tendd's: its READY=1 is ignored.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"READY=1", tend.path("tend.sock.notify"))
    s.close()
    holds_for(lambda: tend.proc_status("other")["state"] == "STARTING", 1.0,
              what="a stranger's READY=1 is ignored")
    assert "ignored a message from pid %d: not a supervised process" \
        % os.getpid() in tend.log()
    assert tend.proc_status("viachild")["state"] == "RUNNING"


def test_watchdog_miss_restarts_the_process(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:dog]
        command = {tend.helper("notifier", "--record", rec,
                               "--watchdog-every", 0.1, "--watchdog-for", 1.5)}
        ready = notify
        watchdog_secs = 0.6
    """)
    tend.start()
    p = tend.wait_state("dog", "RUNNING", timeout=5)
    first = p["pid"]
    # Silence gets it restarted, reported as a watchdog timeout ...
    p = wait_for(lambda: (lambda s: s if s["pid"] not in (None, first)
                          else None)(tend.proc_status("dog")), 5,
                 what="a restart after the watchdog timeout")
    # ... never while it pinged (1.5 s, well past watchdog_secs): the new
    # process came watchdog_secs after the first one fell quiet, at the
    # earliest.
    wait_for(lambda: [pid for pid, _ in records(rec, "")] == [first, p["pid"]],
             what="the new process's record")
    [t_quiet] = [t for pid, t in records(rec, "quiet") if pid == first]
    [t_next] = [t for pid, t in records(rec, "") if pid == p["pid"]]
    assert t_next >= t_quiet + 0.6 - 0.1, (t_quiet, t_next)
    assert p["restarts"] == 1, p
    assert p["exitcode"] == -signal.SIGTERM, p
    assert "watchdog timeout: no WATCHDOG=1 for 0.6s" in tend.log()
    tr = tend.transitions("dog")
    i = tr.index(("dog", "RUNNING", "STOPPING"))
    # straight back up: no STOPPED (no one asked for a stop)
    assert tr[i + 1] == ("dog", "STOPPING", "STARTING"), tr
    assert not alive(first)


def test_mainpid_hands_the_service_to_a_child(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:handover]
        command = {tend.helper("notifier", "--record", rec, "--mainpid-child",
                               "--mainpid-linger", 0.3)}
        ready = notify
    """)
    tend.start()
    main = wait_for(lambda: records(rec, "main"), 5)[0][0]
    old = records(rec, "ready")[0][0]
    # The old main was still there: the handover waits for its exit.
    assert "main pid becomes %d when pid %d exits" % (main, old) in tend.log()
    p = wait_for(lambda: (lambda s: s if s["pid"] == main else None)(
        tend.proc_status("handover")), 5, what="the new main pid")
    assert p["state"] == "RUNNING", p
    assert "main pid is now %d (MAINPID=)" % main in tend.log()
    rc, _, err = tend.ctl("stop", "handover")
    assert rc == 0, err
    wait_for(lambda: not exists(main), 5, what="the new main to be stopped")


def test_pidfile_daemon_supervised_through_kill_and_stop(tend):
    rec, pf = tend.path("rec"), tend.path("d.pid")
    tend.write_config(f"""
        [program:forky]
        command = {tend.helper("daemonizer", "--pidfile", pf, "--record", rec,
                               "--pid-delay", 0.3, "--term-exit", 7)}
        pidfile = {pf}
        startsecs = 0.3
    """)
    tend.start()
    p = tend.wait_state("forky", "RUNNING", timeout=5)
    launcher = records(rec, "launcher")[0][0]
    daemon = records(rec, "daemon")[0][0]
    tend.track(daemon)
    assert p["pid"] == daemon != launcher, (p, launcher, daemon)
    with open("/proc/%d/stat" % daemon) as f:
        assert int(f.read().rsplit(")", 1)[1].split()[1]) == tend.pid, \
            "the daemon was not reparented to tendd"

    # Killed from outside: the exit code is reported, and it comes back.
    os.kill(daemon, signal.SIGKILL)
    p = wait_for(lambda: (lambda s: s if s["state"] == "RUNNING" and
                          s["pid"] not in (None, daemon) else None)(
        tend.proc_status("forky")), 8, what="the daemon to be restarted")
    assert p["exitcode"] == -9 and p["restarts"] == 1, p
    daemon2 = records(rec, "daemon")[1][0]
    tend.track(daemon2)
    assert p["pid"] == daemon2

    # stop: stopsignal to the daemon, its exit code, the pidfile removed.
    rc, _, err = tend.ctl("stop", "forky")
    assert rc == 0, err
    p = tend.proc_status("forky")
    assert p["state"] == "STOPPED" and p["exitcode"] == 7, p
    assert records(rec, "term")[0][0] == daemon2
    assert not os.path.exists(pf)


def test_pidfile_problems_are_failed_starts(tend):
    rec, pf1 = tend.path("rec"), tend.path("a.pid")
    tend.write_config(f"""
        [program:stranger]
        command = {tend.helper("daemonizer", "--pidfile", pf1,
                               "--write-pid", 1, "--record", rec)}
        pidfile = {pf1}
        ready_timeout = 1
        startretries = 0
    """)
    tend.start()
    daemon = wait_for(lambda: records(rec, "daemon"), 5)[0][0]
    tend.track(daemon)
    # pid 1 is not tendd's child: never adopted, never signalled.
    p = tend.wait_state("stranger", "FATAL", timeout=6)
    assert "pid 1 from %s is not a child of tendd" % pf1 in \
        p["description"], p
    assert "no process to supervise 1s after" in p["description"], p
    assert alive(daemon)    # tend did not touch what it does not own


def pid_of(rec, tag="launcher"):
    return wait_for(lambda: records(rec, tag), 5, what=tag)[0][0]


def test_pidfile_foreground_programs_are_supervised_as_they_are(tend):
    """pidfile in a [program:] whose command stays in the foreground, as
    supervisord configs have it (saslauthd -d): the command is the
    process, judged by startsecs like any other, whether its pidfile
    names it, a descendant, or nothing at all; ready_timeout does not
    kill it. Before, such a program was never RUNNING: it was killed
    after ready_timeout and retried for ever."""
    recs = {n: tend.path(n + ".rec") for n in ("self", "child", "silent")}
    pfs = {n: tend.path(n + ".pid") for n in recs}

    def fg(n, *extra):
        return tend.helper("daemonizer", "--pidfile", pfs[n], "--record",
                           recs[n], "--foreground", "--term-exit", 7, *extra)
    tend.write_config(f"""
        [program:self]
        command = {fg("self")}
        pidfile = {pfs["self"]}
        startsecs = 0.5
        ready_timeout = 0.2
        [program:child]
        command = /bin/sh -c "{fg("child")}; exit 0"
        pidfile = {pfs["child"]}
        startsecs = 0.5
        ready_timeout = 0.2
        [program:silent]
        command = {tend.helper("daemonizer", "--pidfile", pfs["silent"],
                               "--record", recs["silent"], "--no-fork")}
        pidfile = {pfs["silent"]}
        startsecs = 0.5
        ready_timeout = 0.2
    """)
    tend.start()
    for n in recs:
        p = tend.wait_state(n, "RUNNING", timeout=5)
        assert p["restarts"] == 0, p
        tend.track(pid_of(recs[n]))
        # STARTING for startsecs, then RUNNING, as without a pidfile.
        assert tend.transitions(n) == [(n, "NEW", "STARTING"),
                                       (n, "STARTING", "RUNNING")]
    assert tend.proc_status("self")["pid"] == pid_of(recs["self"])
    assert int(open(pfs["self"]).read()) == pid_of(recs["self"])
    # The shell is the process; the pidfile names its child.
    shell = tend.proc_status("child")["pid"]
    fgchild = pid_of(recs["child"])
    assert shell != fgchild and int(open(pfs["child"]).read()) == fgchild
    assert tend.proc_status("silent")["pid"] == pid_of(recs["silent"])
    assert not os.path.exists(pfs["silent"])

    # A stop reaches what the pidfile names: the shell dies of SIGTERM,
    # then its child, which the pidfile names, is stopped too.
    for n in recs:
        rc, out, err = tend.ctl("stop", n)
        assert rc == 0, (n, rc, out, err)
    assert records(recs["self"], "term")[0][0] == pid_of(recs["self"])
    assert tend.proc_status("self")["exitcode"] == 7
    assert records(recs["child"], "term")[0][0] == fgchild
    assert tend.proc_status("child")["exitcode"] == 7
    assert not alive(fgchild) and not alive(shell)
    assert tend.proc_status("silent")["exitcode"] == 0   # its TERM handler
    assert "names pid %d: stopping it too" % fgchild in tend.log()
    # The pidfiles naming the ended processes are gone.
    assert not os.path.exists(pfs["self"])
    assert not os.path.exists(pfs["child"])


def test_pidfile_foreground_exit_before_startsecs_is_a_failed_start(tend):
    """A foreground command that ends before startsecs is a failed start
    as without a pidfile, also with exit 0 when its pidfile names it
    (then it was not a launcher: nothing to wait for)."""
    pf0, pf3 = tend.path("zero.pid"), tend.path("three.pid")
    tend.write_config(f"""
        [program:zero]
        command = /bin/sh -c "echo $$ >{pf0}; exit 0"
        pidfile = {pf0}
        startretries = 0
        ready_timeout = 30
        [program:three]
        command = /bin/sh -c "echo $$ >{pf3}; exit 3"
        pidfile = {pf3}
        startretries = 0
        ready_timeout = 30
    """)
    tend.start()
    p = tend.wait_state("zero", "FATAL", timeout=5)
    assert "exited with code 0 before startsecs=1s" in p["description"], p
    p = tend.wait_state("three", "FATAL", timeout=5)
    assert "exited with code 3 before startsecs=1s" in p["description"], p
    assert not os.path.exists(pf0) and not os.path.exists(pf3)


def test_pidfile_launcher_slower_than_startsecs_hands_over(tend):
    """A launcher that is still running at startsecs is taken for the
    program (RUNNING); when it exits with an expected code and its pidfile
    names its daemon, the daemon is the process from then on: no exit, no
    restart, and a stop reaches the daemon."""
    rec, pf = tend.path("rec"), tend.path("d.pid")
    tend.write_config(f"""
        [program:slowlaunch]
        command = {tend.helper("daemonizer", "--pidfile", pf, "--record", rec,
                               "--launcher-after", 1, "--term-exit", 5)}
        pidfile = {pf}
        startsecs = 0.2
    """)
    tend.start()
    launcher = pid_of(rec)
    daemon = pid_of(rec, "daemon")
    tend.track(daemon)
    p = wait_for(lambda: (lambda s: s if s["pid"] == daemon else None)(
        tend.proc_status("slowlaunch")), 8, what="the daemon adopted")
    assert p["state"] == "RUNNING" and p["restarts"] == 0, p
    assert not alive(launcher)
    assert tend.transitions("slowlaunch") == [
        ("slowlaunch", "NEW", "STARTING"),
        ("slowlaunch", "STARTING", "RUNNING")]
    assert "pid %d exited and %s names pid %d: it was a launcher" % (
        launcher, pf, daemon) in tend.log()
    rc, out, err = tend.ctl("stop", "slowlaunch")
    assert rc == 0, (rc, out, err)
    assert records(rec, "term")[0][0] == daemon
    assert tend.proc_status("slowlaunch")["exitcode"] == 5
    assert not os.path.exists(pf)


def test_pidfile_daemon_that_exits_before_startsecs_is_a_failed_start(tend):
    """An adopted daemon is not a launcher: when it exits before startsecs,
    even with an expected code and its pidfile gone, the start has failed;
    tend does not wait for a pidfile again."""
    rec, pf = tend.path("rec"), tend.path("d.pid")
    tend.write_config(f"""
        [program:quitter]
        command = {tend.helper("daemonizer", "--pidfile", pf, "--record", rec,
                               "--term-exit", 7)}
        pidfile = {pf}
        startsecs = 30
        exitcodes = 0,7
        startretries = 0
    """)
    tend.start()
    daemon = pid_of(rec, "daemon")
    tend.track(daemon)
    p = wait_for(lambda: (lambda s: s if s["pid"] == daemon else None)(
        tend.proc_status("quitter")), 5, what="the daemon adopted")
    assert p["state"] == "STARTING", p
    os.unlink(pf)               # as a daemon removes its own on the way out
    os.kill(daemon, signal.SIGTERM)
    p = tend.wait_state("quitter", "FATAL", timeout=5)
    assert "exited with code 7 before startsecs=30s" in p["description"], p
