"""
Strings from outside never take tendd down (issue 12): request fields,
names from the config, what children write or send, and paths reach
replies, events, status and tendd's log as valid UTF-8, a byte that is
not UTF-8 as U+FFFD, a cut only ever between characters; the services
keep running under the same pids throughout.
"""
import base64
import json
import os
import re
import subprocess

from conftest import TENDCTL, TENDD, alive, read_json_line, wait_for

FFFD = "\ufffd"


def strict(data):
    """DATA (bytes) as text: fails the test if it is not valid UTF-8."""
    return data.decode("utf-8", errors="strict")


def raw_requests(tend, lines):
    """Sends each of LINES (bytes, no newline) on one connection and
    returns the replies, each checked to be valid UTF-8 and JSON."""
    out = []
    with tend.connect() as s:
        buf = b""
        for line in lines:
            s.sendall(line + b"\n")
            while b"\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, "tendd closed the connection after %r" % line
                buf += chunk
            reply, _, buf = buf.partition(b"\n")
            out.append(json.loads(strict(reply)))
    return out


def services(tend):
    tend.write_config(f"""
        [program:web]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:worker]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    return {n: tend.wait_state(n, "RUNNING")["pid"] for n in ("web", "worker")}


def assert_unharmed(tend, pids):
    """tendd alive and answering; every service under its old pid."""
    assert tend.proc.poll() is None, "tendd exited:\n" + tend.log()
    st = tend.status()
    for name, pid in pids.items():
        assert st[name]["state"] == "RUNNING" and st[name]["pid"] == pid, st
        assert alive(pid)
    strict(tend.logpath.read_bytes())


def test_a_command_cut_inside_a_character_is_an_error_reply(tend):
    """The issue's reproduction: "unknown command: %.100s" cut é in two,
    jansson refused the message, and tendd exited (fatal), its services
    with it. Now the quote stops before é."""
    pids = services(tend)
    r, = raw_requests(tend, [b'{"id":1,"cmd":"' + b"a" * 99 +
                             "é".encode() + b'"}'])
    assert r == {"id": 1, "ok": False, "error": {
        "code": "unknown_command",
        "message": "unknown command: " + "a" * 99}}, r
    assert_unharmed(tend, pids)


def test_field_and_signal_names_ending_in_a_wide_character(tend):
    """The 64-byte quotes (status field, signal name), with characters of
    2, 3 and 4 bytes ending at every offset around the cut."""
    pids = services(tend)
    lines, want = [], []
    for ch in ("é", "€", "😀"):
        for pad in range(58, 66):
            name = "f" * pad + ch
            # what fits in 64 bytes, whole characters only
            quoted = name.encode()[:64].decode("utf-8", "ignore")
            lines.append(json.dumps({"id": len(lines), "cmd": "status",
                                     "fields": [name]},
                                    ensure_ascii=False).encode())
            want.append("unknown field: " + quoted)
            lines.append(json.dumps({"id": len(lines), "cmd": "signal",
                                     "names": ["web"], "signal": name},
                                    ensure_ascii=False).encode())
            want.append("unknown signal: " + quoted)
    replies = raw_requests(tend, lines)
    for i, (r, msg) in enumerate(zip(replies, want)):
        assert r["id"] == i and r["ok"] is False, r
        assert r["error"] == {"code": "bad_request", "message": msg}, r
    assert_unharmed(tend, pids)


def test_bytes_that_are_not_utf8_in_requests(tend):
    """Invalid UTF-8 anywhere in a request: a bad_request reply that is
    itself valid UTF-8, never a crash, and the connection still serves."""
    pids = services(tend)
    lines = [
        b'{"id":1,"cmd":"caf\xe9"}',
        b'{"id":2,"cmd":"status","names":["w\xffb"]}',
        b'{"id":3,"cmd":"sta\xc3"}',
        b'\xff\xfe\xfd',
        b'{"id":4,"cmd":"x' + "é".encode() * 300,
        b'{"id":5,"cmd":"signal","names":["web"],"signal":"\xed\xa0\x80"}',
    ]
    replies = raw_requests(tend, lines + [b'{"id":9,"cmd":"version"}'])
    for r in replies[:-1]:
        assert r["ok"] is False and r["error"]["code"] == "bad_request", r
    assert replies[-1]["id"] == 9 and replies[-1]["ok"] is True
    assert_unharmed(tend, pids)


def test_a_name_that_is_not_utf8_is_refused_at_file_line(tend):
    """[program:caf\\xe9] passed --check, then tendd died at its first
    event with an events client connected. Names (sections, a group's
    list, process_name after expansion) must be UTF-8 without control
    characters: an error at file:line, shown as text."""
    tend.write_config("""
        [program:caf@E9@]
        command = /bin/true
        [program:p]
        command = /bin/true
        process_name = %(ENV_TEND_BAD)s
        [program:nel@C285@]
        command = /bin/true
    """)
    tend.conf.write_bytes(tend.conf.read_bytes()
                          .replace(b"@E9@", b"\xe9")
                          .replace(b"@C285@", b"\xc2\x85"))
    lines = tend.conf.read_bytes().split(b"\n")
    line_of = {k: 1 + next(i for i, l in enumerate(lines) if k in l)
               for k in (b"caf", b"process_name", b"nel")}
    r = subprocess.run([str(TENDD), "--check", "-c", str(tend.conf)],
                       capture_output=True, timeout=10,
                       env=dict(os.environ, TEND_BAD="x\xff".encode(
                           "latin-1").decode("utf-8", "surrogateescape")))
    err = strict(r.stderr)
    assert r.returncode == 1, err
    conf = str(tend.conf)
    assert "%s:%d: [program:caf%s]: a program name must be valid UTF-8" % (
        conf, line_of[b"caf"], FFFD) in err, err
    assert ("%s:%d: [program:p] process_name: 'x%s' is not a valid process "
            "name: it must be valid UTF-8" % (
                conf, line_of[b"process_name"], FFFD)) in err, err
    assert ("%s:%d: [program:nel\u0085]: a program name must be non-empty, "
            "without ':', '/', blanks or control characters" % (
                conf, line_of[b"nel"])) in err, err
    assert "3 errors" in err, err


def test_a_reload_refused_for_a_bad_name_answers_in_text(tend):
    """The same errors through a reload: the reply lists them as valid
    UTF-8, nothing changes, the services keep their pids."""
    pids = services(tend)
    text = tend.conf.read_bytes() + (b"\n[program:caf\xe9]\n"
                                     b"command = /bin/true\n")
    tend.conf.write_bytes(text)
    with tend.connect() as s:
        s.sendall(b'{"id":1,"cmd":"reload"}\n')
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            assert chunk
            buf += chunk
    r = json.loads(strict(buf.partition(b"\n")[0]))
    assert r["ok"] is False and r["error"]["code"] == "config_error", r
    assert any(e.endswith("[program:caf%s]: a program name must be valid "
                          "UTF-8" % FFFD) for e in r["errors"]), r
    assert_unharmed(tend, pids)


def test_children_bytes_reach_tail_and_events_as_text(tend):
    """What children write or send is bytes: tail (text), tail -f, the
    events stream and status stay valid JSON; base64 keeps the bytes."""
    script = tend.dir / "emit.sh"
    # caf\xe9, a 3-byte character cut by a newline, and a whole one
    script.write_text("printf 'caf\\351\\n\\342\\202\\n\\342\\202\\254\\n'\n"
                      "exec %s\n" % tend.helper("sleeper"))
    tend.write_config(f"""
        [program:emit]
        command = /bin/sh {script}
        startsecs = 0
        autostart = false
        [program:status]
        command = {tend.helper("notifier", "--status", "@STATUS@",
                               "--never-ready")}
        ready = notify
        ready_timeout = 0
        autostart = false
        [program:gone]
        command = /nonexistent/caf@E9@
        autostart = false
        [program:web]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    # STATUS=: 199 letters and é, cut at 200 bytes; then a bad byte
    status = b"s" * 199 + "é".encode()
    tend.conf.write_bytes(tend.conf.read_bytes()
                          .replace(b"'@STATUS@'", b"@STATUS@")
                          .replace(b"@STATUS@", status)
                          .replace(b"@E9@", b"\xe9"))
    tend.start()
    pids = {"web": tend.wait_state("web", "RUNNING")["pid"]}

    ev = tend.connect()
    ev.sendall(b'{"id":7,"cmd":"events"}\n')
    evbuf = b""
    while b"\n" not in evbuf:
        chunk = ev.recv(65536)
        assert chunk
        evbuf += chunk
    line, _, evbuf = evbuf.partition(b"\n")
    assert json.loads(strict(line)) == {"id": 7, "ok": True}

    follow = tend.connect()
    follow.sendall(b'{"id":8,"cmd":"tail","name":"emit","follow":true}\n')
    fbuf = b""
    while b"\n" not in fbuf:
        chunk = follow.recv(65536)
        assert chunk
        fbuf += chunk
    line, _, fbuf = fbuf.partition(b"\n")
    assert json.loads(strict(line))["ok"] is True

    assert tend.ctl("start", "emit")[0] == 0
    assert tend.ctl("start", "--no-wait", "status", "gone")[0] == 0
    tend.wait_state("gone", "FATAL")

    want = "caf%s\n%s%s\n\u20ac\n" % (FFFD, FFFD, FFFD)
    r = tend.request("tail", name="emit", lines=-1)
    assert r["ok"] and r["data"] == want, r
    r = tend.request("tail", name="emit", lines=-1, encoding="base64")
    assert base64.b64decode(r["data"]) == b"caf\xe9\n\xe2\x82\n\xe2\x82\xac\n"

    # tail -f: every chunk valid JSON, together the same text
    got = ""
    while got != want:
        while b"\n" not in fbuf:
            chunk = follow.recv(65536)
            assert chunk, got
            fbuf += chunk
        line, _, fbuf = fbuf.partition(b"\n")
        got += json.loads(strict(line))["data"]
        assert want.startswith(got), got
    follow.close()

    # status: STATUS= cut between characters; the bad path as U+FFFD
    def described():
        d = tend.proc_status("status")["description"]
        return d if "s" * 20 in d else None
    d = wait_for(described, 10, what="STATUS= in the description")
    assert d.endswith(": " + "s" * 199), d
    gone = tend.proc_status("gone")
    assert "/nonexistent/caf" + FFFD in gone["spawnerr"], gone
    assert "/nonexistent/caf" + FFFD in gone["description"], gone

    # events: all valid JSON, gone's FATAL among them with the same text
    events = []
    ev.settimeout(10)
    while not any(e["name"] == "gone" and e["to"] == "FATAL"
                  for e in events):
        while b"\n" not in evbuf:
            chunk = ev.recv(65536)
            assert chunk, events
            evbuf += chunk
        line, _, evbuf = evbuf.partition(b"\n")
        events.append(json.loads(strict(line)))
    fatal = [e for e in events if e["name"] == "gone"][-1]
    assert "/nonexistent/caf" + FFFD in fatal["reason"], fatal
    ev.close()
    assert_unharmed(tend, pids)


def test_a_character_written_in_two_pieces_is_never_shown_in_half(tend):
    """A child writes "€" in two writes: tail shows the text before it
    (not two U+FFFD), and tail -f sends it whole once it is complete."""
    script = tend.dir / "halves.sh"
    go = tend.dir / "go"
    script.write_text("printf 'start\\n\\342\\202'\n"
                      "while [ ! -e %s ]; do sleep 0.05; done\n"
                      "printf '\\254\\n'\n"
                      "exec %s\n" % (go, tend.helper("sleeper")))
    tend.write_config(f"""
        [program:halves]
        command = /bin/sh {script}
        startsecs = 0
        autostart = false
    """)
    tend.start()
    follow = tend.connect()
    follow.sendall(b'{"id":8,"cmd":"tail","name":"halves","follow":true}\n')
    buf = bytearray()
    assert read_json_line(follow, buf)["ok"] is True
    assert tend.ctl("start", "halves")[0] == 0

    # the first write is in: its text, without the half character
    def tail():
        r = tend.request("tail", name="halves", lines=-1)
        return r if r["data"] else None
    r = wait_for(tail, 10, what="the first write in tail")
    assert r["data"] == "start\n", r
    r = tend.request("tail", name="halves", lines=-1, encoding="base64")
    assert base64.b64decode(r["data"]) == b"start\n\xe2\x82"

    go.write_text("")
    got = []
    while "".join(got) != "start\n\u20ac\n":
        got.append(read_json_line(follow, buf)["data"])
        assert FFFD not in got[-1] and "\u20ac\n".startswith(
            "".join(got)[len("start\n"):]), got
    follow.close()
    r = tend.request("tail", name="halves", lines=-1)
    assert r["data"] == "start\n\u20ac\n", r


def test_each_event_describes_its_own_transition(tend):
    """RUNNING -> STOPPING said "SIGKILL sent" under the reason "SIGTERM
    sent", and each BACKOFF said "restart in 0s": the description was
    made before the state's timer was armed."""
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        stopwaitsecs = 7
        [program:hard]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:flaky]
        command = {tend.helper("exitwith", 3)}
        startsecs = 1
        startretries = 2
        autostart = false
    """)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    hard = tend.wait_state("hard", "RUNNING")["pid"]
    with tend.connect() as s:
        s.sendall(b'{"id":1,"cmd":"events"}\n')
        buf = bytearray()
        assert read_json_line(s, buf) == {"id": 1, "ok": True}
        assert tend.ctl("stop", "svc")[0] == 0
        assert tend.ctl("kill", "hard")[0] == 0
        assert tend.ctl("start", "--no-wait", "flaky")[0] == 0
        tend.wait_state("flaky", "FATAL", timeout=20)
        events = []
        while not any(e["name"] == "flaky" and e["to"] == "FATAL"
                      for e in events):
            events.append(read_json_line(s, buf))

    stopping = [e for e in events if e["name"] == "svc" and
                e["to"] == "STOPPING"]
    assert len(stopping) == 1, events
    assert stopping[0]["reason"] == "SIGTERM sent", stopping
    assert stopping[0]["description"] == \
        "pid %d, stopping; SIGKILL in 7s" % pid, stopping
    killed = [e for e in events if e["name"] == "hard" and
              e["to"] == "STOPPING"]
    assert len(killed) == 1 and killed[0]["reason"] == "SIGKILL sent"
    assert killed[0]["description"] == "pid %d, SIGKILL sent" % hard

    # flaky: 2 retries, 1 s then 2 s (backoff doubles), then FATAL
    backoff = [e for e in events if e["name"] == "flaky" and
               e["to"] == "BACKOFF"]
    assert [re.sub(r"^.*; ", "", e["description"]) for e in backoff] == \
        ["retry 1 of 2 in 1s", "retry 2 of 2 in 2s"], backoff
