#!/usr/bin/python3
"""bench/probes.py: what health checks cost tendd (issue 14, item 6).

N processes (default 1,000) of /bin/sleep under one tendd, all RUNNING,
measured over --secs (default 20) of steady state after --warm seconds:

  idle   no health check: the floor
  http   healthcheck = http://127.0.0.1:PORT/, healthcheck_interval = 1
         (N GETs a second to a small asyncio server in this script, which
         answers 200 and keeps the connection, as most servers do; its CPU
         is not counted)
  exec   healthcheck = exec:/bin/true, healthcheck_interval = 10
         (N/10 commands spawned, reaped and judged a second)

tendd's CPU is utime + stime of /proc/PID/stat over the window, as a
share of one CPU; the probes done in the window are counted (HTTP: the
server's hits; exec: tendd's own restarts must stay 0 and every process
healthy). Target (the issue): http under 5% of one CPU.

    bench/probes.py                    # N = 1000, about 2 minutes
    bench/probes.py --n 200 --secs 10  # quicker

Writes bench/RESULTS-probes.md (or --out). Not part of make check: the
behaviour is tests/integration/test_probes.py's.
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


class Server:
    """A tiny HTTP responder in a thread: 200, no body, keep-alive."""

    def __init__(self):
        self.hits = 0
        self.port = None
        ready = threading.Event()

        async def handle(reader, writer):
            # HTTP/1.1 keep-alive, as nginx and most servers answer
            try:
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    self.hits += 1
                    writer.write(b"HTTP/1.1 200 OK\r\n"
                                 b"Content-Length: 0\r\n\r\n")
                    await writer.drain()
            except Exception:
                pass
            writer.close()

        async def main():
            srv = await asyncio.start_server(handle, "127.0.0.1", 0,
                                             backlog=4096)
            self.port = srv.sockets[0].getsockname()[1]
            ready.set()
            async with srv:
                await srv.serve_forever()

        self.thread = threading.Thread(target=lambda: asyncio.run(main()),
                                       daemon=True)
        self.thread.start()
        ready.wait(10)


def cpu_ticks(pid):
    """(utime, stime) of PID, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def status(tendctl, sock):
    r = subprocess.run([tendctl, "-s", sock, "--json", "status"],
                       capture_output=True, text=True, timeout=60)
    st = json.loads(r.stdout)
    if not isinstance(st, list):
        raise ValueError("not up yet")
    return st


def run_case(args, name, extra, server):
    work = tempfile.mkdtemp(prefix="tend-bench-probes-")
    sock = os.path.join(work, "tend.sock")
    conf = os.path.join(work, "tend.conf")
    with open(conf, "w") as f:
        f.write("[tend]\nsocket = %s\nchildlogdir = %s\nloglevel = warn\n"
                "minfds = %d\n\n[program:p]\ncommand = /bin/sleep 1000000\n"
                "process_name = p_%%(process_num)d\nnumprocs = %d\n"
                "startsecs = 0\nstdout_logfile = NONE\n"
                "stderr_logfile = NONE\n%s\n"
                % (sock, work, 3 * args.n + 200, args.n, extra))
    log = open(os.path.join(work, "tendd.log"), "w")
    tendd = subprocess.Popen([args.tendd, "-c", conf], stdout=log,
                             stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                st = status(args.tendctl, sock)
                if sum(p["state"] == "RUNNING" for p in st) == args.n:
                    break
            except (ValueError, subprocess.TimeoutExpired):
                pass
            if time.monotonic() > deadline:
                raise SystemExit("%s: not all RUNNING" % name)
            time.sleep(0.2)
        time.sleep(args.warm)
        h0 = server.hits
        c0, t0 = cpu_ticks(tendd.pid), time.monotonic()
        time.sleep(args.secs)
        c1, t1 = cpu_ticks(tendd.pid), time.monotonic()
        h1 = server.hits
        st = status(args.tendctl, sock)
        res = {
            "case": name,
            "cpu_pct": 100.0 * (sum(c1) - sum(c0)) / TICK / (t1 - t0),
            "user_pct": 100.0 * (c1[0] - c0[0]) / TICK / (t1 - t0),
            "sys_pct": 100.0 * (c1[1] - c0[1]) / TICK / (t1 - t0),
            "secs": t1 - t0,
            "http_per_s": (h1 - h0) / (t1 - t0),
            "running": sum(p["state"] == "RUNNING" for p in st),
            "restarts": sum(p["restarts"] for p in st),
            "health": {h: sum(p.get("health") == h for p in st)
                       for h in ("healthy", "unhealthy", "unknown")},
        }
        return res
    finally:
        tendd.send_signal(signal.SIGTERM)
        try:
            tendd.wait(60)
        except subprocess.TimeoutExpired:
            tendd.kill()
            tendd.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--secs", type=float, default=20)
    ap.add_argument("--warm", type=float, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench",
                                                  "RESULTS-probes.md"))
    args = ap.parse_args()
    args.tendd = os.path.join(args.build, "tendd")
    args.tendctl = os.path.join(args.build, "tendctl")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 3 * args.n + 1000)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    server = Server()
    cases = [
        ("idle", ""),
        ("http", "healthcheck = http://127.0.0.1:%d/\n"
                 "healthcheck_interval = 1\n" % server.port),
        ("exec", "healthcheck = exec:/bin/true\n"
                 "healthcheck_interval = 10\n"),
    ]
    results = []
    for name, extra in cases:
        r = run_case(args, name, extra, server)
        print(json.dumps(r), flush=True)
        results.append(r)
    cmd = "bench/probes.py --n %d --secs %g --warm %g" % (
        args.n, args.secs, args.warm)
    with open(args.out, "w") as f:
        f.write("# Health checks: tendd's CPU\n\n")
        f.write("`%s` on %s (%d CPUs), %s.\n\n" % (
            cmd, socket.gethostname(), os.cpu_count(),
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
        f.write("%d processes of /bin/sleep, all RUNNING; tendd's CPU "
                "(utime + stime) over %gs of steady state, as %% of one "
                "CPU.\n\n" % (args.n, args.secs))
        f.write("| case | tendd CPU | user | system | HTTP GETs/s served | "
                "RUNNING | restarts | healthy / unhealthy / unknown |\n")
        f.write("|---|---|---|---|---|---|---|---|\n")
        for r in results:
            f.write("| %s | %.2f%% | %.2f%% | %.2f%% | %.0f | %d | %d | "
                    "%d / %d / %d |\n" % (
                r["case"], r["cpu_pct"], r["user_pct"], r["sys_pct"],
                r["http_per_s"], r["running"],
                r["restarts"], r["health"]["healthy"],
                r["health"]["unhealthy"], r["health"]["unknown"]))
        f.write("\nidle: no health check. http: `healthcheck = "
                "http://127.0.0.1:PORT/`, `healthcheck_interval = 1` (the "
                "server is this script's asyncio responder, its CPU not "
                "counted). exec: `healthcheck = exec:/bin/true`, "
                "`healthcheck_interval = 10`. Target: http under 5% of "
                "one CPU.\n")
    print("wrote", args.out)


if __name__ == "__main__":
    sys.exit(main())
