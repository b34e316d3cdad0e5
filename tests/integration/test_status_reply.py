"""
The status reply (docs/protocol.md): every field with its type, "fields"
and "rows", what is refused, and valid JSON (and UTF-8) whatever bytes a
path or an error holds. tendctl's own use of it: test_tendctl.py.
"""
import json
import re
import socket

from conftest import STATES, read_json_line

ALL_FIELDS = ["name", "group", "process", "state", "pid", "exitcode",
              "uptime", "restarts", "daemon", "description", "spawnerr",
              "since", "want", "health", "health_detail", "cpu_seconds",
              "memory_bytes", "enabled", "next_run", "skipped_runs"]

# Bytes a path can hold that JSON must escape or cannot carry as they
# are: a quote, a backslash, a tab, control bytes (ESC too), bytes that
# are not UTF-8 (\xff, a lead byte cut short by "(").
HOSTILE = b'q"b\\c\t\x01\x1b[31m\xff\xc3(z'


def config(tend, extra=b""):
    tend.write_config(f"""
        [program:web]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:idle]
        command = {tend.helper("sleeper")}
        autostart = false
        [program:job]
        command = {tend.helper("exitwith", 0)}
        daemon = false
        startsecs = 0
        [program:broken]
        command = /nonexistent/tend-broken
    """)
    if extra:
        with open(tend.conf, "ab") as f:
            f.write(extra)
    tend.start()
    tend.wait_state("web", "RUNNING")
    tend.wait_state("job", "EXITED")
    tend.wait_state("broken", "FATAL")


def raw_request(tend, req):
    """REQ (bytes, one line) on a fresh connection: the raw reply line."""
    with tend.connect() as s:
        s.sendall(req + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            assert chunk, "tendd closed the connection: %r" % buf
            buf += chunk
    return buf[:-1]


def test_full_reply_has_every_field_with_its_type(tend):
    config(tend)
    r = tend.request("status")
    assert r["ok"] is True and r["id"] == tend._id
    by = {p["name"]: p for p in r["processes"]}
    assert sorted(by) == ["broken", "idle", "job", "web"]
    for p in by.values():
        assert list(p) == ALL_FIELDS, p
        for k in ("name", "group", "process", "description"):
            assert isinstance(p[k], str), (k, p)
        assert p["state"] in STATES
        assert p["pid"] is None or type(p["pid"]) is int
        assert p["exitcode"] is None or type(p["exitcode"]) is int
        assert type(p["uptime"]) is float and p["uptime"] >= 0
        assert type(p["since"]) is float and p["since"] > 1e9
        assert type(p["restarts"]) is int
        assert type(p["daemon"]) is bool
        assert p["spawnerr"] is None or isinstance(p["spawnerr"], str)
        assert p["want"] in ("up", "down", "none")
        # no healthcheck here: null (test_probes.py has the others)
        assert p["health"] is None and p["health_detail"] is None
        # spec section 11: for every process with a pid
        if p["pid"] is None:
            assert p["cpu_seconds"] is None and p["memory_bytes"] is None
        else:
            assert type(p["cpu_seconds"]) is float and p["cpu_seconds"] >= 0
            assert type(p["memory_bytes"]) is int and p["memory_bytes"] > 0
    web, idle, job, broken = (by[n] for n in ("web", "idle", "job",
                                              "broken"))
    assert type(web["pid"]) is int and web["pid"] > 0
    assert web["exitcode"] is None and web["daemon"] is True
    assert re.match(r"pid %d, uptime \d+:\d\d:\d\d$" % web["pid"],
                    web["description"]), web
    assert idle["state"] == "NEW" and idle["pid"] is None
    assert idle["uptime"] == 0.0 and idle["want"] == "none"
    assert idle["description"] == "not started (autostart = false)"
    assert job["exitcode"] == 0 and job["daemon"] is False
    assert broken["spawnerr"].startswith(
        "cannot execute /nonexistent/tend-broken"), broken
    # Floats are written as floats even when whole: 0.0, never 0.
    line = raw_request(tend, b'{"id": 7, "cmd": "status", "names": ["idle"]}')
    assert b'"uptime":0.0,' in line, line


def test_fields_pick_keys_in_the_order_asked(tend):
    config(tend)
    full = {p["name"]: p for p in tend.request("status")["processes"]}
    r = tend.request("status", fields=["state", "name", "pid"])
    assert r["ok"] is True
    for p in r["processes"]:
        assert list(p) == ["state", "name", "pid"], p
        assert p["state"] == full[p["name"]]["state"]
        assert p["pid"] == full[p["name"]]["pid"]
    # with names, and an empty list means every field (as names does)
    r = tend.request("status", names=["web"], fields=[])
    assert [list(p) for p in r["processes"]] == [ALL_FIELDS]


def test_rows_are_values_in_the_order_of_fields(tend):
    config(tend)
    full = tend.request("status")["processes"]
    r = tend.request("status", fields=["name", "state", "description"],
                     rows=True)
    assert r["ok"] is True
    assert [row[:2] for row in r["processes"]] == \
        [[p["name"], p["state"]] for p in full]
    assert all(len(row) == 3 and isinstance(row[2], str)
               for row in r["processes"])
    r = tend.request("status", names=["broken"], rows=True)
    assert len(r["processes"]) == 1
    row = r["processes"][0]
    assert len(row) == len(ALL_FIELDS)
    assert dict(zip(ALL_FIELDS, row))["spawnerr"] == \
        tend.proc_status("broken")["spawnerr"]


def test_bad_fields_are_refused_and_the_connection_stays(tend):
    config(tend)
    bad = [
        ({"fields": ["name", "colour"]}, "unknown field: colour"),
        ({"fields": ["name", "name"]}, "repeated field: name"),
        ({"fields": "name"}, "fields must be a list"),
        ({"fields": ["name", 3]}, "fields must be a list"),
        ({"rows": "yes"}, "rows must be true or false"),
    ]
    with tend.connect() as s:
        buf = bytearray()
        for i, (fields, msg) in enumerate(bad):
            req = {"id": i, "cmd": "status"}
            req.update(fields)
            s.sendall((json.dumps(req) + "\n").encode())
            r = read_json_line(s, buf)
            assert r["id"] == i and r["ok"] is False, r
            assert r["error"]["code"] == "bad_request", r
            assert msg in r["error"]["message"], r
        # still served on the same connection
        s.sendall(b'{"id": 99, "cmd": "status", "fields": ["name"]}\n')
        r = read_json_line(s, buf)
        assert r["id"] == 99 and r["ok"] is True, r
    # names are still checked with fields
    r = tend.request("status", names=["nosuch"], fields=["name"])
    assert r["error"]["code"] == "unknown_name", r


def test_hostile_bytes_still_make_valid_json(tend):
    # A command and a directory that cannot be used, with bytes JSON must
    # escape or replace: both are FATAL with the path in spawnerr.
    config(tend, b"[program:odd]\ncommand = '/nonexistent/" + HOSTILE +
           b"'\n[program:odddir]\ncommand = /bin/true\ndirectory = "
           b"/nonexistent/d" + HOSTILE + b"\n")
    tend.wait_state("odd", "FATAL")
    tend.wait_state("odddir", "FATAL")
    # and an id with a quote, a backslash and a non-ASCII character
    line = raw_request(tend, b'{"id": "i\\"d\\\\\\u00e9", "cmd": "status"}')
    text = line.decode("utf-8")             # strict: valid UTF-8
    r = json.loads(text)
    assert r["id"] == 'i"d\\\u00e9'
    by = {p["name"]: p for p in r["processes"]}
    want = 'q"b\\c\t\x01\x1b[31m\ufffd\ufffd(z'
    assert by["odd"]["spawnerr"] == \
        "cannot execute /nonexistent/%s: No such file or directory" % want
    assert want in by["odddir"]["spawnerr"], by["odddir"]
    assert by["odd"]["description"] == by["odd"]["spawnerr"]
    # control bytes are escaped, never raw, on the wire
    assert not re.search(rb"[\x00-\x1f]", line), line
    # tendctl (jansson) reads it: --json and the table
    rc, out, err = tend.ctl("--json", "status")
    assert rc == 3, (rc, out, err)
    doc = {p["name"]: p for p in json.loads(out)}
    assert doc["odd"]["spawnerr"] == by["odd"]["spawnerr"]
    rc, out, err = tend.ctl("status", "odd")
    assert rc == 3, (rc, out, err)
    assert re.match(r'^odd +FATAL +cannot execute /nonexistent/q"b\\c   '
                    r'\[31m\ufffd\ufffd\(z: No such file', out), out


def test_plain_status_matches_the_full_objects(tend):
    # tendctl status asks for rows of three fields: the table must say
    # what the full objects say, in the same order and layout.
    config(tend)
    rc, out, err = tend.ctl("status")
    assert rc == 3, (rc, out, err)
    full = tend.status_json()
    lines = out.splitlines()
    assert len(lines) == len(full), out
    for line, p in zip(lines, full):
        head = "%-32s %-10s" % (p["name"], p["state"])
        assert line.startswith(head), (line, p)
        if p["state"] in ("NEW", "FATAL"):
            assert line == head + p["description"], (line, p)
    rc, out, err = tend.ctl("status", "web")
    assert rc == 0 and out.startswith("web  "), (rc, out, err)
