"""
The control socket is safe against every client (issue 3, spec §5):
access control with SO_PEERCRED (setpriv to other uids), the socket's
directory and [unix_http_server] chmod/chown, malformed, truncated, slow
and idle clients, 1,000 idle connections beside 50 busy ones, a client
killed while it waits, and descriptor exhaustion.
"""
import json
import os
import random
import re
import resource
import socket
import stat
import subprocess
import threading
import time

from conftest import (TENDCTL, alive, descendants, holds_for, read_json_line,
                      settled_fds, wait_for, wait_records)

NOBODY = 65534
NOGROUP = 65534


def svc_config(tend, tend_extra="", n=1):
    progs = "".join(f"""
        [program:svc{i if n > 1 else ""}]
        command = {tend.helper("sleeper")}
        startsecs = 0
        stopwaitsecs = 5
    """ for i in range(n))
    tend.write_config(progs, tend=tend_extra)


def as_user(tend, uid, gid, groups, *args):
    """Runs tendctl --json ARGS as UID:GID with supplementary GROUPS (a
    list, may be empty) through setpriv; returns (popen pid, rc, out, err).
    (setpriv execs tendctl with root's capabilities, so it reaches the
    checkout; a sanitizer report of it goes where that user can write.)"""
    cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid]
    cmd += ["--groups=" + ",".join(map(str, groups))] if groups else \
        ["--clear-groups"]
    cmd += [str(TENDCTL), "-s", str(tend.sock), "--json"] + list(args)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, **tend.public_env()))
    out, err = p.communicate(timeout=10)
    return p.pid, p.returncode, out, err


def ask(s, line):
    """Sends LINE and reads one reply. tendd may have answered and closed
    before the line went out (a refused client): the reply still counts."""
    try:
        s.sendall(line)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return read_json_line(s)


def connect_blocking(tend):
    """connect(2) that waits while the listen queue is full, as tendctl's
    does (a socket with a timeout would fail with EAGAIN instead)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(tend.sock))
    s.settimeout(20)
    return s


def unchanged(tend, name, pid):
    p = tend.proc_status(name)
    assert p["state"] == "RUNNING" and p["pid"] == pid, p


# -------------------------------------------------------- access control

def test_other_users_are_refused_even_with_mode_0666(tend):
    svc_config(tend, "socket_mode = 0666")
    os.chmod(tend.dir, 0o711)          # others may reach the socket file
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    assert stat.S_IMODE(os.stat(tend.sock).st_mode) == 0o666

    who, rc, out, err = as_user(tend, NOBODY, NOGROUP, [], "stop", "svc")
    why = "not root, not tendd's user and not in the socket's group"
    assert rc == 1, (rc, out, err)
    assert json.loads(out) == {"error": {"code": "permission_denied",
                                         "message": "permission denied: "
                                         + why}}, out
    assert err == "tendctl: permission denied: %s\n" % why, err
    unchanged(tend, "svc", pid)
    # tendd says who it refused: the peer's uid and pid.
    wait_for(lambda: "warn: control: refused uid %d (pid %d): %s\n"
             % (NOBODY, who, why) in tend.log(), 5,
             what="the refusal in tendd's log")

    # A member of the socket's group (tendd's, root) through a
    # supplementary group only: served.
    _, rc, out, err = as_user(tend, NOBODY, NOGROUP, [0], "status")
    assert rc == 0, (rc, out, err)
    assert json.loads(out)[0]["name"] == "svc"


def test_unix_http_server_chmod_chown_and_group_members(tend):
    """supervisord's [unix_http_server] chmod/chown apply to the socket;
    the group they name is served (primary or supplementary), others
    are not."""
    tend.write_config(f"""
        [unix_http_server]
        file = %(here)s/tend.sock
        chmod = 0660
        chown = root:nogroup

        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        stdout_logfile = NONE
        stderr_logfile = NONE
    """, header=False)
    os.chmod(tend.dir, 0o711)
    tend.start()
    st = os.stat(tend.sock)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
    assert st.st_uid == 0 and st.st_gid == NOGROUP, (st.st_uid, st.st_gid)
    _, rc, out, err = as_user(tend, NOBODY, NOGROUP, [], "status")
    assert rc == 0, (rc, out, err)
    _, rc, out, err = as_user(tend, NOBODY, 4242, [NOGROUP], "pid")
    assert rc == 0 and json.loads(out)["pid"] == tend.pid, (rc, out, err)
    # uid 4242 in no group of the socket: the file mode stops it first.
    _, rc, out, err = as_user(tend, 4242, 4242, [], "status")
    assert rc == 5 and "Permission denied" in err, (rc, out, err)


def test_socket_directory_is_created_with_safe_modes(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        stdout_logfile = NONE
        stderr_logfile = NONE
    """, header=False)
    tend.conf.write_text("[tend]\nsocket = %(here)s/run/tend/tend.sock\n"
                         "socket_mode = 0660\nsocket_owner = root:nogroup\n"
                         + tend.conf.read_text())
    tend.sock = tend.dir / "run" / "tend" / "tend.sock"
    # umask 0 must not make anything writable by others.
    tend.start(preexec_fn=lambda: os.umask(0))
    run, leaf = os.stat(tend.dir / "run"), os.stat(tend.sock.parent)
    assert stat.S_IMODE(run.st_mode) == 0o755, oct(run.st_mode)
    # Only the socket's group may search it, and nobody else may list it.
    assert stat.S_IMODE(leaf.st_mode) == 0o710, oct(leaf.st_mode)
    assert leaf.st_uid == 0 and leaf.st_gid == NOGROUP
    assert stat.S_IMODE(os.stat(tend.sock).st_mode) == 0o660


def test_socket_directory_for_the_default_mode_is_private(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        stdout_logfile = NONE
        stderr_logfile = NONE
    """, header=False)
    tend.conf.write_text("[tend]\nsocket = %(here)s/priv/tend.sock\n"
                         + tend.conf.read_text())
    tend.sock = tend.dir / "priv" / "tend.sock"
    tend.start(preexec_fn=lambda: os.umask(0))
    assert stat.S_IMODE(os.stat(tend.sock.parent).st_mode) == 0o700


def test_a_world_writable_socket_directory_is_warned_about(tend):
    open_dir = tend.dir / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)          # not sticky: anyone may replace it
    svc_config(tend)
    tend.sock = open_dir / "tend.sock"
    tend.start("-s", str(tend.sock))
    assert re.search(r"warn: %s is writable by anyone" % re.escape(
        str(open_dir)), tend.log()), tend.log()
    # /tmp-like (sticky): others cannot replace what is ours; no warning.
    tend.signal(15)
    assert tend.wait_exit() == 0
    os.chmod(open_dir, 0o1777)
    tend.logpath.write_text("")
    tend.start("-s", str(tend.sock))
    assert "writable by anyone" not in tend.log()


def test_socket_path_over_sun_path_is_a_clear_error(tend):
    svc_config(tend)
    long_path = str(tend.dir / ("x" * 120)) + ".sock"
    p = tend.spawn_tendd("-s", long_path)
    tend._extra.append(p)
    assert p.wait(timeout=10) == 1
    log = tend.log()
    assert long_path in log and "too long" in log, log


# ------------------------------------------------------ malformed input

BAD_LINES = [
    (b"\x00\x01\x02 garbage \xff\n", "bad_request"),
    (b'{"id": 1, "cmd": "stop", "names": ["svc"]\n', "bad_request"),
    (b'{"id": 2, "cmd": "stop", "names": "svc"}\n', "bad_request"),
    (b'{"id": 3, "cmd": "stop", "names": [1]}\n', "bad_request"),
    (b'{"id": 4, "cmd": "stop", "names": ["svc"], "wait": "yes"}\n',
     "bad_request"),
    (b'{"id": 5, "cmd": "kill", "names": ["svc"], "wait": 0}\n',
     "bad_request"),
    (b'{"id": 6, "cmd": "wait", "names": ["svc"], "timeout": "soon"}\n',
     "bad_request"),
    (b'{"id": 7, "cmd": "wait", "names": ["svc"], "timeout": -1}\n',
     "bad_request"),
    (b'{"id": 8, "cmd": "signal", "names": ["svc"], "signal": "KILLME"}\n',
     "bad_request"),
    (b'{"id": 9, "cmd": "signal", "names": ["svc"], "signal": true}\n',
     "bad_request"),
    (b'{"id": 10, "cmd": "signal", "names": ["svc"], "signal": 99999}\n',
     "bad_request"),
    (b'{"id": 11, "cmd": "kill"}\n', "missing_field"),
    (b'{"id": 12, "cmd": "pause", "names": []}\n', "missing_field"),
    (b'{"id": 13, "cmd": "STOP", "names": ["svc"]}\n', "unknown_command"),
    (b'{"id": 14, "cmd": null}\n', "bad_request"),
    (b'{"id": 15, "cmd": "status", "cmd": "stop", "names": ["svc"]}\n',
     "bad_request"),
    (b"[" * 100000 + b"\n", "bad_request"),
    (b'{"id": 16, "cmd": "\\ud800"}\n', "bad_request"),
    (b'{"id": 1e999, "cmd": "stop", "names": ["svc"]}\n', "bad_request"),
    (b"\n", "bad_request"),
    (b'{"id": 17, "cmd": "events", "names": ["svc", 3]}\n', "bad_request"),
    (b'{"id": 18, "cmd": "resume", "names": ["nosuch", "svc"]}\n',
     "unknown_name"),
    (b'{"id": 19, "cmd": "kill", "names": ["svc", "nosuch"]}\n',
     "unknown_name"),
]


def test_garbage_wrong_types_and_missing_fields_never_act(tend):
    svc_config(tend)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    rnd = random.Random(3)
    lines = list(BAD_LINES)
    for _ in range(20):
        junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
        lines.append((junk.replace(b"\n", b" ") + b"\n", "bad_request"))
    with tend.connect() as s:
        buf = bytearray()
        for line, code in lines:
            s.sendall(line)
            r = read_json_line(s, buf)
            assert r["ok"] is False, (line[:80], r)
            assert r["error"]["code"] == code, (line[:80], r)
            assert r["error"]["message"], r
        # The same connection still works, and nothing was touched.
        s.sendall(b'{"id": {"x": [1]}, "cmd": "version"}\n')
        r = read_json_line(s, buf)
        assert r["ok"] and r["id"] == {"x": [1]}, r
    unchanged(tend, "svc", pid)
    assert tend.transitions("svc") == [("svc", "NEW", "STARTING"),
                                       ("svc", "STARTING", "RUNNING")]


def test_truncated_requests_do_nothing(tend):
    svc_config(tend)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    # Cut short, then gone.
    s = tend.connect()
    s.sendall(b'{"id": 1, "cmd": "kill", "names": ["svc"]')
    s.close()
    # Cut short, then half-closed: tendd closes without acting.
    s = tend.connect()
    s.sendall(b'{"id": 2, "cmd": "stop", "names": ["sv')
    s.shutdown(socket.SHUT_WR)
    s.settimeout(15)
    assert s.recv(65536) == b"", "tendd acted on half a request"
    s.close()
    assert tend.request("version")["ok"]
    unchanged(tend, "svc", pid)


def test_a_slow_client_gets_served_and_stalls_nobody(tend):
    """A client that sends its request a byte at a time, pausing in the
    middle until 20 other requests have been answered: they are (tendd
    never waits for the rest of a line), and so is it, in the end."""
    svc_config(tend)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    line = b'{"id": 1, "cmd": "status"}\n'
    with tend.connect() as slow:
        for i, b in enumerate(line):
            slow.sendall(bytes([b]))
            if i == len(line) // 2:
                # Half a request is in: the others are served meanwhile.
                for _ in range(20):
                    assert tend.request("status")["ok"]
        reply = read_json_line(slow)
    assert reply["ok"] and reply["id"] == 1, reply
    assert [p["name"] for p in reply["processes"]] == ["svc"], reply
    unchanged(tend, "svc", pid)


def still_open(s):
    """True while tendd keeps S open (nothing to read, no EOF)."""
    timeout = s.gettimeout()
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    finally:
        s.settimeout(timeout)


def test_idle_and_unfinished_clients_time_out_but_waiters_stay(tend):
    svc_config(tend, "client_timeout = 1")
    tend.start()
    tend.wait_state("svc", "RUNNING")
    t0 = time.monotonic()
    idle = tend.connect()
    partial = tend.connect()
    partial.sendall(b'{"id": 1, "cmd": "sta')
    waiter = tend.connect()
    waiter.sendall(b'{"id": 2, "cmd": "wait", "names": ["svc"]}\n')
    events = tend.connect()
    events.sendall(b'{"id": 3, "cmd": "events"}\n')
    ebuf = bytearray()
    assert read_json_line(events, ebuf) == {"id": 3, "ok": True}
    idle.settimeout(15)
    assert idle.recv(100) == b"", "an idle client was not closed"
    took = time.monotonic() - t0
    assert took >= 0.9, "closed %.2fs after it came: before its timeout" % took
    partial.settimeout(15)
    data = b""
    while not data.endswith(b"\n"):
        chunk = partial.recv(4096)
        assert chunk, "closed without a word about the unfinished line"
        data += chunk
    r = json.loads(data)
    assert r["error"]["code"] == "bad_request" and "1s" in \
        r["error"]["message"], r
    assert partial.recv(100) == b""
    # Quiet, but waiting: still open well past the timeout.
    holds_for(lambda: still_open(waiter) and still_open(events), 1.5,
              what="the waiter and the events client kept")
    rc, out, err = tend.ctl("stop", "svc")
    assert rc == 0, (rc, out, err)
    waiter.settimeout(15)
    r = read_json_line(waiter)
    assert r["ok"] and r["status"] == 143, r
    events.settimeout(15)
    ev = read_json_line(events, ebuf)
    assert ev["to"] == "STOPPING", ev
    for s in (idle, partial, waiter, events):
        s.close()


def test_a_lagging_events_subscriber_is_dropped(tend):
    """6,000 state changes (~2 MB of events) for a subscriber that reads
    nothing: tendd drops it at 1 MiB behind instead of growing or waiting,
    and everyone else is served throughout."""
    svc_config(tend)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    lazy = tend.connect()
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lazy.sendall(b'{"id": 1, "cmd": "events"}\n')
    n = 3000
    with tend.connect(timeout=20) as s:
        buf = bytearray()
        reqs = b"".join(b'{"id": %d, "cmd": "pause", "names": ["svc"]}\n'
                        b'{"id": %d, "cmd": "resume", "names": ["svc"]}\n'
                        % (2 * i, 2 * i + 1) for i in range(n))
        sender = threading.Thread(target=s.sendall, args=(reqs,))
        sender.start()
        got = 0
        while got < 2 * n:
            r = read_json_line(s, buf)
            assert r is not None and r["ok"], r
            got += 1
        sender.join()
    wait_for(lambda: re.search(r"warn: control: dropping a client \(pid %d\) "
                               r"with \d+ bytes unread$" % os.getpid(),
                               tend.log(), re.M), 5,
             what="the lagging subscriber to be dropped")
    # Its stream ended: what was queued in the kernel, then EOF.
    lazy.settimeout(15)
    total = 0
    while True:
        chunk = lazy.recv(1 << 16)
        if not chunk:
            break
        total += len(chunk)
    lazy.close()
    assert total < 1 << 20, total
    unchanged(tend, "svc", pid)
    assert tend.request("version")["ok"]


# ------------------------------------------------------------- at scale

def test_thousand_idle_connections_and_fifty_busy_clients(tend):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1500 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    svc_config(tend, n=3)
    tend.start()
    names = ["svc0", "svc1", "svc2"]
    for n in names:
        tend.wait_state(n, "RUNNING")
    idle = []
    try:
        for _ in range(1000):
            idle.append(connect_blocking(tend))
        failures, probes = [], [0]
        stop = threading.Event()

        def check_proc(p, where):
            up = p["state"] in ("STARTING", "RUNNING", "PAUSED", "STOPPING")
            if up != isinstance(p["pid"], int):
                failures.append((where, p))

        def client(k):
            rnd = random.Random(k)
            try:
                with connect_blocking(tend) as s:
                    buf = bytearray()
                    for i in range(6):
                        cmd = rnd.choice(["start", "stop", "restart",
                                          "status"])
                        name = rnd.choice(names)
                        req = {"id": [k, i], "cmd": cmd, "names": [name]}
                        s.sendall((json.dumps(req) + "\n").encode())
                        r = read_json_line(s, buf)
                        if r is None or r.get("id") != [k, i]:
                            failures.append((req, r))
                            return
                        if cmd == "status":
                            if not r["ok"]:
                                failures.append((req, r))
                            for p in r["processes"]:
                                check_proc(p, req)
                            continue
                        res = r.get("results")
                        if not isinstance(res, list) or len(res) != 1:
                            failures.append((req, r))
                            continue
                        # ok, or a definite "failed" (someone else's stop
                        # overtook a start), never anything else.
                        if not r["ok"] and r["error"]["code"] != "failed":
                            failures.append((req, r))
                        if r["ok"] and cmd == "stop" and \
                                res[0]["state"] != "STOPPED":
                            failures.append((req, r))
                        if r["ok"] and cmd in ("start", "restart") and \
                                res[0]["state"] != "RUNNING":
                            failures.append((req, r))
            except Exception as e:          # noqa: BLE001 - reported below
                failures.append((k, repr(e)))

        def prober():
            while not stop.is_set():
                r = tend.request("status")
                if not stop.is_set():
                    probes[0] += 1
                if not r["ok"]:
                    failures.append(("probe", r))
                for p in r["processes"]:
                    check_proc(p, "probe")
                time.sleep(0.02)

        pt = threading.Thread(target=prober)
        pt.start()
        threads = [threading.Thread(target=client, args=(k,))
                   for k in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        stop.set()
        pt.join(10)
        assert not any(t.is_alive() for t in threads + [pt]), "a client hung"
        assert not failures, failures[:5]
        # The prober was served while the 50 were busy.
        assert probes[0] >= 1, "no status answered beside the 50 clients"
        # Never two copies of a program: tendd's children are exactly the
        # processes status shows.
        st = tend.status()
        pids = sorted(p["pid"] for p in st.values() if p["pid"])
        assert sorted(descendants(tend.pid)) == pids, (st, descendants(
            tend.pid))
        # The idle ones are still there and still served.
        for s in idle[::100]:
            assert ask(s, b'{"id": 1, "cmd": "version"}\n')["ok"]
    finally:
        for s in idle:
            s.close()
    assert tend.request("version")["ok"]


def test_client_killed_while_it_waits(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:slow]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 1.5
        autostart = false
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("svc", "RUNNING")
    clients = [subprocess.Popen([str(TENDCTL), "-s", str(tend.sock)] + a,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
               for a in (["start", "slow"], ["wait", "svc"], ["events"])]
    try:
        # The start has begun (tendd's state, not the helper's record,
        # which may come after startsecs on a loaded machine).
        tend.wait_state("slow", "STARTING")
        for c in clients:
            c.kill()
            c.wait()
        # The start goes on without its client; tendd is unharmed.
        p = tend.wait_state("slow", "RUNNING", timeout=5)
        assert [r[0] for r in wait_records(rec, 1)] == [p["pid"]]
        assert tend.proc.poll() is None
        rc, out, err = tend.ctl("stop", "svc")
        assert rc == 0, (rc, out, err)
        rc, out, err = tend.ctl("restart", "slow")
        assert rc == 0, (rc, out, err)
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
                c.wait()


# ------------------------------------------------------------ descriptors

def fd_limits(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError("no Max open files in /proc/%d/limits" % pid)


def test_tendd_raises_its_fd_limit_and_children_keep_theirs(tend):
    svc_config(tend)
    tend.start(preexec_fn=lambda: resource.setrlimit(
        resource.RLIMIT_NOFILE, (256, 512)))
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    assert fd_limits(tend.pid) == (512, 512)
    assert fd_limits(pid) == (256, 512)


def test_connection_cap_leaves_descriptors_for_children(tend):
    """At 100 descriptors, connections get what tendd's own reserve and
    the processes' share leave (100 - 64 - 2*5 = 26: a pidfd, two pipes
    and two AUTO log files each); the others are told to come back, and
    starting processes still works."""
    svc_config(tend, n=2)
    tend.start(preexec_fn=lambda: resource.setrlimit(
        resource.RLIMIT_NOFILE, (100, 100)))
    for n in ("svc0", "svc1"):
        tend.wait_state(n, "RUNNING")
    conns, turned_away = [], 0
    try:
        for _ in range(40):
            s = tend.connect()
            r = ask(s, b'{"id": 1, "cmd": "version"}\n')
            if r["ok"]:
                conns.append(s)
                continue
            assert r["error"]["code"] == "too_many_connections", r
            turned_away += 1
            s.close()
        assert len(conns) == 26 and turned_away == 14, \
            (len(conns), turned_away)
        # Every slot is taken, yet processes can be restarted.
        r = ask(conns[0], b'{"id": 2, "cmd": "restart", '
                b'"names": ["svc0", "svc1"]}\n')
        assert r["ok"], r
    finally:
        for s in conns:
            s.close()
    wait_for(lambda: tend.request("version")["ok"], 5, what="a free slot")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_turns_clients_away_without_spinning(tend):
    """EMFILE on accept (here: the limit cut below what tendd holds from
    outside): the client is told and closed, tendd does not spin, and it
    serves again once descriptors are back."""
    svc_config(tend)
    tend.start()
    pid = tend.wait_state("svc", "RUNNING")["pid"]
    old = resource.prlimit(tend.pid, resource.RLIMIT_NOFILE)
    # Our earlier connections are closed on tendd's side too.
    held = settled_fds(tend.pid)
    # Every descriptor number below the limit is taken (but the spare).
    lowest_free = min(set(range(len(held) + 1)) - held)
    resource.prlimit(tend.pid, resource.RLIMIT_NOFILE, (lowest_free, old[1]))
    try:
        for _ in range(3):
            with tend.connect(timeout=3) as s:
                r = read_json_line(s)
                assert r is not None and r["ok"] is False, r
                assert r["error"]["code"] == "too_many_connections", r
                assert s.recv(100) == b""
        cpu0 = cpu_seconds(tend.pid)
        holds_for(lambda: cpu_seconds(tend.pid) - cpu0 < 0.2, 0.5,
                  what="tendd idle, not spinning on EMFILE")
        assert alive(pid)
    finally:
        resource.prlimit(tend.pid, resource.RLIMIT_NOFILE, old)
    assert tend.request("version")["ok"]
    unchanged(tend, "svc", pid)
    assert "warn: control: accept: Too many open files; a client was " \
        "turned away\n" in tend.log(), tend.log()
