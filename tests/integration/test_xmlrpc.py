"""
supervisord's XML-RPC interface on tendd's socket (spec section 9): every
method through Python's xmlrpc.client and supervisor.xmlrpc's
SupervisorTransport (what supervisorctl, Datadog, Cesi and childutils
use), checked for types and values; children calling back through
supervisor.childutils; Basic auth, other uids and [inet_http_server];
hostile HTTP and XML. One tendd serves the whole module where the tests
only read or put things back.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import xmlrpc.client

import pytest

from conftest import (TENDD, Tend, free_uid, reachable_tmp, require,
                      wait_for)

sys.path.insert(0, "/usr/lib/python3/dist-packages")
try:
    from supervisor.xmlrpc import SupervisorTransport
except ImportError:  # pragma: no cover
    SupervisorTransport = None

PY = "/usr/bin/python3"

INFO_FIELDS = {"name", "group", "description", "start", "stop", "now",
               "state", "statename", "spawnerr", "exitstatus", "logfile",
               "stdout_logfile", "stderr_logfile", "pid"}

SPEC_METHODS = """getAPIVersion getVersion getSupervisorVersion
getIdentification getState getPID readLog clearLog shutdown restart
reloadConfig addProcessGroup removeProcessGroup startProcess
startProcessGroup startAllProcesses stopProcess stopProcessGroup
stopAllProcesses signalProcess signalProcessGroup signalAllProcesses
getAllConfigInfo getProcessInfo getAllProcessInfo readProcessStdoutLog
readProcessStderrLog tailProcessStdoutLog tailProcessStderrLog
clearProcessLogs clearAllProcessLogs sendProcessStdin
sendRemoteCommEvent""".split()

CHILD = r"""
import os, sys, json
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from supervisor import childutils
rpc = childutils.getRPCInterface(os.environ)
info = rpc.supervisor.getProcessInfo(os.environ["SUPERVISOR_PROCESS_NAME"])
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump({"info": info, "url": os.environ["SUPERVISOR_SERVER_URL"],
               "enabled": os.environ["SUPERVISOR_ENABLED"],
               "pid": os.getpid()}, f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
import time
time.sleep(1000)
"""


def proxy(sock, username=None, password=None):
    if SupervisorTransport is None:
        pytest.fail("supervisor is not installed (make deps)")
    t = SupervisorTransport(username, password, "unix://" + str(sock))
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=t)


def write_conf(t, extra_top="", programs=""):
    (t.dir / "logs").mkdir(exist_ok=True)
    text = textwrap.dedent("""\
        [unix_http_server]
        file = %(here)s/tend.sock
        chmod = 0666
        {top}
        [supervisord]
        logfile = %(here)s/tendd.log
        childlogdir = %(here)s/logs
        client_timeout = 2

        [rpcinterface:supervisor]
        supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

        [supervisorctl]
        serverurl = unix://%(here)s/tend.sock

        """).format(top=textwrap.dedent(extra_top))
    t.conf.write_text(text + textwrap.dedent(programs))


PROGRAMS = """\
    [program:a]
    command = /bin/sleep 1000
    startsecs = 0

    [program:b]
    command = /bin/sleep 1000
    autostart = false
    startsecs = 0

    [program:echo]
    command = /bin/sh -c 'echo out-line; echo err-line >&2; exec sleep 1000'
    startsecs = 0

    [program:missing]
    command = /nonexistent/bin/x
    autostart = false

    [program:dies]
    command = /bin/false
    autostart = false
    startsecs = 1
    startretries = 0

    [program:child]
    command = {py} {script} {result}
    startsecs = 0

    [group:grp]
    programs = g1,g2

    [program:g1]
    command = /bin/sleep 1000
    startsecs = 0

    [program:g2]
    command = /bin/sleep 1000
    startsecs = 0
    """


@pytest.fixture(scope="module")
def srv():
    workdir = tempfile.mkdtemp(prefix="tend-", dir=reachable_tmp())
    t = Tend(workdir)
    script = t.dir / "child.py"
    script.write_text(CHILD)
    t.child_result = t.dir / "child.json"
    write_conf(t, programs=PROGRAMS.format(py=PY, script=script,
                                           result=t.child_result))
    t.start()
    wait_for(lambda: proxy(t.sock).supervisor.getProcessInfo("a")["state"] == 20,
             what="a RUNNING")
    yield t
    t.cleanup()


def fault(fn, *args):
    with pytest.raises(xmlrpc.client.Fault) as e:
        fn(*args)
    return e.value.faultCode, e.value.faultString


def test_versions_state_pid(srv):
    s = proxy(srv.sock).supervisor
    assert s.getAPIVersion() == "3.0"
    assert s.getVersion() == "3.0"
    assert isinstance(s.getSupervisorVersion(), str)
    assert s.getIdentification() == "tend"
    assert s.getState() == {"statecode": 1, "statename": "RUNNING"}
    assert s.getPID() == srv.pid
    # tendctl on the same socket, meanwhile
    assert srv.request("version")["ok"]


def test_process_info(srv):
    info = proxy(srv.sock).supervisor.getProcessInfo("a")
    assert set(info) == INFO_FIELDS
    assert info["name"] == "a" and info["group"] == "a"
    assert info["state"] == 20 and info["statename"] == "RUNNING"
    for k in ("start", "stop", "now", "state", "exitstatus", "pid"):
        assert isinstance(info[k], int), k
    assert info["pid"] == srv.proc_status("a")["pid"]
    assert info["description"].startswith("pid %d, uptime 0:" % info["pid"])
    assert 0 < info["start"] <= info["now"]
    # AUTO: the file's real name in childlogdir, as supervisord gives it
    assert info["stdout_logfile"].startswith(str(srv.dir / "logs" / "a-"))
    assert info["logfile"] == info["stdout_logfile"]
    assert os.path.exists(info["stderr_logfile"])
    b = proxy(srv.sock).supervisor.getProcessInfo("b")
    assert (b["state"], b["statename"], b["description"], b["pid"],
            b["start"]) == (0, "STOPPED", "Not started", 0, 0)
    g = proxy(srv.sock).supervisor.getProcessInfo("grp:g1")
    assert (g["name"], g["group"]) == ("g1", "grp")


def test_all_process_info_lexical(srv):
    all_ = proxy(srv.sock).supervisor.getAllProcessInfo()
    names = [(i["group"], i["name"]) for i in all_]
    assert names == sorted(names)
    assert ("grp", "g2") in names and ("b", "b") in names
    assert all(set(i) == INFO_FIELDS for i in all_)


def test_bad_names_and_params(srv):
    s = proxy(srv.sock).supervisor
    assert fault(s.getProcessInfo, "nope") == (10, "BAD_NAME: nope")
    assert fault(s.startProcess, "nope") == (10, "BAD_NAME: nope")
    assert fault(s.stopProcessGroup, "nope") == (10, "BAD_NAME: nope")
    assert fault(s.getProcessInfo, "grp:*") == (10, "BAD_NAME: grp:*")
    assert fault(s.startProcess, 12) == (2, "INCORRECT_PARAMETERS")
    assert fault(s.getProcessInfo) == (2, "INCORRECT_PARAMETERS")
    assert fault(proxy(srv.sock).supervisor.noSuchMethod) == (1, "UNKNOWN_METHOD")
    assert fault(proxy(srv.sock).system.methodHelp, "x.y") == (
        4, "SIGNATURE_UNSUPPORTED")


def test_start_stop_wait(srv):
    s = proxy(srv.sock).supervisor
    # start with wait (the default) answers once RUNNING: parked, not polled
    assert s.startProcess("b") is True
    assert s.getProcessInfo("b")["statename"] == "RUNNING"
    assert fault(s.startProcess, "b") == (60, "ALREADY_STARTED: b")
    assert s.stopProcess("b") is True
    assert s.getProcessInfo("b")["statename"] == "STOPPED"
    assert fault(s.stopProcess, "b") == (70, "NOT_RUNNING: b")
    assert fault(s.signalProcess, "b", "HUP") == (70, "NOT_RUNNING: b")
    # without wait: true at once
    assert s.startProcess("b", False) is True
    wait_for(lambda: s.getProcessInfo("b")["state"] == 20)
    assert s.stopProcess("b", False) is True
    wait_for(lambda: s.getProcessInfo("b")["state"] == 0)


def test_no_file(srv):
    s = proxy(srv.sock).supervisor
    assert fault(s.startProcess, "missing") == (
        20, "NO_FILE: /nonexistent/bin/x")


def test_abnormal_termination(srv):
    s = proxy(srv.sock).supervisor
    assert fault(s.startProcess, "dies") == (
        40, "ABNORMAL_TERMINATION: dies")
    info = s.getProcessInfo("dies")
    assert (info["statename"], info["state"]) in (("BACKOFF", 30),
                                                  ("FATAL", 200))
    assert info["description"] == info["spawnerr"] == \
        "Exited too quickly (process log may have details)"
    assert info["exitstatus"] == 1


def test_paused_is_running(srv):
    s = proxy(srv.sock).supervisor
    assert srv.request("pause", names=["a"])["ok"]
    try:
        info = s.getProcessInfo("a")
        assert (info["statename"], info["description"]) == (
            "RUNNING", "pid %d, paused" % info["pid"])
    finally:
        assert srv.request("resume", names=["a"])["ok"]


def test_groups(srv):
    s = proxy(srv.sock).supervisor
    r = s.stopProcessGroup("grp")
    assert sorted(r, key=lambda x: x["name"]) == [
        {"name": "g1", "group": "grp", "status": 80, "description": "OK"},
        {"name": "g2", "group": "grp", "status": 80, "description": "OK"}]
    assert {i["statename"] for i in s.getAllProcessInfo()
            if i["group"] == "grp"} == {"STOPPED"}
    assert len(s.startProcess("grp:*")) == 2
    assert {i["statename"] for i in s.getAllProcessInfo()
            if i["group"] == "grp"} == {"RUNNING"}
    # already running: nothing to do, an empty list
    assert s.startProcessGroup("grp") == []


def test_signal(srv):
    s = proxy(srv.sock).supervisor
    pid = s.getProcessInfo("a")["pid"]
    assert s.signalProcess("a", "CONT") is True
    assert s.signalProcess("a", 18) is True
    assert fault(s.signalProcess, "a", "NOSIG") == (11, "BAD_SIGNAL: NOSIG")
    r = s.signalProcessGroup("grp", "CONT")
    assert [x["status"] for x in r] == [80, 80]
    assert s.getProcessInfo("a")["pid"] == pid


def test_logtail_stream(srv):
    """GET /logtail/NAME/stderr: what supervisorctl tail -f reads, chunked,
    and it keeps streaming until the client closes."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(srv.sock))
    s.sendall(b"GET /logtail/echo/stderr HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while b"err-line" not in got:
        b = s.recv(4096)
        assert b, got
        got += b
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"Transfer-Encoding: chunked" in head
    assert body.startswith(b"9\r\nerr-line\n\r\n")
    # still open: nothing more, no close
    s.settimeout(0.3)
    with pytest.raises(socket.timeout):
        s.recv(10)
    s.close()


def test_mainlogtail_follows(srv):
    """GET /mainlogtail (supervisorctl maintail -f): the end of tendd's log,
    then each line it logs."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(srv.sock))
    s.sendall(b"GET /mainlogtail HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    assert got.startswith(b"HTTP/1.1 200 OK")
    assert proxy(srv.sock).supervisor.startProcess("b") is True
    while b"b: STARTING -> RUNNING" not in got:
        b = s.recv(4096)
        assert b, got
        got += b
    s.close()
    assert proxy(srv.sock).supervisor.stopProcess("b") is True


def test_logs(srv):
    s = proxy(srv.sock).supervisor
    wait_for(lambda: "out-line" in s.readProcessStdoutLog("echo", -100, 0))
    assert "err-line" in s.readProcessStderrLog("echo", -100, 0)
    assert s.readProcessStdoutLog("echo", 0, 4) == "out-"
    data, offset, overflow = s.tailProcessStdoutLog("echo", 0, 1000)
    assert (data, offset, overflow) == ("out-line\n", 9, False)
    data, offset, overflow = s.tailProcessStdoutLog("echo", 0, 3)
    assert (data, offset, overflow) == ("ne\n", 9, True)
    assert fault(s.readProcessStdoutLog, "echo", -5, 3) == (
        3, "BAD_ARGUMENTS")
    assert s.clearProcessLogs("echo") is True
    assert s.readProcessStdoutLog("echo", -100, 0) == ""
    assert s.tailProcessStdoutLog("echo", 0, 100)[0] == ""
    assert "tendd" in s.readLog(-2000, 0)


def test_system_methods(srv):
    sysm = proxy(srv.sock).system
    names = sysm.listMethods()
    for m in SPEC_METHODS:
        assert "supervisor." + m in names
    for m in ("listMethods", "methodHelp", "methodSignature", "multicall"):
        assert "system." + m in names
    assert names == sorted(names)
    assert isinstance(sysm.methodHelp("supervisor.getState"), str)
    assert sysm.methodSignature("supervisor.getProcessInfo") == [
        ["struct", "string"]]
    r = sysm.multicall([
        {"methodName": "supervisor.getAPIVersion", "params": []},
        {"methodName": "supervisor.getProcessInfo", "params": ["nope"]},
        {"methodName": "system.multicall", "params": [[]]}])
    assert r[0] == "3.0"
    assert r[1] == {"faultCode": 10, "faultString": "BAD_NAME: nope"}
    assert r[2]["faultCode"] == 2


def test_config_info(srv):
    ci = proxy(srv.sock).supervisor.getAllConfigInfo()
    a = [c for c in ci if c["name"] == "a"][0]
    assert a["command"] == "/bin/sleep 1000"
    assert a["autostart"] is True and a["inuse"] is True
    assert isinstance(a["stopsignal"], int)


def test_child_calls_back(srv):
    import json
    wait_for(lambda: srv.child_result.exists(), what="child's result")
    r = json.loads(srv.child_result.read_text())
    assert r["enabled"] == "1"
    assert r["url"] == "unix://" + str(srv.sock)
    assert r["info"]["name"] == "child"
    assert r["info"]["pid"] == r["pid"]
    assert r["info"]["statename"] in ("STARTING", "RUNNING")


# ---------------------------------------------------------------- hostile

def raw(sock, data, read=True, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(str(sock))
    s.sendall(data)
    out = b""
    if read:
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except socket.timeout:
            pass
    s.close()
    return out


def post(body, extra=b""):
    return (b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n%s\r\n" % (len(body), extra) + body)


def call_xml(method, *params):
    return xmlrpc.client.dumps(params, method).encode()


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<methodCall><methodName>supervisor.stopProcess</methodName><params>
<param><value><string>&lol3;</string></value></param></params></methodCall>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>supervisor.stopProcess</methodName><params>
<param><value><string>&e;</string></value></param></params></methodCall>"""


def test_hostile_input(srv):
    s = proxy(srv.sock).supervisor
    before = {i["name"]: i["pid"] for i in s.getAllProcessInfo()}
    deep = (b"<?xml version='1.0'?><methodCall><methodName>supervisor."
            b"stopProcess</methodName><params><param>" +
            b"<value><array><data>" * 200 + b"</data></array></value>" * 200
            + b"</param></params></methodCall>")
    cases = {
        b"BREW /RPC2 HTTP/1.1\r\n\r\n": b"405",
        b"GET /RPC2 HTTP/1.1\r\n\r\n": b"405",
        b"POST /RPC2 HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n": b"413",
        b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n": b"501",
        b"POST /RPC2 HTTP/2.0\r\nContent-Length: 0\r\n\r\n": b"505",
        b"POST /RPC2 HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n": b"431",
        post(LAUGHS): b"400",
        post(EXTERNAL): b"400",
        post(deep): b"400",
        post(call_xml("supervisor.stopProcess", "a").replace(
            b"<string>a</string>", b"<string>\xff\xfe</string>")): b"400",
        post(b"<methodCall><methodName>x</methodName><params><param><value>"
             b"<int>12x</int></value></param></params></methodCall>"): b"400",
        post(b"<notxml"): b"400",
        b"GET /logtail/nope HTTP/1.1\r\n\r\n": b"404",
        b"GET /elsewhere HTTP/1.1\r\n\r\n": b"404",
    }
    # a first line that is no HTTP request line is tendctl's protocol's:
    # garbage there gets its JSON bad_request, as before the interface
    out = raw(srv.sock, b"GARBAGE\r\n\r\n")
    assert json.loads(out.split(b"\n")[0])["error"]["code"] == "bad_request"
    for req, code in cases.items():
        out = raw(srv.sock, req)
        assert out.startswith(b"HTTP/1.1 " + code) or out.startswith(
            b"HTTP/1.0 " + code), (req[:80], out[:200])
        assert b"root:" not in out and b"lollol" not in out
    # truncated body: the client leaves; nothing happens
    raw(srv.sock, b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\n<me",
        read=False)
    # pipelined: answered in order on one connection
    two = (b"POST /RPC2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n" %
           len(call_xml("supervisor.getPID")) + call_xml("supervisor.getPID")
           + post(call_xml("supervisor.getAPIVersion")))
    out = raw(srv.sock, two)
    assert out.count(b"HTTP/1.1 200 OK") == 2
    assert out.index(b"<int>%d</int>" % srv.pid) < out.index(b"3.0")
    # a slow client is dropped after client_timeout (2 s), with a 408
    s2 = socket.socket(socket.AF_UNIX)
    s2.settimeout(15)
    s2.connect(str(srv.sock))
    s2.sendall(b"POST /RPC2 HTTP/1.1\r\nContent-Le")
    out = b""
    while True:
        b = s2.recv(4096)
        if not b:
            break
        out += b
    s2.close()
    assert out.startswith(b"HTTP/1.1 408")
    # nothing changed, tendd alive (a fresh connection: the idle
    # timeout closed the kept one meanwhile)
    s = proxy(srv.sock).supervisor
    after = {i["name"]: i["pid"] for i in s.getAllProcessInfo()}
    assert after == before
    assert srv.proc.poll() is None


# ---------------------------------------------------------------- auth

def test_basic_auth_and_other_uid(tend):
    write_conf(tend, extra_top="username = alice\npassword = s3cret-pw\n",
               programs="[program:a]\ncommand = /bin/sleep 1000\n")
    os.chmod(tend.dir, 0o711)
    tend.start()
    ok = proxy(tend.sock, "alice", "s3cret-pw")
    assert ok.supervisor.getAPIVersion() == "3.0"
    for user, pw in ((None, None), ("alice", "wrong"), ("bob", "s3cret-pw")):
        with pytest.raises(xmlrpc.client.ProtocolError) as e:
            proxy(tend.sock, user, pw).supervisor.getAPIVersion()
        assert e.value.errcode == 401
    # tendctl is not asked for a password: it is checked by SO_PEERCRED
    assert tend.request("version")["ok"]
    # another uid is refused before any HTTP (the socket is 0666 here)
    uid = free_uid()
    code = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
            "s.connect(sys.argv[1])\nprint(s.recv(4096))\n")
    r = subprocess.run([PY, "-c", code, str(tend.sock)], capture_output=True,
                       text=True, timeout=20,
                       preexec_fn=lambda: (os.setgid(uid), os.setuid(uid)))
    assert "permission denied" in r.stdout, (r.stdout, r.stderr)
    assert "HTTP/1" not in r.stdout
    wait_for(lambda: "refused uid %d" % uid in tend.log())
    assert "no valid credentials" in tend.log()
    assert "s3cret-pw" not in tend.log()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_inet_http_server(tend):
    port = free_port()
    write_conf(tend, programs=textwrap.dedent("""\
        [inet_http_server]
        port = 127.0.0.1:%d
        username = u
        password = p4ss

        [program:a]
        command = /bin/sleep 1000
        """ % port))
    tend.start()
    url = "http://u:p4ss@127.0.0.1:%d/RPC2" % port
    s = xmlrpc.client.ServerProxy(url)
    assert s.supervisor.getPID() == tend.pid
    with pytest.raises(xmlrpc.client.ProtocolError) as e:
        xmlrpc.client.ServerProxy(
            "http://u:bad@127.0.0.1:%d/RPC2" % port).supervisor.getPID()
    assert e.value.errcode == 401
    # JSON is not served on TCP
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b'{"id":1,"cmd":"version"}\n\r\n\r\n')
    assert c.recv(100).startswith(b"HTTP/1.1 400")
    c.close()
    assert "p4ss" not in tend.log()


def test_inet_needs_password_off_loopback(tend):
    write_conf(tend, programs="[inet_http_server]\nport = 0.0.0.0:9\n\n"
               "[program:a]\ncommand = /bin/sleep 1000\n")
    require(TENDD, "make")
    r = subprocess.run([str(TENDD), "-c", str(tend.conf), "--check"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "[inet_http_server] port: 0.0.0.0:9 is reachable from other " \
        "machines" in r.stdout + r.stderr
