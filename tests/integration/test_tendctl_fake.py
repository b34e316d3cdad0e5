"""tendctl alone, against a fake tendd.

The fake is a Unix socket server in a thread: it records every request
line it gets and answers with canned replies (docs/protocol.md), or with
deliberately broken ones (a reply cut short, an unrelated id first, a
line over 1 MiB). Nothing here needs a real tendd, so these tests pin
tendctl's side of the contract: socket discovery, exit codes, the
status layout, --json and usage errors (spec §4).
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TENDCTL = Path(os.environ.get("TEND_BUILD", str(ROOT / "build"))).resolve() / "tendctl"
MAX_REPLY = 16 * 1024 * 1024  # TEND_MAX_REPLY in common/protocol.h

CLOSE = object()  # action: close the connection now


def proc(name, state, description, **kw):
    """A process object with every field docs/protocol.md lists."""
    group, _, process = name.rpartition(":")
    obj = {
        "name": name,
        "group": group or name,
        "process": process,
        "state": state,
        "pid": kw.pop("pid", 4127 if state == "RUNNING" else None),
        "exitcode": kw.pop("exitcode", None),
        "uptime": kw.pop("uptime", 723.25 if state == "RUNNING" else 0.0),
        "restarts": kw.pop("restarts", 0),
        "daemon": kw.pop("daemon", True),
        "description": description,
        "spawnerr": kw.pop("spawnerr", None),
        "since": kw.pop("since", 1700000000.5),
        "want": kw.pop("want", "up"),
    }
    obj.update(kw)
    return obj


# The four lines of spec §4, with the objects a daemon would send for them.
SPEC_PROCS = [
    proc("web:web_00", "RUNNING", "pid 4127, uptime 0:12:03"),
    proc("worker", "BACKOFF", "exited with code 1; retry 2 of 3 in 4s",
         exitcode=1, restarts=2),
    proc("nightly", "EXITED", "exit 0, 0:00:41 ago", exitcode=0,
         daemon=False),
    proc("broken", "FATAL",
         "cannot execute /usr/bin/nope: No such file or directory",
         spawnerr="cannot execute /usr/bin/nope: No such file or directory"),
]
SPEC_LINES = (
    "web:web_00                       RUNNING   pid 4127, uptime 0:12:03\n"
    "worker                           BACKOFF   exited with code 1; retry 2 of 3 in 4s\n"
    "nightly                          EXITED    exit 0, 0:00:41 ago\n"
    "broken                           FATAL     cannot execute /usr/bin/nope: No such file or directory\n"
)


def ok(req, **fields):
    return {"id": req["id"], "ok": True, **fields}


def err(req, code, message, **fields):
    return {"id": req["id"], "ok": False,
            "error": {"code": code, "message": message}, **fields}


def result(name, good, state, message=""):
    return {"name": name, "ok": good, "state": state, "message": message}


def canned(req):
    """A well-behaved tendd: everything exists and everything works."""
    cmd = req.get("cmd")
    if cmd == "status":
        return [ok(req, processes=[proc("web", "RUNNING", "pid 1, uptime 0:00:01")])]
    if cmd in ("start", "restart"):
        return [ok(req, results=[result(n, True, "RUNNING") for n in req["names"]])]
    if cmd == "stop":
        return [ok(req, results=[result(n, True, "STOPPED") for n in req["names"]])]
    if cmd == "version":
        return [ok(req, version="9.8.7", protocol=1, pid=4242)]
    if cmd == "shutdown":
        return [ok(req), CLOSE]
    return [err(req, "unknown_command", "unknown command: %s" % cmd)]


class FakeTendd:
    """Serves one connection at a time; RESPOND(request) gives actions:
    a dict (sent as a JSON line), bytes (sent raw), ("set", event),
    ("wait", event) or CLOSE."""

    def __init__(self, path, respond=canned):
        self.path = str(path)
        self.respond = respond
        self.requests = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        # Short accept timeout: lets stop() end the thread promptly.
        self.sock.settimeout(0.05)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def got(self):
        with self._lock:
            return list(self.requests)

    def stop(self):
        self._stop.set()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive(), "fake tendd thread did not stop"
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            with conn:
                try:
                    self._handle(conn)
                except OSError:
                    pass  # tendctl went away first: that is its business

    def _handle(self, conn):
        buf = b""
        while not self._stop.is_set():
            conn.settimeout(0.05)
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                req = json.loads(line)
                with self._lock:
                    self.requests.append(req)
                conn.settimeout(10)
                for act in self.respond(req):
                    if act is CLOSE:
                        return
                    if isinstance(act, tuple) and act[0] == "set":
                        act[1].set()
                    elif isinstance(act, tuple) and act[0] == "wait":
                        while not act[1].wait(0.05):
                            if self._stop.is_set():
                                return
                    elif isinstance(act, bytes):
                        conn.sendall(act)
                    else:
                        conn.sendall(json.dumps(act).encode() + b"\n")


@pytest.fixture
def sockdir(tmp_path):
    """tmp_path, unless it is too deep for sun_path (108 bytes)."""
    if len(str(tmp_path)) < 70:
        yield tmp_path
        return
    d = tempfile.mkdtemp(prefix="tctl")
    try:
        yield Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def fake(sockdir):
    """fake(respond=canned, name="tend.sock") starts a fake tendd."""
    fakes = []

    def start(respond=canned, name="tend.sock"):
        f = FakeTendd(sockdir / name, respond)
        fakes.append(f)
        return f

    yield start
    for f in fakes:
        f.stop()


@pytest.fixture
def env(tmp_path):
    """The environment tendctl runs in: no TEND_SOCKET, a private
    XDG_RUNTIME_DIR, English error messages."""
    e = {k: v for k, v in os.environ.items() if k != "TEND_SOCKET"}
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    e["XDG_RUNTIME_DIR"] = str(xdg)
    e["LC_ALL"] = "C"
    return e


def tendctl(*args, env, cwd=None, timeout=10):
    assert TENDCTL.exists(), "build tendctl first (make build/tendctl)"
    return subprocess.run([str(TENDCTL), *map(str, args)], env=env,
                          cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


# ---- socket discovery (spec §4) -------------------------------------------

def test_dash_s_wins_over_env_and_config(fake, env, sockdir):
    a, b, c = fake(name="a.sock"), fake(name="b.sock"), fake(name="c.sock")
    conf = sockdir / "tend.conf"
    conf.write_text("[tend]\nsocket = %s\n" % c.path)
    env["TEND_SOCKET"] = b.path
    r = tendctl("-c", conf, "-s", a.path, "status", env=env)
    assert r.returncode == 0, r.stderr
    assert len(a.got()) == 1 and b.got() == [] and c.got() == []


def test_tend_socket_env_wins_over_config(fake, env, sockdir):
    b, c = fake(name="b.sock"), fake(name="c.sock")
    conf = sockdir / "tend.conf"
    conf.write_text("[tend]\nsocket = %s\n" % c.path)
    env["TEND_SOCKET"] = b.path
    r = tendctl("-c", conf, "status", env=env)
    assert r.returncode == 0, r.stderr
    assert len(b.got()) == 1 and c.got() == []


def test_config_tend_socket_relative_to_config_dir(fake, env, sockdir, tmp_path):
    (sockdir / "run").mkdir()
    f = fake(name="run/ctl.sock")
    conf = sockdir / "tend.conf"
    conf.write_text("[program:web]\ncommand = /bin/true\n\n"
                    "[tend]\nsocket = run/ctl.sock\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = tendctl("-c", conf, "status", env=env, cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert [q["cmd"] for q in f.got()] == ["status"]


def test_config_unix_http_server_file(fake, env, sockdir, tmp_path):
    f = fake(name="super.sock")
    conf = sockdir / "supervisord.conf"
    conf.write_text("[unix_http_server]\nfile = super.sock\nchmod = 0700\n\n"
                    "[supervisord]\nnodaemon = true\n")
    r = tendctl("-c", conf, "status", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [q["cmd"] for q in f.got()] == ["status"]


def test_unreadable_config_is_usage_error(env, sockdir):
    r = tendctl("-c", sockdir / "missing.conf", "status", env=env)
    assert r.returncode == 2
    assert "missing.conf" in r.stderr and "No such file" in r.stderr


def _in_clean_namespace(args, env):
    """tendctl in a private mount namespace where /run is empty and no
    /etc/tend/tend.conf exists, whatever this machine has."""
    script = ('mount -t tmpfs tmpfs /run && '
              '{ [ ! -d /etc/tend ] || mount -t tmpfs tmpfs /etc/tend; } && '
              'exec "$@"')
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         script, "sh"] + [str(a) for a in args],
        env=env, capture_output=True, text=True, timeout=10)


def test_default_socket_path_for_root(env):
    assert os.geteuid() == 0, "the suite runs as root (CI does)"
    r = _in_clean_namespace([TENDCTL, "status"], env)
    assert r.returncode == 5, (r.returncode, r.stderr)
    assert "cannot reach tendd at /run/tend/tend.sock" in r.stderr, r.stderr


def test_default_socket_path_for_other_users(env, tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    env = dict(env, XDG_RUNTIME_DIR=str(runtime))
    r = _in_clean_namespace(["setpriv", "--reuid", "65534", "--regid",
                             "65534", "--clear-groups", TENDCTL, "status"],
                            env)
    assert r.returncode == 5, (r.returncode, r.stderr)
    assert "cannot reach tendd at %s/tend/tend.sock" % runtime in r.stderr, \
        r.stderr


# ---- status ---------------------------------------------------------------

def test_status_layout_is_supervisorctl(fake, env):
    f = fake(lambda req: [ok(req, processes=SPEC_PROCS)])
    r = tendctl("-s", f.path, "status", env=env)
    assert r.stdout == SPEC_LINES
    assert r.returncode == 3  # some are not running
    assert r.stderr == ""
    # No names: the request carries none (tendd then shows all).
    (req,) = f.got()
    assert req["cmd"] == "status" and not req.get("names")
    assert isinstance(req["id"], int)


def projected(req, procs):
    """PROCS as a tendd with "fields" and "rows" sends them for REQ."""
    keys = req.get("fields") or list(procs[0])
    if req.get("rows"):
        return [[p[k] for k in keys] for p in procs]
    return [{k: p[k] for k in keys} for p in procs]


def test_status_asks_for_rows_of_what_it_shows(fake, env):
    # The table and the exit status need name, state and description:
    # tendctl asks for those as rows; --json asks for whole objects.
    # (The other status tests here answer with objects, as a tendd from
    # before "rows" does: tendctl reads those too.)
    f = fake(lambda req: [ok(req, processes=projected(req, SPEC_PROCS))])
    r = tendctl("-s", f.path, "status", env=env)
    assert r.stdout == SPEC_LINES
    assert r.returncode == 3 and r.stderr == ""
    (req,) = f.got()
    assert req["fields"] == ["name", "state", "description"], req
    assert req["rows"] is True
    r = tendctl("-s", f.path, "--json", "status", env=env)
    assert json.loads(r.stdout) == SPEC_PROCS
    req = f.got()[-1]
    assert "fields" not in req and "rows" not in req, req


def test_status_long_name_widens_column(fake, env):
    long = "averyveryverylongprogramname:process_00"  # 39 chars
    procs = [proc("web", "RUNNING", "pid 1, uptime 0:00:01"),
             proc(long, "STARTING", "")]
    f = fake(lambda req: [ok(req, processes=procs)])
    r = tendctl("-s", f.path, "status", env=env)
    assert r.returncode == 3
    assert r.stdout.splitlines() == [
        "web" + " " * 36 + " RUNNING   pid 1, uptime 0:00:01",
        long + " STARTING  ",
    ]


def test_status_all_named_running_is_0(fake, env):
    procs = [proc("web:web_00", "RUNNING", "pid 7, uptime 0:00:02"),
             proc("web:web_01", "RUNNING", "pid 8, uptime 0:00:02")]
    f = fake(lambda req: [ok(req, processes=procs)])
    r = tendctl("-s", f.path, "status", "web:*", env=env)
    assert r.returncode == 0, r.stderr
    assert f.got()[0]["names"] == ["web:*"]
    assert len(r.stdout.splitlines()) == 2


def test_status_unknown_name_is_4(fake, env):
    f = fake(lambda req: [err(req, "unknown_name", "no such process: nope")])
    r = tendctl("-s", f.path, "status", "web", "nope", env=env)
    assert r.returncode == 4
    assert r.stdout == ""
    assert "no such process: nope" in r.stderr
    assert f.got()[0]["names"] == ["web", "nope"]


def test_status_json_is_what_the_daemon_sent(fake, env):
    f = fake(lambda req: [ok(req, processes=SPEC_PROCS)])
    for args in (["--json", "status"], ["status", "--json"]):
        r = tendctl("-s", f.path, *args, env=env)
        assert r.returncode == 3
        assert json.loads(r.stdout) == SPEC_PROCS


def test_status_json_error_object(fake, env):
    e = {"code": "unknown_name", "message": "no such process: nope",
         "names": ["nope"]}
    f = fake(lambda req: [{"id": req["id"], "ok": False, "error": e}])
    r = tendctl("-s", f.path, "--json", "status", "nope", env=env)
    assert r.returncode == 4
    assert json.loads(r.stdout) == {"error": e}
    assert "no such process: nope" in r.stderr


# ---- start / stop / restart -----------------------------------------------

@pytest.mark.parametrize("cmd,lines", [
    ("start", "web: started\napi: started\n"),
    ("stop", "web: stopped\napi: stopped\n"),
    ("restart", "web: stopped\napi: stopped\nweb: started\napi: started\n"),
])
def test_action_ok_is_0(fake, env, cmd, lines):
    f = fake()
    r = tendctl("-s", f.path, cmd, "web", "api", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == lines
    (req,) = f.got()
    assert req["cmd"] == cmd and req["names"] == ["web", "api"]
    assert req["wait"] is True


@pytest.mark.parametrize("cmd", ["start", "stop", "restart"])
def test_action_no_wait(fake, env, cmd):
    f = fake()
    r = tendctl("-s", f.path, cmd, "--no-wait", "web", env=env)
    assert r.returncode == 0, r.stderr
    (req,) = f.got()
    assert req["wait"] is False


FAILED_RESULTS = [
    result("web", True, "RUNNING"),
    result("broken", False, "FATAL",
           "spawn error: cannot execute /x: No such file or directory"),
]


def failed_start(req):
    return [err(req, "failed", "broken: spawn error: cannot execute /x: "
                "No such file or directory", results=FAILED_RESULTS)]


def test_start_failure_is_1_with_reason(fake, env):
    f = fake(failed_start)
    r = tendctl("-s", f.path, "start", "web", "broken", env=env)
    assert r.returncode == 1
    assert r.stdout == "web: started\n"
    assert ("broken: ERROR (spawn error: cannot execute /x: "
            "No such file or directory)") in r.stderr.splitlines()


def test_start_failure_json(fake, env):
    f = fake(failed_start)
    r = tendctl("-s", f.path, "--json", "start", "web", "broken", env=env)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["error"]["code"] == "failed"
    assert doc["results"] == FAILED_RESULTS
    assert "cannot execute /x" in r.stderr


def test_start_json_ok_is_the_results(fake, env):
    f = fake()
    r = tendctl("-s", f.path, "--json", "start", "web", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [result("web", True, "RUNNING")]


def test_start_unknown_name_is_4(fake, env):
    """Spec §4: an unknown name is 4 for every command, not only status."""
    f = fake(lambda req: [err(req, "unknown_name", "no such process: nope")])
    r = tendctl("-s", f.path, "start", "nope", env=env)
    assert r.returncode == 4
    assert "no such process: nope" in r.stderr


def test_stop_waits_for_the_reply(fake, env):
    """No timeout: the reply to a waiting stop may come much later."""
    release, asked = threading.Event(), threading.Event()
    f = fake(lambda req: [("set", asked), ("wait", release),
                          ok(req, results=[result("web", True, "STOPPED")])])
    p = subprocess.Popen([str(TENDCTL), "-s", f.path, "stop", "web"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        assert asked.wait(5)
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=0.3)
        release.set()
        out, errs = p.communicate(timeout=5)
    finally:
        release.set()
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, errs
    assert out == "web: stopped\n"


# ---- shutdown and version -------------------------------------------------

def test_shutdown_waits_until_tendd_closes(fake, env):
    replied, close = threading.Event(), threading.Event()
    f = fake(lambda req: [ok(req), ("set", replied), ("wait", close), CLOSE])
    p = subprocess.Popen([str(TENDCTL), "-s", f.path, "shutdown"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        assert replied.wait(5)
        # The reply alone is not the end: tendd has not exited yet.
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=0.3)
        close.set()
        out, errs = p.communicate(timeout=5)
    finally:
        close.set()
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, errs
    assert out == "Shut down\n"
    assert [q["cmd"] for q in f.got()] == ["shutdown"]


def test_shutdown_no_wait_returns_at_once(fake, env):
    never = threading.Event()
    f = fake(lambda req: [ok(req), ("wait", never)])
    r = tendctl("-s", f.path, "shutdown", "--no-wait", env=env, timeout=5)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() != ""


def test_version_plain_and_json(fake, env):
    f = fake()
    client = tendctl("--version", env=env)
    assert client.returncode == 0
    cver = client.stdout.split()[-1]
    r = tendctl("-s", f.path, "version", env=env)
    assert r.returncode == 0, r.stderr
    assert "tendctl %s" % cver in r.stdout and "9.8.7" in r.stdout
    r = tendctl("-s", f.path, "--json", "version", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["client"] == cver and doc["daemon"] == "9.8.7"


def test_version_unreachable_still_shows_client(env, sockdir):
    r = tendctl("-s", sockdir / "nobody.sock", "version", env=env)
    assert r.returncode == 5
    assert r.stdout.startswith("tendctl ")
    assert "cannot reach tendd" in r.stderr


# ---- usage (exit 2) -------------------------------------------------------

def test_help(env):
    r = tendctl("--help", env=env)
    assert r.returncode == 0
    for cmd in ("status", "start", "stop", "restart", "shutdown", "version"):
        assert "\n  %s " % cmd in r.stdout
    r = tendctl("start", "--help", env=env)
    assert r.returncode == 0 and "--no-wait" in r.stdout and "NAME" in r.stdout
    r = tendctl("help", "stop", env=env)
    assert r.returncode == 0 and "stop" in r.stdout


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["start"],
    ["stop", "--bogus", "web"],
    ["--bogus", "status"],
    ["-s"],
    ["version", "extra"],
    ["shutdown", "now"],
])
def test_usage_errors_are_2(fake, env, args):
    f = fake()
    r = tendctl("-s", f.path, *args, env=env) if args != ["-s"] else \
        tendctl("-s", env=env)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("tendctl: ")
    assert f.got() == [] and f.connections == 0


def test_usage_error_json(env):
    r = tendctl("--json", "start", env=env)
    assert r.returncode == 2
    assert json.loads(r.stdout)["error"]["code"] == "usage"


# ---- unreachable or misbehaving tendd (exit 5) ----------------------------

def test_no_socket_is_5(env, sockdir):
    path = sockdir / "nobody.sock"
    r = tendctl("-s", path, "status", env=env)
    assert r.returncode == 5
    assert r.stderr == ("tendctl: cannot reach tendd at %s: "
                        "No such file or directory\n" % path)


def test_refused_is_5_and_json(env, sockdir):
    path = sockdir / "dead.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))  # bound, never listening: connect is refused
    try:
        r = tendctl("-s", path, "--json", "status", env=env)
    finally:
        s.close()
    assert r.returncode == 5
    assert "cannot reach tendd at %s: Connection refused" % path in r.stderr
    assert json.loads(r.stdout)["error"]["code"] == "unreachable"


@pytest.mark.parametrize("cmd", ["status", "start web", "version"])
def test_closed_mid_reply_is_5(fake, env, cmd):
    f = fake(lambda req: [b'{"id": %d, "ok": tr' % req["id"], CLOSE])
    r = tendctl("-s", f.path, *cmd.split(), env=env)
    assert r.returncode == 5
    assert "closed the connection" in r.stderr


def test_closed_without_reply_is_5(fake, env):
    f = fake(lambda req: [CLOSE])
    r = tendctl("-s", f.path, "stop", "web", env=env)
    assert r.returncode == 5
    assert "closed the connection" in r.stderr


def test_line_over_limit_is_5(fake, env):
    # Never closed by the fake: the limit, not EOF, must end the wait.
    never = threading.Event()
    f = fake(lambda req: [b"x" * (MAX_REPLY + 2), ("wait", never)])
    r = tendctl("-s", f.path, "status", env=env)
    assert r.returncode == 5
    assert "longer than" in r.stderr


def test_a_reply_over_1_mib_is_read(fake, env):
    """A request line is at most 1 MiB, a reply may be longer: the status
    of 10,000 processes as full objects is about 2.5 MB."""
    many = [proc("w:w%05d" % i, "RUNNING", "pid %d, uptime 0:00:01" % i)
            for i in range(10000)]
    f = fake(lambda req: [ok(req, processes=many)])
    r = tendctl("-s", f.path, "--json", "status", env=env)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert len(got) == 10000 and got[-1]["name"] == "w:w09999"


def test_not_json_is_5(fake, env):
    f = fake(lambda req: [b"this is not json\n"])
    r = tendctl("-s", f.path, "status", env=env)
    assert r.returncode == 5
    assert "not a JSON object" in r.stderr


def test_reply_matched_by_id(fake, env):
    other = [proc("intruder", "FATAL", "not for you")]
    mine = [proc("web", "RUNNING", "pid 1, uptime 0:00:01")]
    f = fake(lambda req: [
        {"id": req["id"] + 1000, "ok": True, "processes": other},
        {"id": "unrelated", "ok": False,
         "error": {"code": "failed", "message": "not yours"}},
        ok(req, processes=mine),
    ])
    r = tendctl("-s", f.path, "--json", "status", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == mine


def test_null_id_error_is_ours(fake, env):
    """tendd could not read the request: its error carries id null."""
    f = fake(lambda req: [{"id": None, "ok": False, "error": {
        "code": "bad_request", "message": "request is not valid JSON"}}])
    r = tendctl("-s", f.path, "status", env=env)
    assert r.returncode == 1
    assert "request is not valid JSON" in r.stderr
