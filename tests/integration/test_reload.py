"""
Reload (spec §3, §4): SIGHUP and `tendctl reload [--check]` re-read the
config; with errors nothing changes; otherwise per process: added ones
start, removed ones stop, changed ones restart, unchanged ones keep their
pid and uptime. Reloads while processes start, back off or stop leave no
stray timer and spawn nothing twice.
"""
import json
import os
import signal
import subprocess
import textwrap

from conftest import (TENDCTL, alive, holds_for, read_records, require,
                      wait_for)


def sleeper_program(tend, name, extra="", tag=None):
    """A [program:] section, unindented, with EXTRA lines at its end."""
    rec = tend.path("rec-" + (tag or name))
    return (f"[program:{name}]\n"
            f"command = {tend.helper('sleeper', '--record', rec)}\n"
            "startsecs = 0\n" + (extra + "\n" if extra else "") + "\n")


def section(text):
    """An indented [program:] text, unindented, to join with others."""
    return textwrap.dedent(text).strip("\n") + "\n\n"


def pids(tend):
    return {n: p["pid"] for n, p in tend.status().items()}


def test_reload_applies_the_diff_per_process(tend):
    keep = sleeper_program(tend, "keep")
    change = sleeper_program(tend, "change", "environment = V=1")
    held = sleeper_program(tend, "held", "environment = V=1")
    gone = sleeper_program(tend, "gone")
    workers = sleeper_program(tend, "w", "process_name = w_%(process_num)d\n"
                              "numprocs = 4")
    tend.write_config(keep + change + held + gone + workers)
    tend.start()
    names = ["keep", "change", "held", "gone"] + ["w:w_%d" % i
                                                  for i in range(4)]
    for n in names:
        tend.wait_state(n, "RUNNING")
    rc, out, err = tend.ctl("stop", "held")
    assert rc == 0, (rc, out, err)
    before = tend.status()

    # change's environment, held's too (stopped by hand), gone removed,
    # new added, numprocs 4 -> 6.
    added = sleeper_program(tend, "new")
    workers6 = workers.replace("numprocs = 4", "numprocs = 6")
    tend.write_config(keep + change.replace("V=1", "V=2")
                      + held.replace("V=1", "V=2") + added + workers6)
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    lines = out.splitlines()
    for want in ("change: changed (environment)",
                 "held: changed (environment)", "new: added",
                 "w:w_4: added", "w:w_5: added", "gone: removed",
                 "reloaded: 3 added, 2 changed, 1 removed, 5 unchanged"):
        assert want in lines, out

    tend.wait_state("new", "RUNNING")
    tend.wait_state("w:w_5", "RUNNING")
    tend.wait_state("change", "RUNNING")
    wait_for(lambda: "gone" not in tend.status(), 10, what="gone forgotten")
    assert not alive(before["gone"]["pid"])
    after = tend.status()
    # Unchanged: same pid, uptime went on, no new state change.
    for n in ["keep"] + ["w:w_%d" % i for i in range(4)]:
        assert after[n]["pid"] == before[n]["pid"], n
        assert after[n]["uptime"] >= before[n]["uptime"], n
        assert after[n]["since"] == before[n]["since"], n
    # Changed: restarted once, with the new settings.
    assert after["change"]["pid"] != before["change"]["pid"]
    assert not alive(before["change"]["pid"])
    assert len(read_records(tend.path("rec-change"))) == 2
    # A person's stop stands across a reload.
    assert after["held"]["state"] == "STOPPED"
    assert len(read_records(tend.path("rec-held"))) == 1

    # numprocs 6 -> 4: the last two stop and go, the rest are untouched.
    tend.write_config(keep + change.replace("V=1", "V=2")
                      + held.replace("V=1", "V=2") + added + workers)
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    assert "w:w_4: removed" in out and "w:w_5: removed" in out, out
    wait_for(lambda: "w:w_5" not in tend.status(), 10, what="w_5 forgotten")
    assert not alive(after["w:w_4"]["pid"])
    assert not alive(after["w:w_5"]["pid"])
    final = pids(tend)
    assert sorted(final) == sorted(["keep", "change", "held", "new"]
                                   + ["w:w_%d" % i for i in range(4)])
    for n in ["keep", "change", "new"] + ["w:w_%d" % i for i in range(4)]:
        assert final[n] == after[n]["pid"], n


def test_reload_check_shows_the_diff_and_changes_nothing(tend):
    a = sleeper_program(tend, "a", "stopwaitsecs = 5")
    b = sleeper_program(tend, "b")
    tend.write_config(a + b)
    tend.start()
    tend.wait_state("a", "RUNNING")
    tend.wait_state("b", "RUNNING")
    before = pids(tend)
    tend.write_config(a.replace("stopwaitsecs = 5", "stopwaitsecs = 7\n"
                                "stopsignal = INT")
                      + sleeper_program(tend, "c"))
    rc, out, err = tend.ctl("reload", "--check")
    assert rc == 0, (rc, out, err)
    assert out.splitlines() == [
        "a: changed (stopsignal, stopwaitsecs)",
        "c: added",
        "b: removed",
        "would reload (--check: nothing changed): 1 added, 1 changed, "
        "1 removed, 0 unchanged"], out
    rc, out, err = tend.ctl("--json", "reload", "--check")
    assert rc == 0, (rc, out, err)
    doc = json.loads(out)
    assert doc["applied"] is False
    assert doc["changes"][0] == {"name": "a", "group": "a", "process": "a",
                                 "change": "changed",
                                 "keys": ["stopsignal", "stopwaitsecs"]}
    assert [c["change"] for c in doc["changes"]] == ["changed", "added",
                                                     "removed"]
    holds_for(lambda: pids(tend) == before, 0.3, what="nothing changed")
    assert "c" not in tend.status()


def test_bad_config_changes_nothing(tend):
    a = sleeper_program(tend, "a")
    tend.write_config(a)
    tend.start()
    pid = tend.wait_state("a", "RUNNING")["pid"]
    good = tend.conf.read_text()
    tend.conf.write_text(good.replace("startsecs = 0", "startsecs = soon")
                         + "\n[program:b]\nautostart = true\n")
    rc, out, err = tend.ctl("reload")
    assert rc == 1, (rc, out, err)
    line = tend.conf.read_text().splitlines().index("startsecs = soon") + 1
    assert "%s:%d: [program:a] startsecs: expected a number" % (
        tend.conf, line) in err, err
    assert "[program:b] command: missing" in err, err
    assert "the config has 2 errors; nothing was changed" in err, err
    rc, out, err = tend.ctl("--json", "reload")
    assert rc == 1
    doc = json.loads(out)
    assert doc["error"]["code"] == "config_error", doc
    assert len(doc["error"]["errors"]) == 2, doc
    # SIGHUP with the same file: logged, nothing changes either.
    tend.signal(signal.SIGHUP)
    wait_for(lambda: tend.log().count("the running config stays") >= 3, 5,
             what="the failed SIGHUP reload in the log")
    assert "startsecs: expected a number" in tend.log()
    st = tend.status()
    assert list(st) == ["a"] and st["a"]["pid"] == pid
    assert st["a"]["state"] == "RUNNING"
    # Fixed: the next reload works.
    tend.conf.write_text(good)
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    assert tend.proc_status("a")["pid"] == pid


def test_sighup_reloads(tend):
    a = sleeper_program(tend, "a")
    tend.write_config(a)
    tend.start()
    pid = tend.wait_state("a", "RUNNING")["pid"]
    tend.write_config(a + sleeper_program(tend, "b"))
    tend.signal(signal.SIGHUP)
    # The signal is handled in its own time: wait for b to exist.
    wait_for(lambda: "b" in tend.status(), 5, what="b added by SIGHUP")
    tend.wait_state("b", "RUNNING")
    assert tend.proc_status("a")["pid"] == pid
    assert "SIGHUP received: reloading" in tend.log()


def test_reload_during_backoff(tend):
    rec = tend.path("rec")
    crash = tend.helper("exitwith", "3", "--record", rec)
    prog = f"""
        [program:crash]
        command = {crash}
        startsecs = 1
        startretries = infinite
        backoff_max = 1
    """
    tend.write_config(prog)
    tend.start()
    tend.wait_state("crash", "BACKOFF")
    # An unchanged program keeps its timer: one retry a second, never two.
    rc, out, err = tend.ctl("reload")
    assert rc == 0 and "0 changed" in out, (rc, out, err)
    assert tend.proc_status("crash")["state"] == "BACKOFF"
    n = len(read_records(rec))
    wait_for(lambda: len(read_records(rec)) >= n + 2, 5,
             what="two more retries")
    times = [t for _, t, _ in read_records(rec)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) > 0.9, gaps

    # Changed while waiting to retry: started at once with the new
    # command, and the old retry timer never fires.
    tend.wait_state("crash", "BACKOFF")
    srec = tend.path("srec")
    tend.write_config(prog.replace(crash, tend.helper("sleeper", "--record",
                                                      srec)))
    rc, out, err = tend.ctl("reload")
    assert rc == 0 and "crash: changed (command)" in out, (rc, out, err)
    st = tend.wait_state("crash", "RUNNING", timeout=5)
    crashes = len(read_records(rec))
    holds_for(lambda: len(read_records(rec)) == crashes and
              tend.proc_status("crash")["pid"] == st["pid"], 1.5,
              what="no stray retry")
    assert len(read_records(srec)) == 1


def test_removed_while_stopping_then_added_back(tend):
    """A program that ignores SIGTERM is stopping for its removal when a
    second reload adds it back: one process, started once it is down."""
    rec = tend.path("rec")
    prog = section(f"""
        [program:slow]
        command = {tend.helper("sleeper", "--ignore-term", "--record", rec)}
        startsecs = 0
        stopwaitsecs = 1
    """)
    other = sleeper_program(tend, "other")
    tend.write_config(prog + other)
    tend.start()
    first = tend.wait_state("slow", "RUNNING")["pid"]
    tend.write_config(other)
    rc, out, err = tend.ctl("reload")
    assert rc == 0 and "slow: removed" in out, (rc, out, err)
    assert tend.proc_status("slow")["state"] == "STOPPING"
    # It is going away: a start is refused rather than lost.
    r = tend.request("start", names=["slow"])
    assert not r["ok"] and "removed from the config" in \
        r["results"][0]["message"], r
    tend.write_config(prog + other)
    rc, out, err = tend.ctl("reload")
    assert rc == 0 and "slow: added" in out, (rc, out, err)
    st = tend.wait_state("slow", "RUNNING", timeout=5)
    assert st["pid"] != first and not alive(first)
    # RUNNING comes at exec (startsecs = 0); the record a moment later.
    wait_for(lambda: len(read_records(rec)) >= 2, 5, what="the respawn")
    holds_for(lambda: len(read_records(rec)) == 2, 0.5, what="one respawn")
    assert list(tend.status()).count("slow") == 1


def waiting_for_reply(pid):
    """True once PID sleeps reading a Unix stream socket: a tendctl that
    has sent its request and waits for the answer. (A slow tendctl, the
    sanitizer build's, may not have sent it yet when the test goes on.)"""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return f.read().strip() == "unix_stream_read_generic"
    except OSError:
        return False


def test_waiting_clients_are_answered_when_their_process_goes(tend):
    require(TENDCTL, "make build/tendctl")
    slow = section(f"""
        [program:slow]
        command = {tend.helper("sleeper")}
        startsecs = 30
    """)
    keep = sleeper_program(tend, "keep")
    tend.write_config(slow + keep)
    tend.start()
    tend.wait_state("slow", "STARTING")
    waiter = subprocess.Popen([str(TENDCTL), "-s", str(tend.sock), "start",
                               "slow"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: waiting_for_reply(waiter.pid), 5,
                 what="tendctl start waiting for its answer")
        wait_for(lambda: tend.status()["slow"]["state"] == "STARTING", 2)
        tend.write_config(keep)
        rc, out, err = tend.ctl("reload")
        assert rc == 0, (rc, out, err)
        out, err = waiter.communicate(timeout=10)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    assert waiter.returncode == 1, (out, err)
    assert "slow: ERROR (removed from the config by a reload)" in err, err
    wait_for(lambda: "slow" not in tend.status(), 5, what="slow forgotten")


def test_changed_while_starting_restarts_once(tend):
    rec = tend.path("rec")
    inspect = tend.helper("inspect", "--out", tend.path("facts"))
    prog = f"""
        [program:p]
        command = /bin/sh -c 'echo $$ 0 >> {rec}; exec {inspect}'
        startsecs = 30
        environment = GEN=1
    """
    tend.write_config(prog)
    tend.start()
    first = tend.wait_state("p", "STARTING")["pid"]
    tend.write_config(prog.replace("GEN=1", "GEN=2").replace(
        "startsecs = 30", "startsecs = 0"))
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    assert "p: changed (startsecs, environment)" in out, out
    st = tend.wait_state("p", "RUNNING")
    assert st["pid"] != first and not alive(first)
    facts = tend.path("facts")
    wait_for(lambda: os.path.exists(facts) and
             "env GEN=2" in open(facts).read(), 5, what="the new environment")
    holds_for(lambda: len(read_records(rec)) == 2, 0.5, what="two spawns")


def test_tend_settings_needing_a_restart_are_reported(tend):
    a = sleeper_program(tend, "a")
    b = sleeper_program(tend, "b")
    tend.write_config(a + b, tend="environment = TZ=UTC")
    tend.start()
    before = pids(tend)
    conf = tend.conf.read_text()
    new_sock = tend.path("other.sock")
    tend.conf.write_text(conf.replace("%(here)s/tend.sock", new_sock)
                         .replace("TZ=UTC", "TZ=CET"))
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    assert "[tend] socket: %s -> %s: takes effect when tendd restarts" % (
        tend.sock, new_sock) in out, out
    # Every child gets [tend] environment: all of them restart.
    assert "a: changed ([tend] environment)" in out, out
    assert "b: changed ([tend] environment)" in out, out
    wait_for(lambda: all(p and p != before[n]
                         for n, p in pids(tend).items()), 5,
             what="both restarted")
    # Still served on the socket it has; the next reload says it again.
    rc, out, err = tend.ctl("reload", "--check")
    assert rc == 0 and "[tend] socket:" in out, (rc, out, err)
    assert "0 changed" in out, out


def pidfile_waiting_program(tend, name, gen):
    """A pidfile program whose launcher exits at once and whose daemon
    would write its pidfile only after 10 minutes: tend waits for the
    pidfile, STARTING without a pid (the test writes the file itself)."""
    pf, rec = tend.path(name + ".pid"), tend.path(name + ".rec")
    return pf, rec, section(f"""
        [program:{name}]
        command = {tend.helper("daemonizer", "--pidfile", pf, "--record",
                               rec, "--pid-delay", 600, "--term-exit", 7)}
        pidfile = {pf}
        ready_timeout = 0
        environment = GEN={gen}
    """)


def reload_while_waiting_for_the_pidfile(tend, change):
    """Starts a pidfile program, waits until its launcher is gone and tend
    waits for the pidfile, then writes the pidfile (naming the daemon,
    which runs) and at once reloads a config that CHANGEs the program or
    removes it. tend reads the pidfile every second or so while it waits:
    a read that falls between the write and the reload adopts the daemon
    first, which is not the case under test, so that is tried again with
    a new program (at most 5 times). Returns (name, pidfile, record,
    daemon)."""
    for attempt in range(5):
        name = "w%d" % attempt
        pf, rec, text = pidfile_waiting_program(tend, name, 1)
        tend.write_config(text)
        if tend.proc is None:
            tend.start()
        else:
            rc, out, err = tend.ctl("reload")
            assert rc == 0, (rc, out, err)
        daemon = wait_for(lambda: [p for p, _, t in read_records(rec)
                                   if t == "daemon"], 5,
                          what="the daemon")[0]
        tend.track(daemon)
        p = wait_for(lambda: (lambda s: s if s["pid"] is None and
                              "waiting for" in s["description"] else None)(
            tend.proc_status(name)), 5, what="the wait for the pidfile")
        assert p["state"] == "STARTING", p
        if change:
            text = pidfile_waiting_program(tend, name, 2)[2]
        else:
            text = sleeper_program(tend, "other")
        tend.write_config(text)
        with open(pf + ".tmp", "w") as f:
            f.write("%d\n" % daemon)
        os.rename(pf + ".tmp", pf)
        tend.signal(signal.SIGHUP)
        said = "%s: %s" % (name, "config changed" if change else
                           "removed from the config")
        wait_for(lambda: said in tend.log(), 5, what="the reload")
        log = tend.log()
        adopted = log.find("%s: supervising pid %d" % (name, daemon))
        if adopted == -1 or adopted > log.find(said):
            return name, pf, rec, daemon
    raise AssertionError("tend read the pidfile before each of 5 reloads")


def test_changed_while_waiting_for_its_pidfile_stops_its_daemon(tend):
    """A reload that changes a pidfile program waiting for its pidfile
    reads the pidfile once more, as a stop does: the daemon it names is
    stopped before the program starts again, never doubled."""
    name, pf, rec, daemon = reload_while_waiting_for_the_pidfile(tend, True)
    wait_for(lambda: [p for p, _, t in read_records(rec) if t == "term"], 5,
             what="the old daemon's stop")
    assert [p for p, _, t in read_records(rec) if t == "term"] == [daemon]
    wait_for(lambda: not alive(daemon), 5, what="the old daemon's end")
    daemons = wait_for(lambda: (lambda d: d if len(d) == 2 else None)(
        [p for p, _, t in read_records(rec) if t == "daemon"]), 5,
        what="the new daemon")
    tend.track(*daemons)
    assert alive(daemons[1])
    log = tend.log()
    changed = log.index("%s: config changed (environment): restarting" % name)
    assert changed < log.index("%s: supervising pid %d from %s" %
                               (name, daemon, pf))
    assert "STARTING -> STOPPING (pid %d" % daemon in log, log
    st = tend.proc_status(name)
    assert st["state"] == "STARTING" and st["pid"] is None, st


def test_removed_while_waiting_for_its_pidfile_stops_its_daemon(tend):
    """A reload that removes a pidfile program waiting for its pidfile
    stops the daemon the pidfile names before forgetting the program:
    nothing is left running unsupervised."""
    name, pf, rec, daemon = reload_while_waiting_for_the_pidfile(tend, False)
    wait_for(lambda: name not in tend.status(), 5, what="the removal")
    assert [p for p, _, t in read_records(rec) if t == "term"] == [daemon]
    assert not alive(daemon)
    assert [p for p, _, t in read_records(rec) if t == "daemon"] == [daemon]
    assert not os.path.exists(pf)
    log = tend.log()
    assert log.index("%s: removed from the config: stopping" % name) < \
        log.index("%s: supervising pid %d from %s" % (name, daemon, pf))
