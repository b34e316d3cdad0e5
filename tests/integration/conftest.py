"""
Integration harness for tend: runs the real build/tendd and build/tendctl
in a private temp dir per test, with the helper programs of tests/helpers
(built to build/helpers by `make helpers`) as the supervised children.

Rules kept here so the tests stay honest and never leave litter:
  * every wait is a poll with a deadline (wait_for); no bare sleeps;
  * a deadline says "never", not "too slow": none is shorter than
    MIN_DEADLINE, so a loaded machine or the sanitizer build cannot fail
    a test by being slow. What must happen "at once" is shown by order
    (it happened while something else was still held), never by a time;
  * what a program run as another user needs (a helper, tendd itself) is
    copied where that user can reach it (Tend.public): the checkout may
    sit in a 0700 directory;
  * every test has a hard time limit (SIGALRM, TEST_TIMEOUT seconds);
  * teardown stops the test's tendd by pid, then SIGKILLs, by pid only,
    whatever the test recorded (tend.track) and every descendant tendd had;
    a pid is only signalled while /proc shows the same process (start time),
    so a reused pid is never hit.
"""
import json
import os
import re
import shlex
import shutil
import random
import signal
import socket
import stat
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# TEND_BUILD points the suite at another build (the sanitizer build, say).
BUILD = Path(os.environ.get("TEND_BUILD", str(ROOT / "build"))).resolve()
TENDD = BUILD / "tendd"
TENDCTL = BUILD / "tendctl"
HELPERS = BUILD / "helpers"

TEST_TIMEOUT = 40          # seconds; each test is meant to take < 20
MIN_DEADLINE = 10.0        # seconds; the shortest deadline of any wait
STATES = ("NEW", "STARTING", "RUNNING", "PAUSED", "STOPPING", "STOPPED",
          "EXITED", "BACKOFF", "FATAL", "WAITING")
# tendd logs each state change as "NAME: OLD -> NEW" (at info level).
TRANSITION_RE = re.compile(
    r"([\w.:*-]+): (%s) -> (%s)\b" % ("|".join(STATES), "|".join(STATES)))
# Variables of tendd's own supervisor that must never reach a child.
SYSTEMD_VARS = ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                "WATCHDOG_USEC", "WATCHDOG_PID")


def require(path, how):
    if not path.exists():
        pytest.fail("%s is missing: build it with `%s`" % (path, how),
                    pytrace=False)


# ---------------------------------------------------------------- polling

def wait_for(predicate, timeout=10.0, interval=0.05, what=None):
    """Polls PREDICATE until it returns something true; returns that.
    Fails the test after TIMEOUT seconds (MIN_DEADLINE at least), naming
    WHAT."""
    timeout = max(timeout, MIN_DEADLINE)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what or getattr(
                                     predicate, "__name__", "a condition")))
        time.sleep(interval)


def holds_for(predicate, duration, interval=0.05, what=None):
    """Asserts PREDICATE stays true for DURATION seconds (polled)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        if not predicate():
            raise AssertionError("no longer true: %s"
                                 % (what or getattr(predicate, "__name__",
                                                    "a condition")))
        time.sleep(interval)


# ------------------------------------------------------------------ /proc

def proc_stat(pid):
    """(state, ppid, pgid, sid, starttime) of PID, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[2]), int(rest[3]), int(rest[19])


def alive(pid):
    """True while PID exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def exists(pid):
    """True while PID has an entry in /proc (a zombie counts)."""
    return proc_stat(pid) is not None


def is_zombie(pid):
    st = proc_stat(pid)
    return st is not None and st[0] in ("Z", "X")


def descendants(root):
    """Every live pid below ROOT in the process tree."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = proc_stat(int(entry))
        if st is not None:
            children.setdefault(st[1], []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def forker_pids(path):
    """The pidfile of the forker helper: (leader, grandchild)."""
    def get():
        try:
            with open(path) as f:
                a, b = f.read().split()
            return int(a), int(b)
        except (FileNotFoundError, ValueError):
            return None
    return wait_for(get, 5, what="forker's pidfile")


def read_records(path):
    """Lines "PID MONOTONIC [tag]" written by the helpers: [(pid, t, tag)].
    Only complete lines count."""
    try:
        with open(path) as f:
            data = f.read()
    except FileNotFoundError:
        return []
    out = []
    for line in data.split("\n")[:-1]:
        parts = line.split()
        out.append((int(parts[0]), float(parts[1]),
                    parts[2] if len(parts) > 2 else ""))
    return out


def wait_records(path, n, timeout=10, what=None):
    """The records of PATH (read_records) once there are N or more.
    A process is STARTING as soon as it is spawned, RUNNING at once with
    startsecs = 0, but its helper writes its record some time after the
    exec: before it has, the record is missing and a signal may still
    find the helper's handlers not in place (--ignore-term,
    --term-exit). Wait with this, then assert the exact count."""
    got = []

    def enough():
        got[:] = read_records(path)
        return len(got) >= n
    wait_for(enough, timeout, what=what or "%d record(s) in %s" % (n, path))
    return list(got)


def settled_fds(pid):
    """The descriptor numbers PID holds once they stop changing (two
    looks in a row alike): what a tendd holds at rest, its clients gone."""
    settled = {}

    def quiet():
        now = {int(n) for n in os.listdir("/proc/%d/fd" % pid)}
        same = settled.get("last") == now
        settled["last"] = now
        return same
    wait_for(quiet, 5, interval=0.2, what="the descriptors of %d to settle"
             % pid)
    return settled["last"]


def holds_open(pid, path):
    """True while PID has PATH (a FIFO, say) open. A helper that records
    itself and then opens a barrier (exitwith --barrier) may not have
    opened it yet when its record is there: a barrier closed before that
    open never releases it."""
    want = os.stat(path)
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return False
    for fd in fds:
        try:
            st = os.stat("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if (st.st_ino, st.st_dev) == (want.st_ino, want.st_dev):
            return True
    return False


def read_facts(path):
    """The file inspect writes: {"fd": {n: target}, "env": {k: v}, key: value}."""
    facts = {"fd": {}, "env": {}}
    with open(path) as f:
        for line in f.read().split("\n"):
            if not line:
                continue
            if line.startswith("fd "):
                _, n, target = (line.split(" ", 2) + [""])[:3]
                facts["fd"][int(n)] = target
            elif line.startswith("env "):
                k, _, v = line[4:].partition("=")
                facts["env"][k] = v.replace("\\n", "\n").replace("\\\\", "\\")
            elif ":" in line.split(" ")[0]:
                k, _, v = line.partition(":")
                facts[k] = v.strip()
            else:
                k, _, v = line.partition(" ")
                facts[k] = v
    return facts


# ------------------------------------------------------------ other users
#
# Programs run as another user (user = nobody, tendd or tendctl dropped
# to uid 65534) must reach what they execute, read and write. The checkout
# may sit in a 0700 directory (a home, `mktemp -d`), so nothing under it
# is reachable for them: Tend.public() copies what they need into a
# directory of the test's own that every user can search.

def searchable_by_all(path):
    """True when every directory from / down to PATH lets others search."""
    p = Path(path).resolve()
    for d in [p] + list(p.parents):
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return False
    return True


def reachable_tmp():
    """A temp directory under which other users can reach what a test
    makes public: $TMPDIR's if it is searchable by all, else /tmp."""
    for d in (tempfile.gettempdir(), "/tmp"):
        if searchable_by_all(d):
            return d
    pytest.fail("neither %s nor /tmp can be searched by other users"
                % tempfile.gettempdir(), pytrace=False)


def free_uid():
    """A uid no account and no process uses: a test's own user, so that
    per-user limits (RLIMIT_NPROC) count its processes only, never those
    of another copy of the suite running beside it."""
    with open("/etc/passwd") as f:
        taken = {int(line.split(":")[2]) for line in f if line.count(":") >= 6}
    rnd = random.SystemRandom()
    while True:
        uid = rnd.randrange(1 << 20, 1 << 30)
        if uid not in taken and not pids_of_uid(uid):
            return uid


def pids_of_uid(uid):
    """Every pid whose real uid is UID."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/status" % e) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            out.append(int(e))
                        break
        except OSError:
            pass
    return out


# --------------------------------------------------------------- harness

class Tend:
    """One test's tendd: its dir, config, process, socket and log."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.conf = self.dir / "tend.conf"
        self.sock = self.dir / "tend.sock"
        self.logpath = self.dir / "tendd.log"
        self.proc = None
        self.pid = None
        self._tracked = {}          # pid -> starttime
        self._extra = []            # other Popen objects (second tendd...)
        self._logfiles = []
        self._id = 0
        self._public = None         # Tend.public()'s directory

    # ---- files and commands
    def path(self, name):
        return str(self.dir / name)

    def helper(self, name, *args):
        """A command line running build/helpers/NAME with ARGS."""
        require(HELPERS / name, "make helpers")
        return " ".join(shlex.quote(str(a))
                        for a in [HELPERS / name] + list(args))

    def write_config(self, programs="", tend="", header=True):
        """Writes tend.conf: a [tend] section (socket and childlogdir in
        this test's dir, plus TEND lines), then PROGRAMS (INI text)."""
        (self.dir / "logs").mkdir(exist_ok=True)
        text = ""
        if header:
            text = ("[tend]\nsocket = %(here)s/tend.sock\n"
                    "childlogdir = %(here)s/logs\n"
                    + textwrap.dedent(tend).strip("\n") + "\n\n")
        text += textwrap.dedent(programs).strip("\n") + "\n"
        self.conf.write_text(text)
        return self.conf

    # ---- what other users must reach
    def _public_dir(self):
        if self._public is None:
            self._public = Path(tempfile.mkdtemp(prefix="tend-pub-",
                                                 dir=reachable_tmp()))
            os.chmod(self._public, 0o755)
            (self._public / "san").mkdir()
            os.chmod(self._public / "san", 0o1777)
        return self._public

    def public(self, path):
        """A copy of PATH (a helper, tendd, tendctl) that every user can
        execute, in a directory of this test's own: a program run as
        another user cannot reach the checkout when it sits in a 0700
        directory."""
        dest = self._public_dir() / Path(path).name
        if not dest.exists():
            shutil.copy2(path, dest)
            os.chmod(dest, 0o755)
        return dest

    def public_helper(self, name, *args):
        """helper(), with the helper copied where every user reaches it
        (for a program with user =)."""
        require(HELPERS / name, "make helpers")
        return " ".join(shlex.quote(str(a)) for a in
                        [self.public(HELPERS / name)] + list(args))

    def public_env(self, env=None):
        """ENV for a sanitizer-build program run as another user: its
        reports go to this test's public directory (the build's report
        directory in the checkout may be out of its reach); cleanup()
        moves them to the build's, where tests/run counts them."""
        pub = self._public_dir()
        env = dict(env or {})
        for var, name in (("ASAN_OPTIONS", "asan"), ("UBSAN_OPTIONS", "ubsan")):
            old = env.get(var, os.environ.get(var, ""))
            env[var] = (old + ":" if old else "") + "log_path=%s/san/%s" % (
                pub, name)
        return env

    def users_namespace(self, passwd="", group=""):
        """An argv prefix (spawn_tendd's WRAP) that runs tendd in a private
        mount namespace where /etc/passwd and /etc/group have the lines
        PASSWD and GROUP added: users of the test's own, the machine
        unchanged."""
        if os.getuid() != 0 or shutil.which("unshare") is None:
            pytest.fail("this test needs root and unshare")
        etc = Path(tempfile.mkdtemp(prefix="tend-etc-", dir=self.dir))
        os.chmod(etc, 0o755)
        for name, extra in (("passwd", passwd), ("group", group)):
            with open("/etc/" + name) as f:
                text = f.read()
            (etc / name).write_text(text + textwrap.dedent(extra).lstrip())
            os.chmod(etc / name, 0o644)
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$0/passwd" /etc/passwd && '
                'mount --bind "$0/group" /etc/group && exec "$@"', str(etc)]

    def _collect_public(self):
        if self._public is None:
            return
        reports = BUILD / "sanitizer-reports"
        for r in sorted((self._public / "san").iterdir()):
            if reports.is_dir():
                shutil.copy(r, reports / ("public-" + r.name))
        shutil.rmtree(self._public, ignore_errors=True)

    # ---- tendd
    def spawn_tendd(self, *args, env=None, preexec_fn=None, conf=None,
                    log=None, restore_signals=True, wrap=(), binary=None):
        """Starts a tendd and returns its Popen, without waiting. WRAP is
        an argv that runs it (users_namespace()); BINARY another tendd
        (a public() copy)."""
        require(TENDD, "make build/tendd")
        full_env = {k: v for k, v in os.environ.items()
                    if k not in SYSTEMD_VARS and k != "TEND_SOCKET"}
        full_env.update(env or {})
        logf = open(log or self.logpath, "ab")
        self._logfiles.append(logf)
        p = subprocess.Popen(
            list(wrap) + [str(binary or TENDD), "-c", str(conf or self.conf)]
            + list(args),
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            env=full_env, cwd=str(self.dir), preexec_fn=preexec_fn,
            restore_signals=restore_signals, start_new_session=True)
        return p

    def start(self, *args, env=None, preexec_fn=None, restore_signals=True,
              timeout=10, wrap=(), binary=None):
        """Starts this test's tendd and waits until its socket answers."""
        self.proc = self.spawn_tendd(*args, env=env, preexec_fn=preexec_fn,
                                     restore_signals=restore_signals,
                                     wrap=wrap, binary=binary)
        self.pid = self.proc.pid
        deadline = time.monotonic() + max(timeout, MIN_DEADLINE)
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    "tendd exited with %d before it was ready; its log:\n%s"
                    % (self.proc.returncode, self.log()))
            try:
                if self.request("version", timeout=2).get("ok"):
                    return self
            except (OSError, ValueError):
                pass
            if time.monotonic() >= deadline:
                raise AssertionError("tendd did not answer on %s within %ss;"
                                     " its log:\n%s"
                                     % (self.sock, timeout, self.log()))
            time.sleep(0.05)

    def wait_exit(self, timeout=15, proc=None):
        """Waits for tendd (or PROC) to exit; returns its status."""
        p = proc or self.proc
        timeout = max(timeout, MIN_DEADLINE)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("tendd (pid %d) still running after %ss; "
                                 "its log:\n%s" % (p.pid, timeout, self.log()))

    def signal(self, sig):
        os.kill(self.pid, sig)

    def log(self):
        try:
            return self.logpath.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def transitions(self, name=None):
        """[(name, old, new)] in log order, for NAME or for all."""
        out = []
        for m in TRANSITION_RE.finditer(self.log()):
            if name is None or m.group(1) == name:
                out.append((m.group(1), m.group(2), m.group(3)))
        return out

    # ---- protocol
    def connect(self, timeout=10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(str(self.sock))
        return s

    def request(self, cmd, timeout=15, **fields):
        """One request on a fresh connection; returns the parsed reply."""
        self._id += 1
        req = {"id": self._id, "cmd": cmd}
        req.update(fields)
        with self.connect(timeout) as s:
            s.sendall((json.dumps(req) + "\n").encode())
            reply = read_json_line(s)
        if reply is None:
            raise ValueError("tendd closed the connection without a reply")
        return reply

    def status(self):
        """{name: process object} from the status command."""
        r = self.request("status")
        assert r.get("ok"), r
        return {p["name"]: p for p in r["processes"]}

    def status_json(self):
        """The status array of `tendctl --json status`."""
        rc, out, err = self.ctl("--json", "status")
        assert rc in (0, 3), (rc, out, err)
        return json.loads(out)

    def proc_status(self, name):
        st = self.status()
        assert name in st, "no process %r in status: %s" % (name, list(st))
        return st[name]

    def wait_state(self, name, *states, timeout=10):
        """Waits until NAME is in one of STATES; returns its object."""
        last = {}

        def check():
            last["p"] = self.proc_status(name)
            return last["p"] if last["p"]["state"] in states else None
        try:
            return wait_for(check, timeout)
        except AssertionError:
            raise AssertionError("%s: wanted %s, still %s; log:\n%s"
                                 % (name, "/".join(states), last.get("p"),
                                    self.log()))

    def ctl(self, *args, timeout=30, sock=True, env=None):
        """Runs tendctl -s SOCK ARGS; returns (rc, stdout, stderr)."""
        require(TENDCTL, "make build/tendctl")
        argv = [str(TENDCTL)]
        if sock:
            argv += ["-s", str(self.sock)]
        full_env = {k: v for k, v in os.environ.items() if k != "TEND_SOCKET"}
        full_env.update(env or {})
        r = subprocess.run(argv + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout,
                           env=full_env, cwd=str(self.dir))
        return r.returncode, r.stdout, r.stderr

    # ---- cleanup
    def track(self, *pids):
        """Remember PIDS to SIGKILL at teardown (if still the same process)."""
        for pid in pids:
            st = proc_stat(pid)
            if st is not None:
                self._tracked[pid] = st[4]

    def _kill_tracked(self):
        for pid, start in list(self._tracked.items()):
            st = proc_stat(pid)
            if st is not None and st[4] == start and st[0] not in "ZX":
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def cleanup(self):
        procs = [p for p in [self.proc] + self._extra if p is not None]
        for p in procs:
            if p.poll() is None:
                self.track(*descendants(p.pid))
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        # A job tendd joins at shutdown may run for ever: what is still
        # there after a while is killed (tracked by pid), and tendd then
        # ends as after any shutdown. Nothing is asserted here.
        for p in procs:
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        self._kill_tracked()
        for p in procs:
            if p.poll() is None:
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self._kill_tracked()
        for f in self._logfiles:
            f.close()
        self._remove_cgroups()
        self._collect_public()

    def _remove_cgroups(self):
        """The cgroup directories a tendd of this test made and could not
        remove (it was SIGKILLed): removed once empty, never litter."""
        for f in self._logfiles:
            try:
                text = Path(f.name).read_text(errors="replace")
            except OSError:
                continue
            for inst in set(re.findall(
                    r"group stops use a cgroup per process.* in "
                    r"(/\S+/tend-[0-9a-f]+)\n",
                    text)):
                remove_cgroup(inst)


def remove_cgroup(path, timeout=5):
    """Removes the cgroup PATH and those below it once what was killed in
    them has ended (a SIGKILL takes effect later), never more."""
    def empty():
        try:
            with open(os.path.join(path, "cgroup.events")) as f:
                return "populated 0" in f.read()
        except OSError:
            return True
    try:
        wait_for(empty, timeout, what="cgroup %s to empty" % path)
    except AssertionError:
        pass
    for d, _, _ in sorted(os.walk(path), reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass


def read_json_line(s, buf=None):
    """Reads one newline-terminated JSON document from socket S (None at
    EOF). BUF, a bytearray, carries bytes read past the line."""
    if buf is None:
        buf = bytearray()
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return json.loads(line)


# ---------------------------------------------------------------- fixtures

@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


class HardTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def hard_timeout():
    """A test that overruns TEST_TIMEOUT fails instead of hanging the suite."""
    def on_alarm(signum, frame):
        raise HardTimeout("test exceeded %ss" % TEST_TIMEOUT)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def tend(request):
    """A Tend in a short private dir (socket paths must fit 108 bytes),
    under a directory other users can search (a test may open its dir to
    them)."""
    workdir = tempfile.mkdtemp(prefix="tend-", dir=reachable_tmp())
    t = Tend(workdir)
    yield t
    t.cleanup()
    failed = any(getattr(request.node, "rep_" + w, None) is not None and
                 getattr(request.node, "rep_" + w).failed
                 for w in ("setup", "call"))
    if failed:
        print("---- tendd log (%s) ----\n%s" % (t.logpath, t.log()))
    shutil.rmtree(workdir, ignore_errors=True)
