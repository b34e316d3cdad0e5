"""
Restart policy (spec §1): jobs and services, autorestart, exitcodes, the
exit-code convention, spawn errors, startretries and the backoff sequences.

No assertion here bounds a time from above: the delays are checked as
order (a restart at once goes RUNNING -> STARTING, one after a delay
through BACKOFF), as lower bounds (a timer cannot fire early, so a spawn
never comes sooner than its delay after the exit before it) and as
tendd's own countdown ("restart in Ns", never more than the delay). The
exact sequences are tests/unit/test_backoff.c's.
"""
import os
import re
import signal

import pytest

from conftest import holds_for, read_records, wait_for

# A timer may fire this much before its time by the clock of the record
# files (libevent measures from the start of its loop iteration).
EARLY = 0.1


def spawn_times(path):
    return [t for _, t, _ in read_records(path)]


def after_exits(tend, name):
    """What each exit of NAME from RUNNING led to, in order: "STARTING"
    (restarted at once) or "BACKOFF" (restarted after a delay)."""
    return [new for _, old, new in tend.transitions(name)
            if old == "RUNNING" and new in ("STARTING", "BACKOFF")]


def countdown_watcher(tend, name):
    """A function that, each time it is called, notes the countdown of
    NAME's status description while it waits ("retry K of N in Ss" or
    "restart in Ss"); its .seen is [(K or 0, S)]."""
    seen = []

    def look():
        d = tend.proc_status(name)["description"]
        m = re.search(r"(?:retry (\d+)(?: of \d+)?|restart) in (\d+)s", d)
        if m:
            seen.append((int(m.group(1) or 0), int(m.group(2))))
    look.seen = seen
    return look


# ------------------------------------------------------------ jobs

def test_job_exit_zero_is_exited_and_never_restarted(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("exitwith", 0, "--record", rec)}
        daemon = false
        autorestart = true
    """)
    tend.start()
    p = tend.wait_state("job", "EXITED")
    assert p["exitcode"] == 0
    assert p["pid"] is None
    assert p["daemon"] is False
    # Exit 0 well inside startsecs is still done for a job, even with
    # autorestart=true: never restarted.
    holds_for(lambda: len(read_records(rec)) == 1 and
              tend.proc_status("job")["state"] == "EXITED", 2.0,
              what="job stays EXITED with one spawn")
    assert tend.proc_status("job")["restarts"] == 0


def test_job_nonzero_exit_is_restarted(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("exitwith", 1, "--record", rec)}
        daemon = false
        startretries = 1
    """)
    tend.start()
    wait_for(lambda: len(read_records(rec)) >= 2, 6, what="a second spawn")
    p = tend.wait_state("job", "FATAL", timeout=6)
    assert p["exitcode"] == 1
    pids = [pid for pid, _, _ in read_records(rec)]
    assert len(pids) == 2 and pids[0] != pids[1]


def test_job_exit_in_exitcodes_is_exited(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("exitwith", 3, "--record", rec)}
        daemon = false
        exitcodes = 0,3
    """)
    tend.start()
    p = tend.wait_state("job", "EXITED")
    assert p["exitcode"] == 3
    holds_for(lambda: len(read_records(rec)) == 1, 1.5,
              what="no restart of a job that exited with an expected code")


# -------------------------------------------------------- services

def test_service_nonzero_exit_from_running_is_restarted(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("exitwith", 1, "--after", 1.5, "--record", rec)}
        startsecs = 1
        startretries = 0
    """)
    tend.start()
    tend.wait_state("svc", "RUNNING", timeout=5)
    wait_for(lambda: len(read_records(rec)) >= 2, 6,
             what="a restart after exit 1 from RUNNING")
    (p1, t1, _), (p2, t2, _) = read_records(rec)[:2]
    assert p1 != p2
    # After the 1.5 s run ...
    assert t2 - t1 >= 1.5, t2 - t1
    # ... at once (restart_delay 0): no BACKOFF in between.
    wait_for(lambda: after_exits(tend, "svc"), what="the restart logged")
    assert after_exits(tend, "svc")[0] == "STARTING", tend.transitions("svc")
    assert "svc: RUNNING -> STARTING (pid %d, restart: exited with code 1)" \
        % p2 in tend.log(), tend.log()
    assert tend.proc_status("svc")["restarts"] >= 1


def test_service_exit_zero_unexpected_policy_is_exited(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("exitwith", 0, "--after", 1.3, "--record", rec)}
        startsecs = 1
    """)
    tend.start()
    p = tend.wait_state("svc", "EXITED", timeout=6)
    assert p["exitcode"] == 0 and p["pid"] is None
    holds_for(lambda: len(read_records(rec)) == 1, 1.5,
              what="autorestart=unexpected does not restart exit 0")
    assert ("svc", "RUNNING", "EXITED") in tend.transitions("svc")


def test_autorestart_true_restarts_exit_zero(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("exitwith", 0, "--after", 1.3, "--record", rec)}
        startsecs = 1
        autorestart = true
    """)
    tend.start()
    wait_for(lambda: len(read_records(rec)) >= 2, 6,
             what="a restart after exit 0 with autorestart=true")


def test_autorestart_false_nonzero_exit_is_exited(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("exitwith", 2, "--after", 1.3, "--record", rec)}
        startsecs = 1
        autorestart = false
    """)
    tend.start()
    p = tend.wait_state("svc", "EXITED", timeout=6)
    assert p["exitcode"] == 2
    holds_for(lambda: len(read_records(rec)) == 1, 1.5,
              what="autorestart=false never restarts")


@pytest.mark.parametrize("code,exitcodes,restarted", [
    (3, "0,3", False),      # expected code: EXITED
    (0, "3", True),         # 0 is unexpected when exitcodes does not list it
])
def test_exitcodes(tend, code, exitcodes, restarted):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("exitwith", code, "--after", 1.3, "--record", rec)}
        startsecs = 1
        exitcodes = {exitcodes}
    """)
    tend.start()
    if restarted:
        wait_for(lambda: len(read_records(rec)) >= 2, 6,
                 what="restart after an unexpected code")
    else:
        p = tend.wait_state("svc", "EXITED", timeout=6)
        assert p["exitcode"] == code
        holds_for(lambda: len(read_records(rec)) == 1, 1.5,
                  what="no restart after an expected code")


def test_sigkill_gives_exitcode_minus_9(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 1
        autorestart = false
    """)
    tend.start()
    p = tend.wait_state("svc", "RUNNING", timeout=5)
    os.kill(p["pid"], signal.SIGKILL)
    p = tend.wait_state("svc", "EXITED")
    assert p["exitcode"] == -9
    assert p["pid"] is None
    assert re.search(r"^\S+ tendd\[%d\]: info: svc: RUNNING -> EXITED "
                     r"\(killed by SIGKILL\)$" % tend.pid, tend.log(),
                     re.M), tend.log()


def test_signal_death_is_unexpected_and_restarted(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("exitwith", -11, "--after", 1.3, "--record", rec)}
        startsecs = 1
    """)
    tend.start()
    wait_for(lambda: len(read_records(rec)) >= 2, 6,
             what="restart after death by SIGSEGV")
    wait_for(lambda: tend.proc_status("svc")["exitcode"] == -11, 3,
             what="exitcode -11")


# --------------------------------------------------------- spawn errors

def test_missing_binary_is_fatal_at_once(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:broken]
        command = /nonexistent/tend-test-binary --flag
        [program:good]
        command = {tend.helper("sleeper", "--record", rec)}
    """)
    tend.start()
    p = tend.wait_state("broken", "FATAL", timeout=5)
    want = "cannot execute /nonexistent/tend-test-binary: No such file or directory"
    assert want in p["description"], p
    assert p["spawnerr"] is not None and want in p["spawnerr"], p
    assert p["pid"] is None
    assert p["restarts"] == 0
    # No restart loop: stays FATAL, never BACKOFF, never retried.
    holds_for(lambda: tend.proc_status("broken")["state"] == "FATAL", 2.0,
              what="FATAL stays FATAL")
    assert tend.proc_status("broken")["restarts"] == 0
    assert not [t for t in tend.transitions("broken") if t[2] == "BACKOFF"]
    # One bad program never keeps the others from running.
    tend.wait_state("good", "RUNNING", timeout=5)
    rc, out, err = tend.ctl("status", "broken")
    assert want in out, (rc, out, err)


def test_non_executable_file_is_fatal(tend):
    path = tend.dir / "not-executable"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o644)
    tend.write_config(f"""
        [program:noexec]
        command = {path}
    """)
    tend.start()
    p = tend.wait_state("noexec", "FATAL", timeout=5)
    assert "cannot execute %s: Permission denied" % path in p["description"], p
    assert p["restarts"] == 0


def test_missing_directory_is_fatal(tend):
    tend.write_config(f"""
        [program:nodir]
        command = {tend.helper("sleeper")}
        directory = /nonexistent/tend-test-dir
    """)
    tend.start()
    p = tend.wait_state("nodir", "FATAL", timeout=5)
    assert "/nonexistent/tend-test-dir" in p["description"], p
    assert p["pid"] is None and p["restarts"] == 0


# ------------------------------------------------------------- backoff

def test_startretries_exhausted_backoff_1_2_4(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:flaky]
        command = {tend.helper("exitwith", 1, "--record", rec)}
        startsecs = 1
        startretries = 3
    """)
    tend.start()
    look = countdown_watcher(tend, "flaky")

    def fatal():
        look()
        p = tend.proc_status("flaky")
        return p if p["state"] == "FATAL" else None
    p = wait_for(fatal, 25, what="FATAL after startretries")
    times = spawn_times(rec)
    # startretries=3: the first try and three retries ...
    assert len(times) == 4, times
    # ... each after its backoff: 1, 2, then 4 s.
    gaps = [b - a for a, b in zip(times, times[1:])]
    for gap, want in zip(gaps, (1, 2, 4)):
        assert gap >= want - EARLY, gaps
    assert p["restarts"] == 3
    assert p["exitcode"] == 1
    assert p["description"] == ("exited with code 1 before startsecs=1s; "
                                "gave up after 3 retries"), p
    tr = [(o, n) for _, o, n in tend.transitions("flaky")]
    assert tr == [("NEW", "STARTING")] + [("STARTING", "BACKOFF"),
                                          ("BACKOFF", "STARTING")] * 3 + \
        [("STARTING", "FATAL")], tr
    # While in BACKOFF, the status line says which retry and the time
    # left, never more than that retry's delay.
    assert look.seen, "never saw BACKOFF"
    for k, left in look.seen:
        assert 1 <= k <= 3 and 1 <= left <= {1: 1, 2: 2, 3: 4}[k], look.seen
    holds_for(lambda: len(read_records(rec)) == 4, 1.5,
              what="no spawn after FATAL")


def test_crash_loop_from_running_doubles_and_resets(tend):
    rec, done = tend.path("rec"), tend.path("done")
    # Run times of successive spawns: three crashes at once, one run
    # longer than backoff_reset, two more crashes at once.
    runs = "0,0,0,4,0,0"
    tend.write_config(f"""
        [program:loop]
        command = {tend.helper("exitwith", 1, "--after-list", runs,
                               "--record", rec, "--done", done)}
        startsecs = 0
        backoff_reset = 3
        backoff_max = 30
        startretries = 100
    """)
    tend.start()
    look = countdown_watcher(tend, "loop")

    def six():
        look()
        return len(read_records(rec)) >= 6
    wait_for(six, 25, what="six spawns")
    tend.request("stop", names=["loop"])
    starts = spawn_times(rec)
    ends = spawn_times(done)
    delays = [starts[i + 1] - ends[i] for i in range(5)]
    # First restart at once (restart_delay 0), then 1 s, 2 s; the long run
    # resets the loop: at once again, then 1 s.
    want = [0, 1, 2, 0, 1]
    for got, w in zip(delays, want):
        assert got >= w - EARLY, (delays, want)
    assert after_exits(tend, "loop")[:5] == [
        "STARTING", "BACKOFF", "BACKOFF", "STARTING", "BACKOFF"], \
        tend.transitions("loop")
    assert all(left <= 2 for _, left in look.seen), look.seen


def test_crash_loop_delay_capped_by_backoff_max(tend):
    rec, done = tend.path("rec"), tend.path("done")
    tend.write_config(f"""
        [program:loop]
        command = {tend.helper("exitwith", 1, "--after", 0.2,
                               "--record", rec, "--done", done)}
        startsecs = 0
        backoff_max = 2
        startretries = 100
    """)
    tend.start()
    look = countdown_watcher(tend, "loop")

    def five():
        look()
        return len(read_records(rec)) >= 5
    wait_for(five, 25, what="five spawns")
    tend.request("stop", names=["loop"])
    starts, ends = spawn_times(rec), spawn_times(done)
    delays = [starts[i + 1] - ends[i] for i in range(4)]
    for got, w in zip(delays, [0, 1, 2, 2]):
        assert got >= w - EARLY, delays
    assert after_exits(tend, "loop")[:4] == [
        "STARTING", "BACKOFF", "BACKOFF", "BACKOFF"], tend.transitions("loop")
    # Capped: tendd never counts down from more than backoff_max.
    assert look.seen, "never saw BACKOFF in the crash loop"
    assert all(left <= 2 for _, left in look.seen), look.seen


def test_restart_delay_before_first_restart(tend):
    rec, done = tend.path("rec"), tend.path("done")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("exitwith", 1, "--after", 0.3,
                               "--record", rec, "--done", done)}
        startsecs = 0
        restart_delay = 1
    """)
    tend.start()
    look = countdown_watcher(tend, "svc")

    def restarted():
        look()
        return len(read_records(rec)) >= 2
    wait_for(restarted, what="a restart")
    tend.request("stop", names=["svc"])
    delay = spawn_times(rec)[1] - spawn_times(done)[0]
    assert delay >= 1 - EARLY, delay
    assert after_exits(tend, "svc")[0] == "BACKOFF", tend.transitions("svc")
    assert all(left <= 1 for _, left in look.seen), look.seen


def test_startretries_infinite_never_gives_up(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:flaky]
        command = {tend.helper("exitwith", 1, "--record", rec)}
        startsecs = 1
        startretries = infinite
        backoff_max = 1
    """)
    tend.start()
    wait_for(lambda: len(read_records(rec)) >= 5, 10,
             what="more spawns than the default startretries")
    assert tend.proc_status("flaky")["state"] != "FATAL"


def test_job_nonzero_exit_from_running_is_restarted(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("exitwith", 1, "--after", 1.3, "--record", rec)}
        daemon = false
        startsecs = 1
    """)
    tend.start()
    tend.wait_state("job", "RUNNING", timeout=5)
    wait_for(lambda: len(read_records(rec)) >= 2, 6,
             what="a job restarted after exit 1 from RUNNING")


def test_many_simultaneous_exits_are_all_reaped(tend):
    """SIGCHLD coalesces: 20 children exiting together are all handled."""
    n = 20
    tend.write_config("\n".join(f"""
        [program:j{i:02d}]
        command = {tend.helper("exitwith", 0, "--after", 1)}
        daemon = false
        startsecs = 0
    """ for i in range(n)))
    tend.start()

    def all_exited():
        st = tend.status()
        return all(p["state"] == "EXITED" and p["exitcode"] == 0
                   for p in st.values()) and len(st) == n
    wait_for(all_exited, 6, what="all 20 jobs EXITED")
    exits = [t for t in tend.transitions() if t[2] == "EXITED"]
    assert len(exits) == n, exits
