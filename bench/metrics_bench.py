#!/usr/bin/python3
"""
bench/metrics_bench.py: GET /metrics at scale (issue 18). With N
processes (default 1000) under one tendd, each in its own cgroup when
tendd can make them (memory.current then), else read from /proc:

  * the time of one scrape end to end (connect, request, the whole body
    read) on the Unix socket, median and max of --reps scrapes after one
    warm-up, and the body's size and series count;
  * tendd's own CPU time (utime + stime from /proc/PID/stat) per scrape,
    over the same reps;
  * with --own-cgroups (stopasgroup = true: a cgroup each) memory comes
    from memory.current, a second file per process;
  * tendd's CPU time over --idle seconds with nobody asking anything
    (between scrapes): what it costs to be ready to be scraped.

Writes a Markdown table to stdout (bench/RESULTS-metrics.md holds one).
Usage: bench/metrics_bench.py [--n 1000] [--reps 50] [--idle 30]
"""
import argparse
import glob
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HZ = os.sysconf("SC_CLK_TCK")


def cpu_of(pid, which=(11, 12)):
    """utime + stime (or the one field WHICH names), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in which) / HZ


def scrape(sock):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    s.close()
    data = b"".join(chunks)
    assert data.startswith(b"HTTP/1.0 200"), data[:200]
    return data


def running(sock):
    body = scrape(sock).decode()
    for line in body.splitlines():
        if line.startswith('tend_processes{state="RUNNING"}'):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--tendd", default=os.path.join(ROOT, "build", "tendd"))
    ap.add_argument("--own-cgroups", action="store_true",
                    help="stopasgroup = true: a cgroup each, memory.current")
    a = ap.parse_args()

    d = tempfile.mkdtemp(prefix="tend-mbench-")
    conf = os.path.join(d, "tend.conf")
    with open(conf, "w") as f:
        f.write("[tend]\nsocket = %(here)s/tend.sock\nminfds = 8192\n\n")
        for i in range(a.n):
            f.write("[program:p%04d]\ncommand = /bin/sleep 100000\n"
                    "startsecs = 0\nstdout_logfile = NONE\n"
                    "stderr_logfile = NONE\n%s\n" % (i, "stopasgroup = true\n"
                                                     if a.own_cgroups else ""))
    sock = os.path.join(d, "tend.sock")
    log = open(os.path.join(d, "tendd.log"), "wb")
    p = subprocess.Popen([a.tendd, "-c", conf], stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if running(sock) == a.n:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "not all RUNNING"
            assert p.poll() is None, "tendd exited"
            time.sleep(0.2)
        body = scrape(sock)
        series = sum(1 for ln in body.split(b"\n")
                     if ln and not ln.startswith(b"#"))
        times = []
        c0 = cpu_of(p.pid)
        k0 = cpu_of(p.pid, (12,))
        for _ in range(a.reps):
            t0 = time.perf_counter()
            scrape(sock)
            times.append((time.perf_counter() - t0) * 1000)
        c1 = cpu_of(p.pid)
        k1 = cpu_of(p.pid, (12,))
        time.sleep(1)  # let the last connection's close settle
        i0 = cpu_of(p.pid)
        time.sleep(a.idle)
        i1 = cpu_of(p.pid)
        with open(os.path.join(d, "tendd.log"), errors="replace") as f:
            cg = a.own_cgroups and "cgroup per process" in f.read()
        # a hybrid hierarchy's v2 part may have no memory controller
        cg = cg and bool(glob.glob("/sys/fs/cgroup/tend-*/services/p0000/"
                                   "memory.current") +
                         glob.glob("/sys/fs/cgroup/unified/tend-*/services/"
                                   "p0000/memory.current"))
        print("| N | scrape median | scrape max | tendd CPU per scrape "
              "(of it in the kernel) | body | series | tendd CPU idle over "
              "%gs |" % a.idle)
        print("|---|---|---|---|---|---|---|")
        print("| %d | %.1f ms | %.1f ms | %.1f ms (%.1f ms) | %d KiB | %d | "
              "%.2f s |"
              % (a.n, statistics.median(times), max(times),
                 (c1 - c0) / a.reps * 1000, (k1 - k0) / a.reps * 1000,
                 len(body) // 1024, series, i1 - i0))
        print()
        print("memory from: %s" % ("each process's cgroup memory.current "
                                   "(stopasgroup = true)" if cg else
                                   "/proc/PID/stat RSS (%s)" % (
                                       "its own cgroup has no memory."
                                       "current here" if a.own_cgroups else
                                       "no cgroup of its own")))
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=120)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
