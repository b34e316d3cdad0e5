"""
supervisord's event listeners under tendd (spec section 10), tested with
real listener code: Python listeners written on Debian's
supervisor.childutils (listener.wait = ready() + get_headers + the
payload, listener.ok(), listener.fail()), the "stop the container when a
process goes FATAL" listener as Docker images carry it, and a PROCESS_LOG
forwarder.

test_same_events_as_supervisord runs one listener under the real
/usr/bin/supervisord and under tendd on the same config file and compares
what it received: for every process, the sequence of event types, and
for every type the payload's keys (values such as pids and the server
identifier differ by nature).
"""
import json
import os
import signal
import subprocess
import textwrap
import time
import xmlrpc.client

import pytest

from conftest import Tend, wait_for

SUPERVISORD = "/usr/bin/supervisord"

try:
    from supervisor.xmlrpc import SupervisorTransport
except ImportError:             # pragma: no cover
    SupervisorTransport = None

# One listener script, modes chosen by its arguments:
#   record OUT [fail-first|crash-first|hold FILE]
# It appends {"h": headers, "p": payload} to OUT for each event.
RECORDER = r'''
import json, os, sys, time
from supervisor import childutils
out, mode = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "ok"
n = 0
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    n += 1
    with open(out, "a") as f:
        f.write(json.dumps({"h": headers, "p": payload, "pid": os.getpid()})
                + "\n")
    if mode == "fail-first" and n == 1:
        childutils.listener.fail(sys.stdout)
        continue
    if mode == "crash-first" and n == 1 and not os.path.exists(out + ".crashed"):
        open(out + ".crashed", "w").close()
        os._exit(3)
    if mode == "hold" and n == 1:
        while not os.path.exists(sys.argv[3]):
            time.sleep(0.02)
    childutils.listener.ok(sys.stdout)
'''

# As Docker images write it (the supervisord-kill / "stop on fatal" one):
# a bare protocol loop that signals the supervisor's pid from its pidfile.
KILLER = r'''
import os, signal, sys
def write_stdout(s):
    sys.stdout.write(s)
    sys.stdout.flush()
def main():
    while True:
        write_stdout('READY\n')
        line = sys.stdin.readline()
        headers = dict([x.split(':') for x in line.split()])
        sys.stdin.read(int(headers['len']))
        try:
            pidfile = open(sys.argv[1], 'r')
            pid = int(pidfile.readline())
            os.kill(pid, signal.SIGQUIT)
        except Exception as e:
            write_stdout('Could not kill supervisor: ' + str(e) + '\n')
        write_stdout('RESULT 2\nOK')
if __name__ == '__main__':
    main()
'''

# A PROCESS_LOG forwarder: each line, prefixed, to its own stderr.
FORWARDER = r'''
import sys
from supervisor import childutils
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    pheaders, data = childutils.eventdata(payload + '\n')
    for line in data.splitlines():
        sys.stderr.write('%s %s | %s\n' % (pheaders['processname'],
                                           pheaders['channel'], line))
    sys.stderr.flush()
    childutils.listener.ok(sys.stdout)
'''

# Writes something that is not READY.
GARBAGE = r'''
import sys, time
sys.stdout.write('HELLO\n')
sys.stdout.flush()
time.sleep(1000)
'''


def script(tend, name, text):
    path = tend.dir / name
    path.write_text(text)
    return "/usr/bin/python3 " + str(path)


def records(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def wait_records(path, pred, what, timeout=15):
    return wait_for(lambda: pred(records(path)) and records(path), timeout,
                    what=what)


def names(recs):
    return [r["h"]["eventname"] for r in recs]


def rpc(sock):
    return xmlrpc.client.ServerProxy(
        "http://127.0.0.1", transport=SupervisorTransport(
            None, None, "unix://" + str(sock)))


def check_serials(recs):
    serials = [int(r["h"]["serial"]) for r in recs]
    pools = [int(r["h"]["poolserial"]) for r in recs]
    assert serials == sorted(serials) and len(set(serials)) == len(serials)
    assert pools == sorted(pools) and len(set(pools)) == len(pools)
    for r in recs:
        assert int(r["h"]["len"]) == len(r["p"].encode())
        assert r["h"]["ver"] == "3.0"


# ---------------------------------------------------------------------
# side by side with supervisord

SIDE_CONF = """\
[unix_http_server]
file = %(here)s/s.sock

[supervisord]
logfile = %(here)s/main.log
pidfile = %(here)s/sd.pid
childlogdir = %(here)s
nodaemon = true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[eventlistener:rec]
command = /usr/bin/python3 %(here)s/rec.py %(here)s/events.jsonl
events = PROCESS_STATE,SUPERVISOR_STATE_CHANGE,PROCESS_GROUP,PROCESS_LOG,REMOTE_COMMUNICATION
stderr_logfile = %(here)s/rec.err
buffer_size = 100

[program:a]
command = /bin/sh -c 'echo hello; exec sleep 1000'
startsecs = 1
stdout_events_enabled = true

[program:crash]
command = /bin/sh -c 'exit 3'
; long, so that under load neither daemon sees a slow exit as a run
startsecs = 30
startretries = 1
"""


def run_side(d, argv):
    """Runs one daemon on SIDE_CONF in D; drives it through XML-RPC;
    returns what its listener received."""
    (d / "rec.py").write_text(RECORDER)
    (d / "sd.conf").write_text(SIDE_CONF)
    log = open(d / "daemon.out", "ab")
    p = subprocess.Popen(argv + ["-c", str(d / "sd.conf")],
                         stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, cwd=str(d),
                         start_new_session=True)
    try:
        ev = d / "events.jsonl"
        wait_records(ev, lambda r: "PROCESS_STATE_FATAL" in names(r) and
                     sum(1 for x in r if x["h"]["eventname"] ==
                         "PROCESS_STATE_RUNNING") >= 2, "a up, crash FATAL")
        s = rpc(d / "s.sock")
        s.supervisor.stopProcess("a")
        s.supervisor.sendRemoteCommEvent("mytype", "some data")
        wait_records(ev, lambda r: "REMOTE_COMMUNICATION" in names(r),
                     "REMOTE_COMMUNICATION")
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()
    return records(d / "events.jsonl")


def per_process(recs):
    """{processname or '': [eventname...]} and {eventname: keys}."""
    seq, keys = {}, {}
    for r in recs:
        name = r["h"]["eventname"]
        first = r["p"].split("\n", 1)[0]
        fields = dict(kv.split(":", 1) for kv in first.split() if ":" in kv)
        who = fields.get("processname", "")
        seq.setdefault(who, []).append(name)
        keys.setdefault(name, set()).update(fields)
    return seq, keys


def test_same_events_as_supervisord(tend):
    if SupervisorTransport is None or not os.path.exists(SUPERVISORD):
        pytest.fail("Debian's supervisor package is needed")
    sd_dir = tend.dir / "sd"
    td_dir = tend.dir / "td"
    sd_dir.mkdir()
    td_dir.mkdir()
    from conftest import TENDD
    got_sd = run_side(sd_dir, [SUPERVISORD])
    got_td = run_side(td_dir, [str(TENDD)])
    print("supervisord:", [(r["h"]["eventname"], r["p"][:60]) for r in got_sd])
    print("tendd:", [(r["h"]["eventname"], r["p"][:60]) for r in got_td])
    check_serials(got_td)
    assert all(r["h"]["pool"] == "rec" for r in got_td)
    assert [sorted(r["h"]) for r in got_td] == [sorted(r["h"]) for r in got_sd]
    seq_sd, keys_sd = per_process(got_sd)
    seq_td, keys_td = per_process(got_td)
    assert seq_td == seq_sd, (seq_td, seq_sd)
    assert keys_td == keys_sd
    # a's line, tries, from_state and the remote event, as supervisord's
    assert any(r["p"].endswith("channel:stdout\nhello\n") for r in got_td)
    assert [r["p"] for r in got_td if r["h"]["eventname"] ==
            "REMOTE_COMMUNICATION"] == ["type:mytype\nsome data"]
    crash = [r["p"].split(" pid:")[0] for r in got_td
             if "processname:crash " in r["p"]]
    assert crash == [r["p"].split(" pid:")[0] for r in got_sd
                     if "processname:crash " in r["p"]]
    # the listener saw tendd stop, and a's stop, before its own end
    assert names(got_td)[-1] == "SUPERVISOR_STATE_CHANGE_STOPPING"


# ---------------------------------------------------------------------
# tendd alone


def test_fatal_stops_tendd_docker_listener(tend):
    tend.write_config("""
        [eventlistener:killer]
        command = %s %s
        events = PROCESS_STATE_FATAL

        [program:bad]
        command = /bin/sh -c 'exit 1'
        startsecs = 1
        startretries = 0
        """ % (script(tend, "kill.py", KILLER), tend.path("tendd.pid")),
        tend="pidfile = %s" % tend.path("tendd.pid"))
    tend.start()
    rc = tend.wait_exit(timeout=20)
    assert rc is not None
    log = tend.log()
    assert "bad: STARTING -> FATAL" in log or "-> FATAL" in log, log
    assert "killer: RUNNING -> STOPPING" in log, log


def test_log_forwarder_and_stderr_logged(tend):
    tend.write_config("""
        [eventlistener:fwd]
        command = %s
        events = PROCESS_LOG
        stderr_logfile = %s

        [program:talk]
        command = /bin/sh -c 'echo one; echo two >&2; exec sleep 1000'
        startsecs = 0
        stdout_events_enabled = true
        stderr_events_enabled = true
        """ % (script(tend, "fwd.py", FORWARDER), tend.path("fwd.err")))
    tend.start()
    err = tend.dir / "fwd.err"

    def both():
        text = err.read_text() if err.exists() else ""
        return "talk stdout | one" in text and "talk stderr | two" in text
    wait_for(both, 15, what="forwarded lines in the listener's stderr log")
    # its stdout is the protocol: never in a log
    assert not list((tend.dir / "logs").glob("fwd-stdout*"))
    # a listener is restarted like a program, and goes on forwarding
    pid = tend.proc_status("fwd")["pid"]
    rc, out, e = tend.ctl("restart", "fwd", "talk")
    assert rc == 0, (out, e)
    assert tend.wait_state("fwd", "RUNNING")["pid"] != pid
    wait_for(lambda: err.read_text().count("talk stdout | one") >= 2, 15,
             what="talk's line again, through the new listener")


def test_fail_is_sent_again_and_crash_is_restarted(tend):
    ev1, ev2 = tend.path("fail.jsonl"), tend.path("crash.jsonl")
    rec = script(tend, "rec.py", RECORDER)
    tend.write_config("""
        [eventlistener:failer]
        command = %s %s fail-first
        events = PROCESS_GROUP_ADDED

        [eventlistener:crasher]
        command = %s %s crash-first
        events = PROCESS_GROUP_ADDED
        startsecs = 0
        """ % (rec, ev1, rec, ev2))
    tend.start()
    # both get PROCESS_GROUP_ADDED for failer and crasher at start
    got = wait_records(ev1, lambda r: len(r) >= 3, "FAIL then again")
    assert got[0]["h"]["serial"] == got[1]["h"]["serial"]
    assert got[0]["h"]["poolserial"] == got[1]["h"]["poolserial"]
    assert got[0]["p"] == got[1]["p"]
    assert "event %s was rejected" % got[0]["h"]["serial"] in tend.log()
    got = wait_records(ev2, lambda r: len(r) >= 3, "crash then again")
    # the event it died on goes to its next process
    assert got[0]["h"]["serial"] == got[1]["h"]["serial"]
    assert got[0]["pid"] != got[1]["pid"]
    check_serials(got[1:])


def test_silent_listener_overflow_drops_oldest(tend):
    ev, gate = tend.path("hold.jsonl"), tend.path("gate")
    tend.write_config("""
        [eventlistener:slow]
        command = %s %s hold %s
        events = PROCESS_STATE
        buffer_size = 3
        startsecs = 0

        [program:x]
        command = /bin/sleep 1000
        startsecs = 0
        """ % (script(tend, "rec.py", RECORDER), ev, gate))
    tend.start()
    wait_records(ev, lambda r: len(r) >= 1, "the first event, held")
    for _ in range(3):
        rc, out, err = tend.ctl("restart", "x")
        assert rc == 0, (out, err)
    # tendd answers while the listener holds an event and its pool is full
    assert tend.proc_status("x")["state"] == "RUNNING"
    log = tend.log()
    assert "pool slow event buffer overflowed, discarding event" in log
    open(gate, "w").close()
    got = wait_records(ev, lambda r: len(r) >= 4, "the buffer, after")
    tail = got[1:]
    # what was kept is the newest three: x's last restart
    assert names(tail) == ["PROCESS_STATE_STOPPED", "PROCESS_STATE_STARTING",
                           "PROCESS_STATE_RUNNING"]
    check_serials(got)


def test_garbage_restarts_and_reload_adds_removes(tend):
    rec = script(tend, "rec.py", RECORDER)
    tend.write_config("""
        [eventlistener:junk]
        command = %s
        events = TICK_60
        startsecs = 0
        """ % script(tend, "junk.py", GARBAGE))
    tend.start()
    wait_for(lambda: "junk: broke the event listener protocol" in tend.log(),
             15, what="the breach logged")
    wait_for(lambda: tend.log().count("junk: broke the event") >= 2, 15,
             what="restarted and logged again")
    ev = tend.path("added.jsonl")
    tend.write_config("""
        [eventlistener:watch]
        command = %s %s
        events = PROCESS_GROUP
        startsecs = 0

        [program:p]
        command = /bin/sleep 1000
        startsecs = 0
        """ % (rec, ev))
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (out, err)
    got = wait_records(ev, lambda r: len(r) >= 1, "group events")
    assert names(got)[0] == "PROCESS_GROUP_ADDED"
    wait_for(lambda: "junk" not in tend.status(), 15, what="junk removed")
    # junk's removal came before the listener existed; p's add reaches it
    tend.write_config("""
        [eventlistener:watch]
        command = %s %s
        events = PROCESS_GROUP
        startsecs = 0
        """ % (rec, ev))
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (out, err)
    got = wait_records(ev, lambda r: "PROCESS_GROUP_REMOVED" in names(r),
                       "p removed")
    assert [r["p"] for r in got if r["h"]["eventname"] ==
            "PROCESS_GROUP_REMOVED"] == ["groupname:p\n"]


def test_tick_5(tend):
    ev = tend.path("tick.jsonl")
    tend.write_config("""
        [eventlistener:tick]
        command = %s %s
        events = TICK
        startsecs = 0
        """ % (script(tend, "rec.py", RECORDER), ev))
    before = int(time.time())
    tend.start()
    got = wait_records(ev, lambda r: len(r) >= 1, "a TICK_5")
    assert got[0]["h"]["eventname"] in ("TICK_5", "TICK_60", "TICK_3600")
    when = int(got[0]["p"].split("when:", 1)[1])
    assert got[0]["p"] == "when:%d" % when
    assert when % 5 == 0 and when >= before - 5
