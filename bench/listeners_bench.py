#!/usr/bin/python3
"""
bench/listeners_bench.py: event listeners (issue 16), tendd against
supervisord in the same run, on the same config file.

  * rate: one listener subscribed to PROCESS_LOG answers each event at
    once (raw reads of its stdin, no childutils overhead); a program
    writes short lines as fast as it can with stdout_events_enabled, so
    the pool always has events waiting (buffer_size 10000, the oldest
    dropped beyond). Events delivered per second over --secs seconds
    after a 1 s warm-up, counted by the listener itself.
  * cpu: N programs (default 1000) and 3 listeners subscribed to
    PROCESS_STATE; start all, then stop all, through XML-RPC
    (supervisor.startProcessGroup / stopProcessGroup on their group,
    waiting). The
    daemon's CPU time (utime + stime from /proc) over those two calls,
    and the events each listener received.

Writes a Markdown table to stdout (bench/RESULTS-listeners.md holds one).
Usage: bench/listeners_bench.py [--n 1000] [--secs 5]
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from supervisor.xmlrpc import SupervisorTransport  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TENDD = os.path.join(ROOT, "build", "tendd")
SUPERVISORD = "/usr/bin/supervisord"
TICK = os.sysconf("SC_CLK_TCK")

HEAD = """[unix_http_server]
file = %(here)s/s.sock

[supervisord]
logfile = %(here)s/main.log
pidfile = %(here)s/sd.pid
childlogdir = %(here)s
nodaemon = true
loglevel = warn

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
"""

# Counts events; every 0.2 s writes "COUNT TIME" to its file.
COUNTER = r'''
import os, sys, time
out = sys.argv[1]
every = len(sys.argv) > 2
n, last, buf = 0, 0.0, b""
os.write(1, b"READY\n")
while True:
    while True:
        nl = buf.find(b"\n")
        if nl >= 0:
            head = buf[:nl]
            ln = int(head.rsplit(b"len:", 1)[1])
            if len(buf) >= nl + 1 + ln:
                buf = buf[nl + 1 + ln:]
                break
        buf += os.read(0, 65536)
    n += 1
    os.write(1, b"RESULT 2\nOKREADY\n")
    now = time.monotonic()
    if every or now - last > 0.2:
        last = now
        with open(out + ".tmp", "w") as f:
            f.write("%d %f\n" % (n, now))
        os.replace(out + ".tmp", out)
'''

SPEW = r'''
import os
line = b"x" * 40 + b"\n"
while True:
    os.write(1, line)
'''


def start(kind, d):
    argv = ([TENDD] if kind == "tendd" else [SUPERVISORD]) + \
        ["-c", os.path.join(d, "c.conf")]
    log = open(os.path.join(d, "daemon.out"), "ab")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, cwd=d,
                         start_new_session=True)
    sock = os.path.join(d, "s.sock")
    deadline = time.monotonic() + 60
    while True:
        # a new transport each try: one that failed keeps its state
        s = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=(
            SupervisorTransport(None, None, "unix://" + sock)))
        try:
            s.supervisor.getState()
            return p, s
        except Exception:
            if time.monotonic() > deadline or p.poll() is not None:
                raise SystemExit("%s did not start in %s: %r" % (kind, d, sys.exc_info()[1]))
            time.sleep(0.1)


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def read_count(path):
    try:
        with open(path) as f:
            n, t = f.read().split()
            return int(n), float(t)
    except (FileNotFoundError, ValueError):
        return None


def rate(kind, secs):
    d = tempfile.mkdtemp(prefix="lsn-bench-")
    with open(os.path.join(d, "counter.py"), "w") as f:
        f.write(COUNTER)
    with open(os.path.join(d, "spew.py"), "w") as f:
        f.write(SPEW)
    with open(os.path.join(d, "c.conf"), "w") as f:
        f.write(HEAD + """
[eventlistener:count]
command = /usr/bin/python3 %(here)s/counter.py %(here)s/count
events = PROCESS_LOG
buffer_size = 10000
stderr_logfile = NONE

[program:spew]
command = /usr/bin/python3 %(here)s/spew.py
stdout_events_enabled = true
stdout_logfile = /dev/null
stderr_logfile = NONE
""")
    p, _ = start(kind, d)
    path = os.path.join(d, "count")
    try:
        deadline = time.monotonic() + 30
        while read_count(path) is None:
            if time.monotonic() > deadline:
                raise SystemExit("%s: no event reached the listener" % kind)
            time.sleep(0.1)
        time.sleep(1)
        a = read_count(path)
        c0 = cpu(p.pid)
        time.sleep(secs)
        b = read_count(path)
        c1 = cpu(p.pid)
    finally:
        stop(p)
    return (b[0] - a[0]) / (b[1] - a[1]), (c1 - c0) / secs


def many(kind, n):
    d = tempfile.mkdtemp(prefix="lsn-bench-")
    with open(os.path.join(d, "counter.py"), "w") as f:
        f.write(COUNTER)
    text = HEAD
    for i in range(3):
        text += """
[eventlistener:l%d]
command = /usr/bin/python3 %%(here)s/counter.py %%(here)s/count%d every
events = PROCESS_STATE
buffer_size = 100000
stderr_logfile = NONE
""" % (i, i)
    for i in range(n):
        text += """
[program:p%d]
command = /bin/sleep 100000
autostart = false
startsecs = 0
stdout_logfile = NONE
stderr_logfile = NONE
""" % i
    text += "\n[group:g]\nprograms = %s\n" % ",".join(
        "p%d" % i for i in range(n))
    with open(os.path.join(d, "c.conf"), "w") as f:
        f.write(text)
    p, s = start(kind, d)
    try:
        deadline = time.monotonic() + 60
        while sum(1 for x in s.supervisor.getAllProcessInfo()
                  if x["statename"] == "RUNNING") < 3:
            if time.monotonic() > deadline:
                raise SystemExit("%s: listeners not up" % kind)
            time.sleep(0.1)
        c0 = cpu(p.pid)
        t0 = time.monotonic()
        s.supervisor.startProcessGroup("g", True)
        s.supervisor.stopProcessGroup("g", True)
        t1 = time.monotonic()
        c1 = cpu(p.pid)
        # the listeners' own start/stop are not in the N programs': wait
        # until each has the 4 N events of the programs (or 30 s)
        want = 4 * n
        deadline = time.monotonic() + 60
        got = []
        while time.monotonic() < deadline:
            time.sleep(0.5)
            got = [(read_count(os.path.join(d, "count%d" % i)) or (0, 0))[0]
                   for i in range(3)]
            if all(g >= want for g in got):
                break
    finally:
        stop(p)
    return c1 - c0, t1 - t0, got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--secs", type=float, default=5)
    a = ap.parse_args()
    rows = []
    for kind in ("tendd", "supervisord"):
        r, rcpu = rate(kind, a.secs)
        c, wall, got = many(kind, a.n)
        rows.append((kind, r, rcpu, c, wall, got))
    print("| daemon | events/s to one listener | daemon CPU during it "
          "| CPU, %d programs start+stop, 3 listeners | wall | events "
          "each listener got |" % a.n)
    print("|---|---|---|---|---|---|")
    for kind, r, rcpu, c, wall, got in rows:
        print("| %s | %.0f | %.0f%% | %.2f s | %.2f s | %s |" % (
            kind, r, rcpu * 100, c, wall, ", ".join(map(str, got))))


if __name__ == "__main__":
    main()
