"""
tendd's own log ([tend] logfile, spec §2, §3; issue 12): every spelling of
tendd's stdout and stderr as its log, whatever they are (pipe, file,
terminal, socket); a program's /dev/stdout and /dev/stderr are tendd's
real ones whatever the log is; a log file rotates at logfile_maxbytes
keeping logfile_backups and is opened again on SIGUSR1; logfile = syslog
sends datagrams to the syslog socket (TEND_SYSLOG_SOCKET here, /dev/log
otherwise), and to stderr while nothing listens there.
"""
import os
import re
import select
import signal
import socket
import subprocess
import threading

import pytest

from conftest import (SYSTEMD_VARS, TENDD, TRANSITION_RE, alive, require,
                      wait_for)

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} tendd\[\d+\]: "
                  r"(error|warn|info|debug): .*$")


class Stream:
    """One of tendd's standard streams as a pipe, a file, a terminal or a
    socket, and what arrives on it."""

    def __init__(self, kind, path):
        self.kind, self.path = kind, path
        self.data = bytearray()
        self.thread = None
        self.r = None
        if kind == "file":
            self.w = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                             0o644)
        elif kind == "pipe":
            self.r, self.w = os.pipe()
        elif kind == "pty":
            self.r, self.w = os.openpty()
        elif kind == "socket":
            a, b = socket.socketpair()
            self.r, self.w = a.detach(), b.detach()
        else:
            raise ValueError(kind)

    def started(self):
        """tendd has it: the test's copy goes (so EOF comes), reading
        begins."""
        os.close(self.w)
        if self.r is not None:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()

    def _read(self):
        while True:
            try:
                chunk = os.read(self.r, 65536)
            except OSError:         # a terminal's master: EIO at the end
                chunk = b""
            if not chunk:
                os.close(self.r)
                return
            self.data.extend(chunk)

    def text(self):
        if self.kind == "file":
            with open(self.path, "rb") as f:
                raw = f.read()
        else:
            raw = bytes(self.data)
        # A terminal turns "\n" into "\r\n".
        return raw.decode(errors="replace").replace("\r\n", "\n")

    def finish(self):
        if self.thread is not None:
            self.thread.join(10)
            assert not self.thread.is_alive(), "the stream never ended"


def env_for(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in SYSTEMD_VARS and k not in ("TEND_SOCKET",
                                                   "JOURNAL_STREAM",
                                                   "INVOCATION_ID")}
    env.update(extra or {})
    return env


def run_tendd(tend, out, err, *args, env=None):
    """tendd with OUT and ERR (Streams) as its stdout and stderr."""
    require(TENDD, "make build/tendd")
    p = subprocess.Popen([str(TENDD), "-c", str(tend.conf)] + list(args),
                         stdin=subprocess.DEVNULL, stdout=out.w, stderr=err.w,
                         env=env_for(env), cwd=str(tend.dir),
                         start_new_session=True)
    tend.proc, tend.pid = p, p.pid
    out.started()
    err.started()
    return p


def stop(tend):
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0


def check(tend, env=None):
    r = subprocess.run([str(TENDD), "-c", str(tend.conf), "--check"],
                       capture_output=True, text=True, timeout=10,
                       cwd=str(tend.dir), env=env_for(env))
    return r.returncode, r.stdout + r.stderr


# ------------------------------------------------ stdout, stderr as the log

DESCRIPTOR_PATHS = ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1",
                    "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2"]


@pytest.mark.parametrize("kind", ["pipe", "file", "pty", "socket"])
@pytest.mark.parametrize("path", DESCRIPTOR_PATHS)
def test_logfile_may_be_tendds_stdout_or_stderr(tend, path, kind):
    """The usual container setting (logfile = /dev/stdout) and its other
    spellings: the log is on that stream whatever it is (a socket cannot
    be opened through /proc at all), and on no other."""
    tend.write_config("", tend="logfile = %s" % path)
    rc, out = check(tend)
    assert rc == 0 and "warning:" not in out, out
    to_stdout = path.endswith("1") or path == "/dev/stdout"
    target = Stream(kind, tend.path("target"))
    other = Stream("file", tend.path("other"))
    if to_stdout:
        run_tendd(tend, target, other)
    else:
        run_tendd(tend, other, target)
    wait_for(lambda: re.search(r"info: tendd \S+ started", target.text()),
             10, what="the start line on %s as a %s" % (path, kind))
    stop(tend)
    target.finish()
    text = target.text()
    assert re.search(r"info: tendd exits with status 0\n", text), text
    lines = text.splitlines()
    assert all(LINE.match(m) for m in lines), text
    assert "started" not in other.text(), other.text()


# -------------------------------------- a program's /dev/stdout, /dev/stderr

@pytest.mark.parametrize("logfile", ["%(here)s/own.log", "/dev/null"])
def test_program_dev_stderr_is_tendds_real_stderr_whatever_the_log(
        tend, logfile):
    """With logfile = PATH (or /dev/null), a program's /dev/stdout and
    /dev/stderr still reach tendd's real stdout and stderr (container
    logs), never tendd's log file."""
    tend.write_config(f"""
        [program:both]
        command = {tend.helper("spew", "--ticks", 3, "--every", 0.01,
                               "--both")}
        stdout_logfile = /dev/stdout
        stderr_logfile = /dev/fd/2
        autorestart = false
        startsecs = 0
    """, tend="logfile = %s" % logfile)
    out = Stream("pipe", None)
    err = Stream("file", tend.path("stderr"))
    run_tendd(tend, out, err)
    wait_for(lambda: "etick 3\n" in err.text(), 10,
             what="the program's stderr on tendd's stderr")
    wait_for(lambda: out.text() == "tick 1\ntick 2\ntick 3\n", 10,
             what="the program's stdout on tendd's stdout")
    tend.wait_state("both", "EXITED")
    assert re.findall(r"^e?tick \d$", err.text(), re.M) == \
        ["etick 1", "etick 2", "etick 3"], err.text()
    if logfile != "/dev/null":
        own = tend.dir / "own.log"
        wait_for(lambda: "both: RUNNING -> EXITED" in own.read_text(), 10,
                 what="the exit in the log file")
        assert "tick" not in own.read_text()
    # tendd's own lines are not on its stderr: it said where they go.
    assert "both: STARTING -> RUNNING" not in err.text()
    assert "logging to %s" % logfile.replace("%(here)s", str(tend.dir)) \
        in err.text(), err.text()
    stop(tend)
    out.finish()
    assert out.text() == "tick 1\ntick 2\ntick 3\n"


# --------------------------------------------------------- a file: rotation

def cycles(tend, n):
    """N start/stop rounds of program p, each logging four transitions."""
    for _ in range(n):
        rc, out, err = tend.ctl("start", "p")
        assert rc == 0, (rc, out, err)
        rc, out, err = tend.ctl("stop", "p")
        assert rc == 0, (rc, out, err)


def expected_transitions(n):
    first = [("NEW", "STARTING")]
    again = [("STOPPED", "STARTING")]
    rest = [("STARTING", "RUNNING"), ("RUNNING", "STOPPING"),
            ("STOPPING", "STOPPED")]
    return first + rest + (again + rest) * (n - 1)


def transitions(text):
    return [(m.group(2), m.group(3)) for m in TRANSITION_RE.finditer(text)
            if m.group(1) == "p"]


def log_program(tend, tend_keys):
    tend.write_config(f"""
        [program:p]
        command = {tend.helper("sleeper")}
        autostart = false
        startsecs = 0
    """, tend="logfile = %(here)s/own.log\n" + tend_keys)


def test_log_file_rotates_at_maxbytes_keeping_backups(tend):
    log_program(tend, "logfile_maxbytes = 1KB\nlogfile_backups = 2")
    tend.start()
    n = 12
    cycles(tend, n)
    base = tend.dir / "own.log"
    files = [base.with_name("own.log.2"), base.with_name("own.log.1"), base]
    for f in files:
        assert f.exists(), sorted(os.listdir(tend.dir))
        # Rotated before it would grow past maxbytes; whole lines only.
        assert 0 < f.stat().st_size <= 1024, (f, f.stat().st_size)
        text = f.read_text()
        assert text.endswith("\n")
        assert all(LINE.match(m) for m in text.splitlines()), text
    assert not base.with_name("own.log.3").exists()
    # Oldest first, the files hold the last transitions, none lost,
    # doubled or out of order across the rotations.
    seen = transitions("".join(f.read_text() for f in files))
    full = expected_transitions(n)
    assert 8 <= len(seen) < len(full), seen
    assert seen == full[-len(seen):], seen
    # Nothing of it on stderr.
    assert "STARTING -> RUNNING" not in tend.log()


def test_log_file_without_backups_is_emptied(tend):
    log_program(tend, "logfile_maxbytes = 1KB\nlogfile_backups = 0")
    tend.start()
    n = 6
    cycles(tend, n)
    base = tend.dir / "own.log"
    assert not base.with_name("own.log.1").exists()
    assert 0 < base.stat().st_size <= 1024
    seen = transitions(base.read_text())
    full = expected_transitions(n)
    assert 0 < len(seen) < len(full) and seen == full[-len(seen):], seen


def test_sigusr1_reopens_the_log_file_after_a_move(tend):
    log_program(tend, "")
    tend.start()
    base = tend.dir / "own.log"
    moved = tend.dir / "own.log.moved"
    wait_for(lambda: base.exists() and "started" in base.read_text(), 10)
    os.rename(base, moved)
    tend.signal(signal.SIGUSR1)
    wait_for(lambda: base.exists() and "SIGUSR1 received: log files "
             "reopened" in base.read_text(), 10, what="the reopened log")
    cycles(tend, 1)
    assert "p: NEW -> STARTING" in base.read_text()
    old = moved.read_text()
    assert "started" in old and "SIGUSR1" not in old and "p:" not in old
    # tendctl reopen does the same.
    os.rename(base, moved)
    rc, out, err = tend.ctl("reopen")
    assert rc == 0, (rc, out, err)
    wait_for(lambda: base.exists() and "reopen requested by tendctl" in
             base.read_text(), 10)


def test_a_link_at_the_log_file_path_is_refused_with_the_reason(tend):
    victim = tend.dir / "victim"
    victim.write_text("untouched\n")
    os.symlink(victim, tend.dir / "own.log")
    log_program(tend, "")
    p = tend.spawn_tendd()
    tend.proc, tend.pid = p, p.pid
    assert tend.wait_exit(timeout=10) == 1
    assert "cannot open logfile %s/own.log: it is a symbolic link" % \
        tend.dir in tend.log(), tend.log()
    assert victim.read_text() == "untouched\n"


def test_why_tendd_did_not_start_is_on_stderr_and_in_the_log_file(tend):
    (tend.dir / "afile").write_text("")
    tend.write_config("", header=False)
    tend.conf.write_text("[tend]\nsocket = %(here)s/afile/tend.sock\n"
                         "logfile = %(here)s/own.log\n")
    p = tend.spawn_tendd()
    tend.proc, tend.pid = p, p.pid
    assert tend.wait_exit(timeout=10) == 1
    errors = re.findall(r"\]: error: (.*)", (tend.dir / "own.log").read_text())
    assert len(errors) == 1 and "afile" in errors[0], errors
    assert "error: %s\n" % errors[0] in tend.log(), tend.log()


def test_daemonize_with_a_log_file_keeps_no_stream_of_its_starter(tend):
    """--daemonize: once ready, the daemon holds neither the stdout nor
    the stderr it was started with when its log is elsewhere (as
    supervisord), so whoever started it sees them end."""
    log_program(tend, "pidfile = %(here)s/tendd.pid")
    r, w = os.pipe()
    require(TENDD, "make build/tendd")
    p = subprocess.run([str(TENDD), "-c", str(tend.conf), "--daemonize"],
                       stdin=subprocess.DEVNULL, stdout=w, stderr=w,
                       env=env_for(), cwd=str(tend.dir), timeout=10)
    os.close(w)
    pidfile = tend.dir / "tendd.pid"
    try:
        assert p.returncode == 0
        pid = int(wait_for(lambda: pidfile.exists() and
                           pidfile.read_text().strip(), 10))
        tend.track(pid)
        got = bytearray()

        def ended():
            if not select.select([r], [], [], 0.1)[0]:
                return False
            chunk = os.read(r, 65536)
            got.extend(chunk)
            return chunk == b""
        wait_for(ended, 10, what="EOF on the starter's pipe")
        assert "logging to %s/own.log" % tend.dir in got.decode(), got
        assert "started" in (tend.dir / "own.log").read_text()
        assert alive(pid)
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid), 10, what="the daemon's exit")
    finally:
        os.close(r)


# ------------------------------------------------------------------ syslog

class Syslog:
    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.msgs = []

    def poll(self):
        while True:
            try:
                self.msgs.append(self.sock.recv(65536).decode())
            except BlockingIOError:
                return self.msgs

    def find(self, pattern):
        for m in self.poll():
            if re.search(pattern, m):
                return m
        return None

    def close(self):
        self.sock.close()


def test_logfile_syslog_sends_to_the_syslog_socket(tend):
    sl = Syslog(tend.dir / "log.sock")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """, tend="logfile = syslog\nidentifier = tendtest")
    env = {"TEND_SYSLOG_SOCKET": sl.path}
    rc, out = check(tend, env)
    assert rc == 0 and "warning:" not in out, out
    tend.start(env=env)
    # RFC 3164 as syslog(3) sends it, facility daemon: info is <30>.
    m = wait_for(lambda: sl.find(r"svc: STARTING -> RUNNING"), 10,
                 what="the transition at the syslog socket")
    assert re.match(r"<30>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d "
                    r"tendtest\[%d\]: info: svc: STARTING -> RUNNING"
                    % tend.pid, m), m
    # A warning is <28> (a key tend does not know, at a reload).
    tend.conf.write_text(tend.conf.read_text() + "no_such_key = 1\n")
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    w = wait_for(lambda: sl.find(r"no_such_key"), 10)
    assert w.startswith("<28>") and ": warn: reload: " in w, w
    # It said where its log goes, and nothing else went to stderr, nor
    # to a file named syslog.
    assert "logging to syslog at %s as tendtest" % sl.path in tend.log()
    assert "STARTING -> RUNNING" not in tend.log()
    assert not (tend.dir / "syslog").exists()
    sl.close()


def test_logfile_syslog_without_a_listener_goes_to_stderr_until_one_comes(
        tend):
    path = tend.dir / "log.sock"
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """, tend="logfile = syslog")
    env = {"TEND_SYSLOG_SOCKET": str(path)}
    rc, out = check(tend, env)
    assert rc == 0, out
    assert "warning: %s:4: [tend] logfile: syslog: %s: No such file or " \
        "directory; tendd will log to stderr until it exists" % (
            tend.conf, path) in out, out
    tend.start(env=env)
    assert "logfile = syslog, but %s: No such file or directory; logging " \
        "to stderr" % path in tend.log(), tend.log()
    tend.wait_state("svc", "RUNNING")
    wait_for(lambda: "svc: STARTING -> RUNNING" in tend.log(), 10)
    sl = Syslog(path)

    # Tried again at most once a second: log a line until it arrives.
    def arrived():
        rc, out, err = tend.ctl("reload")
        assert rc == 0, (rc, out, err)
        return sl.poll()
    msgs = wait_for(arrived, 10, interval=0.25, what="syslog used again")
    # The first says what became of the lines meanwhile.
    assert re.match(r"<28>.* tend\[%d\]: warn: tendd's log could not be "
                    r"written to %s \(No such file or directory\): "
                    r"[1-9]\d* lines? went to stderr, 0 were lost$"
                    % (tend.pid, re.escape(str(path))), msgs[0]), msgs
    sl.close()
