"""
Sockets held by tendd (spec §8): `sockets =` bound before the first start
and passed as descriptors 3.. with LISTEN_FDS, LISTEN_PID (the process's
own pid) and LISTEN_FDNAMES, shared by every process of the program; the
same open sockets across restarts and reloads that leave them unchanged;
new ones (and the old closed) when they change; a socket that cannot be
bound fails only its program; unix sockets made with their mode and
owner, never through a planted link; `restart --rolling` one process at
a time, stopping at the first failure; [fcgi-program:] with php-cgi.
Order is read from the events' seq numbers, never from times.
"""
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess

import pytest

from conftest import read_facts, read_json_line, wait_for


def sock_inodes(pid):
    """{inode} of the sockets PID holds open."""
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            out.add(t[8:-1])
    return out


def unix_socket_inode(path):
    """The socket inode of the listening unix socket bound at PATH."""
    with open("/proc/net/unix") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == path:
                return parts[6]
    raise AssertionError("no socket bound at " + path)


def facts_when_written(path, pid):
    """inspect's facts of the process PID, once it wrote them."""
    def ready():
        try:
            f = read_facts(path)
        except FileNotFoundError:
            return None
        return f if f.get("pid") == str(pid) else None
    return wait_for(ready, what="inspect's facts of %d" % pid)


def inode_of(target):
    assert target.startswith("socket:["), target
    return target[8:-1]


def test_listen_fds_shared_and_kept_across_restart_and_reload(tend):
    unix = tend.path("web.sock")
    prog = ("[program:web]\n"
            "command = %s\n"
            "process_name = web_%%(process_num)d\n"
            "numprocs = 2\nstartsecs = 0\n"
            "sockets = tcp://127.0.0.1:0, unix://%s\n"
            % (tend.helper("inspect", "--out",
                           tend.path("facts-%(process_num)d")), unix))
    tend.write_config(prog)
    tend.start()
    st = {n: tend.wait_state(n, "RUNNING") for n in ("web:web_0",
                                                      "web:web_1")}
    first = {}
    for i, n in enumerate(("web:web_0", "web:web_1")):
        f = facts_when_written(tend.path("facts-%d" % i), st[n]["pid"])
        assert f["env"]["LISTEN_FDS"] == "2", f["env"]
        assert f["env"]["LISTEN_PID"] == str(st[n]["pid"])
        assert f["env"]["LISTEN_FDNAMES"] == "web:web"
        first[i] = (inode_of(f["fd"][3]), inode_of(f["fd"][4]))
        assert 5 not in f["fd"], f["fd"]
    # blocking, as systemd passes them (O_NONBLOCK is shared with tendd)
    for fd in (3, 4):
        with open("/proc/%d/fdinfo/%d" % (st["web:web_0"]["pid"], fd)) as fi:
            flags = int(fi.read().split("flags:")[1].split()[0], 8)
        assert not flags & os.O_NONBLOCK, (fd, oct(flags))
    # numprocs share the program's sockets, and tendd holds them
    assert first[0] == first[1]
    assert set(first[0]) <= sock_inodes(tend.pid)
    assert stat.S_ISSOCK(os.lstat(unix).st_mode)
    assert stat.S_IMODE(os.lstat(unix).st_mode) == 0o700

    rc, out, err = tend.ctl("restart", "web:web_0")
    assert rc == 0, (rc, out, err)
    p = tend.proc_status("web:web_0")["pid"]
    assert p != st["web:web_0"]["pid"]
    f = facts_when_written(tend.path("facts-0"), p)
    assert (inode_of(f["fd"][3]), inode_of(f["fd"][4])) == first[0]
    assert f["env"]["LISTEN_PID"] == str(p)

    # another key changes: restarted, with the same open sockets
    tend.write_config(prog + "environment = V=2\n")
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    p2 = wait_for(lambda: (lambda s: s["pid"] if s["pid"] not in (p, None)
                           and s["state"] == "RUNNING" else None)(
        tend.proc_status("web:web_0")))
    f = facts_when_written(tend.path("facts-0"), p2)
    assert (inode_of(f["fd"][3]), inode_of(f["fd"][4])) == first[0]

    # the sockets change: new ones, the old closed once the new run
    tend.write_config(prog + "environment = V=2\nsocket_backlog = 16\n")
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    p3 = wait_for(lambda: (lambda s: s["pid"] if s["pid"] not in (p2, None)
                           and s["state"] == "RUNNING" else None)(
        tend.proc_status("web:web_0")))
    f = facts_when_written(tend.path("facts-0"), p3)
    new = (inode_of(f["fd"][3]), inode_of(f["fd"][4]))
    assert not set(new) & set(first[0])
    held = sock_inodes(tend.pid)
    assert set(new) <= held and not set(first[0]) & held
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(unix)        # the path is the new socket's
    s.close()
    # tendd's exit closes them and removes its unix socket's path
    tend.signal(signal.SIGTERM)
    tend.wait_exit()
    assert not os.path.exists(unix)


def test_bind_failure_is_fatal_for_that_program_only(tend):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    target = tend.path("target")
    link = tend.path("planted.sock")
    os.symlink(target, link)
    try:
        tend.write_config(
            "[program:bad]\ncommand = %s\nsockets = tcp://127.0.0.1:%d\n"
            "startsecs = 0\n\n"
            "[program:link]\ncommand = %s\nsockets = unix://%s\n"
            "startsecs = 0\n\n"
            "[program:good]\ncommand = %s\nstartsecs = 0\n"
            "sockets = unix://%s\nsocket_mode = 0640\n"
            "socket_owner = nobody:nogroup\n"
            % (tend.helper("sleeper"), port, tend.helper("sleeper"), link,
               tend.helper("sleeper"), tend.path("good.sock")))
        tend.start()
        bad = tend.wait_state("bad", "FATAL")
        assert ("cannot bind tcp://127.0.0.1:%d: Address already in use"
                % port) in bad["description"], bad
        lk = tend.wait_state("link", "FATAL")
        assert "symbolic link" in lk["description"], lk
        assert not os.path.exists(target)
        assert os.path.islink(link)
        tend.wait_state("good", "RUNNING")
        st = os.lstat(tend.path("good.sock"))
        assert stat.S_IMODE(st.st_mode) == 0o640
        assert (st.st_uid, st.st_gid) == (65534, 65534)
        # a later start binds again: the port is free now
        taken.close()
        rc, out, err = tend.ctl("start", "bad")
        assert rc == 0, (rc, out, err)
        # a program the reload removes: its socket closed, its path gone
        ino = unix_socket_inode(tend.path("good.sock"))
        assert ino in sock_inodes(tend.pid)
        conf = tend.conf.read_text()
        tend.conf.write_text(conf[:conf.index("[program:good]")])
        rc, out, err = tend.ctl("reload")
        assert rc == 0, (rc, out, err)
        wait_for(lambda: not os.path.exists(tend.path("good.sock")))
        assert ino not in sock_inodes(tend.pid)
    finally:
        taken.close()


def serve_program(tend, name, numprocs, extra=""):
    return ("[program:%s]\n"
            "command = sh -c 'test -e %s/fail_%%(process_num)d && exit 1; "
            "exec %s'\n"
            "process_name = %s_%%(process_num)d\nnumprocs = %d\n"
            "sockets = tcp://127.0.0.1:0\nstartsecs = 0.2\n"
            "startretries = 0\n%s\n"
            % (name, tend.dir, tend.helper("sockserve"), name, numprocs,
               extra))


class Events:
    def __init__(self, tend):
        self.sock = tend.connect()
        self.sock.sendall(b'{"id": 1, "cmd": "events"}\n')
        self.buf = bytearray()
        assert read_json_line(self.sock, self.buf) == {"id": 1, "ok": True}
        self.sock.settimeout(15)
        self.got = []

    def until(self, name, to):
        for e in self.got:
            if e["name"] == name and e["to"] == to:
                return e

        def more():
            e = read_json_line(self.sock, self.buf)
            assert e is not None
            self.got.append(e)
            return e if e["name"] == name and e["to"] == to else None
        return wait_for(more, what="%s to become %s" % (name, to))

    def seqs(self, name, to):
        return [e["seq"] for e in self.got
                if e["name"] == name and e["to"] == to]


def test_rolling_restart_one_at_a_time_and_stops_at_first_failure(tend):
    tend.write_config(serve_program(tend, "web", 3))
    tend.start()
    names = ["web:web_%d" % i for i in range(3)]
    before = {n: tend.wait_state(n, "RUNNING")["pid"] for n in names}
    ev = Events(tend)
    rc, out, err = tend.ctl("restart", "--rolling", *names)
    assert rc == 0, (rc, out, err)
    for n in names:
        ev.until(n, "RUNNING")
    # each stopped only once the one before is RUNNING again
    for a, b in zip(names, names[1:]):
        assert ev.seqs(a, "RUNNING")[0] < ev.seqs(b, "STOPPING")[0], ev.got
    after = {n: tend.proc_status(n)["pid"] for n in names}
    assert all(after[n] != before[n] for n in names)

    # web_1 cannot start: web_0 restarted, web_2 left as it was
    open(tend.path("fail_1"), "w").close()
    rc, out, err = tend.ctl("restart", "--rolling", *names)
    assert rc == 1, (rc, out, err)
    st = tend.status()
    assert st["web:web_0"]["state"] == "RUNNING"
    assert st["web:web_0"]["pid"] != after["web:web_0"]
    assert st["web:web_1"]["state"] in ("FATAL", "BACKOFF"), st
    assert st["web:web_2"]["pid"] == after["web:web_2"]
    assert "web_2" in out + err


def test_no_connection_refused_while_restarting(tend):
    tend.write_config(serve_program(tend, "one", 1).replace(
        "exec %s'" % tend.helper("sockserve"),
        "exec %s --delay 0.3'" % tend.helper("sockserve")))
    tend.start()
    old = tend.wait_state("one:one_0", "RUNNING")["pid"]
    f = read_facts_port(tend)
    rc, out, err = tend.ctl("restart", "--no-wait", "one:one_0")
    assert rc == 0, (rc, out, err)
    seen = []

    def served_by_new():
        c = socket.create_connection(("127.0.0.1", f), timeout=10)
        c.settimeout(10)
        seen.append(c.recv(64).decode().strip())
        c.close()
        return seen[-1] not in (str(old), "")
    wait_for(served_by_new, timeout=15, interval=0.01)
    assert all(s for s in seen), seen    # none refused, none empty


def read_facts_port(tend):
    """The port tendd bound for tcp://127.0.0.1:0, from its fds."""
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if "pid=%d," % tend.pid in line and "127.0.0.1:" in line:
            return int(line.split()[3].rsplit(":", 1)[1])
    raise AssertionError("no port of tendd's in: " + out.stdout)


def fcgi_request(path, script):
    """One FastCGI RESPONDER request on the unix socket PATH: the stdout
    records' content."""
    def rec(t, rid, content):
        return struct.pack("!BBHHBx", 1, t, rid, len(content), 0) + content

    def nv(k, v):
        return bytes([len(k), len(v)]) + k + v
    params = b"".join(nv(k.encode(), v.encode()) for k, v in {
        "SCRIPT_FILENAME": script, "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1",
        "REDIRECT_STATUS": "200", "QUERY_STRING": ""}.items())
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(rec(1, 1, struct.pack("!HB5x", 1, 0)) + rec(4, 1, params)
              + rec(4, 1, b"") + rec(5, 1, b""))
    data, out = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    while len(data) >= 8:
        _, t, _, n, pad = struct.unpack("!BBHHB", data[:7])
        if t == 6:
            out += data[8:8 + n]
        data = data[8 + n + pad:]
    return out.decode(errors="replace")


@pytest.mark.skipif(shutil.which("php-cgi") is None,
                    reason="php-cgi not installed (make deps)")
def test_fcgi_program_php_cgi_answers_on_the_held_socket(tend):
    script = tend.path("hello.php")
    with open(script, "w") as f:
        f.write("<?php echo 'pid ', getmypid(), \"\\n\"; ?>")
    path = tend.path("php.sock")
    tend.write_config(
        "[fcgi-program:php]\ncommand = php-cgi\nsocket = unix://%s\n"
        "process_name = php_%%(process_num)d\nnumprocs = 2\n"
        "startsecs = 0\n" % path)
    tend.start()
    pids = [tend.wait_state("php:php_%d" % i, "RUNNING")["pid"]
            for i in range(2)]
    ino = os.lstat(path).st_ino
    assert "pid " in fcgi_request(path, script)
    rc, out, err = tend.ctl("restart", "all")
    assert rc == 0, (rc, out, err)
    assert os.lstat(path).st_ino == ino      # held while configured
    body = fcgi_request(path, script)
    assert "pid " in body
    assert int(body.split("pid ")[1].split()[0]) not in pids
