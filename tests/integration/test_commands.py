"""
The rest of spec §4 against a real tendd: kill, signal, pause/resume, wait,
pid, events, with their exit statuses, --json output, name matching, and
tendctl's help. (status/start/stop/restart/shutdown: test_tendctl.py.)
"""
import json
import re
import socket
import subprocess
import time

from conftest import (ROOT, TENDCTL, exists, holds_for, proc_stat,
                      read_json_line, wait_for)


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().split("\n")[:-1]
    except FileNotFoundError:
        return []


def caught(path):
    """The signal numbers the catcher helper recorded, in order."""
    return [int(line.split()[2]) for line in read_lines(path)
            if line.split()[1:2] == ["sig"]]


def proc_state_letter(pid):
    st = proc_stat(pid)
    return st[0] if st else None


# ------------------------------------------------------------------ kill

def test_kill_is_sigkill_now_and_never_restarts(tend):
    tend.write_config(f"""
        [program:stubborn]
        command = {tend.helper("sleeper", "--ignore-term")}
        startsecs = 0
        stopwaitsecs = 30
        autorestart = true
        [program:idle]
        command = {tend.helper("sleeper")}
        autostart = false
    """)
    tend.start()
    pid = tend.wait_state("stubborn", "RUNNING")["pid"]
    rc, out, err = tend.ctl("kill", "stubborn")
    assert rc == 0, (rc, out, err)
    assert out.strip() == "stubborn: killed", out
    # SIGKILL at once: no stopwaitsecs waited out, no escalation.
    assert "stubborn: still running" not in tend.log(), tend.log()
    p = tend.proc_status("stubborn")
    assert p["state"] == "STOPPED" and p["exitcode"] == -9, p
    assert not exists(pid)
    # autorestart = true, yet nothing comes back.
    holds_for(lambda: tend.proc_status("stubborn")["state"] == "STOPPED", 1.2)

    # kill during STOPPING: the stop would wait 30 s for SIGKILL.
    rc, out, err = tend.ctl("start", "stubborn")
    assert rc == 0, (rc, out, err)
    pid = tend.proc_status("stubborn")["pid"]
    rc, out, err = tend.ctl("stop", "--no-wait", "stubborn")
    assert rc == 0, (rc, out, err)
    tend.wait_state("stubborn", "STOPPING")
    rc, out, err = tend.ctl("--json", "kill", "stubborn")
    assert rc == 0, (rc, out, err)
    [res] = json.loads(out)
    assert res["name"] == "stubborn" and res["ok"] and \
        res["state"] == "STOPPED", res
    assert not exists(pid)

    # Not running: the outcome holds already.
    rc, out, err = tend.ctl("kill", "idle")
    assert rc == 0, (rc, out, err)
    rc, out, err = tend.ctl("kill", "nosuch")
    assert rc == 4 and "nosuch" in err, (rc, out, err)
    rc, out, err = tend.ctl("kill")
    assert rc == 2, (rc, out, err)


# ---------------------------------------------------------------- signal

def test_signal_by_name_and_number(tend):
    out_file = tend.path("caught")
    tend.write_config(f"""
        [program:catch]
        command = {tend.helper("catcher", "--out", out_file)}
        startsecs = 0
        [program:idle]
        command = {tend.helper("sleeper")}
        autostart = false
    """)
    tend.start()
    pid = tend.wait_state("catch", "RUNNING")["pid"]
    wait_for(lambda: any(" ready" in l for l in read_lines(out_file)), 5,
             what="the catcher's handlers")
    for sig in ("HUP", "SIGUSR1", "usr2", "28", "RTMIN+2"):
        rc, out, err = tend.ctl("signal", sig, "catch")
        assert rc == 0, (sig, rc, out, err)
        assert out.strip() == "catch: signalled", out
    rtmin2 = 34 + 2
    wait_for(lambda: len(caught(out_file)) == 5, 5, what="five signals")
    assert caught(out_file) == [1, 10, 12, 28, rtmin2], caught(out_file)
    p = tend.proc_status("catch")
    assert p["state"] == "RUNNING" and p["pid"] == pid

    rc, out, err = tend.ctl("--json", "signal", "HUP", "catch")
    assert rc == 0, (rc, out, err)
    [res] = json.loads(out)
    assert res["ok"] and res["message"] == "SIGHUP sent", res

    rc, out, err = tend.ctl("signal", "NOPE", "catch")
    assert rc == 2 and "NOPE" in err, (rc, out, err)
    rc, out, err = tend.ctl("signal", "HUP")
    assert rc == 2, (rc, out, err)
    rc, out, err = tend.ctl("signal", "HUP", "nosuch")
    assert rc == 4 and "nosuch" in err, (rc, out, err)
    # A process that is not running cannot get it: 1, and the reason.
    rc, out, err = tend.ctl("signal", "HUP", "catch", "idle")
    assert rc == 1, (rc, out, err)
    assert "idle" in err and "not running" in err, err
    assert "catch: signalled" in out, out

    # STOP and CONT keep the state true: they are pause and resume.
    rc, out, err = tend.ctl("signal", "STOP", "catch")
    assert rc == 0, (rc, out, err)
    assert tend.proc_status("catch")["state"] == "PAUSED"
    wait_for(lambda: proc_state_letter(pid) == "T", 5, what="state T")
    rc, out, err = tend.ctl("signal", "CONT", "catch")
    assert rc == 0, (rc, out, err)
    assert tend.proc_status("catch")["state"] == "RUNNING"

    # The protocol takes numbers too, and checks the field.
    r = tend.request("signal", names=["catch"], signal=10)
    assert r["ok"], r
    r = tend.request("signal", names=["catch"], signal=0)
    assert not r["ok"] and r["error"]["code"] == "bad_request", r
    r = tend.request("signal", names=["catch"], signal=["HUP"])
    assert not r["ok"] and r["error"]["code"] == "bad_request", r
    r = tend.request("signal", names=["catch"])
    assert not r["ok"] and r["error"]["code"] == "missing_field", r
    wait_for(lambda: caught(out_file)[-1:] == [10], 5, what="USR1 by number")
    assert tend.proc_status("catch")["pid"] == pid


# ---------------------------------------------------------- pause/resume

def test_pause_resume_and_stop_of_a_paused_process(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        stopwaitsecs = 20
        [program:idle]
        command = {tend.helper("sleeper")}
        autostart = false
    """)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    rc, out, err = tend.ctl("pause", "svc")
    assert rc == 0 and out.strip() == "svc: paused", (rc, out, err)
    wait_for(lambda: proc_state_letter(pid) == "T", 5,
             what="state T in /proc")
    p = tend.proc_status("svc")
    assert p["state"] == "PAUSED" and p["pid"] == pid, p
    assert "paused" in p["description"], p
    rc, out, err = tend.ctl("status", "svc")
    assert rc == 3 and re.match(r"^svc\s+PAUSED\s+pid %d, paused" % pid, out), \
        (rc, out)
    rc, out, err = tend.ctl("pause", "svc")           # already: fine
    assert rc == 0, (rc, out, err)
    holds_for(lambda: proc_state_letter(pid) == "T", 0.3)

    rc, out, err = tend.ctl("resume", "svc")
    assert rc == 0 and out.strip() == "svc: resumed", (rc, out, err)
    wait_for(lambda: proc_state_letter(pid) in ("S", "R"), 5,
             what="running again")
    assert tend.proc_status("svc")["state"] == "RUNNING"
    rc, out, err = tend.ctl("resume", "svc")          # not paused: fine
    assert rc == 0, (rc, out, err)

    # Only a running process can be paused or resumed.
    for cmd in ("pause", "resume"):
        rc, out, err = tend.ctl(cmd, "idle")
        assert rc == 1 and "not running" in err, (cmd, rc, out, err)
        rc, out, err = tend.ctl(cmd, "nosuch")
        assert rc == 4, (cmd, rc, out, err)
    # A refused name changes nothing, even for the names that exist.
    rc, out, err = tend.ctl("pause", "svc", "nosuch")
    assert rc == 4, (rc, out, err)
    assert tend.proc_status("svc")["state"] == "RUNNING"

    # Stopping a paused process: SIGCONT follows the stop signal, so it
    # dies of SIGTERM at once instead of waiting for SIGKILL (20 s).
    rc, out, err = tend.ctl("--json", "pause", "svc")
    assert rc == 0 and json.loads(out)[0]["state"] == "PAUSED", (rc, out)
    wait_for(lambda: proc_state_letter(pid) == "T", 5, what="state T")
    rc, out, err = tend.ctl("stop", "svc")
    assert rc == 0, (rc, out, err)
    # Dead of SIGTERM (-15), not of the SIGKILL after stopwaitsecs.
    p = tend.proc_status("svc")
    assert p["state"] == "STOPPED" and p["exitcode"] == -15, p
    assert "svc: still running" not in tend.log(), tend.log()
    assert not exists(pid)


def test_pause_is_refused_while_a_job_is_joined(tend):
    """A paused job could never finish: shutdown owns it now."""
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("sleeper")}
        daemon = false
        startsecs = 0
        joinsecs = 30
    """)
    tend.start()
    tend.wait_state("job", "RUNNING")
    rc, out, err = tend.ctl("shutdown", "--no-wait")
    assert rc == 0, (rc, out, err)
    rc, out, err = tend.ctl("pause", "job")
    assert rc == 1 and "shutting down" in err, (rc, out, err)
    rc, out, err = tend.ctl("kill", "job")
    assert rc == 0, (rc, out, err)
    assert tend.wait_exit() == 0


# ------------------------------------------------------------------ wait

def test_wait_exit_statuses(tend):
    tend.write_config(f"""
        [program:three]
        command = {tend.helper("exitwith", 3, "--after", 0.4)}
        daemon = false
        autostart = false
        startsecs = 0
        autorestart = false
        [program:ok]
        command = {tend.helper("exitwith", 0, "--after", 0.2)}
        daemon = false
        autostart = false
        startsecs = 0
        [program:term]
        command = {tend.helper("exitwith", -15)}
        daemon = false
        autostart = false
        startsecs = 0
        autorestart = false
        [program:never]
        command = {tend.helper("sleeper")}
        autostart = false
        [program:broken]
        command = /nonexistent/tend-broken
        autostart = false
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("svc", "RUNNING")
    rc, out, err = tend.ctl("start", "--no-wait", "three", "ok")
    assert rc == 0, (rc, out, err)
    # It never ran before: its exit code 3 is this run's, so wait
    # returned once the job had exited.
    rc, out, err = tend.ctl("wait", "three")
    assert rc == 3, (rc, out, err)
    assert out.strip() == "three: exited with code 3", out
    assert tend.proc_status("three")["state"] == "EXITED"
    # Not running any more: the last exit code (no next exit to wait for:
    # were it waited for, this would never return).
    rc, out, err = tend.ctl("wait", "three")
    assert (rc, out.strip()) == (3, "three: exited with code 3"), \
        (rc, out, err)
    # Several: the first that is not 0; --json has each.
    rc, out, err = tend.ctl("--json", "wait", "ok", "three")
    assert rc == 3, (rc, out, err)
    doc = json.loads(out)
    assert doc["status"] == 3
    by = {r["name"]: r for r in doc["results"]}
    assert by["ok"]["status"] == 0 and by["ok"]["exitcode"] == 0
    assert by["three"]["status"] == 3 and by["three"]["state"] == "EXITED"
    rc, out, err = tend.ctl("wait", "ok")
    assert rc == 0, (rc, out, err)

    # Killed by signal N: 128 + N, like a shell.
    rc, out, err = tend.ctl("start", "--no-wait", "term")
    assert rc == 0
    rc, out, err = tend.ctl("wait", "term")
    assert rc == 128 + 15, (rc, out, err)
    assert "SIGTERM" in out, out

    # Never ran: 127, as a shell says of a command it could not run.
    rc, out, err = tend.ctl("wait", "never")
    assert rc == 127 and "never started" in out, (rc, out, err)
    rc, out, err = tend.ctl("start", "broken")
    assert rc == 1
    rc, out, err = tend.ctl("wait", "broken")
    assert rc == 127 and "No such file or directory" in out, (rc, out, err)

    # A running service: 124 after the timeout, naming it.
    t0 = time.monotonic()
    rc, out, err = tend.ctl("wait", "svc", "--timeout", "0.5")
    took = time.monotonic() - t0
    assert rc == 124, (rc, out, err)
    assert took >= 0.4, took            # not before its timeout
    assert "svc" in err and "0.5s" in err, err
    rc, out, err = tend.ctl("--json", "wait", "-t", "0", "svc", "ok")
    assert rc == 124, (rc, out, err)
    doc = json.loads(out)
    assert doc["error"]["code"] == "timeout"
    by = {r["name"]: r for r in doc["results"]}
    assert by["svc"]["ok"] is False and by["svc"]["state"] == "RUNNING"
    assert by["ok"]["status"] == 0

    for args in (["wait"], ["wait", "--timeout", "x", "svc"],
                 ["wait", "--timeout", "-1", "svc"]):
        rc, out, err = tend.ctl(*args)
        assert rc == 2, (args, rc, out, err)
    rc, out, err = tend.ctl("wait", "nosuch")
    assert rc == 4 and "nosuch" in err, (rc, out, err)


def test_wait_joins_through_restarts(tend):
    """A restart is not an exit: wait returns when the process is down
    for good (here, a stop: SIGTERM, 143)."""
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    # Sent before the restart's connection exists, so tendd reads it first.
    with tend.connect() as s:
        s.sendall(b'{"id": 1, "cmd": "wait", "names": ["svc"]}\n')
        rc, out, err = tend.ctl("restart", "svc")
        assert rc == 0, (rc, out, err)
        assert tend.proc_status("svc")["pid"] != pid
        s.settimeout(0.5)
        try:
            early = s.recv(65536)
        except socket.timeout:
            early = b""
        assert early == b"", "wait returned at a restart: %r" % early
        s.settimeout(5)
        rc, out, err = tend.ctl("stop", "svc")
        assert rc == 0, (rc, out, err)
        r = read_json_line(s)
        assert r["ok"] and r["status"] == 143, r
        assert r["results"][0]["message"] == "killed by SIGTERM", r


# ------------------------------------------------------------------- pid

def test_pid(tend):
    tend.write_config(f"""
        [program:web1]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:web2]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:idle]
        command = {tend.helper("sleeper")}
        autostart = false
    """)
    tend.start()
    p1 = tend.wait_state("web1", "RUNNING")["pid"]
    p2 = tend.wait_state("web2", "RUNNING")["pid"]
    rc, out, err = tend.ctl("pid")
    assert rc == 0 and out.strip() == str(tend.pid), (rc, out, err)
    rc, out, err = tend.ctl("pid", "web1")
    assert rc == 0 and out.strip() == str(p1), (rc, out, err)
    rc, out, err = tend.ctl("pid", "web*")
    assert rc == 0 and out.split() == [str(p1), str(p2)], (rc, out, err)
    # Not running: nothing a script could feed to kill(1), and 3.
    rc, out, err = tend.ctl("pid", "idle")
    assert rc == 3 and out == "" and "idle" in err, (rc, out, err)
    rc, out, err = tend.ctl("pid", "nosuch")
    assert rc == 4 and "nosuch" in err, (rc, out, err)
    rc, out, err = tend.ctl("--json", "pid")
    assert rc == 0 and json.loads(out) == {"pid": tend.pid}, (rc, out)
    rc, out, err = tend.ctl("--json", "pid", "web1", "idle")
    assert rc == 3, (rc, out, err)
    # In status order: priority, then name.
    assert json.loads(out) == [
        {"name": "idle", "state": "NEW", "pid": None},
        {"name": "web1", "state": "RUNNING", "pid": p1}], out


# ---------------------------------------------------------------- events

def subscribe(tend, **fields):
    s = tend.connect()
    s.sendall((json.dumps(dict({"id": 7, "cmd": "events"}, **fields))
               + "\n").encode())
    buf = bytearray()
    r = read_json_line(s, buf)
    assert r == {"id": 7, "ok": True}, r
    return s, buf


def test_events_in_order_for_start_stop_crash(tend):
    tend.write_config(f"""
        [program:early]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0.2
        autostart = false
        [program:crash]
        command = {tend.helper("exitwith", 2, "--after", 0.3)}
        startsecs = 0
        autostart = false
        autorestart = false
    """)
    tend.start("-l", "debug")
    tend.wait_state("early", "RUNNING")
    s, buf = subscribe(tend)
    only_svc, buf2 = subscribe(tend, names=["svc"])
    plain = subprocess.Popen(
        [str(TENDCTL), "-s", str(tend.sock), "events"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    jsonl = subprocess.Popen(
        [str(TENDCTL), "-s", str(tend.sock), "--json", "events", "crash"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: tend.log().count("events: a client subscribed") == 4,
                 5, what="both tendctl events to subscribe")
        assert tend.ctl("start", "svc")[0] == 0
        assert tend.ctl("stop", "svc")[0] == 0
        assert tend.ctl("start", "crash")[0] == 0
        tend.wait_state("crash", "EXITED")
        expect = [("svc", "NEW", "STARTING"), ("svc", "STARTING", "RUNNING"),
                  ("svc", "RUNNING", "STOPPING"),
                  ("svc", "STOPPING", "STOPPED"),
                  ("crash", "NEW", "STARTING"),
                  ("crash", "STARTING", "RUNNING"),
                  ("crash", "RUNNING", "EXITED")]
        evs = [read_json_line(s, buf) for _ in expect]
        assert [(e["name"], e["from"], e["to"]) for e in evs] == expect, evs
        # Nothing from before the subscription (early's start).
        assert all(e["name"] != "early" for e in evs)
        seqs = [e["seq"] for e in evs]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
        for e in evs:
            assert e["event"] == "state" and e["group"] == e["name"]
            assert isinstance(e["time"], float) and e["time"] > 1e9
            assert isinstance(e["pid"], int), e
            assert "reason" in e and isinstance(e["description"], str)
        svc_pid = evs[0]["pid"]
        assert evs[3]["pid"] == svc_pid and evs[3]["exitcode"] == -15
        assert evs[6]["exitcode"] == 2 and "code 2" in evs[6]["reason"]
        assert evs[0]["reason"] == "start requested"
        # The filtered subscriber saw svc's four and nothing else.
        mine = [read_json_line(only_svc, buf2) for _ in range(4)]
        assert [(e["name"], e["to"]) for e in mine] == \
            [(n, t) for n, _, t in expect[:4]]
        only_svc.settimeout(0.3)
        try:
            extra = only_svc.recv(65536)
        except socket.timeout:
            extra = b""
        assert extra == b"" and not buf2, (extra, buf2)

        # tendctl events ends (0) when tendd exits; plain lines look like
        # tendd's log, --json ones are objects.
        assert tend.ctl("shutdown")[0] == 0
        out, err = plain.communicate(timeout=10)
        assert plain.returncode == 0, (plain.returncode, err)
        lines = out.splitlines()
        assert any(re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+ svc: STARTING -> "
                            r"RUNNING \(pid %d\)$" % svc_pid, l)
                   for l in lines), lines
        assert any("early: RUNNING -> STOPPING" in l for l in lines), lines
        out, err = jsonl.communicate(timeout=10)
        assert jsonl.returncode == 0, (jsonl.returncode, err)
        got = [json.loads(l) for l in out.splitlines()]
        assert [(e["from"], e["to"]) for e in got] == \
            [(f, t) for n, f, t in expect if n == "crash"], got
    finally:
        s.close()
        only_svc.close()
        for p in (plain, jsonl):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_events_unknown_name_and_unreachable(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    rc, out, err = tend.ctl("events", "nosuch")
    assert rc == 4 and "nosuch" in err, (rc, out, err)
    gone = str(tend.dir / "gone.sock")
    for args in (["events"], ["kill", "svc"], ["signal", "HUP", "svc"],
                 ["pause", "svc"], ["resume", "svc"], ["wait", "svc"],
                 ["pid"], ["pid", "svc"]):
        rc, out, err = tend.ctl("-s", gone, *args, sock=False)
        assert rc == 5 and gone in err, (args, rc, out, err)


# ---------------------------------------------------- names, json, help

def test_names_globs_and_groups_for_every_command(tend):
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
    for n in ("web1", "web2", "db"):
        tend.wait_state(n, "RUNNING")
    rc, out, err = tend.ctl("pause", "web*")
    assert rc == 0 and sorted(out.split("\n")[:-1]) == \
        ["web1: paused", "web2: paused"], (rc, out, err)
    assert tend.proc_status("db")["state"] == "RUNNING"
    rc, out, err = tend.ctl("resume", "web1:*", "web2:web2")
    assert rc == 0, (rc, out, err)
    assert {p["state"] for p in tend.status().values()} == {"RUNNING"}
    rc, out, err = tend.ctl("wait", "-t", "0.1", "all")
    assert rc == 124, (rc, out, err)
    rc, out, err = tend.ctl("kill", "d?")
    assert rc == 0 and out.strip() == "db: killed", (rc, out, err)
    rc, out, err = tend.ctl("kill", "all")
    assert rc == 0, (rc, out, err)
    assert {p["state"] for p in tend.status().values()} == {"STOPPED"}
    rc, out, err = tend.ctl("wait", "all")
    assert rc == 128 + 9, (rc, out, err)


def test_json_on_every_command(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("svc", "RUNNING")
    for args in (["status"], ["pause", "svc"], ["resume", "svc"],
                 ["signal", "WINCH", "svc"], ["restart", "svc"],
                 ["stop", "svc"], ["start", "svc"], ["kill", "svc"],
                 ["wait", "svc"], ["pid"], ["pid", "svc"], ["version"],
                 ["status", "nosuch"], ["shutdown"]):
        rc, out, err = tend.ctl("--json", *args)
        doc = json.loads(out)           # one JSON document, whatever rc
        assert isinstance(doc, (dict, list)), (args, out)
        if args[0] == "wait":           # the status is the process's
            assert rc == doc["status"] == 128 + 9, (rc, doc)
        elif rc not in (0, 3):
            assert "error" in doc and doc["error"]["message"], (args, doc)
            assert err.strip(), (args, "no sentence on stderr")
    assert tend.wait_exit() == 0


def test_help_lists_every_command(tend):
    rc, out, err = tend.ctl("--help", sock=False)
    assert rc == 0, (rc, out, err)
    for cmd in ("status", "start", "stop", "restart", "kill", "signal",
                "pause", "resume", "wait", "pid", "events", "shutdown",
                "version"):
        assert re.search(r"^  %s\b" % cmd, out, re.M), (cmd, out)
    rc, out, err = tend.ctl("wait", "--help", sock=False)
    assert rc == 0 and "--timeout" in out and "124" in out, (rc, out)
    rc, out, err = tend.ctl("help", "signal", sock=False)
    assert rc == 0 and "usage: tendctl" in out and "SIG NAME" in out, out


# ------------------------------------------------------- bash completion

COMPLETION = ROOT / "packaging" / "completion" / "tendctl.bash"


def complete(tend, *words):
    """What packaging/completion/tendctl.bash offers for WORDS (the last
    one being completed), with this build's tendctl first in PATH."""
    script = """
        source %s
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
        _tendctl
        printf '%%s\\n' "${COMPREPLY[@]}"
    """ % COMPLETION
    env = {"PATH": "%s:/usr/bin:/bin" % TENDCTL.parent, "HOME": str(tend.dir)}
    r = subprocess.run(["bash", "-c", script, "bash", "tendctl"] + list(words),
                       capture_output=True, text=True, timeout=10, env=env)
    assert r.returncode == 0, r.stderr
    return sorted(w for w in r.stdout.split("\n") if w)


def test_bash_completion_asks_tendd_for_names(tend):
    tend.write_config(f"""
        [program:web1]
        command = {tend.helper("sleeper")}
        [program:web2]
        command = {tend.helper("sleeper")}
        [program:db]
        command = {tend.helper("sleeper")}
    """)
    tend.start()
    sock = str(tend.sock)
    assert complete(tend, "pa") == ["pause"]
    assert complete(tend, "-s", sock, "re") == \
        ["reload", "reopen", "restart", "resume"]
    assert complete(tend, "-s", sock, "kill", "we") == ["web1", "web2"]
    assert complete(tend, "-s", sock, "stop", "") == \
        ["all", "db", "web1", "web2"]
    assert complete(tend, "-s", sock, "status", "web1:") == \
        ["web1:*", "web1:web1"]
    assert complete(tend, "-s", sock, "signal", "us") == ["USR1", "USR2"]
    assert complete(tend, "-s", sock, "signal", "HUP", "d") == ["db"]
    assert complete(tend, "-s", sock, "wait", "--t") == ["--timeout"]
    assert complete(tend, "--socket=" + sock, "pid", "d") == ["db"]
    # No tendd there: commands still complete, names quietly do not.
    gone = str(tend.dir / "gone.sock")
    assert complete(tend, "-s", gone, "kill", "we") == []
    assert complete(tend, "-s", gone, "ver") == ["version"]
