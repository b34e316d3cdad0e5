"""
Chaos (issue 8, part 3): faults and load that must never make tendd lose a
process, spawn one twice, stall, or signal the wrong process. Scenarios
already proved elsewhere are listed in docs/behaviour.md ("Faults and
security"); this file holds the ones that were missing: 500 children
exiting at once, a fork bomb, a log flood into a full and deleted log
directory, a SIGHUP storm during restarts, concurrent clients on one
program, wall-clock steps, and pid reuse.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import (HELPERS, TENDD, alive, descendants, exists, forker_pids,
                      free_uid, holds_for, holds_open, pids_of_uid, proc_stat,
                      read_records, require, wait_for, wait_records)
from test_container import nspid, start_as_pid1

SHIM = HELPERS / "tendshim.so"


def shim_env(**extra):
    """The environment that preloads tests/helpers/preload/tendshim.c into
    tendd (an ASan tendd must accept a library loaded before its runtime)."""
    require(SHIM, "make helpers")
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = {"LD_PRELOAD": str(SHIM), "ASAN_OPTIONS":
           (asan + ":" if asan else "") + "verify_asan_link_order=0"}
    env.update(extra)
    return env


def vmrss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def session_members(sid):
    """Every pid (zombies too) whose session is SID."""
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            st = proc_stat(int(e))
            if st is not None and st[3] == sid:
                out.append(int(e))
    return out


# ------------------------------------------- descendants and group stops

@pytest.mark.parametrize("flags", [["--new-pgrp", "--child-ignore-term"],
                                   ["--child-ignore-term"]])
def test_a_group_stop_leaves_no_descendant_behind(tend, flags):
    """stopasgroup: a grandchild that moved to a process group of its own
    (setpgid, a shell's job control) is still in the child's session and
    is stopped with it; one that ignores the stop signal while its parent
    obeys is killed when the parent has gone, at once, not left running.
    (A descendant that calls setsid() itself, the classic double fork,
    has left the session but not the process's cgroup: test_cgroup.py.)"""
    pf = tend.path("pids")
    tend.write_config(f"""
        [program:grp]
        command = {tend.helper("forker", "--pidfile", pf, *flags)}
        startsecs = 0
        stopasgroup = true
        stopwaitsecs = 10
    """)
    tend.start()
    tend.wait_state("grp", "RUNNING")
    leader, child = forker_pids(pf)
    tend.track(leader, child)
    st = proc_stat(child)
    assert st[3] == leader, "the grandchild is not in the session"
    assert (st[2] != leader) == ("--new-pgrp" in flags), st
    rc, out, err = tend.ctl("stop", "grp")
    assert rc == 0, (rc, out, err)
    # Done without waiting out stopwaitsecs: no escalation.
    assert "grp: still running" not in tend.log(), tend.log()
    wait_for(lambda: not exists(child),
             what="the grandchild killed and reaped")
    assert not exists(leader)
    assert tend.proc_status("grp")["state"] == "STOPPED"


# ------------------------------------------------------ 500 exits at once

def test_500_children_exiting_at_once_are_all_reaped_and_restarted(tend):
    """SIGCHLD coalesces: 500 exits released by one close() of a FIFO are
    all seen, reaped and restarted, none lost."""
    n = 500
    fifo, rec, done = tend.path("barrier"), tend.path("rec"), tend.path("done")
    os.mkfifo(fifo)
    # Held open read-write by the test: the children's open() returns at
    # once, and they all see EOF the moment this descriptor is closed.
    wfd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        tend.write_config(f"""
            [program:herd]
            command = {tend.helper("exitwith", 3, "--record", rec,
                                   "--done", done, "--barrier", fifo)}
            process_name = %(program_name)s_%(process_num)03d
            numprocs = {n}
            startsecs = 0
            stopwaitsecs = 2
        """)
        tend.start(timeout=20)
        wait_for(lambda: len(read_records(rec)) >= n, 20,
                 what="500 spawns")
        first = [r[0] for r in read_records(rec)]
        assert len(set(first)) == n
        # Each must hold the FIFO open (so one close releases them all).
        wait_for(lambda: all(holds_open(p, fifo) for p in first), 15,
                 what="all 500 waiting on the barrier")
        assert all(p["state"] == "RUNNING" for p in tend.status().values())
        # Held by the barrier: none has exited before its release.
        assert read_records(done) == []
    finally:
        os.close(wfd)           # the barrier: all 500 exit now
    wait_for(lambda: len(read_records(done)) >= n, 15, what="500 exits")
    assert sorted(r[0] for r in read_records(done)) == sorted(first)

    # All reaped (no zombie), all restarted once, each with its exit code.
    def all_restarted():
        st = tend.status()
        return len(st) == n and all(
            p["state"] == "RUNNING" and p["restarts"] == 1 and
            p["exitcode"] == 3 and p["pid"] not in first
            for p in st.values())
    wait_for(all_restarted, 20, what="500 RUNNING again after one restart")
    # With startsecs = 0 a process is RUNNING as soon as it is spawned,
    # which can be before its exec'd helper has written its record.
    wait_for(lambda: len(read_records(rec)) >= 2 * n, 15,
             what="the second run's 500 records")
    assert len(read_records(rec)) == 2 * n, "a spawn too many"
    assert not [p for p in first if exists(p)], "unreaped children"


# ------------------------------------------------------------ fork bomb

def test_fork_bomb_in_a_child_leaves_tendd_responsive(tend):
    """A child forks without end under its own RLIMIT_NPROC (as a user of
    the test's own, in a private mount namespace: root ignores the limit,
    and the limit counts every process of the user, so a user shared with
    anything else, another copy of the suite say, would share the bomb's
    room); orphans of the bomb land on tendd, the subreaper. tendd keeps
    answering while the bomb is at its limit, and a stop with stopasgroup
    removes every process of the bomb, zombies included."""
    uid = free_uid()
    # A C helper, not sh -c 'ulimit -p N; b() { b & b; }; b': a shell whose
    # fork fails exits, and the bomb's leader must stay to be stopped.
    tend.write_config(f"""
        [program:bomb]
        command = {tend.public_helper("forkbomb", "--nproc", 48)}
        user = tendbomb
        directory = /
        startsecs = 0
        stopasgroup = true
        stopwaitsecs = 1
        autostart = false
        stdout_logfile = NONE
        stderr_logfile = NONE
        [program:steady]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start(wrap=tend.users_namespace(
        passwd="tendbomb:x:%d:%d::/nonexistent:/usr/sbin/nologin\n"
        % (uid, uid), group="tendbomb:x:%d:\n" % uid))
    steady = tend.wait_state("steady", "RUNNING")["pid"]
    assert tend.request("start", names=["bomb"])["ok"]
    leader = tend.proc_status("bomb")["pid"]
    # At its limit the bomb has 48 processes (a few may be exiting).
    wait_for(lambda: len(pids_of_uid(uid)) >= 40 and
             len(session_members(leader)) >= 5,
             what="the bomb at its limit")
    # Served while the bomb stays at its limit: before each of these
    # requests and after the last it has all the processes it may have.
    # (A count at one instant may find it between an exit and the forks
    # that fill the room again: it churns. Each is waited for.)
    def at_limit():
        return len(pids_of_uid(uid)) >= 40
    for i in range(20):
        wait_for(at_limit, what="the bomb at its limit before request %d" % i)
        st = tend.status()
        assert st["steady"]["pid"] == steady, st
        assert st["bomb"]["pid"] == leader, "the leader died: %s" % st
    wait_for(at_limit, what="the bomb at its limit after the requests")
    rc, out, err = tend.ctl("stop", "bomb")
    assert rc == 0, (rc, out, err)
    wait_for(lambda: not session_members(leader),
             what="every process of the bomb killed and reaped")
    holds_for(lambda: not session_members(leader), 0.5,
              what="no process of the bomb comes back")
    assert pids_of_uid(uid) == [], "a process of the bomb left the session"
    assert tend.proc_status("bomb")["state"] == "STOPPED"
    assert tend.proc_status("steady")["pid"] == steady


# ------------------------------------------------------------- log flood

def test_log_flood_into_a_deleted_directory_on_a_full_disk(tend):
    """100 MB on stdout and a 10 MB line on stderr into a 16 MB tmpfs (in a
    private mount namespace) whose log directory is deleted mid-flood:
    tendd answers throughout, its memory stays bounded, and the child is
    never blocked for ever (the output it cannot write is dropped and
    counted after the hold time)."""
    if shutil.which("unshare") is None or os.getuid() != 0:
        pytest.fail("this test needs root and unshare")
    require(TENDD, "make build/tendd")
    disk = tend.dir / "disk"
    disk.mkdir()
    logs = disk / "logs"
    spew = HELPERS / "spew"
    cmd = ("{s} --bytes 100M --last OUTDONE & "
           "{s} --stderr --one-line --bytes 10M --last ERRDONE; wait"
           ).format(s=spew)
    tend.write_config(f"""
        [program:flood]
        command = /bin/sh -c '{cmd}'
        daemon = false
        autorestart = false
        startsecs = 0
        stdout_logfile = {logs}/out.log
        stderr_logfile = {logs}/err.log
        stdout_logfile_maxbytes = 0
        stderr_logfile_maxbytes = 0
        autostart = false
    """)
    logf = open(tend.logpath, "ab")
    tend._logfiles.append(logf)
    tend.proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs -o size=16m tmpfs "$0" && mkdir "$0/logs" && '
         'exec "$@"', str(disk), str(TENDD), "-c", str(tend.conf)],
        stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
        cwd=str(tend.dir), start_new_session=True)
    tend.pid = tend.proc.pid

    def answers():
        try:
            return tend.request("version", timeout=2).get("ok")
        except (OSError, ValueError):
            return False
    wait_for(answers, 10, what="tendd in its mount namespace")
    # The tmpfs as tendd sees it, from outside its namespace.
    inside = "/proc/%d/root%s" % (tend.pid, logs)
    assert os.path.isdir(inside) and not logs.exists(), "no private tmpfs"
    rss0 = vmrss_kb(tend.pid)
    assert tend.request("start", names=["flood"])["ok"]
    wait_for(lambda: os.path.exists(inside + "/out.log") and
             os.path.getsize(inside + "/out.log") > 2 << 20, 10,
             what="the flood under way")
    shutil.rmtree(inside)                # the log directory goes
    seen = {"rss": rss0, "served": 0}

    def flood_over():
        # Each status is served while the flood is on (or just over).
        p = tend.proc_status("flood")
        seen["rss"] = max(seen["rss"], vmrss_kb(tend.pid))
        if p["state"] == "EXITED":
            return p
        seen["served"] += 1
        return None
    # Never blocked for ever: the output it cannot write is dropped after
    # the hold time, and the child runs to its end.
    p = wait_for(flood_over, 30, interval=0.1,
                 what="the flood's end (the child never blocked for ever)")
    assert p["exitcode"] == 0, p
    assert seen["served"] >= 1, "no status was answered during the flood"
    rss = seen["rss"]
    # 100 MB went past; tendd keeps 64 KiB rings, not the output.
    assert rss - rss0 < 24 * 1024, "tendd grew from %d to %d kB" % (rss0, rss)
    # tail still serves the end of each stream from memory.
    rc, out, err = tend.ctl("tail", "flood")
    assert rc == 0 and "OUTDONE" in out, (rc, out[-200:], err)
    rc, out, err = tend.ctl("tail", "flood", "stderr")
    assert rc == 0 and "ERRDONE" in out, (rc, out[-200:], err)
    log = tend.log()
    assert re.search(r"out\.log.*(No such file|No space)", log), log[-3000:]


# ------------------------------------------------------------ SIGHUP storm

def test_sighup_storm_during_restarts_spawns_nothing_twice(tend):
    """SIGHUPs every 10 ms while a program crash-loops through four spawns
    (restarts at once, then after 1 s backoffs): every reload finds nothing
    changed; spawns never overlap nor come early (no doubled timer), an
    untouched service keeps its pid, and once stopped nothing spawns
    again (no stray timer)."""
    rec, done, srec = tend.path("rec"), tend.path("done"), tend.path("srec")
    tend.write_config(f"""
        [program:flap]
        command = {tend.helper("exitwith", 1, "--after", 0.3,
                               "--record", rec, "--done", done)}
        startsecs = 0
        startretries = 100
        backoff_max = 1
        [program:steady]
        command = {tend.helper("sleeper", "--record", srec)}
        startsecs = 0
    """)
    tend.start()
    steady = tend.wait_state("steady", "RUNNING")["pid"]
    # The storm lasts as long as the loop takes to spawn four times,
    # however fast or slow this machine is.
    sent = 0
    while len(read_records(rec)) < 4:
        assert sent < 20000, "the loop stalled: %s" % read_records(rec)
        os.kill(tend.pid, signal.SIGHUP)
        sent += 1
        time.sleep(0.01)
    assert sent >= 100, "a storm of %d SIGHUPs only" % sent
    assert tend.request("version")["ok"]
    assert tend.request("stop", names=["flap"])["ok"]
    n = len(read_records(rec))
    holds_for(lambda: len(read_records(rec)) == n and
              tend.proc_status("flap")["state"] == "STOPPED", 2.5,
              what="no spawn after the stop")
    starts = [r[1] for r in read_records(rec)]
    ends = [r[1] for r in read_records(done)]
    assert n >= 3, "the loop did not run: %d spawns" % n
    for i in range(1, n):
        # never two at once, and never before the backoff (0 s, then 1 s)
        assert starts[i] >= ends[i - 1], (i, starts, ends)
        want = 0 if i == 1 else 1
        assert starts[i] - ends[i - 1] >= want - 0.15, (i, starts, ends)
    assert [r[0] for r in wait_records(srec, 1)] == [steady]
    assert tend.proc_status("steady")["pid"] == steady
    assert alive(steady)


# ------------------------------------------------- concurrent clients

def test_concurrent_clients_on_one_program(tend):
    """8 clients race start/stop/restart/kill on one program: every request
    gets a reply, spawns and reaps alternate (never two processes), and
    the final state is what the last request asked."""
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 0
        stopwaitsecs = 2
    """, tend="loglevel = debug")
    tend.start()
    tend.wait_state("svc", "RUNNING")
    errors = []
    cmds = ["start", "stop", "restart", "kill"]

    def client(seed):
        rnd = random.Random(seed)
        try:
            for _ in range(25):
                cmd = rnd.choice(cmds)
                r = tend.request(cmd, timeout=15, names=["svc"])
                if not isinstance(r, dict) or "ok" not in r:
                    errors.append((cmd, r))
                elif not r["ok"] and r.get("error", {}).get("code") is None:
                    errors.append((cmd, r))
        except Exception as e:          # noqa: BLE001 (reported below)
            errors.append(repr(e))
    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert not errors, errors[:5]
    r = tend.request("start", names=["svc"])
    assert r["ok"], r
    p = tend.wait_state("svc", "RUNNING")
    # tendd's own account: each spawn is reaped before the next one.
    events = re.findall(r"svc(?::svc)?: (?:spawned pid (\d+)|pid (\d+) "
                        r"reaped)", tend.log())
    seq = [("s", int(a)) if a else ("r", int(b)) for a, b in events]
    assert len(seq) >= 20, "the clients did little: %s" % seq
    for i, (kind, pid) in enumerate(seq):
        assert kind == ("s" if i % 2 == 0 else "r"), seq[max(0, i - 3):i + 2]
        if kind == "r":
            assert pid == seq[i - 1][1], seq[i - 1:i + 1]
    spawned = [pid for kind, pid in seq if kind == "s"]
    assert spawned[-1] == p["pid"] and seq[-1] == ("s", p["pid"])
    # And /proc agrees: of every process ever spawned, one lives. (Some
    # were killed before they could write their record.)
    assert [q for q in spawned if alive(q)] == [p["pid"]]
    assert set(r[0] for r in read_records(rec)) <= set(spawned)


# --------------------------------------------------------- clock steps

def test_wall_clock_steps_do_not_change_any_timing(tend):
    """tendd's wall clock jumps an hour forward, then two hours back (an
    LD_PRELOAD shim): startsecs, the crash-loop backoff and stopwaitsecs
    still take their time, since they run on CLOCK_MONOTONIC (a timer on
    the wall clock would fire at once after the jump forward, or an hour
    late after the jump back); and the 8 s crash loop costs tendd next to
    no CPU. Each time is a lower bound (a timer cannot fire early); that
    none waits too long is shown by the escalation it leads to and by the
    deadlines; exact delays are test_backoff.c's."""
    clock = tend.path("clock")
    with open(clock, "w") as f:
        f.write("0\n")
    lrec, ldone, srec = tend.path("lrec"), tend.path("ldone"), tend.path("srec")
    krec = tend.path("krec")
    tend.write_config(f"""
        [program:loop]
        command = {tend.helper("exitwith", 1, "--after", 0.2,
                               "--record", lrec, "--done", ldone)}
        startsecs = 0
        startretries = 100
        backoff_max = 2
        [program:slow]
        command = {tend.helper("sleeper", "--record", srec)}
        startsecs = 2
        autostart = false
        [program:stubborn]
        command = {tend.helper("sleeper", "--ignore-term", "--record", krec)}
        startsecs = 0
        stopwaitsecs = 1.5
    """)
    tend.start(env=shim_env(TENDSHIM_CLOCK=clock))
    tend.wait_state("stubborn", "RUNNING")
    wait_records(krec, 1)       # SIGTERM is ignored from then on
    cpu0 = cpu_seconds(tend.pid)

    def step(offset):
        with open(clock + ".tmp", "w") as f:
            f.write("%+d\n" % offset)
        os.rename(clock + ".tmp", clock)
    step(3600)
    # start replies once the process is RUNNING: startsecs=2 after.
    t0 = time.monotonic()
    r = tend.request("start", names=["slow"])
    took = time.monotonic() - t0
    assert r["ok"] and r["results"][0]["state"] == "RUNNING", r
    assert took >= 1.9, "startsecs=2 took %.2fs" % took
    # The shim works: tendd's wall clock (status "since") is an hour on.
    p = tend.proc_status("slow")
    assert abs(p["since"] - (time.time() + 3600)) < 60, (p, time.time())
    step(-3600)
    t0 = time.monotonic()
    rc, out, err = tend.ctl("stop", "stubborn")
    took = time.monotonic() - t0
    assert rc == 0, (rc, out, err)
    assert took >= 1.4, "stopwaitsecs=1.5 took %.2fs" % took
    assert "stubborn: still running 1.5s after SIGTERM; sending SIGKILL" \
        in tend.log(), tend.log()
    assert tend.proc_status("stubborn")["exitcode"] == -9
    since = tend.proc_status("stubborn")["since"]
    assert abs(since - (time.time() - 3600)) < 60, since
    # The crash loop: while it waits, tendd never says it has more than
    # backoff_max = 2 s left (its countdown is its monotonic timer).
    countdowns = []

    def six():
        d = tend.proc_status("loop")["description"]
        m = re.search(r"restart in (\d+)s", d)
        if m:
            countdowns.append(int(m.group(1)))
        return len(read_records(lrec)) >= 6
    wait_for(six, 25, what="six spawns")
    tend.request("stop", names=["loop"])
    assert countdowns and max(countdowns) <= 2, countdowns
    starts = [r[1] for r in read_records(lrec)]
    ends = [r[1] for r in read_records(ldone)]
    delays = [starts[i + 1] - ends[i] for i in range(5)]
    for got, want in zip(delays, [0, 1, 2, 2, 2]):
        assert got >= want - 0.1, delays
    # An 8 s crash loop (and the rest of this test) at next to no CPU:
    # every wait is a timer (a tendd polling the clock would burn most
    # of those seconds).
    cpu = cpu_seconds(tend.pid) - cpu0
    assert cpu < 1.0, "tendd used %.2fs of CPU" % cpu


# ------------------------------------------------------------- pid reuse

def test_signals_go_through_pidfds(tend):
    """The mechanism: every signal tendd sends to a process it supervises
    goes through the process's pidfd (pidfd_send_signal), which can only
    name that process, never a later holder of its pid. Group signals
    (stopasgroup) go to each member of the process's cgroup by pidfd, or
    without cgroups use kill(-pgid)."""
    siglog = tend.path("siglog")
    tend.write_config(f"""
        [program:one]
        command = {tend.helper("catcher", "--out", tend.path("out1"))}
        startsecs = 0
        [program:grp]
        command = {tend.helper("sleeper")}
        startsecs = 0
        stopasgroup = true
    """)
    tend.start(env=shim_env(TENDSHIM_SIGLOG=siglog))
    one = tend.wait_state("one", "RUNNING")["pid"]
    grp = tend.wait_state("grp", "RUNNING")["pid"]
    wait_for(lambda: os.path.exists(tend.path("out1")), 5)
    for args in (["signal", "HUP", "one"], ["pause", "one"],
                 ["resume", "one"], ["stop", "one"], ["start", "one"],
                 ["kill", "one"], ["stop", "grp"]):
        rc, out, err = tend.ctl(*args)
        assert rc == 0, (args, rc, out, err)
    with open(siglog) as f:
        calls = f.read().split("\n")[:-1]
    assert calls, "the shim saw no signal"
    by_pid = [c for c in calls if c.startswith("kill ") and
              int(c.split()[1]) > 0 and int(c.split()[1]) != tend.pid]
    assert not by_pid, "signals by pid: %s" % by_pid
    sigs = [int(c.split()[1]) for c in calls if c.startswith("pidfd ")]
    # HUP, STOP, CONT, TERM (+CONT), then KILL: all by pidfd
    for s in (signal.SIGHUP, signal.SIGSTOP, signal.SIGCONT,
              signal.SIGTERM, signal.SIGKILL):
        assert int(s) in sigs, (s, calls)
    if "group stops use a cgroup per process" in tend.log():
        assert not [c for c in calls if c.startswith("kill -")], calls
    else:
        assert "kill -%d %d" % (grp, signal.SIGTERM) in calls, calls
    assert not alive(one) and not alive(grp)


def test_a_reused_pid_is_never_signalled(tend):
    """A real reuse, forced in a PID namespace through ns_last_pid: a job
    exits, an unrelated process is given its pid, and tendctl signal,
    kill, stop and pid on the job never reach that process."""
    if os.getuid() != 0 or shutil.which("nsenter") is None:
        pytest.fail("this test needs root and nsenter")
    rec, out = tend.path("rec"), tend.path("stranger")
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("exitwith", 0, "--after", 0.3,
                               "--record", rec)}
        daemon = false
        startsecs = 0
        autorestart = false
    """)
    init = start_as_pid1(tend)
    old = wait_for(lambda: read_records(rec), 5)[0][0]
    tend.wait_state("job", "EXITED")
    catcher = HELPERS / "catcher"
    stranger = None
    for attempt in range(5):
        if os.path.exists(out):
            os.unlink(out)
        # In the namespace: the next pid handed out is OLD.
        # (not "a && b &": that forks a subshell first, taking the pid)
        script = ('echo %d > /proc/sys/kernel/ns_last_pid; '
                  '"$0" --out "$1" & wait' % (old - 1))
        stranger = subprocess.Popen(
            ["nsenter", "-t", str(init), "-p", "-m", "sh", "-c", script,
             str(catcher), out], stdin=subprocess.DEVNULL,
            start_new_session=True)
        tend._extra.append(stranger)
        got = wait_for(lambda: read_records_loose(out), 5,
                       what="the stranger's ready line")
        if got == old:
            break
        stranger.send_signal(signal.SIGKILL)
        stranger.wait()
    else:
        pytest.fail("could not give pid %d to another process (got %s)"
                    % (old, got) + " in the namespace: %s" % [
                        (p, nspid(p), proc_stat(p)) for p in descendants(init)])
    host = next(p for p in descendants(stranger.pid) if nspid(p) == old)
    tend.track(host)
    assert proc_stat(host)[1] != init, "the stranger is tendd's child"
    for args, want in ((["signal", "HUP", "job"], 1), (["kill", "job"], None),
                       (["stop", "job"], 0), (["pid", "job"], 3),
                       (["signal", "USR1", "job"], 1)):
        rc, o, e = tend.ctl(*args)
        if want is not None:
            assert rc == want, (args, rc, o, e)
    holds_for(lambda: alive(host) and open(out).read().count("sig") == 0,
              0.5, what="the stranger got no signal")
    assert open(out).read().count("sig") == 0
    os.kill(host, signal.SIGTERM)       # the stranger ends; nsenter with it
    stranger.wait(5)


def read_records_loose(path):
    """catcher's first line "PID ready": the pid, or None."""
    try:
        with open(path) as f:
            first = f.readline()
    except FileNotFoundError:
        return None
    if not first.endswith("\n"):
        return None
    return int(first.split()[0])
