#!/usr/bin/python3
"""
bench/xmlrpc_bench.py: supervisord's XML-RPC interface, tendd against supervisord
in the same run (issue 15). With N processes (default 1000) under each:

  * `supervisorctl status` end to end (the real client, a new process
    each time), median of --reps runs after one warm-up;
  * `supervisor.getAllProcessInfo` through xmlrpc.client and
    supervisor.xmlrpc.SupervisorTransport on one kept connection, median;
  * tendd's VmRSS once all N run (before any XML-RPC request), after the
    runs above, and the same for a tendd built without the interface
    (--base BINARY, e.g. the main branch's build/tendd) driven by
    `tendctl status` only.

Writes a Markdown table to stdout (bench/RESULTS-xmlrpc.md holds one).
Usage: bench/xmlrpc_bench.py [--n 1000] [--reps 10] [--base PATH]
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from supervisor.xmlrpc import SupervisorTransport  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def conf_text(n):
    head = """[unix_http_server]
file = %(here)s/s.sock

[supervisord]
logfile = %(here)s/main.log
pidfile = %(here)s/sd.pid
childlogdir = %(here)s/logs
nodaemon = true
minfds = 8192

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl = unix://%(here)s/s.sock
"""
    progs = "".join("""
[program:p%04d]
command = /bin/sleep 100000
startsecs = 0
stdout_logfile = NONE
stderr_logfile = NONE
""" % i for i in range(n))
    return head + progs


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proxy(sock):
    t = SupervisorTransport(None, None, "unix://" + sock)
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=t)


class Peer:
    def __init__(self, kind, n, binary=None):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="xrbench-%s-" % kind)
        os.mkdir(os.path.join(self.dir, "logs"))
        self.conf = os.path.join(self.dir, "sup.conf")
        self.sock = os.path.join(self.dir, "s.sock")
        with open(self.conf, "w") as f:
            f.write(conf_text(n))
        argv = {"supervisord": ["/usr/bin/supervisord", "-n", "-c"],
                "tendd": [binary or os.path.join(ROOT, "build/tendd"),
                          "-c"]}[kind if kind == "supervisord" else "tendd"]
        self.proc = subprocess.Popen(argv + [self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     cwd=self.dir, start_new_session=True)
        self.n = n

    def wait_up(self, json_only=False):
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if json_only:
                    r = subprocess.run([os.path.join(ROOT, "build/tendctl"),
                                        "-s", self.sock, "status"],
                                       capture_output=True, text=True)
                    if r.returncode == 0 and \
                            r.stdout.count("RUNNING") == self.n:
                        return
                else:
                    info = proxy(self.sock).supervisor.getAllProcessInfo()
                    if sum(i["statename"] == "RUNNING"
                           for i in info) == self.n:
                        return
            except (OSError, xmlrpc.client.Error):
                pass
            time.sleep(0.5)
        raise SystemExit("%s: not all %d up" % (self.kind, self.n))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def time_status(peer, reps):
    times = []
    for i in range(reps + 1):
        t0 = time.perf_counter()
        r = subprocess.run(["/usr/bin/supervisorctl", "-c", peer.conf,
                            "status"], capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if r.stdout.count("RUNNING") != peer.n:
            raise SystemExit("%s: status did not list %d RUNNING"
                             % (peer.kind, peer.n))
        if i > 0:
            times.append(dt)
    return statistics.median(times)


def time_info(peer, reps):
    p = proxy(peer.sock)
    p.supervisor.getAllProcessInfo()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        info = p.supervisor.getAllProcessInfo()
        times.append(time.perf_counter() - t0)
        assert len(info) == peer.n
    return statistics.median(times)


def time_raw(peer, reps):
    """The daemon's part: request written to response read, no parsing."""
    import socket
    body = xmlrpc.client.dumps((), "supervisor.getAllProcessInfo").encode()
    req = (b"POST /RPC2 HTTP/1.0\r\nContent-Length: %d\r\n\r\n"
           % len(body) + body)
    times = []
    for _ in range(reps):
        s = socket.socket(socket.AF_UNIX)
        s.connect(peer.sock)
        t0 = time.perf_counter()
        s.sendall(req)
        size = 0
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            size += len(b)
        times.append(time.perf_counter() - t0)
        s.close()
    return statistics.median(times), size


def time_client_floor(reps):
    """What supervisorctl costs before it asks anything: Python starting
    and importing supervisorctl."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(["/usr/bin/python3", "-c", "import sys; sys.path."
                        "insert(0, '/usr/lib/python3/dist-packages'); "
                        "import supervisor.supervisorctl"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--base", help="a tendd without the interface")
    a = ap.parse_args()

    rows = []
    base_rss = None
    if a.base:
        b = Peer("tendd-base", a.n, binary=a.base)
        try:
            b.wait_up(json_only=True)
            for _ in range(a.reps):
                subprocess.run([os.path.join(ROOT, "build/tendctl"), "-s",
                                b.sock, "status"], capture_output=True)
            base_rss = rss_kb(b.proc.pid)
        finally:
            b.stop()
    sd = Peer("supervisord", a.n)
    td = Peer("tendd", a.n)
    try:
        td.wait_up(json_only=True)
        rss_before = rss_kb(td.proc.pid)
        td.wait_up()
        sd.wait_up()
        st_sd = time_status(sd, a.reps)
        st_td = time_status(td, a.reps)
        gi_sd = time_info(sd, a.reps * 5)
        gi_td = time_info(td, a.reps * 5)
        raw_sd, size_sd = time_raw(sd, a.reps)
        raw_td, size_td = time_raw(td, a.reps)
        floor = time_client_floor(a.reps)
        rss_after = rss_kb(td.proc.pid)
        rss_sd = rss_kb(sd.proc.pid)
    finally:
        td.stop()
        sd.stop()
    rows.append(("`supervisorctl status`, %d processes (end to end, "
                 "median of %d)" % (a.n, a.reps),
                 "%.0f ms" % (st_sd * 1000), "%.0f ms" % (st_td * 1000),
                 "%.1fx" % (st_sd / st_td)))
    rows.append(("`getAllProcessInfo` via xmlrpc.client, %d processes "
                 "(median of %d)" % (a.n, a.reps * 5),
                 "%.1f ms" % (gi_sd * 1000), "%.1f ms" % (gi_td * 1000),
                 "%.1fx" % (gi_sd / gi_td)))
    rows.append(("the daemon's part of `getAllProcessInfo`: request sent "
                 "to response read, no parsing (median of %d; %d and %d "
                 "bytes)" % (a.reps, size_sd, size_td),
                 "%.1f ms" % (raw_sd * 1000), "%.1f ms" % (raw_td * 1000),
                 "%.1fx" % (raw_sd / raw_td)))
    rows.append(("client floor: python3 importing supervisorctl, nothing "
                 "asked (median of %d)" % a.reps, "%.0f ms" % (floor * 1000),
                 "%.0f ms" % (floor * 1000), ""))
    rows.append(("daemon VmRSS after the runs above", "%d KiB" % rss_sd,
                 "%d KiB" % rss_after, ""))
    print("| N = %d | supervisord 4.2.5 | tendd | tendd faster by |" % a.n)
    print("|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %s |" % r)
    print()
    print("tendd VmRSS with %d processes: %d KiB before any XML-RPC "
          "request, %d KiB after the runs above (+%d KiB)"
          % (a.n, rss_before, rss_after, rss_after - rss_before))
    if base_rss is not None:
        print("; a tendd without the interface (%s), after `tendctl "
              "status` x%d: %d KiB (with the interface in use: %+d KiB)"
              % (a.base, a.reps, base_rss, rss_after - base_rss))


if __name__ == "__main__":
    main()
