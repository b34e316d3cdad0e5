"""
Readiness probes and health checks (spec §7): ready = tcp:, http://,
exec:, log: keep a process STARTING until the probe succeeds, and one
that never does is a failed start with the probe's last error; a health
check failing healthcheck_retries times in a row restarts the process as
a crash; health shows in status, JSON and events. Probes never block
tendd: a peer that accepts and never answers and an exec probe that never
exits cost a timeout each while everything else goes on.

Servers are the test's own (threads here, on ports the kernel picks).
Order is read from the events stream and tendd's log, never from time.
"""
import http.server
import json
import re
import socket
import subprocess
import threading

import pytest

from conftest import TENDCTL, TENDD, descendants, read_json_line, wait_for


class Web:
    """An HTTP server answering every GET with the code it is set to."""

    def __init__(self, code=200, keepalive=False, drop_every=0):
        self.code = code
        self.hits = 0
        self.conns = 0
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keepalive else "HTTP/1.0"

            def setup(self):
                web.conns += 1
                super().setup()

            def do_GET(self):
                web.hits += 1
                self.send_response(web.code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                # a server that drops kept connections now and then
                if drop_every and web.hits % drop_every == 0:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Mute:
    """A TCP peer that accepts every connection and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def free_port():
    """A port nobody listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def web():
    w = Web()
    yield w
    w.close()


@pytest.fixture
def mute():
    m = Mute()
    yield m
    m.close()


def described(tend, name, text):
    """NAME's status object once its description contains TEXT."""
    return wait_for(lambda: (lambda s: s if text in s["description"] else
                             None)(tend.proc_status(name)), 10,
                    what="%r in the description of %s" % (text, name))


class Events:
    """An events subscription: every line it got, read on demand."""

    def __init__(self, tend):
        self.s = tend.connect()
        self.buf = bytearray()
        self.s.sendall(b'{"id": 1, "cmd": "events"}\n')
        assert read_json_line(self.s, self.buf)["ok"]
        self.lines = []

    def until(self, pred, what):
        def more():
            for ev in self.lines:
                if pred(ev):
                    return ev
            self.s.settimeout(0.2)
            try:
                ev = read_json_line(self.s, self.buf)
            except socket.timeout:
                return None
            if ev is not None:
                self.lines.append(ev)
            return None
        return wait_for(more, 10, what=what)

    def close(self):
        self.s.close()


def test_each_ready_probe_waits_for_its_condition(tend, web):
    """Each kind keeps its process STARTING (with the probe's last error
    in the status line) until what it probes is there, then RUNNING."""
    port = free_port()
    web.code = 503
    tend.write_config(f"""
        [program:tcp]
        command = {tend.helper("sleeper")}
        ready = tcp:127.0.0.1:{port}
        ready_interval = 0.05
        probe_timeout = 1

        [program:web]
        command = {tend.helper("sleeper")}
        ready = http://127.0.0.1:{web.port}/healthz
        ready_interval = 0.05

        [program:ex]
        command = {tend.helper("sleeper")}
        directory = %(here)s
        environment = PROBE_WANT=yes
        ready = exec:/bin/sh -c 'test "$PROBE_WANT" = yes && test -e go.ex'
        ready_interval = 0.05

        [program:log]
        command = /bin/sh -c 'echo booting; while [ ! -e go.log ]; do sleep 0.02; done; echo "server listening on 8080" >&2; exec sleep 1000'
        directory = %(here)s
        ready = log:listening on [0-9]+$

        [program:who]
        command = {tend.public_helper("sleeper")}
        user = nobody
        directory = /
        ready = exec:/bin/sh -c 'test "$(id -u)" = "$(id -u nobody)" && test "$(pwd)" = / && test "$USER" = nobody'
        ready_interval = 0.05
    """)
    tend.start()
    # What each is waiting for, in its status line, while STARTING.
    p = described(tend, "tcp", "Connection refused")
    assert p["state"] == "STARTING"
    assert f"waiting for tcp:127.0.0.1:{port}" in p["description"]
    assert described(tend, "web", "HTTP 503")["state"] == "STARTING"
    assert described(tend, "ex", "exited with code 1")["state"] == "STARTING"
    assert described(tend, "log", "no line of its output matched")[
        "state"] == "STARTING"
    hits = web.hits
    assert hits >= 1

    # Each condition met: each RUNNING, the probe named as the reason.
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    try:
        tend.wait_state("tcp", "RUNNING")
    finally:
        listener.close()
    web.code = 200
    tend.wait_state("web", "RUNNING")
    (tend.dir / "go.ex").write_text("")
    tend.wait_state("ex", "RUNNING")
    (tend.dir / "go.log").write_text("")
    tend.wait_state("log", "RUNNING")
    # as the program's user, in its directory and environment
    tend.wait_state("who", "RUNNING")
    log = tend.log()
    for name, spec in (("tcp", "tcp:127.0.0.1:%d" % port),
                       ("web", "http://127.0.0.1:%d/healthz" % web.port),
                       ("log", "log:listening on [0-9]+$")):
        assert "%s: STARTING -> RUNNING (pid" % name in log
        assert "ready: %s" % spec in log, (name, log)
    # No probe runs once it is up: the server is not asked again.
    n = web.hits
    tend.ctl("status")
    assert tend.proc_status("web")["state"] == "RUNNING"
    # Exec probes leave no process behind.
    kids = descendants(tend.pid)
    assert not any("sh" == open("/proc/%d/comm" % k).read().strip() and
                   "go.ex" in open("/proc/%d/cmdline" % k).read()
                   for k in kids if _exists(k)), kids
    assert web.hits == n


def _exists(pid):
    try:
        open("/proc/%d/comm" % pid).close()
        return True
    except OSError:
        return False


def test_a_probe_that_never_succeeds_is_a_failed_start(tend, web):
    """Not ready by ready_timeout: BACKOFF, then FATAL after startretries,
    with the probe's last error as the reason, for every kind."""
    web.code = 500
    port = free_port()
    progs = (("tcp", tend.helper("sleeper"), "tcp:127.0.0.1:%d" % port),
             ("web", tend.helper("sleeper"),
              "http://127.0.0.1:%d/" % web.port),
             ("ex", tend.helper("sleeper"), "exec:/bin/false"),
             ("log", "/bin/sh -c 'echo nothing to see; exec sleep 1000'",
              "log:^ready$"))
    tend.write_config("\n".join(
        "[program:%s]\ncommand = %s\nready = %s\nready_interval = 0.05\n"
        "ready_timeout = 0.6\nstartretries = 1\n" % p for p in progs))
    tend.start()
    want = {"tcp": "tcp 127.0.0.1:%d: Connection refused" % port,
            "web": "HTTP 500",
            "ex": "/bin/false exited with code 1",
            "log": "no line of its output matched log:^ready$"}
    for name, err in want.items():
        p = tend.wait_state(name, "FATAL", timeout=20)
        assert "not ready after ready_timeout=0.6s: " + err in \
            p["description"], p
        assert "gave up after 1 retry" in p["description"], p
        seq = [t[2] for t in tend.transitions(name)]
        # a failed start, retried once, then given up
        assert seq.count("STARTING") == 2, seq
        assert "BACKOFF" in seq and seq.index("BACKOFF") < \
            seq.index("FATAL"), seq
    rc, out, err = tend.ctl("status", "web")
    assert rc == 3 and "FATAL" in out and "HTTP 500" in out, (rc, out)


def test_hung_probes_cost_a_timeout_and_block_nothing(tend, mute):
    """A peer that accepts and never answers, an exec probe that never
    exits: each try ends at probe_timeout, the hung probe's child is
    killed, tendctl answers meanwhile and another program's crash loop
    goes on."""
    tend.write_config(f"""
        [program:mute]
        command = {tend.helper("sleeper")}
        ready = http://127.0.0.1:{mute.port}/
        ready_interval = 0.05
        probe_timeout = 0.3
        ready_timeout = 0

        [program:mutetcp]
        command = {tend.helper("sleeper")}
        healthcheck = tcp:127.0.0.1:{mute.port}
        healthcheck_interval = 0.05
        probe_timeout = 0.3
        startsecs = 0

        [program:stuck]
        command = {tend.helper("sleeper")}
        ready = exec:/bin/sleep 7777
        ready_interval = 0.05
        probe_timeout = 0.3
        ready_timeout = 0

        [program:crasher]
        command = {tend.helper("exitwith", 3, "--after", "0.05")}
        startsecs = 0
        backoff_reset = 0
        restart_delay = 0
        startretries = infinite
    """)
    tend.start()
    p = described(tend, "mute", "timed out after probe_timeout=0.3s")
    assert p["state"] == "STARTING"
    p = described(tend, "stuck", "timed out after probe_timeout=0.3s")
    assert p["state"] == "STARTING"
    # The peer got connections and kept them: each try was cut off.
    wait_for(lambda: len(mute.conns) >= 2, what="two tries at the mute peer")
    # tendctl answers and other programs go on while probes hang.
    r0 = tend.proc_status("crasher")["restarts"]
    for _ in range(3):
        rc, out, _err = tend.ctl("status")
        assert rc == 3 and "mute" in out and "crasher" in out, out
    wait_for(lambda: tend.proc_status("crasher")["restarts"] >= r0 + 3,
             what="crasher restarting while probes hang")
    # A connect that succeeds is a healthy TCP check, silent peer or not.
    assert tend.status()["mutetcp"]["health"] in ("unknown", "healthy")
    wait_for(lambda: tend.status()["mutetcp"]["health"] == "healthy",
             what="mutetcp healthy")
    # Hung exec probes are killed at probe_timeout: never more than one.
    def sleepers():
        out = []
        for k in descendants(tend.pid):
            try:
                if "7777" in open("/proc/%d/cmdline" % k).read():
                    out.append(k)
            except OSError:
                pass
        return out
    # (one under way, and at most the one just killed not yet gone)
    for _ in range(20):
        assert len(sleepers()) <= 2, sleepers()
    rc, _out, _err = tend.ctl("stop", "stuck")
    assert rc == 0
    wait_for(lambda: not sleepers(), what="the probe gone with its process")
    assert tend.proc_status("stuck")["state"] == "STOPPED"


def test_health_checks_status_events_and_restarts(tend, web):
    """healthcheck: healthy/unhealthy/unknown/null in JSON; the plain
    status line shows only unhealthy, with the count; failures in a row
    restart the process as a crash (back-off), announced by events."""
    sick = Web(code=200)
    try:
        tend.write_config(f"""
            [program:good]
            command = {tend.helper("sleeper")}
            startsecs = 0
            healthcheck = http://127.0.0.1:{web.port}/
            healthcheck_interval = 0.05

            [program:slow]
            command = {tend.helper("sleeper")}
            startsecs = 0
            healthcheck = exec:/bin/true
            healthcheck_interval = 1000

            [program:plain]
            command = {tend.helper("sleeper")}
            startsecs = 0

            [program:patient]
            command = {tend.helper("sleeper")}
            startsecs = 0
            healthcheck = http://127.0.0.1:{sick.port}/
            healthcheck_interval = 0.05
            healthcheck_retries = 1000000

            [program:sick]
            command = {tend.helper("sleeper")}
            startsecs = 0
            healthcheck = http://127.0.0.1:{sick.port}/status
            healthcheck_interval = 0.05
            healthcheck_retries = 2
            backoff_reset = 1000
        """)
        tend.start()
        ev = Events(tend)
        wait_for(lambda: tend.status()["good"]["health"] == "healthy",
                 what="good healthy")
        wait_for(lambda: tend.status()["sick"]["health"] == "healthy",
                 what="sick healthy")
        st = tend.status()
        assert st["slow"]["health"] == "unknown"
        assert st["slow"]["health_detail"] is None
        assert st["plain"]["health"] is None
        assert st["good"]["health_detail"] is None
        rc, out, _ = tend.ctl("status", "good")
        assert "healthy" not in out, out       # only shown when not healthy
        js = tend.status_json()
        assert {p["name"]: p["health"] for p in js}["good"] == "healthy"

        r0 = st["sick"]["restarts"]
        follow = subprocess.Popen(
            [str(TENDCTL), "-s", str(tend.sock), "events", "patient"],
            stdout=subprocess.PIPE, text=True)
        tend.track(follow.pid)
        sick.code = 503
        # tendctl events says it in a line, with the count
        line = wait_for(lambda: (lambda l: l if "unhealthy" in l else None)(
            follow.stdout.readline()), what="a health line from tendctl")
        # (tendctl may subscribe after the first failure: any count of them)
        assert re.search(r"patient: unhealthy \(\d+ of 1000000\): "
                         r"HTTP 503$", line.rstrip("\n")), line
        follow.kill()
        follow.wait()
        # the patient one stays RUNNING, unhealthy, and says so
        p = described(tend, "patient", "unhealthy (")
        assert p["state"] == "RUNNING"
        assert p["health"] == "unhealthy" and p["health_detail"] == "HTTP 503"
        rc, out, _ = tend.ctl("status", "patient")
        assert rc == 0 and "RUNNING" in out
        assert "of 1000000: HTTP 503)" in out, out

        # the sick one is restarted as a crash, then backs off
        stop = ev.until(lambda e: e.get("event") == "state" and
                        e["name"] == "sick" and e["to"] == "STOPPING",
                        "sick stopped by its health check")
        assert stop["reason"].startswith("health check failed: HTTP 503"), \
            stop
        bad = [e for e in ev.lines if e.get("event") == "health" and
               e["name"] == "sick" and e["health"] == "unhealthy"]
        assert [e["health_detail"] for e in bad][:2] == ["HTTP 503"] * 2
        assert [(e["failures"], e["retries"]) for e in bad][:2] == \
            [(1, 2), (2, 2)]
        assert bad[1]["seq"] < stop["seq"]
        back = ev.until(lambda e: e.get("event") == "state" and
                        e["name"] == "sick" and e["to"] == "BACKOFF",
                        "sick backing off after repeated health failures")
        assert "health check failed: HTTP 503" in back["reason"], back
        assert back["seq"] > stop["seq"]
        assert tend.proc_status("sick")["restarts"] >= r0 + 1
        # health went back to unknown with the new run, then recovers
        sick.code = 200
        wait_for(lambda: tend.status()["sick"]["health"] == "healthy" and
                 tend.status()["patient"]["health"] == "healthy",
                 what="both healthy again")
        ev.until(lambda e: e.get("event") == "health" and
                 e["name"] == "patient" and e["health"] == "healthy" and
                 e["health_detail"] is None, "patient healthy event")
        ev.close()
    finally:
        sick.close()


def test_malformed_probe_values_are_config_errors(tend):
    tend.write_config("""
        [program:a]
        command = /bin/true
        ready = tcp:localhost
        healthcheck = log:x

        [program:b]
        command = /bin/true
        ready = http://127.0.0.1:99999/
        healthcheck = exec:
        ready_interval = 0

        [program:c]
        command = /bin/true
        ready = log:(unclosed
        healthcheck_retries = 0
        probe_timeout = 0
    """)
    r = subprocess.run([str(TENDD), "-c", str(tend.conf), "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r
    out = r.stdout + r.stderr
    conf = str(tend.conf)
    for line, text in (
            (8, "[program:a] ready: expected tcp:HOST:PORT, got "
                "'localhost'"),
            (9, "[program:a] healthcheck: expected none, tcp:HOST:PORT, "
                "http://HOST[:PORT]/PATH or exec:COMMAND, got 'log:x'"),
            (13, "[program:b] ready: expected http://HOST[:PORT]/PATH, "
                 "got '127.0.0.1:99999'"),
            (14, "[program:b] healthcheck: exec: empty command"),
            (15, "[program:b] ready_interval: must be more than 0"),
            (19, "[program:c] ready: log: not a regular expression"),
            (20, "[program:c] healthcheck_retries: must be more than 0"),
            (21, "[program:c] probe_timeout: must be more than 0")):
        assert "%s:%d: %s" % (conf, line, text) in out, (line, text, out)


def test_reload_removing_probed_processes_drops_their_probes(tend, mute):
    """A reload that removes processes whose probes are under way (an
    exec probe that never exits, an HTTP request never answered) stops
    them and drops what the probes held; the rest runs on."""
    body = f"""
        [program:keep]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """
    gone = f"""
        [program:stuck]
        command = {tend.helper("sleeper")}
        ready = exec:/bin/sleep 8888
        probe_timeout = 60
        ready_timeout = 0

        [program:mute]
        command = {tend.helper("sleeper")}
        startsecs = 0
        healthcheck = http://127.0.0.1:{mute.port}/
        healthcheck_interval = 0.05
        probe_timeout = 60
    """
    tend.write_config(body + gone)
    tend.start()

    def probe_kids():
        out = []
        for k in descendants(tend.pid):
            try:
                if "8888" in open("/proc/%d/cmdline" % k).read():
                    out.append(k)
            except OSError:
                pass
        return out
    wait_for(probe_kids, what="the exec probe running")
    wait_for(lambda: mute.conns, what="the HTTP check connected")
    keep = tend.wait_state("keep", "RUNNING")["pid"]
    tend.write_config(body)
    r = tend.request("reload")
    assert r["ok"], r
    wait_for(lambda: sorted(tend.status()) == ["keep"],
             what="stuck and mute removed")
    wait_for(lambda: not probe_kids(), what="the exec probe killed")
    assert tend.proc_status("keep")["pid"] == keep


def test_http_checks_keep_their_connection(tend):
    """A server that keeps connections serves many checks on one; one it
    closes is made again, never counted as a failed check (with
    healthcheck_retries = 1 a single false failure would restart it)."""
    web = Web(keepalive=True, drop_every=7)
    try:
        tend.write_config(f"""
            [program:kept]
            command = {tend.helper("sleeper")}
            startsecs = 0
            healthcheck = http://127.0.0.1:{web.port}/
            healthcheck_interval = 0.02
            healthcheck_retries = 1
        """)
        tend.start()
        wait_for(lambda: web.hits >= 40, what="40 checks")
        p = tend.proc_status("kept")
        assert p["restarts"] == 0 and p["health"] == "healthy", p
        assert "health check failed" not in tend.log()
        # one connection per 7 checks or so, not one each
        assert web.conns <= web.hits // 3, (web.conns, web.hits)
    finally:
        web.close()
