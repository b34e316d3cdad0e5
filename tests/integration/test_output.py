"""
Children's output (spec §2, §6; issue 4): stdout and stderr captured by
tendd into log files, rotated, reopened, tailed and never lost.

The writer is build/helpers/spew: a known byte stream (spew_bytes() below
computes the same bytes), tick lines, a last line and a crash.
"""
import datetime
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import (HELPERS, TENDCTL, TENDD, alive, descendants, read_json_line,
                      wait_for)

BLOCK = 1 << 20
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) (.*)$")


def _base_block(one_line):
    lines = []
    for i in range(BLOCK // 100 + 1):
        letters = bytes(97 + (i + t) % 26 for t in range(88))
        lines.append(b"%010d " % i + letters + b"\n")
    base = b"".join(lines)[:BLOCK]
    return base.replace(b"\n", b".") if one_line else base


def spew_bytes(total, one_line=False):
    """The bytes `spew --bytes TOTAL [--one-line]` writes."""
    base = _base_block(one_line)
    out = bytearray()
    k = 0
    while len(out) < total:
        stamp = b"%019d" % k + (b"." if one_line else b"\n")
        out += stamp + base[20:]
        k += 1
    del out[total:]
    if one_line:
        out += b"\n"
    return bytes(out)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def rotated(path):
    """PATH.N ... PATH.1, PATH: the files of a rotated log, oldest first."""
    p = Path(path)
    backups = [q for q in p.parent.iterdir()
               if q.name.startswith(p.name + ".") and q.name[len(p.name) + 1:].isdigit()]
    backups.sort(key=lambda q: -int(q.name[len(p.name) + 1:]))
    return backups + [p]


def read(path):
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return b""


def ticks(data, prefix=b"tick "):
    """The numbers of the complete tick lines in DATA."""
    return [int(line[len(prefix):]) for line in data.split(b"\n")[:-1]
            if line.startswith(prefix)]


def contiguous(nums):
    return nums == list(range(nums[0], nums[0] + len(nums))) if nums else False


def tail(tend, name, **kw):
    kw.setdefault("lines", -1)
    r = tend.request("tail", name=name, **kw)
    assert r["ok"], r
    return r["data"].encode()


def vmrss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ------------------------------------------------------------ destinations

def test_stdout_and_stderr_go_to_their_files(tend):
    ticks3 = tend.helper("spew", "--ticks", "3", "--every", "0.01", "--both")
    tend.write_config(f"""
        [program:files]
        command = {ticks3}
        stdout_logfile = %(here)s/out.log
        stderr_logfile = %(here)s/err.log
        autorestart = false
        startsecs = 0
        [program:auto]
        command = {ticks3}
        autorestart = false
        startsecs = 0
        [program:quiet]
        command = {ticks3}
        stdout_logfile = NONE
        stderr_logfile = none
        autorestart = false
        startsecs = 0
        [program:discard]
        command = {ticks3}
        stdout_logfile = /dev/null
        stderr_logfile = /dev/null
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    for name in ("files", "auto", "quiet", "discard"):
        tend.wait_state(name, "EXITED")
    assert read(tend.path("out.log")) == b"tick 1\ntick 2\ntick 3\n"
    assert read(tend.path("err.log")) == b"etick 1\netick 2\netick 3\n"

    # AUTO: a file of its own in childlogdir, named as supervisord does.
    logs = sorted(os.listdir(tend.path("logs")))
    autos = {n: read(tend.path("logs/" + n)) for n in logs if n.startswith("auto-")}
    assert len(autos) == 2, logs
    for n, data in autos.items():
        m = re.fullmatch(r"auto-(stdout|stderr)---tend-\w{6}\.log", n)
        assert m, n
        want = b"tick" if m.group(1) == "stdout" else b"etick"
        assert data == b"".join(b"%s %d\n" % (want, i) for i in (1, 2, 3)), (n, data)

    # NONE: no file, no pipe (the child writes to /dev/null), nothing
    # captured, as supervisord has nothing to tail then.
    assert not any(n.startswith("quiet") for n in logs), logs
    assert tail(tend, "quiet") == b""
    assert tail(tend, "quiet", stream="stderr") == b""
    # /dev/null as a path: discarded, yet tail has it from memory.
    assert not any(n.startswith("discard") for n in logs), logs
    assert tail(tend, "discard") == b"tick 1\ntick 2\ntick 3\n"
    assert tail(tend, "discard", stream="stderr") == b"etick 1\netick 2\netick 3\n"


def test_redirect_stderr_merges_into_stdout(tend):
    tend.write_config(f"""
        [program:merged]
        command = {tend.helper("spew", "--ticks", "3", "--every", "0.01", "--both")}
        redirect_stderr = true
        stdout_logfile = %(here)s/out.log
        stderr_logfile = %(here)s/err.log
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("merged", "EXITED")
    # One pipe: the order is the order of the writes.
    assert read(tend.path("out.log")) == (
        b"tick 1\netick 1\ntick 2\netick 2\ntick 3\netick 3\n")
    assert not os.path.exists(tend.path("err.log"))
    assert tail(tend, "merged", stream="stderr") == b""


def test_last_line_before_a_crash_is_logged_before_the_state(tend):
    """3 MB then a last line then SIGSEGV: the first status that shows the
    crash already finds every byte in the file."""
    tend.write_config(f"""
        [program:crash]
        command = {tend.helper("spew", "--bytes", "3M", "--last", "LAST WORDS",
                               "--die", "11")}
        stdout_logfile = %(here)s/crash.log
        stdout_logfile_maxbytes = 0
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    st = tend.wait_state("crash", "EXITED", timeout=15)
    data = read(tend.path("crash.log"))
    assert st["exitcode"] == -11, st
    assert data.endswith(b"LAST WORDS\n"), data[-40:]
    assert data == spew_bytes(3 << 20) + b"LAST WORDS\n"
    assert ("crash", "RUNNING", "EXITED") in tend.transitions("crash")


def test_descendant_holding_the_pipe_does_not_hold_the_exit(tend):
    """The shell exits at once; the spew it started keeps the pipe open.
    The exit is reported while the orphan still holds the pipe (after
    about a second), and what the orphan writes afterwards still reaches
    the log."""
    spew = tend.helper("spew", "--ticks", "0", "--every", "0.05")
    tend.write_config(f"""
        [program:parent]
        command = /bin/sh -c "{spew} & echo parent-done"
        stdout_logfile = %(here)s/p.log
        daemon = false
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    st = tend.wait_state("parent", "EXITED", timeout=10)
    assert st["exitcode"] == 0, st
    orphans = [p for p in descendants(tend.pid) if alive(p)]
    tend.track(*orphans)
    assert orphans, "the spew that holds the pipe should still run"
    n = max(ticks(read(tend.path("p.log"))) or [0])
    wait_for(lambda: max(ticks(read(tend.path("p.log"))) or [0]) >= n + 5, 5,
             what="the orphan's later ticks in the log")
    assert b"parent-done\n" in read(tend.path("p.log"))


def read_fifo_until(fd, data, want, timeout=10):
    """Reads the FIFO FD (nonblocking) into the bytearray DATA until WANT
    is in it."""
    deadline = time.monotonic() + timeout
    while want not in data:
        if time.monotonic() >= deadline:
            raise AssertionError("no %r in the %d bytes read: ...%r"
                                 % (want, len(data), bytes(data[-200:])))
        select.select([fd], [], [], 0.1)
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            continue
        data += chunk


def test_a_blocked_log_holds_the_end_until_the_last_lines_are_in(tend):
    """The log is a FIFO nobody reads yet: the process writes more than
    the FIFO, the ring and its pipe's share of the ring hold... and exits.
    It has not ended (no state change, nothing restarted) for as long as
    its last lines are not in the log, also past the 1 s after which a
    descendant holding the pipe no longer holds the exit. Once the log is
    read, the end comes after those lines, and the next run's first line
    follows them, in the log and in the tail."""
    fifo, counter = tend.path("out.fifo"), tend.path("n")
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)   # reads nothing yet
    script = tend.path("run.sh")
    with open(script, "w") as f:
        f.write(f"""n=$(cat {counter} 2>/dev/null || echo 0)
n=$((n + 1))
echo $n >{counter}
echo "START $n"
if [ "$n" = 1 ]; then
    {tend.helper("spew", "--bytes", 160000)}
    echo "END 1"
    exit 0
fi
exec {tend.helper("sleeper")}
""")
    tend.write_config(f"""
        [program:run]
        command = /bin/sh {script}
        stdout_logfile = {fifo}
        startsecs = 0
        autorestart = true
    """)
    try:
        tend.start("-l", "debug")
        # Reaped (it wrote all it had to: the pipe holds the rest).
        wait_for(lambda: "reading its last output" in
                 tend.proc_status("run")["description"] or
                 len(tend.transitions("run")) > 2, 10,
                 what="the first run's exit")
        # The 1 s wait for the pipes' EOF has passed (tendd says so), or
        # the end came (the bug): either way, look at the order.
        wait_for(lambda: "run: its last output is not all in its log" in
                 tend.log() or len(tend.transitions("run")) > 2, 10,
                 what="the EOF wait to pass")
        assert tend.transitions("run") == [("run", "NEW", "STARTING"),
                                           ("run", "STARTING", "RUNNING")]
        st = tend.proc_status("run")
        assert st["state"] == "RUNNING" and st["restarts"] == 0, st
        assert "reading its last output" in st["description"], st
        assert not os.path.exists(counter) or \
            open(counter).read().strip() == "1"

        data = bytearray()
        read_fifo_until(rfd, data, b"START 2\n")
        tend.wait_state("run", "RUNNING")
        read_fifo_until(rfd, data, b"START 2\n")
    finally:
        os.close(rfd)
    expected = b"START 1\n" + spew_bytes(160000) + b"END 1\nSTART 2\n"
    assert bytes(data) == expected, (len(data), bytes(data[-100:]))
    trans = tend.transitions("run")
    assert trans[2] == ("run", "RUNNING", "STARTING"), trans
    assert tend.proc_status("run")["restarts"] == 1
    assert tail(tend, "run", lines=2) == b"END 1\nSTART 2\n"
    assert "lost" not in tend.log()


# ---------------------------------------------------------------- rotation

def test_60mb_at_full_speed_arrives_byte_for_byte_across_rotations(tend):
    tend.write_config(f"""
        [program:blast]
        command = {tend.helper("spew", "--bytes", "60M", "--chunk", "64K")}
        stdout_logfile = %(here)s/blast.log
        stdout_logfile_maxbytes = 10MB
        stdout_logfile_backups = 10
        daemon = false
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("blast", "EXITED", timeout=30)
    files = rotated(tend.path("blast.log"))
    sizes = [f.stat().st_size for f in files]
    assert len(files) >= 6, sizes
    # Never over maxbytes; cut at a line end, so short by under a line.
    assert all(s <= 10 << 20 for s in sizes), sizes
    assert all(s > (10 << 20) - 100 for s in sizes[:-1]), sizes
    h = hashlib.sha256()
    total = 0
    for f in files:
        data = f.read_bytes()
        h.update(data)
        total += len(data)
    assert total == 60 << 20
    assert h.hexdigest() == sha(spew_bytes(60 << 20))


def test_backups_count_is_respected(tend):
    tend.write_config(f"""
        [program:three]
        command = {tend.helper("spew", "--bytes", "200K")}
        stdout_logfile = %(here)s/three.log
        stdout_logfile_maxbytes = 10KB
        stdout_logfile_backups = 3
        daemon = false
        autorestart = false
        startsecs = 0
        [program:none]
        command = {tend.helper("spew", "--bytes", "200K")}
        stdout_logfile = %(here)s/none.log
        stdout_logfile_maxbytes = 10KB
        stdout_logfile_backups = 0
        daemon = false
        autorestart = false
        startsecs = 0
        [program:never]
        command = {tend.helper("spew", "--bytes", "200K")}
        stdout_logfile = %(here)s/never.log
        stdout_logfile_maxbytes = 0
        stdout_logfile_backups = 3
        daemon = false
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    for name in ("three", "none", "never"):
        tend.wait_state(name, "EXITED")
    stream = spew_bytes(200 << 10)

    names = sorted(n for n in os.listdir(tend.dir) if n.startswith("three.log"))
    assert names == ["three.log", "three.log.1", "three.log.2", "three.log.3"]
    kept = b"".join(f.read_bytes() for f in rotated(tend.path("three.log")))
    assert all(f.stat().st_size <= 10240 for f in rotated(tend.path("three.log")))
    assert len(kept) > 3 * 10000 and stream.endswith(kept)

    # No backups: the file is emptied when full, as supervisord does.
    names = sorted(n for n in os.listdir(tend.dir) if n.startswith("none.log"))
    assert names == ["none.log"]
    data = read(tend.path("none.log"))
    assert 0 < len(data) <= 10240 and stream.endswith(data)

    # maxbytes = 0: never rotated.
    assert sorted(n for n in os.listdir(tend.dir) if n.startswith("never.log")) \
        == ["never.log"]
    assert read(tend.path("never.log")) == stream


def test_a_file_named_twice_is_shared_and_rotated_once(tend):
    """stdout and stderr of one program and the stdout of another, all in
    one file: nothing lost, no file over maxbytes (each writer rotating
    on its own would lose and overfill)."""
    both = tend.helper("spew", "--ticks", "1000", "--every", "0", "--both")
    tend.write_config(f"""
        [program:a]
        command = {both}
        stdout_logfile = %(here)s/shared.log
        stderr_logfile = %(here)s/shared.log
        stdout_logfile_maxbytes = 4KB
        stdout_logfile_backups = 20
        daemon = false
        autorestart = false
        startsecs = 0
        [program:b]
        command = {tend.helper("spew", "--ticks", "1000", "--every", "0")}
        stdout_logfile = %(here)s/shared.log
        daemon = false
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("a", "EXITED")
    tend.wait_state("b", "EXITED")
    files = rotated(tend.path("shared.log"))
    assert len(files) > 5 and all(f.stat().st_size <= 4096 for f in files)
    data = b"".join(f.read_bytes() for f in files)
    assert sorted(ticks(data)) == sorted(list(range(1, 1001)) * 2)
    assert sorted(ticks(data, b"etick ")) == list(range(1, 1001))


# ---------------------------------------------------- reopen and recovery

TICKER = dict(every="0.02")


def ticker_config(tend, path, name="tick", extra=""):
    return f"""
        [program:{name}]
        command = {tend.helper("spew", "--ticks", "0", "--every", TICKER["every"])}
        stdout_logfile = {path}
        startsecs = 0
        {extra}
    """


def test_sigusr1_and_reopen_after_external_rename(tend):
    tend.write_config(ticker_config(tend, "%(here)s/t.log"))
    tend.start()
    log = tend.path("t.log")
    wait_for(lambda: len(ticks(read(log))) >= 5, 5, what="ticks in t.log")

    # logrotate: rename, then tell tendd.
    os.rename(log, log + ".1")
    tend.signal(signal.SIGUSR1)
    wait_for(lambda: len(ticks(read(log))) >= 3, 5, what="ticks in the new t.log")
    assert "SIGUSR1 received: log files reopened" in tend.log()

    os.rename(log, log + ".2")
    rc, out, err = tend.ctl("reopen")
    assert rc == 0, (rc, out, err)
    wait_for(lambda: len(ticks(read(log))) >= 3, 5, what="ticks after tendctl reopen")

    tend.ctl("stop", "tick")
    # Nothing lost or doubled across the renames.
    nums = ticks(read(log + ".1")) + ticks(read(log + ".2")) + ticks(read(log))
    assert nums[0] == 1 and contiguous(nums), nums


def test_deleted_log_directory_is_reported_once_and_recovered(tend):
    os.mkdir(tend.path("gone"))
    tend.write_config(ticker_config(tend, "%(here)s/gone/t.log"))
    tend.start()
    log = tend.path("gone/t.log")
    wait_for(lambda: len(ticks(read(log))) >= 5, 5, what="ticks in gone/t.log")
    pid = tend.proc_status("tick")["pid"]

    shutil.rmtree(tend.path("gone"))
    wait_for(lambda: "cannot open %s: No such file or directory" % log in tend.log(),
             5, what="the failure in tendd's log")
    os.mkdir(tend.path("gone"))
    wait_for(lambda: len(ticks(read(log))) >= 3, 5, what="ticks in the new directory")
    wait_for(lambda: "%s can be written again" % log in tend.log(), 5,
             what="the recovery in tendd's log")

    assert tend.log().count("cannot open %s" % log) == 1, tend.log()
    st = tend.proc_status("tick")
    assert st["state"] == "RUNNING" and st["pid"] == pid, st
    assert tend.proc.poll() is None
    nums = ticks(read(log))
    assert contiguous(nums), nums


def test_read_only_log_file_is_held_then_recovered_without_loss(tend):
    """tendd runs unprivileged here (root would write a read-only file
    anyway): after a reopen finds the file read-only, output is held, not
    lost, and written once the file is writable again."""
    def unprivileged():
        if os.geteuid() == 0:
            os.setgid(65534)
            os.setgroups([])
            os.setuid(65534)
    # tendd and the ticker run as nobody: public copies, which nobody can
    # reach wherever the checkout is.
    tend.write_config(f"""
        [program:tick]
        command = {tend.public_helper("spew", "--ticks", "0",
                                      "--every", TICKER["every"])}
        stdout_logfile = %(here)s/ro.log
        startsecs = 0
    """)
    os.chmod(tend.dir, 0o777)
    os.chmod(tend.path("logs"), 0o777)
    tend.start(preexec_fn=unprivileged, binary=tend.public(TENDD),
               env=tend.public_env())
    log = tend.path("ro.log")
    wait_for(lambda: len(ticks(read(log))) >= 5, 5, what="ticks in ro.log")

    os.chmod(log, 0o444)
    tend.signal(signal.SIGUSR1)
    wait_for(lambda: "cannot open %s: Permission denied" % log in tend.log(), 5,
             what="the failure in tendd's log")
    before = len(ticks(read(log)))
    # Long enough for a retry or two to fail as well (one a second).
    wait_for(lambda: len(ticks(tail(tend, "tick"))) > before + 75, 5,
             what="the child writing on while its log is held")
    os.chmod(log, 0o644)
    wait_for(lambda: "%s can be written again" % log in tend.log(), 5,
             what="the recovery")
    # Reported once, however many retries failed; then recovered whole.
    assert tend.log().count("error: cannot open %s: Permission denied; the "
                            "output is held for 5s" % log) == 1, tend.log()
    assert re.search(r"info: %s can be written again after [0-9.]+s; "
                     r"nothing was lost$" % re.escape(log), tend.log(),
                     re.M), tend.log()
    rc, out, err = tend.ctl("stop", "tick")
    assert rc == 0, (rc, out, err)
    nums = ticks(read(log))
    assert nums[0] == 1 and contiguous(nums), nums
    assert len(nums) > before + 75


def test_full_disk_never_blocks_the_child_for_ever(tend):
    """/dev/full fails every write with ENOSPC: reported once, the child
    is held a while (blocked on its full pipe), then its output is dropped
    and counted, and it runs to the end; tendd stays small and responsive."""
    tend.write_config(f"""
        [program:full]
        command = {tend.helper("spew", "--bytes", "8M", "--last", "THE END")}
        stdout_logfile = /dev/full
        daemon = false
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    rss0 = vmrss_kb(tend.pid)
    wait_for(lambda: "cannot write /dev/full: No space left on device" in tend.log(),
             5, what="the failure in tendd's log")
    st = tend.wait_state("full", "EXITED", timeout=30)
    assert st["exitcode"] == 0, st
    # Held (5 s by tendd's clock) before the output was dropped, not for
    # ever (it ended).
    stamps = {}
    for line in tend.log().splitlines():
        for key, what in (("fail", "cannot write /dev/full"),
                          ("exit", "full: RUNNING -> EXITED")):
            if what in line:
                stamps[key] = datetime.datetime.strptime(
                    line.split()[0], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
    assert stamps["exit"] - stamps["fail"] >= 4.9, (stamps, tend.log())
    assert tend.log().count("cannot write /dev/full") == 1, tend.log()
    assert tail(tend, "full", lines=1).endswith(b"THE END\n")
    assert vmrss_kb(tend.pid) - rss0 < 16 * 1024
    assert tend.proc.poll() is None


def test_reload_moves_a_changed_log_and_leaves_the_others(tend):
    ticker = tend.helper("spew", "--ticks", "0", "--every", "0.02")
    conf = """
        [program:moved]
        command = {t}
        stdout_logfile = %(here)s/{moved}
        startsecs = 0
        [program:kept]
        command = {t}
        stdout_logfile = %(here)s/kept.log
        startsecs = 0
    """
    tend.write_config(conf.format(t=ticker, moved="a.log"))
    tend.start()
    wait_for(lambda: len(ticks(read(tend.path("a.log")))) >= 3, 5, what="ticks in a.log")
    kept_pid = tend.proc_status("kept")["pid"]
    tend.write_config(conf.format(t=ticker, moved="b.log"))
    rc, out, err = tend.ctl("reload")
    assert rc == 0 and "moved: changed (stdout_logfile)" in out, (rc, out, err)
    wait_for(lambda: len(ticks(read(tend.path("b.log")))) >= 3, 5, what="ticks in b.log")
    # The new run writes to b.log only; kept goes on in kept.log.
    n = len(read(tend.path("a.log")))
    wait_for(lambda: len(ticks(read(tend.path("b.log")))) >= 6, 5, what="more ticks")
    assert len(read(tend.path("a.log"))) == n
    assert tend.proc_status("kept")["pid"] == kept_pid
    nums = ticks(read(tend.path("kept.log")))
    assert nums[0] == 1 and contiguous(nums), nums


def test_missing_log_directory_makes_only_that_program_fatal(tend):
    tend.write_config(f"""
        [program:bad]
        command = {tend.helper("sleeper")}
        stdout_logfile = %(here)s/nowhere/bad.log
        [program:good]
        command = {tend.helper("sleeper")}
        stdout_logfile = %(here)s/good.log
        startsecs = 0
    """)
    tend.start()
    bad = tend.wait_state("bad", "FATAL")
    assert "cannot open log file %s/nowhere/bad.log: No such file or directory" \
        % tend.dir in bad["description"], bad
    tend.wait_state("good", "RUNNING")
    rc, out, err = tend.ctl("status", "bad")
    assert rc == 3 and "No such file or directory" in out, (rc, out, err)


# -------------------------------------------------------------------- tail

def test_tail_and_tail_follow(tend):
    tend.write_config(f"""
        [program:tick]
        command = {tend.helper("spew", "--ticks", "0", "--every", "0.03", "--both")}
        stdout_logfile = %(here)s/t.log
        startsecs = 0
    """)
    tend.start()
    wait_for(lambda: len(ticks(read(tend.path("t.log")))) >= 12, 5, what="ticks")

    rc, out, err = tend.ctl("tail", "-n", "3", "tick")
    assert rc == 0, (rc, out, err)
    nums = ticks(out.encode())
    assert len(nums) == 3 and contiguous(nums) and nums[-1] >= 6, out
    rc, out, err = tend.ctl("tail", "tick", "stderr")
    assert rc == 0 and len(ticks(out.encode(), b"etick ")) == 10, (rc, out, err)
    rc, out, err = tend.ctl("--json", "tail", "-n", "1", "tick")
    doc = json.loads(out)
    assert rc == 0 and doc["name"] == "tick" and doc["stream"] == "stdout", doc
    assert re.fullmatch(r"tick \d+\n", doc["data"]), doc

    rc, out, err = tend.ctl("tail", "nope")
    assert rc == 4, (rc, out, err)
    rc, out, err = tend.ctl("tail", "tick", "stdin")
    assert rc == 2, (rc, out, err)

    # -f: the last line, then new ones as they come, until interrupted.
    f = subprocess.Popen([str(TENDCTL), "-s", str(tend.sock), "tail", "-f", "-n", "1",
                          "tick"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    try:
        deadline = time.monotonic() + 10
        while len(seen) < 8 and time.monotonic() < deadline:
            line = f.stdout.readline()
            if not line:
                break
            seen += ticks(line)
        assert len(seen) >= 8 and contiguous(seen), seen
        f.send_signal(signal.SIGINT)
        assert f.wait(5) == 0
    finally:
        if f.poll() is None:
            f.kill()
            f.wait()


def test_tail_of_binary_output_is_exact(tend):
    """Bytes that are not text: tendctl prints them exactly; JSON readers
    get valid UTF-8 with U+FFFD for what is not."""
    data = bytes(range(256)) * 8 + "é\n".encode()
    (tend.dir / "bin.dat").write_bytes(data)
    tend.write_config(f"""
        [program:bin]
        command = /bin/cat {tend.dir}/bin.dat
        stdout_logfile = %(here)s/bin.log
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("bin", "EXITED")
    assert read(tend.path("bin.log")) == data
    r = subprocess.run([str(TENDCTL), "-s", str(tend.sock), "tail", "-n", "all", "bin"],
                       capture_output=True, timeout=10)
    assert r.returncode == 0 and r.stdout == data, r
    r = subprocess.run([str(TENDCTL), "-s", str(tend.sock), "--json", "tail", "-n",
                        "all", "bin"], capture_output=True, timeout=10)
    assert r.returncode == 0, r
    text = json.loads(r.stdout)["data"]
    assert text.endswith("é\n") and "\ufffd" in text and "\x00" in text


def test_tail_follow_reader_that_does_not_read_never_slows_the_child(tend):
    tend.write_config(f"""
        [program:blast]
        command = {tend.helper("spew", "--bytes", "48M")}
        stdout_logfile = /dev/null
        autostart = false
        daemon = false
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    stuck = tend.connect()
    try:
        stuck.sendall(b'{"id": 1, "cmd": "tail", "name": "blast", "follow": true, '
                      b'"lines": 0}\n')
        assert read_json_line(stuck)["ok"]
        assert tend.request("start", names=["blast"])["ok"]
        # The follower reads nothing, ever: the child ends all the same.
        tend.wait_state("blast", "EXITED", timeout=30)
        # tendd answers as usual, and its memory did not take the 48 MB.
        assert tend.request("version")["ok"]
        assert vmrss_kb(tend.pid) < 64 * 1024
    finally:
        stuck.close()


def test_clear_empties_the_log_and_the_tail(tend):
    tend.write_config(ticker_config(tend, "%(here)s/t.log"))
    tend.start()
    log = tend.path("t.log")
    wait_for(lambda: len(ticks(read(log))) >= 10, 5, what="ticks")
    last = ticks(read(log))[-1]
    rc, out, err = tend.ctl("clear", "tick")
    assert rc == 0 and "tick: cleared" in out, (rc, out, err)
    wait_for(lambda: len(ticks(read(log))) >= 2, 5, what="ticks after the clear")
    nums = ticks(read(log))
    assert nums[0] > last - 2 and contiguous(nums), (last, nums)
    assert ticks(tail(tend, "tick"))[0] > last - 2
    rc, out, err = tend.ctl("clear", "nope")
    assert rc == 4 and "no such process: nope" in err, (rc, out, err)


# ------------------------------------------------ tendd's own stdout/stderr

def test_dev_stdout_and_stderr_pass_through(tend):
    """stdout_logfile = /dev/stdout writes to tendd's own stdout (here a
    pipe, the container case) and is never rotated; /dev/stderr to its
    stderr (here the test's log file)."""
    tend.write_config(f"""
        [program:pass]
        command = {tend.helper("spew", "--bytes", "8K", "--last", "END")}
        stdout_logfile = /dev/stdout
        stdout_logfile_maxbytes = 1KB
        autorestart = false
        startsecs = 0
        [program:err]
        command = {tend.helper("spew", "--ticks", "3", "--every", "0.01", "--stderr")}
        stdout_logfile = NONE
        stderr_logfile = /dev/stderr
        stderr_logfile_maxbytes = 1KB
        autorestart = false
        startsecs = 0
    """)
    logf = open(tend.logpath, "ab")
    tend._logfiles.append(logf)
    p = subprocess.Popen([str(TENDD), "-c", str(tend.conf)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=logf, cwd=str(tend.dir),
                         start_new_session=True)
    tend.proc, tend.pid = p, p.pid
    got = bytearray()

    def reader():
        while True:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                return
            got.extend(chunk)
    threading.Thread(target=reader, daemon=True).start()
    wait_for(lambda: got.endswith(b"END\n"), 10, what="the output on tendd's stdout")
    assert bytes(got) == spew_bytes(8 << 10) + b"END\n"
    tend.wait_state("err", "EXITED")
    # Whole lines among tendd's own.
    assert re.findall(r"^tick \d$", tend.log(), re.M) == ["tick 1", "tick 2", "tick 3"]
    assert not any(n.endswith(".1") for n in os.listdir(tend.dir))


# -------------------------------------------------------------- timestamps

def test_timestamps_once_per_line_even_when_split(tend):
    tend.write_config(r"""
        [program:ts]
        command = /bin/sh -c "printf abc; sleep 0.4; printf 'def\nghi\n'; printf jkl"
        log_timestamps = true
        stdout_logfile = %(here)s/ts.log
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("ts", "EXITED")
    lines = read(tend.path("ts.log")).decode().split("\n")
    # The last line had no newline: it is ended, so every line has a time.
    assert lines[-1] == "", lines
    parsed = [STAMP.match(line) for line in lines[:-1]]
    assert all(parsed), lines
    assert [m.group(2) for m in parsed] == ["abcdef", "ghi", "jkl"], lines
    # A line's time is when its first byte came.
    times = [time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S"))
             + int(m.group(1)[20:]) / 1000 for m in parsed]
    assert times[1] - times[0] >= 0.3, lines
    assert abs(times[0] - time.time()) < 60


def test_a_single_10mb_line(tend):
    spew = tend.helper("spew", "--bytes", "10M", "--one-line")
    tend.write_config(f"""
        [program:long]
        command = {spew}
        stdout_logfile = %(here)s/long.log
        daemon = false
        autorestart = false
        startsecs = 0
        [program:stamped]
        command = {spew}
        stdout_logfile = %(here)s/stamped.log
        log_timestamps = true
        daemon = false
        autorestart = false
        startsecs = 0
    """)
    tend.start()
    rss0 = vmrss_kb(tend.pid)
    tend.wait_state("long", "EXITED", timeout=20)
    tend.wait_state("stamped", "EXITED", timeout=20)
    want = spew_bytes(10 << 20, one_line=True)
    data = read(tend.path("long.log"))
    assert len(data) == len(want) and sha(data) == sha(want)
    stamped = read(tend.path("stamped.log"))
    m = STAMP.match(stamped[:24].decode())
    assert m and stamped.count(b"\n") == 1 and sha(stamped[24:]) == sha(want)
    # Streamed through the 64 KiB ring, never held whole.
    assert vmrss_kb(tend.pid) - rss0 < 8 * 1024
    assert tail(tend, "long") == want[-(64 << 10):]


# ----------------------------------------------------------------- journal

def test_journal_gets_one_entry_per_line(tend):
    """tendd runs in a private mount namespace whose
    /run/systemd/journal/socket is a datagram socket of this test."""
    jdir = tend.dir / "journal"
    jdir.mkdir()
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(str(jdir / "socket"))
    rx.settimeout(10)
    tend.write_config(r"""
        [program:jw]
        command = /bin/sh -c "echo hello journal; echo oops >&2; printf partial"
        stdout_logfile = journal
        stderr_logfile = journal
        autorestart = false
        startsecs = 0
    """)
    script = ("mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
              "mount --bind %s /run/systemd/journal && exec %s -c %s"
              % (jdir, TENDD, tend.conf))
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    logf = open(tend.logpath, "ab")
    tend._logfiles.append(logf)
    p = subprocess.Popen(unshare + ["sh", "-c", script], stdin=subprocess.DEVNULL,
                         stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    tend.proc, tend.pid = p, p.pid
    entries = []
    try:
        while len(entries) < 3:
            fields = {}
            for line in rx.recv(65536).split(b"\n"):
                k, _, v = line.partition(b"=")
                if k:
                    fields[k.decode()] = v.decode()
            entries.append(fields)
    finally:
        rx.close()
    by_msg = {e["MESSAGE"]: e for e in entries}
    assert set(by_msg) == {"hello journal", "oops", "partial"}, entries
    for e in entries:
        assert e["SYSLOG_IDENTIFIER"] == "jw" and e["TEND_PROCESS"] == "jw:jw", e
        assert int(e["SYSLOG_PID"]) > 0 and "CODE_FILE" not in e, e
    assert by_msg["hello journal"]["PRIORITY"] == "6"
    assert by_msg["hello journal"]["TEND_STREAM"] == "stdout"
    assert by_msg["oops"]["PRIORITY"] == "4"
    assert by_msg["oops"]["TEND_STREAM"] == "stderr"
    # tail works from memory for the journal too.
    wait_for(lambda: tend.sock.exists(), 5, what="tendd's socket")
    tend.wait_state("jw", "EXITED")
    assert tail(tend, "jw") == b"hello journal\npartial"
