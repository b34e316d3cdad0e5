"""
What a child gets from tendd (spec §2 [program:], issue 2 "Spawning"):
its own session, a clean signal mask and dispositions, stdin /dev/null, no
leaked descriptors, the environment, umask, directory, user; startup order
by priority; orphans reaped by the subreaper.
"""
import os
import pwd
import signal
from pathlib import Path

import pytest

from conftest import (alive, exists, proc_stat, read_facts, read_records,
                      wait_for)


def probe(tend, extra="", name="probe", start_kw=None, out=None,
          public=False):
    """Runs `inspect` as program NAME under a fresh tendd; returns facts.
    PUBLIC: a copy of inspect every user can execute (for user =)."""
    out = out or tend.path("facts")
    helper = tend.public_helper if public else tend.helper
    tend.write_config(f"""
        [program:{name}]
        command = {helper("inspect", "--out", out)}
        startsecs = 0
    """ + extra)
    tend.start(**(start_kw or {}))
    wait_for(lambda: os.path.exists(out), 5, what="inspect's report")
    return read_facts(out)


def test_child_has_its_own_session(tend):
    f = probe(tend)
    pid = int(f["pid"])
    tend.track(pid)
    assert int(f["sid"]) == pid, "not a session leader (setsid)"
    assert int(f["pgid"]) == pid
    assert int(f["ppid"]) == tend.pid
    assert tend.proc_status("probe")["pid"] == pid


def test_child_signal_mask_and_dispositions_are_clean(tend):
    def dirty():
        # tendd inherits ignored and blocked signals; children must not.
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2,
                                                  signal.SIGWINCH})
    f = probe(tend, start_kw={"preexec_fn": dirty, "restore_signals": False})
    tend.track(int(f["pid"]))
    assert int(f["SigBlk"], 16) == 0, "blocked signals: %s" % f["SigBlk"]
    assert int(f["SigIgn"], 16) == 0, "ignored signals: %s" % f["SigIgn"]


def test_no_descriptor_leaks_and_stdin_is_devnull(tend):
    f = probe(tend)
    tend.track(int(f["pid"]))
    assert sorted(f["fd"]) == [0, 1, 2], f["fd"]
    assert f["fd"][0] == "/dev/null", f["fd"]


def test_no_descriptor_leaks_with_clients_connected(tend):
    """A child started while control connections are open inherits none."""
    out = tend.path("facts")
    tend.write_config(f"""
        [program:late]
        command = {tend.helper("inspect", "--out", out)}
        startsecs = 0
        autostart = false
        [program:other]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    idle = [tend.connect() for _ in range(3)]
    try:
        idle[0].sendall(b'{"id": 1, "cmd": "sta')     # half a request
        r = tend.request("start", names=["late"])
        assert r["ok"], r
        wait_for(lambda: os.path.exists(out), 5, what="inspect's report")
        f = read_facts(out)
        tend.track(int(f["pid"]))
        assert sorted(f["fd"]) == [0, 1, 2], f["fd"]
    finally:
        for s in idle:
            s.close()


def test_environment(tend):
    extra = """
        environment = A="x,y",B=2,C=%(program_name)s
    """
    env = {"NOTIFY_SOCKET": "/nonexistent/tend-notify", "LISTEN_FDS": "1",
           "LISTEN_PID": "1", "LISTEN_FDNAMES": "x",
           "WATCHDOG_USEC": "100000000", "WATCHDOG_PID": "1",
           "TEND_TEST_INHERITED": "yes"}
    f = probe(tend, extra, start_kw={"env": env})
    tend.track(int(f["pid"]))
    e = f["env"]
    assert e.get("A") == "x,y", e.get("A")
    assert e.get("B") == "2"
    assert e.get("C") == "probe"
    assert e.get("TEND_PROCESS_NAME") == "probe"
    assert e.get("TEND_GROUP_NAME") == "probe"
    assert e.get("SUPERVISOR_PROCESS_NAME") == "probe"
    assert e.get("SUPERVISOR_GROUP_NAME") == "probe"
    assert e.get("TEND_TEST_INHERITED") == "yes", "tendd's env not inherited"
    leaked = [k for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
                          "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID")
              if k in e]
    assert not leaked, "systemd variables leaked into the child: %s" % leaked


def test_umask_and_directory(tend):
    wd = tend.dir / "wd"
    wd.mkdir()
    f = probe(tend, f"""
        umask = 027
        directory = {wd}
    """)
    tend.track(int(f["pid"]))
    assert f["umask"] == "0027"
    assert os.path.realpath(f["cwd"]) == os.path.realpath(wd)


def test_relative_directory_is_relative_to_config(tend):
    (tend.dir / "sub").mkdir()
    f = probe(tend, """
        directory = sub
    """)
    tend.track(int(f["pid"]))
    assert os.path.realpath(f["cwd"]) == os.path.realpath(tend.dir / "sub")


def test_user(tend):
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.fail("this test needs a user 'nobody'")
    if os.getuid() != 0:
        pytest.fail("this test needs root")
    # nobody must reach the helper (a public copy: the checkout may be
    # out of its reach) and write its report.
    os.chmod(tend.dir, 0o711)
    outdir = tend.dir / "out"
    outdir.mkdir()
    os.chmod(outdir, 0o777)
    out = str(outdir / "facts")
    f = probe(tend, """
        user = nobody
    """, out=out, public=True)
    tend.track(int(f["pid"]))
    assert int(f["uid"]) == nobody.pw_uid
    assert int(f["gid"]) == nobody.pw_gid
    groups = [int(g) for g in f["groups"].split()]
    assert 0 not in groups, "root's groups kept: %s" % groups
    assert f["env"].get("USER") == "nobody"
    assert f["env"].get("LOGNAME") == "nobody"
    assert f["env"].get("HOME") == nobody.pw_dir


def test_command_is_split_like_a_shell_without_a_shell(tend):
    """Quotes and backslashes are honoured; no /bin/sh in between."""
    out = tend.dir / "with space"
    out.mkdir()
    target = out / "facts"
    tend.write_config(f"""
        [program:quoted]
        command = {tend.helper("inspect")} --out "{target}"
        startsecs = 0
    """)
    tend.start()
    wait_for(target.exists, 5, what="inspect's report at a quoted path")
    f = read_facts(target)
    tend.track(int(f["pid"]))
    assert int(f["ppid"]) == tend.pid, "ran under a shell?"


def test_startup_order_follows_priority(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:c]
        command = {tend.helper("sleeper", "--record", rec)}
        priority = 300
        [program:a]
        command = {tend.helper("sleeper", "--record", rec)}
        priority = 100
        [program:b]
        command = {tend.helper("sleeper", "--record", rec)}
        priority = 200
    """)
    tend.start()
    wait_for(lambda: len(read_records(rec)) == 3, 5, what="three spawns")
    order = [n for n, old, new in tend.transitions() if new == "STARTING"]
    assert order == ["a", "b", "c"], order
    # The helpers recorded themselves in spawn order too (they were
    # forked in that order; each records before doing anything else, so
    # only a scheduler hiccup could reorder them: the log is the check).
    st = tend.status()
    tend.track(*[st[n]["pid"] for n in ("a", "b", "c")])


def test_orphans_are_reaped(tend):
    """Double-forked grandchildren exit as tendd's children (subreaper)
    and are reaped: no zombie persists."""
    n = 5
    pidfiles = [tend.path("orphan%d" % i) for i in range(n)]
    tend.write_config("\n".join(f"""
        [program:o{i}]
        command = {tend.helper("orphaner", "--pidfile", pf, "--after", 1.5)}
        startsecs = 0
    """ for i, pf in enumerate(pidfiles)))
    tend.start()

    def orphans():
        try:
            return [int(Path(pf).read_text()) for pf in pidfiles]
        except (FileNotFoundError, ValueError):
            return None
    gpids = wait_for(orphans, 5, what="the orphans' pidfiles")
    tend.track(*gpids)
    for g in gpids:
        st = proc_stat(g)
        assert st is not None and st[1] == tend.pid, \
            "orphan %d not reparented to tendd (ppid %s)" % (
                g, st and st[1])
    wait_for(lambda: not any(alive(g) for g in gpids), 4,
             what="the orphans to exit")
    wait_for(lambda: not any(exists(g) for g in gpids), 1.0,
             what="tendd to reap the orphans (zombies left: %s)" % [
                 g for g in gpids if exists(g)])
    # The supervised processes themselves are untouched.
    for i in range(n):
        assert tend.proc_status("o%d" % i)["state"] == "RUNNING"
