"""
The control socket and protocol (spec §5, docs/protocol.md), spoken with a
raw Python socket: socket creation, stale sockets, a second tendd, framing,
errors, limits, and clients that misbehave.
"""
import json
import os
import re
import socket
import stat
import subprocess
import time

from conftest import read_json_line, read_records, wait_for

PROCESS_FIELDS = {"name": str, "group": str, "process": str, "state": str,
                  "uptime": (int, float), "restarts": int, "daemon": bool,
                  "description": str}


def simple_config(tend, tend_extra=""):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """, tend=tend_extra)


def send(s, obj):
    data = obj if isinstance(obj, (bytes, bytearray)) else \
        (json.dumps(obj) + "\n").encode()
    s.sendall(data)


def recv_all_until_eof(s, timeout=5):
    s.settimeout(timeout)
    data = bytearray()
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return bytes(data), True
            data += chunk
    except socket.timeout:
        return bytes(data), False
    except ConnectionResetError:
        return bytes(data), True


# --------------------------------------------------------------- socket

def test_socket_mode_is_0600_by_default(tend):
    simple_config(tend)
    # Even when tendd runs with umask 0.
    tend.start(preexec_fn=lambda: os.umask(0))
    st = os.stat(tend.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)


def test_socket_mode_setting(tend):
    simple_config(tend, "socket_mode = 0660")
    tend.start()
    assert stat.S_IMODE(os.stat(tend.sock).st_mode) == 0o660


def test_stale_socket_is_replaced(tend):
    simple_config(tend)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(tend.sock))
    s.close()                      # the file stays, nobody listens
    assert tend.sock.exists()
    tend.start()
    assert tend.request("version")["ok"]


def test_second_tendd_on_the_same_socket_refuses(tend):
    simple_config(tend)
    tend.start()
    first = tend.request("version")
    assert first["pid"] == tend.pid
    log2 = tend.path("tendd2.log")
    second = tend.spawn_tendd(log=log2)
    tend._extra.append(second)
    try:
        rc = second.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise AssertionError("a second tendd on the same socket kept running")
    assert rc == 1, rc
    # Refused by the lock, before it touched the socket: one line says so.
    msg = open(log2).read()
    assert re.fullmatch(r"\S+ tendd\[%d\]: error: another tendd is running "
                        r"on %s\n" % (second.pid, re.escape(str(tend.sock))),
                        msg), msg
    # The first one is unaffected and still owns the socket.
    assert tend.proc.poll() is None
    r = tend.request("version")
    assert r["ok"] and r["pid"] == tend.pid
    assert tend.proc_status("svc")["state"] == "RUNNING"


def test_socket_removed_at_exit(tend):
    simple_config(tend)
    tend.start()
    r = tend.request("shutdown")
    assert r["ok"], r
    assert tend.wait_exit() == 0
    assert not tend.sock.exists()


# ------------------------------------------------------------- protocol

def test_version(tend):
    simple_config(tend)
    tend.start()
    r = tend.request("version")
    assert r["ok"] and r["id"] == tend._id
    assert r["pid"] == tend.pid
    assert isinstance(r["version"], str) and r["version"]
    assert r["protocol"] == 1


def test_status_objects(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:idle]
        command = {tend.helper("sleeper")}
        autostart = false
        daemon = false
    """)
    tend.start()
    tend.wait_state("svc", "RUNNING")
    st = tend.status()
    assert set(st) == {"svc", "idle"}
    for p in st.values():
        for k, t in PROCESS_FIELDS.items():
            assert isinstance(p.get(k), t), (k, p)
        assert "pid" in p and "exitcode" in p and "spawnerr" in p
    svc, idle = st["svc"], st["idle"]
    assert svc["group"] == "svc" and svc["process"] == "svc"
    assert isinstance(svc["pid"], int) and svc["daemon"] is True
    assert svc["exitcode"] is None
    assert idle["state"] == "NEW" and idle["pid"] is None
    assert idle["daemon"] is False and idle["uptime"] == 0
    r = tend.request("status", names=["idle"])
    assert [p["name"] for p in r["processes"]] == ["idle"]


def test_several_requests_on_one_connection(tend):
    simple_config(tend)
    tend.start()
    with tend.connect() as s:
        send(s, b'{"id": 1, "cmd": "version"}\n'
                b'{"id": "two", "cmd": "status"}\n'
                b'{"id": [3], "cmd": "nope"}\n')
        buf = bytearray()
        replies = [read_json_line(s, buf) for _ in range(3)]
        by_id = {json.dumps(r["id"]): r for r in replies}
        assert set(by_id) == {"1", '"two"', "[3]"}, replies
        assert by_id["1"]["ok"] and by_id['"two"']["ok"]
        bad = by_id["[3]"]
        assert bad["ok"] is False
        assert bad["error"]["code"] == "unknown_command"
        assert "nope" in bad["error"]["message"]
        # Still usable afterwards, one request at a time.
        send(s, {"id": 4, "cmd": "version"})
        assert read_json_line(s, buf)["id"] == 4


def test_bad_json_keeps_the_connection(tend):
    simple_config(tend)
    tend.start()
    with tend.connect() as s:
        buf = bytearray()
        send(s, b'{"id": 1, "cmd": \n')
        r = read_json_line(s, buf)
        assert r["ok"] is False and r["error"]["code"] == "bad_request", r
        assert r["id"] is None
        send(s, b'[1, 2, 3]\n')
        r = read_json_line(s, buf)
        assert r["ok"] is False and r["error"]["code"] == "bad_request", r
        send(s, b'\xff\xfe garbage \x00\n')
        r = read_json_line(s, buf)
        assert r["ok"] is False and r["error"]["code"] == "bad_request", r
        send(s, {"id": 2, "cmd": "version"})
        r = read_json_line(s, buf)
        assert r["ok"] and r["id"] == 2
    assert tend.proc_status("svc")["state"] == "RUNNING"


def test_field_errors(tend):
    simple_config(tend)
    tend.start()
    r = tend.request("start")                        # no names
    assert r["ok"] is False and r["error"]["code"] == "missing_field", r
    with tend.connect() as s:
        send(s, {"id": 5})                           # no cmd
        r = read_json_line(s)
        assert r["ok"] is False and r["error"]["code"] == "missing_field", r
        assert r["id"] == 5
    r = tend.request("status", names="svc")         # not a list
    assert r["ok"] is False and r["error"]["code"] == "bad_request", r
    r = tend.request(42)                             # cmd not a string
    assert r["ok"] is False and r["error"]["code"] == "bad_request", r


def test_unknown_name_changes_nothing(tend):
    simple_config(tend)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    r = tend.request("stop", names=["svc", "nosuch"])
    assert r["ok"] is False and r["error"]["code"] == "unknown_name", r
    assert "nosuch" in r["error"]["message"]
    p = tend.proc_status("svc")
    assert p["state"] == "RUNNING" and p["pid"] == pid
    r = tend.request("status", names=["nosuch"])
    assert r["ok"] is False and r["error"]["code"] == "unknown_name", r


def test_names_all_and_globs(tend):
    tend.write_config(f"""
        [program:web1]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:web2]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:db]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    r = tend.request("status", names=["web*"])
    assert sorted(p["name"] for p in r["processes"]) == ["web1", "web2"], r
    r = tend.request("status", names=["all"])
    assert len(r["processes"]) == 3
    r = tend.request("status", names=["web1:*"])
    assert [p["name"] for p in r["processes"]] == ["web1"], r
    r = tend.request("status", names=["db:db"])
    assert [p["name"] for p in r["processes"]] == ["db"], r


def test_line_over_1mib_is_refused_and_tendd_serves_others(tend):
    simple_config(tend)
    tend.start()
    other = tend.connect()
    s = tend.connect()
    big = b'{"id": 1, "cmd": "version", "pad": "' + b"a" * (1100 * 1024) + \
        b'"}\n'
    try:
        s.sendall(big)
    except (BrokenPipeError, ConnectionResetError):
        pass                       # closed on us mid-line: allowed
    data, eof = recv_all_until_eof(s)
    s.close()
    lines = [json.loads(line) for line in data.split(b"\n") if line.strip()]
    assert lines or eof, "no error and the connection stayed open"
    for r in lines:
        assert r["ok"] is False and r["error"]["code"] == "line_too_long", r
    assert eof, "the connection was not closed after a line over 1 MiB"
    # Others are served, on an old connection and a new one.
    send(other, {"id": 9, "cmd": "version"})
    assert read_json_line(other)["id"] == 9
    other.close()
    assert tend.request("version")["ok"]
    assert tend.proc_status("svc")["state"] == "RUNNING"


def test_stuck_clients_do_not_stall_tendd(tend):
    simple_config(tend)
    tend.start()
    stuck = []
    try:
        for i in range(40):
            c = tend.connect()
            if i % 2:
                c.sendall(b'{"id": 1, "cmd": "status"')   # never finished
            stuck.append(c)
        # A client that sends requests and never reads the replies.
        hog = tend.connect()
        hog.setblocking(False)
        try:
            for _ in range(2000):
                hog.send(b'{"id": 1, "cmd": "status"}\n')
        except BlockingIOError:
            pass
        stuck.append(hog)
        # Served while all of them are still there, stuck.
        for _ in range(5):
            r = tend.request("status")
            assert r["ok"] and [p["name"] for p in r["processes"]] == \
                ["svc"], r
    finally:
        for c in stuck:
            c.close()
    assert tend.request("version")["ok"]


def test_client_gone_mid_start_does_not_matter(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:slow]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 1
        autostart = false
    """)
    tend.start()
    s = tend.connect()
    send(s, {"id": 1, "cmd": "start", "names": ["slow"]})
    wait_for(lambda: read_records(rec), 3, what="the start to begin")
    s.close()                      # gone before the reply
    p = tend.wait_state("slow", "RUNNING", timeout=4)
    assert p["pid"] == read_records(rec)[0][0]
    assert tend.proc.poll() is None


def test_start_and_stop_replies(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 1
        autostart = false
        [program:broken]
        command = /nonexistent/tend-broken
        autostart = false
    """)
    tend.start()
    t0 = time.monotonic()
    r = tend.request("start", names=["svc"])
    took = time.monotonic() - t0
    assert r["ok"], r
    assert took >= 0.8, "start replied before startsecs: %.2fs" % took
    [res] = r["results"]
    assert res["name"] == "svc" and res["ok"] and res["state"] == "RUNNING"
    r = tend.request("start", names=["svc"])       # already up: ok at once
    assert r["ok"], r
    r = tend.request("start", names=["broken"])
    assert r["ok"] is False and r["error"]["code"] == "failed", r
    [res] = r["results"]
    assert res["ok"] is False and res["state"] == "FATAL"
    assert "No such file or directory" in res["message"], res
    r = tend.request("stop", names=["svc"])
    assert r["ok"], r
    assert r["results"][0]["state"] == "STOPPED"
    r = tend.request("stop", names=["svc"])        # not running: ok at once
    assert r["ok"], r


def test_start_and_stop_without_wait(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 3
        autostart = false
    """)
    tend.start()
    r = tend.request("start", names=["svc"], wait=False)
    assert r["ok"], r
    # Answered before startsecs = 3 was over: still STARTING.
    assert [(x["name"], x["state"]) for x in r["results"]] == \
        [("svc", "STARTING")], r
    tend.wait_state("svc", "RUNNING")


def test_shutdown_reply_then_close(tend):
    simple_config(tend)
    tend.start()
    with tend.connect() as s:
        send(s, {"id": 1, "cmd": "shutdown"})
        buf = bytearray()
        r = read_json_line(s, buf)
        assert r["ok"] and r["id"] == 1, r
        data, eof = recv_all_until_eof(s, timeout=8)
        assert eof, "connection not closed when tendd exited"
    assert tend.wait_exit() == 0


def test_socket_option_overrides_config(tend):
    simple_config(tend)
    other = tend.dir / "other.sock"
    tend.sock = other
    tend.start("-s", str(other))
    assert stat.S_ISSOCK(os.stat(other).st_mode)
    assert not (tend.dir / "tend.sock").exists()


def test_socket_directory_is_created(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        stdout_logfile = NONE
        stderr_logfile = NONE
    """, header=False)
    tend.conf.write_text("[tend]\nsocket = %(here)s/run/tend/tend.sock\n"
                         + tend.conf.read_text())
    tend.sock = tend.dir / "run" / "tend" / "tend.sock"
    tend.start()
    assert stat.S_ISSOCK(os.stat(tend.sock).st_mode)


def test_pidfile(tend):
    simple_config(tend, "pidfile = %(here)s/tendd.pid")
    tend.start()
    pidfile = tend.dir / "tendd.pid"
    assert pidfile.read_text().strip() == str(tend.pid)
