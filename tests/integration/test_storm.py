"""
A storm on the control socket (issue 12): 50 clients at once against a
live tendd supervising processes, each sending, on its own connections,
random bytes, requests with invalid UTF-8 at every position, requests
with long fields that end in a multi-byte character (where a cut by bytes
would split it), truncated lines left by a close or a half-close, lines
over the 1 MiB limit, and honest requests in between. Afterwards tendd
is alive, every supervised pid is what it was, no process changed state,
and every honest request got exactly the right answer.

Nothing here measures time: each client does a fixed number of things,
and every socket has a generous timeout only so that a hung tendd fails
the test instead of the suite.
"""
import json
import random
import socket
import threading

from conftest import descendants, read_json_line

CLIENTS = 50
LIMIT = 1024 * 1024            # TEND_MAX_LINE

# Requests that would change something if tendd ever acted on a broken
# copy of them, and one that only reads.
BASES = [
    b'{"id":1,"cmd":"stop","names":["svc0"]}',
    b'{"id":2,"cmd":"signal","names":["all"],"signal":"KILL"}',
    b'{"id":3,"cmd":"shutdown"}',
    b'{"id":4,"cmd":"status","names":["w:*"],"fields":["name","pid"]}',
]
# Not UTF-8: a stray byte, a lead without its continuation, a lone
# continuation, an overlong '/', a surrogate, a code point past U+10FFFF.
BAD = [b"\xff", b"\xc3", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80",
       b"\xf4\x90\x80\x80"]


def storm_config(tend):
    tend.write_config("""
        [program:svc0]
        command = %s
        startsecs = 0
        stopwaitsecs = 5

        [program:svc1]
        command = %s
        startsecs = 0
        stopwaitsecs = 5

        [program:w]
        command = %s
        numprocs = 3
        process_name = w_%%(process_num)d
        startsecs = 0
        stopwaitsecs = 5

        [program:caf\u00e9]
        command = %s
        startsecs = 0
        stopwaitsecs = 5
    """ % ((tend.helper("sleeper"),) * 4))


def connect(tend):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(tend.sock))        # blocking: waits if the queue is full
    s.settimeout(30)
    return s


def send_quietly(s, data):
    """tendd may close first (a line over the limit): that is its right."""
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def utf8_variants(k):
    """Client K's share of every base request with a bad sequence put in
    (and put over a byte) at every position: lines no JSON reader may
    accept, so each must be refused as bad_request, with a null id."""
    lines = []
    for b, base in enumerate(BASES):
        for pos in range(len(base) + 1):
            for m, bad in enumerate(BAD):
                for replace in (0, 1):
                    n = (((b * 64 + pos) * len(BAD) + m) * 2 + replace)
                    if n % CLIENTS != k or (replace and pos == len(base)):
                        continue
                    lines.append(base[:pos] + bad + base[pos + replace:])
    return lines


def cut_variants(k):
    """Valid requests whose long fields end in a multi-byte character at
    and around the lengths tendd's messages cut fields to; each is refused
    with the code it deserves (the reply must still be UTF-8)."""
    out = []
    for n in range(90 + k % 14, 106, 14):
        out.append(({"cmd": "a" * n + "\u00e9"}, "unknown_command"))
    for n in range(56 + k % 12, 70, 12):
        ch = "\u00e9\u20ac\U0001f600"[k % 3]
        out.append(({"cmd": "status", "fields": ["f" * n + ch]},
                    "bad_request"))
        out.append(({"cmd": "signal", "names": ["svc0"],
                     "signal": "S" * n + ch}, "bad_request"))
        out.append(({"cmd": "stop", "names": ["n" * n + ch]},
                    "unknown_name"))
    return out


class Honest:
    """What an honest client asks, and exactly what it must be told."""

    def __init__(self, tend, pids):
        self.pids = pids                # display name -> pid
        self.tendd = tend.pid

    def requests(self, tag):
        return [
            ({"id": [tag, "status"], "cmd": "status"}, self.check_status),
            ({"id": [tag, "w"], "cmd": "status", "names": ["w:*"],
              "fields": ["name", "pid"], "rows": True}, self.check_rows),
            ({"id": [tag, "version"], "cmd": "version"}, self.check_version),
            ({"id": [tag, "unknown"], "cmd": "stop",
              "names": ["svc0", "nosuch"]}, self.check_unknown),
            ({"id": [tag, "tail"], "cmd": "tail", "name": "caf\u00e9",
              "lines": 5}, self.check_tail),
            ({"id": [tag, "cont"], "cmd": "signal", "names": ["svc1"],
              "signal": "CONT"}, self.check_cont),
        ]

    def check_status(self, r):
        assert r["ok"] is True, r
        got = {p["name"]: (p["state"], p["pid"]) for p in r["processes"]}
        assert got == {n: ("RUNNING", pid) for n, pid in self.pids.items()}, r

    def check_rows(self, r):
        assert r["ok"] is True, r
        assert r["processes"] == [[n, self.pids[n]] for n in
                                  ("w:w_0", "w:w_1", "w:w_2")], r

    def check_version(self, r):
        assert r["ok"] is True and r["pid"] == self.tendd, r

    def check_unknown(self, r):
        assert r["ok"] is False, r
        assert r["error"]["code"] == "unknown_name", r
        assert r["names"] == ["nosuch"], r

    def check_tail(self, r):
        assert r["ok"] is True and r["name"] == "caf\u00e9", r
        assert r["stream"] == "stdout" and r["data"] == "", r

    def check_cont(self, r):
        assert r["ok"] is True, r
        assert r["results"] == [{"name": "svc1", "ok": True,
                                 "state": "RUNNING",
                                 "message": "SIGCONT sent"}], r


def line(obj):
    return json.dumps(obj, ensure_ascii=False).encode() + b"\n"


def client(tend, k, honest, start, counts, failures):
    rnd = random.Random(1000 + k)
    n = {"honest": 0, "refused": 0, "truncated": 0, "oversized": 0}

    def ask_honest(s, buf, tag):
        reqs = honest.requests(tag)
        s.sendall(b"".join(line(q) for q, _ in reqs))
        for q, check in reqs:
            r = read_json_line(s, buf)
            assert r is not None, ("no reply", q)
            assert r["id"] == q["id"], (q, r)
            check(r)
            n["honest"] += 1

    def utf8_storm():
        with connect(tend) as s:
            buf = bytearray()
            bad = utf8_variants(k)
            s.sendall(b"".join(b + b"\n" for b in bad))
            for b in bad:
                r = read_json_line(s, buf)
                assert r is not None, ("no reply", b)
                assert r["ok"] is False and r["id"] is None, (b, r)
                assert r["error"]["code"] == "bad_request", (b, r)
                n["refused"] += 1
            ask_honest(s, buf, [k, "utf8"])

    def cut_storm():
        with connect(tend) as s:
            buf = bytearray()
            cuts = cut_variants(k)
            for i, (q, _) in enumerate(cuts):
                q["id"] = [k, "cut", i]
            s.sendall(b"".join(line(q) for q, _ in cuts))
            for q, code in cuts:
                r = read_json_line(s, buf)
                assert r is not None, ("no reply", q)
                assert r["id"] == q["id"] and r["ok"] is False, (q, r)
                assert r["error"]["code"] == code, (q, r)
                n["refused"] += 1
            ask_honest(s, buf, [k, "cut"])

    def random_storm():
        with connect(tend) as s:
            buf = bytearray()
            junk = []
            for _ in range(20):
                b = bytes(rnd.randrange(256)
                          for _ in range(rnd.randrange(1, 400)))
                junk.append(b.replace(b"\n", b"\x00"))
            s.sendall(b"".join(j + b"\n" for j in junk))
            for j in junk:
                r = read_json_line(s, buf)
                assert r is not None and r["ok"] is False, (j, r)
                assert r["error"]["code"] == "bad_request", (j, r)
                n["refused"] += 1
            ask_honest(s, buf, [k, "random"])

    def truncated():
        base = BASES[rnd.randrange(len(BASES))]
        cut = base[:rnd.randrange(1, len(base))]
        s = connect(tend)
        if rnd.randrange(2):
            # half-closed: tendd answers nothing and closes
            send_quietly(s, cut)
            s.shutdown(socket.SHUT_WR)
            assert s.recv(65536) == b"", ("a reply to half a line", cut)
        else:
            # gone
            send_quietly(s, cut)
        s.close()
        n["truncated"] += 1

    def halfclosed():
        # whole requests then a half-close: every reply still comes
        with connect(tend) as s:
            buf = bytearray()
            reqs = honest.requests([k, "half"])
            s.sendall(b"".join(line(q) for q, _ in reqs))
            s.shutdown(socket.SHUT_WR)
            for q, check in reqs:
                r = read_json_line(s, buf)
                assert r is not None and r["id"] == q["id"], (q, r)
                check(r)
                n["honest"] += 1
            assert read_json_line(s, buf) is None

    def oversized():
        # over the limit, with or without a newline at its end
        with connect(tend) as s:
            chunk = b'{"id":1,"cmd":"status","x":"' + b"y" * 65500
            sent = 0
            while sent <= LIMIT and send_quietly(s, chunk):
                sent += len(chunk)
            send_quietly(s, b'"}\n' if k % 2 else b"yyy")
            r = read_json_line(s)
            assert r is not None and r["ok"] is False, r
            assert r["error"]["code"] == "line_too_long", r
            n["oversized"] += 1

    def vanish():
        # parked on a wait that never ends, or mid-reply: then gone
        s = connect(tend)
        s.sendall(line({"id": 1, "cmd": "wait", "names": ["svc0"]}) +
                  line({"id": 2, "cmd": "status"}) * 20)
        s.close()

    def interleaved():
        # honest and hostile lines on one connection, in turn
        with connect(tend) as s:
            buf = bytearray()
            for i in range(3):
                bad = bytearray(rnd.choice(BASES))
                bad[rnd.randrange(len(bad))] = 0xff
                s.sendall(bytes(bad) + b"\n")
                r = read_json_line(s, buf)
                assert r["ok"] is False and \
                    r["error"]["code"] == "bad_request", (bad, r)
                n["refused"] += 1
                ask_honest(s, buf, [k, "mixed", i])

    ops = [utf8_storm, cut_storm, random_storm, truncated, truncated,
           halfclosed, vanish, interleaved]
    if k % 10 == 0:
        ops.append(oversized)
    rnd.shuffle(ops)
    try:
        start.wait(30)                  # all fifty at once
        for op in ops:
            op()
    except Exception as e:                    # noqa: BLE001 - reported
        failures.append((k, repr(e)[:2000]))
    counts.append(n)


def test_storm_of_hostile_clients_leaves_tendd_and_its_processes_untouched(
        tend):
    storm_config(tend)
    tend.start()
    names = ["svc0", "svc1", "w:w_0", "w:w_1", "w:w_2", "caf\u00e9"]
    pids = {n: tend.wait_state(n, "RUNNING")["pid"] for n in names}
    before = sorted(descendants(tend.pid))
    assert before == sorted(pids.values())
    honest = Honest(tend, pids)

    # An honest events subscriber: the storm must cause no transition.
    events = connect(tend)
    events.sendall(line({"id": "ev", "cmd": "events"}))
    ebuf = bytearray()
    assert read_json_line(events, ebuf) == {"id": "ev", "ok": True}

    counts, failures = [], []
    start = threading.Barrier(CLIENTS)
    threads = [threading.Thread(target=client, args=(
        tend, k, honest, start, counts, failures)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not failures, failures[:3]
    assert len(counts) == CLIENTS
    total = {key: sum(c[key] for c in counts) for key in counts[0]}
    # every bad sequence at every position of every base request
    assert total["refused"] >= sum(
        (len(b) + 1) * len(BAD) * 2 - len(BAD) for b in BASES)
    # six requests each time: three times interleaved, and once after
    # each of the UTF-8, cut, random and half-closed rounds
    assert total["honest"] == CLIENTS * 7 * 6
    assert total["oversized"] == CLIENTS // 10
    assert total["truncated"] == CLIENTS * 2

    # tendd is alive and answers; nothing it supervises was touched.
    assert tend.proc.poll() is None, tend.log()
    for q, check in honest.requests("after"):
        r = tend.request(q["cmd"], **{k: v for k, v in q.items()
                                      if k not in ("id", "cmd")})
        check(r)
    assert sorted(descendants(tend.pid)) == before
    assert sorted(tend.transitions()) == sorted(
        t for n in names for t in ((n, "NEW", "STARTING"),
                                   (n, "STARTING", "RUNNING")))
    # No event came: a status afterwards is the first thing the
    # subscriber reads, once tendd is asked to say something to it.
    events.settimeout(30)
    events.sendall(line({"id": "ev2", "cmd": "version"}))
    r = read_json_line(events, ebuf)
    assert r["id"] == "ev2" and r["ok"] is True, r
    events.close()
