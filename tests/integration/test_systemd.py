"""
tendd as a systemd service (spec §3): sd_notify READY/STATUS/STOPPING and
the watchdog against a test-owned NOTIFY_SOCKET, socket activation through
a wrapper that sets LISTEN_FDS/LISTEN_PID, and logfile = journal/auto
(the journal played by a test-owned socket in a private mount namespace).
"""
import os
import re
import signal
import stat
import subprocess
import time

from conftest import (HELPERS, TENDD, holds_for, read_facts, read_records,
                      require, wait_for)
from sdnotify import NotifySocket

COUNTS_RE = re.compile(
    r"(\d+) running, (\d+) starting, (\d+) backoff, (\d+) fatal$")


def counts(status):
    m = COUNTS_RE.search(status)
    assert m, "STATUS=%r has no counts" % status
    return tuple(int(x) for x in m.groups())


def test_ready_once_autostart_settled_then_stopping(tend):
    ns = NotifySocket(tend.path("notify"))
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0.3
        [program:slow]
        command = {tend.helper("notifier", "--ready-after", 1.5,
                               "--record", rec)}
        ready = notify
        [program:job]
        command = {tend.helper("exitwith", 0)}
        daemon = false
        [program:broken]
        command = /nonexistent/tend-broken
        [program:manual]
        command = {tend.helper("sleeper")}
        autostart = false
    """)
    t0 = time.monotonic()
    tend.start(env={"NOTIFY_SOCKET": ns.path})
    t_ready, ready = ns.wait("READY", "1", timeout=10)
    # The notify program said READY=1 at ~1.5 s: tendd waited for it.
    slow_ready = [t for _, t, tag in read_records(rec) if tag == "ready"]
    assert slow_ready, "the notify program never got ready"
    assert t_ready >= slow_ready[0] and t_ready - t0 >= 1.4, \
        "READY=1 came before every autostart program settled"
    assert tend.proc_status("slow")["state"] == "RUNNING"
    # running: svc, slow; job EXITED, broken FATAL, manual NEW
    assert counts(ready["STATUS"]) == (2, 0, 0, 1), ready
    # Before READY=1: only STATUS= updates, and a few of them: coalesced,
    # at most one a 100 ms (t_ready is when the test read READY=1, at or
    # after its sending).
    before = [d for t, d in ns.fields() if t < t_ready]
    assert all("READY" not in d for d in before), before
    assert len(before) <= 2 + (t_ready - t0) / 0.1, ns.msgs

    tend.signal(signal.SIGTERM)
    ns.wait("STOPPING", "1", timeout=5)
    assert tend.wait_exit() == 0
    assert sum(1 for _, d in ns.fields() if d.get("READY") == "1") == 1
    ns.close()


def test_status_storm_is_coalesced(tend):
    ns = NotifySocket(tend.path("notify"))
    n = 40
    tend.write_config("\n".join(f"""
        [program:f{i:02d}]
        command = {tend.helper("exitwith", 1)}
        startsecs = 1
        startretries = 0
    """ for i in range(n)))
    t0 = time.monotonic()
    tend.start(env={"NOTIFY_SOCKET": ns.path})
    t_ready, ready = ns.wait("READY", "1", timeout=10)
    assert counts(ready["STATUS"]) == (0, 0, 0, n), ready
    # 2 transitions per program (NEW -> STARTING -> FATAL), 80 in all ...
    assert len(tend.transitions()) == 2 * n, tend.transitions()
    # ... told to systemd in a few datagrams: at most one a 100 ms (the
    # more time the machine takes, the more it may send), far fewer than
    # the transitions.
    statuses = [d for t, d in ns.fields() if "STATUS" in d and t <= t_ready]
    assert 1 <= len(statuses) <= 2 + (t_ready - t0) / 0.1, ns.msgs
    assert len(statuses) < 2 * n, ns.msgs
    ns.close()


def test_watchdog_pings_at_half_the_interval_also_while_stopping(tend):
    ns = NotifySocket(tend.path("notify"))
    tend.write_config(f"""
        [program:stubborn]
        command = {tend.helper("sleeper", "--ignore-term")}
        startsecs = 0
        stopwaitsecs = 1.2
    """)
    t0 = time.monotonic()
    tend.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "400000"})
    ns.wait("READY", "1")

    def pings():
        return [t for t, d in ns.fields() if d.get("WATCHDOG") == "1"]
    wait_for(lambda: len(pings()) >= 8, what="8 watchdog pings")
    pings = pings()
    # A timer at half the interval: tendd says so ...
    assert "info: systemd watchdog: 0.400s; pinging every 0.200s\n" \
        in tend.log(), tend.log()
    # ... and never pings more often: the n-th ping is sent (n - 1) * 0.2 s
    # after tendd started at the earliest, and read later still. (That
    # none comes late is a matter of time on a loaded machine: not
    # asserted.)
    assert len(pings) - 1 <= (pings[-1] - t0) / 0.2 + 1, (t0, pings)

    # Shutdown waits stopwaitsecs for the child: the pings go on.
    nmsg = len(ns.msgs)
    tend.signal(signal.SIGTERM)
    t_stop, _ = ns.wait("STOPPING", "1", after=nmsg)
    assert tend.wait_exit() == 0
    later = [t for t, d in ns.fields()
             if d.get("WATCHDOG") == "1" and t > t_stop]
    assert len(later) >= 3, "watchdog pings stopped during shutdown"
    ns.close()


def test_watchdog_pid_of_another_process_means_no_pings(tend):
    ns = NotifySocket(tend.path("notify"))
    tend.write_config("")
    tend.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000",
                    "WATCHDOG_PID": "1"})
    ns.wait("READY", "1")
    holds_for(lambda: not any(d.get("WATCHDOG") for _, d in ns.fields()),
              0.8, what="no WATCHDOG=1 (WATCHDOG_PID is not tendd's)")
    ns.close()


def test_children_never_see_tendds_systemd_variables(tend):
    ns = NotifySocket(tend.path("notify"))
    plain, notify = tend.path("plain.env"), tend.path("notify.env")
    tend.write_config(f"""
        [program:plain]
        command = {tend.helper("notifier", "--never-ready",
                               "--env-out", plain)}
        startsecs = 0
        [program:notify]
        command = {tend.helper("notifier", "--env-out", notify)}
        ready = notify
        watchdog_secs = 2
    """)
    tend.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "30000000",
                    "WATCHDOG_PID": "1", "LISTEN_FDS": "1",
                    "LISTEN_PID": "1", "LISTEN_FDNAMES": "x"})
    tend.wait_state("notify", "RUNNING")
    p = wait_for(lambda: os.path.exists(plain) and read_facts(plain), 5)
    assert p["env"] == {"NOTIFY_SOCKET": "-", "WATCHDOG_USEC": "-",
                        "WATCHDOG_PID": "-"}, p
    n = read_facts(notify)
    # tendd's own socket, never the one systemd gave tendd
    assert n["env"]["NOTIFY_SOCKET"] == tend.path("tend.sock.notify"), n
    assert n["env"]["WATCHDOG_USEC"] == "2000000", n
    assert n["env"]["WATCHDOG_PID"] == n["pid"], n
    assert n["wd"] == "1 2000000", "sd_watchdog_enabled() in the child: %s" % n
    ns.close()


def test_socket_activation_uses_the_socket_as_is(tend):
    require(HELPERS / "sdactivate", "make helpers")
    facts = tend.path("facts")
    tend.write_config(f"""
        [program:look]
        command = {tend.helper("inspect", "--out", facts)}
        startsecs = 0
    """)
    logf = open(tend.logpath, "ab")
    tend._logfiles.append(logf)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LISTEN_", "NOTIFY_", "WATCHDOG_"))}
    tend.proc = subprocess.Popen(
        [str(HELPERS / "sdactivate"), str(tend.sock), "0660", str(TENDD),
         "-c", str(tend.conf)], stdin=subprocess.DEVNULL, stdout=logf,
        stderr=subprocess.STDOUT, env=env, cwd=str(tend.dir),
        start_new_session=True)
    tend.pid = tend.proc.pid
    wait_for(lambda: "info: listening on %s (passed by systemd)\n"
             % tend.sock in tend.log(), 5,
             what="tendd to take the passed socket")
    assert tend.request("version")["pid"] == tend.pid
    rc, out, err = tend.ctl("status", "look")
    assert rc == 0, (rc, out, err)
    # The .socket unit's mode stays: tendd's socket_mode (0600) not applied.
    assert stat.S_IMODE(os.stat(tend.sock).st_mode) == 0o660
    assert "removed stale socket" not in tend.log()
    f = wait_for(lambda: os.path.exists(facts) and read_facts(facts), 5)
    assert 3 not in f["fd"], "the listening socket leaked into a child: %s" \
        % f["fd"]
    leaked = [k for k in f["env"] if k.startswith("LISTEN_")]
    assert not leaked, leaked

    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0
    # Not unlinked: the socket belongs to systemd, which keeps listening.
    assert stat.S_ISSOCK(os.stat(tend.sock).st_mode)


def journal_tendd(tend, jsock_dir, env, extra_tend=""):
    """Runs tendd in a private mount namespace whose /run is JSOCK_DIR:
    /run/systemd/journal/socket there is the test's socket."""
    logf = open(tend.logpath, "ab")
    tend._logfiles.append(logf)
    full = {k: v for k, v in os.environ.items()
            if k not in ("INVOCATION_ID", "JOURNAL_STREAM", "NOTIFY_SOCKET")}
    full.update(env)
    tend.proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         'mount --bind "$0" /run && exec "$@"', str(jsock_dir), str(TENDD),
         "-c", str(tend.conf)],
        stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
        env=full, cwd=str(tend.dir), start_new_session=True)
    tend.pid = tend.proc.pid


def test_logfile_auto_under_systemd_goes_to_the_journal(tend):
    run = tend.dir / "run"
    (run / "systemd" / "journal").mkdir(parents=True)
    journal = NotifySocket(run / "systemd" / "journal" / "socket")
    tend.write_config(f"""
        [program:stubborn]
        command = {tend.helper("sleeper", "--ignore-term")}
        startsecs = 0
        stopwaitsecs = 0.2
    """, tend="logfile = auto\nidentifier = tendtest")
    journal_tendd(tend, run, {"INVOCATION_ID": "0123456789abcdef"})

    def entry(pattern):
        for _, d in journal.fields():
            if re.search(pattern, d.get("MESSAGE", "")):
                return d
        return None
    info = wait_for(lambda: entry(r"stubborn: STARTING -> RUNNING"), 10,
                    what="the transition in the journal")
    assert info["PRIORITY"] == "6" and info["SYSLOG_IDENTIFIER"] == \
        "tendtest", info
    tend.proc.send_signal(signal.SIGTERM)
    assert tend.wait_exit() == 0
    warn = wait_for(lambda: entry(r"stubborn: still running .*SIGKILL"), 5)
    assert warn["PRIORITY"] == "4", warn
    # It went to the journal instead of stderr.
    assert "STARTING -> RUNNING" not in tend.log()
    journal.close()


def test_logfile_journal_without_journald_falls_back_to_stderr(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """, tend="logfile = journal")
    run = tend.dir / "run"
    run.mkdir()
    # /run without systemd/journal/socket: journald is not there
    journal_tendd(tend, run, {})
    wait_for(lambda: "svc: STARTING -> RUNNING" in tend.log(), 10,
             what="the log line on stderr")
    assert "warn: logfile = journal, but journald is not running (no " \
        "/run/systemd/journal/socket): logging to stderr\n" in tend.log(), \
        tend.log()
    tend.proc.send_signal(signal.SIGTERM)
    assert tend.wait_exit() == 0


def test_reload_says_reloading_then_ready(tend):
    """RELOADING=1 with MONOTONIC_USEC before the new config is read,
    READY=1 once it is applied, for a good reload and a refused one."""
    ns = NotifySocket(tend.path("notify"))
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start(env={"NOTIFY_SOCKET": ns.path})
    ns.wait("READY", "1", timeout=10)
    n_ready = 1

    for good in (True, False):
        if good:
            tend.write_config(f"""
                [program:svc]
                command = {tend.helper("sleeper")}
                startsecs = 0
                [program:extra]
                command = {tend.helper("sleeper")}
                startsecs = 0
            """)
        else:
            tend.write_config("[program:broken]\nstartsecs = x\n")
        before = time.monotonic()
        rc, _, _ = tend.ctl("reload")
        assert rc == (0 if good else 1)
        _, reloading = ns.wait("RELOADING", "1", timeout=5)
        usec = int(reloading["MONOTONIC_USEC"])
        # CLOCK_MONOTONIC, taken by tendd when the reload began
        assert before - 1 <= usec / 1e6 <= time.monotonic()
        n_ready += 1
        wait_for(lambda: sum(1 for _, d in ns.fields()
                             if d.get("READY") == "1") == n_ready,
                 timeout=5, what="READY=1 after the reload")
        reload_at = [t for t, d in ns.fields() if d.get("RELOADING") == "1"]
        ready_at = [t for t, d in ns.fields() if d.get("READY") == "1"]
        assert ready_at[-1] >= reload_at[-1]
        ns.msgs.clear()
        n_ready = 0
    assert tend.proc_status("extra")["state"] == "RUNNING"
    ns.close()


def maps_libsystemd(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libsystemd.so" in f.read()


def test_libsystemd_is_loaded_only_when_systemd_is_there(tend):
    """No NOTIFY_SOCKET, LISTEN_FDS, WATCHDOG_USEC or journal: tendd does
    not map libsystemd (half its memory); with NOTIFY_SOCKET it loads it
    and speaks sd_notify through it."""
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("svc", "RUNNING")
    assert not maps_libsystemd(tend.pid)
    tend.proc.send_signal(signal.SIGTERM)
    assert tend.wait_exit() == 0

    ns = NotifySocket(tend.path("notify"))
    tend.start(env={"NOTIFY_SOCKET": ns.path})
    ns.wait("READY", "1")
    assert maps_libsystemd(tend.pid)
    ns.close()
