#!/usr/bin/python3
"""
bench/runtime.py: what the runtime operations cost (issue 19). Not part
of make check; figures in bench/RESULTS-runtime.md.

1. scale: one program (build/helpers/sleeper, startsecs = 0) scaled
   1 -> N -> 1 with `tendctl scale`. Times: from the request to the Nth
   RUNNING event on an events stream opened before; and from the request
   back to 1 to the last of the surplus STOPPED (then forgotten).
2. idle: N jobs each with a schedule (`0 0 1 1 *`: not due while
   measured), tendd left alone for SECS seconds: its CPU time (utime +
   stime from /proc/PID/stat) and wake-ups (voluntary context switches)
   over that window. The target: nothing between runs.

  /usr/bin/python3 bench/runtime.py [--n 1000] [--secs 10] [--reps 3]
      [--out bench/RESULTS-runtime.md]
"""
import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
TENDD, TENDCTL = BUILD / "tendd", BUILD / "tendctl"
SLEEPER = BUILD / "helpers" / "sleeper"
TICK = os.sysconf("SC_CLK_TCK")


def start(d, conf):
    (d / "tend.conf").write_text(conf)
    log = open(d / "tendd.log", "wb")
    p = subprocess.Popen([str(TENDD), "-c", str(d / "tend.conf")],
                         stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    sock = d / "tend.sock"
    while not sock.exists():
        time.sleep(0.02)
    while subprocess.run([str(TENDCTL), "-s", str(sock), "version"],
                         capture_output=True).returncode != 0:
        time.sleep(0.02)
    return p, sock


def stop(p, sock):
    subprocess.run([str(TENDCTL), "-s", str(sock), "shutdown"],
                   capture_output=True, timeout=120)
    p.wait(timeout=120)


def events(sock):
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(sock))
    s.sendall(b'{"id": 1, "cmd": "events"}\n')
    f = s.makefile("rb")
    json.loads(f.readline())
    return s, f


def header(d):
    return ("[tend]\nsocket = %s/tend.sock\nchildlogdir = %s\n\n"
            % (d, d))


def bench_scale(n):
    with tempfile.TemporaryDirectory(prefix="tend-bench-") as t:
        d = Path(t)
        p, sock = start(d, header(d) + (
            "[program:w]\ncommand = %s\nprocess_name = w_%%(process_num)04d\n"
            "startsecs = 0\nstdout_logfile = NONE\nstderr_logfile = NONE\n"
            % SLEEPER))
        s, f = events(sock)
        t0 = time.monotonic()
        subprocess.run([str(TENDCTL), "-s", str(sock), "scale", "w", str(n)],
                       check=True, capture_output=True)
        t_req = time.monotonic() - t0
        up = 0
        while up < n - 1:
            e = json.loads(f.readline())
            if e.get("to") == "RUNNING":
                up += 1
        t_up = time.monotonic() - t0
        t0 = time.monotonic()
        subprocess.run([str(TENDCTL), "-s", str(sock), "scale", "w", "1"],
                       check=True, capture_output=True)
        down = 0
        while down < n - 1:
            e = json.loads(f.readline())
            if e.get("to") == "STOPPED":
                down += 1
        t_down = time.monotonic() - t0
        s.close()
        stop(p, sock)
        return t_req, t_up, t_down


def cpu_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    with open("/proc/%d/status" % pid) as f:
        vcs = [int(l.split()[1]) for l in f
               if l.startswith("voluntary_ctxt_switches")][0]
    return ticks / TICK, vcs


def bench_idle(n, secs):
    with tempfile.TemporaryDirectory(prefix="tend-bench-") as t:
        d = Path(t)
        conf = header(d) + "".join(
            "[program:j%d]\ncommand = /bin/true\ndaemon = false\n"
            "schedule = 0 0 1 1 *\nstdout_logfile = NONE\n"
            "stderr_logfile = NONE\n" % i for i in range(n))
        p, sock = start(d, conf)
        time.sleep(1)
        c0, v0 = cpu_of(p.pid)
        time.sleep(secs)
        c1, v1 = cpu_of(p.pid)
        stop(p, sock)
        return c1 - c0, v1 - v0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--secs", type=float, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    scale = [bench_scale(a.n) for _ in range(a.reps)]
    idle = [bench_idle(a.n, a.secs) for _ in range(a.reps)]
    med = lambda xs: statistics.median(xs)
    lines = [
        "# Runtime operations: figures (issue 19)", "",
        "Made by `/usr/bin/python3 bench/runtime.py --n %d --secs %g "
        "--reps %d` on %s, %d CPUs, %s; build/ (-O2); medians of %d runs."
        % (a.n, a.secs, a.reps, platform.node(), os.cpu_count(),
           platform.release(), a.reps), "",
        "| measure | median | runs |", "|---|---|---|",
        "| scale 1 -> %d: tendctl scale returns | %.3f s | %s |"
        % (a.n, med([x[0] for x in scale]),
           ", ".join("%.3f" % x[0] for x in scale)),
        "| scale 1 -> %d: all RUNNING | %.3f s | %s |"
        % (a.n, med([x[1] for x in scale]),
           ", ".join("%.3f" % x[1] for x in scale)),
        "| scale %d -> 1: all surplus STOPPED | %.3f s | %s |"
        % (a.n, med([x[2] for x in scale]),
           ", ".join("%.3f" % x[2] for x in scale)),
        "| %d scheduled jobs, idle %gs: tendd CPU | %.3f s | %s |"
        % (a.n, a.secs, med([x[0] for x in idle]),
           ", ".join("%.3f" % x[0] for x in idle)),
        "| %d scheduled jobs, idle %gs: tendd wake-ups | %d | %s |"
        % (a.n, a.secs, med([x[1] for x in idle]),
           ", ".join("%d" % x[1] for x in idle)),
        "",
        "The scale figures include the re-read of the config file (a scale "
        "is carried out by the reload machinery) and, for 1,000, the "
        "spawns themselves; the stop figure includes each sleeper's exit "
        "on SIGTERM. Idle: one CLOCK_REALTIME timerfd armed at the "
        "earliest next run; nothing wakes tendd between runs.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
