#!/usr/bin/python3
"""
bench/depends.py: what depends_on costs (issue 14, bench item 6). Not part
of make check; figures in bench/RESULTS-depends.md.

1. levels: 1,000 processes (build/helpers/sleeper) started from NEW by one
   `start all`, either as 10 programs of numprocs = 100 where level k
   depends on level k-1 (`depends_on = l<k-1>`: each process waits on all
   100 of the level below), or the same 1,000 with no depends_on. Time:
   from the request to the 1,000th RUNNING event, read by this script on
   an events stream opened before. With startsecs = 0 a process is ready
   when it has been spawned, so the difference between the two is what
   the levels cost beyond the spawns themselves (the target: no fixed
   delay per level). With --startsecs S each level also costs S of
   readiness, which the levels cannot avoid: 10 x S is the floor then.
2. latency: PAIRS pairs dep_i <- web_i (dep startsecs = 0.05, so it turns
   RUNNING on its timer, not at its spawn; web startsecs = 0). For each
   pair, web_i's STARTING event time minus dep_i's RUNNING event time
   (both stamped by tendd as it makes the transition; STARTING is stamped
   after the spawn returned): from a dependency becoming RUNNING to its
   dependent's spawn. The pairs start together, so some pairs' times
   include other processes' spawns in the same turn of the loop: the
   median is the figure, p90 and max show the rest.

  /usr/bin/python3 bench/depends.py [--reps 5] [--pairs 200]
      [--startsecs 0] [--out bench/RESULTS-depends.md]
"""
import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("TEND_BUILD", str(ROOT / "build")))


class Tendd:
    def __init__(self, conf_text):
        self.dir = Path(tempfile.mkdtemp(prefix="tend-dep-"))
        (self.dir / "logs").mkdir()
        self.sock = self.dir / "s.sock"
        conf = self.dir / "tend.conf"
        conf.write_text("[tend]\nsocket = %(here)s/s.sock\n"
                        "childlogdir = %(here)s/logs\nloglevel = warn\n"
                        + conf_text)
        self.log = open(self.dir / "tendd.log", "wb")
        self.proc = subprocess.Popen(
            [str(BUILD / "tendd"), "-c", str(conf)], stdout=self.log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 30
        while not self.sock.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("tendd did not start: see %s" % self.dir)
            time.sleep(0.02)
        time.sleep(0.1)

    def events(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(self.sock))
        s.sendall(b'{"id": 1, "cmd": "events"}\n')
        f = s.makefile("rb")
        assert json.loads(f.readline())["ok"]
        return s, f

    def send(self, obj):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(self.sock))
        s.sendall((json.dumps(obj) + "\n").encode())
        return s

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def levels_conf(levels, per, startsecs, deps):
    out = []
    for k in range(levels):
        out.append("[program:l%d]\ncommand = %s\nnumprocs = %d\n"
                   "process_name = l%d_%%(process_num)d\nautostart = false\n"
                   "startsecs = %g\nstdout_logfile = NONE\n"
                   "stderr_logfile = NONE\n"
                   % (k, BUILD / "helpers" / "sleeper", per, k, startsecs))
        if deps and k > 0:
            out.append("depends_on = l%d\n" % (k - 1))
    return "".join(out)


def time_start_all(conf, total):
    t = Tendd(conf)
    try:
        s, f = t.events()
        s.settimeout(120)
        c = t.send({"id": 2, "cmd": "start", "names": ["all"],
                    "wait": False})
        t0 = time.monotonic()
        up = 0
        while up < total:
            e = json.loads(f.readline())
            if e.get("to") == "RUNNING":
                up += 1
        dt = time.monotonic() - t0
        c.close()
        s.close()
        return dt
    finally:
        t.stop()


def latency(pairs):
    conf = []
    for i in range(pairs):
        conf.append("[program:dep%d]\ncommand = %s\nstartsecs = 0.05\n"
                    "autostart = false\nstdout_logfile = NONE\n"
                    "stderr_logfile = NONE\n"
                    "[program:web%d]\ncommand = %s\nstartsecs = 0\n"
                    "autostart = false\ndepends_on = dep%d\n"
                    "stdout_logfile = NONE\nstderr_logfile = NONE\n"
                    % (i, BUILD / "helpers" / "sleeper", i,
                       BUILD / "helpers" / "sleeper", i))
    t = Tendd("".join(conf))
    try:
        s, f = t.events()
        s.settimeout(120)
        c = t.send({"id": 2, "cmd": "start",
                    "names": ["web%d" % i for i in range(pairs)],
                    "wait": False})
        dep_up, web_start = {}, {}
        while len(web_start) < pairs:
            e = json.loads(f.readline())
            if e["name"].startswith("dep") and e["to"] == "RUNNING":
                dep_up[e["name"][3:]] = e["time"]
            if e["name"].startswith("web") and e["to"] == "STARTING":
                web_start[e["name"][3:]] = e["time"]
        c.close()
        s.close()
        return [(web_start[i] - dep_up[i]) * 1e6 for i in web_start]
    finally:
        t.stop()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--levels", type=int, default=10)
    ap.add_argument("--per", type=int, default=100)
    ap.add_argument("--startsecs", type=float, default=0)
    ap.add_argument("--out", default=str(ROOT / "bench/RESULTS-depends.md"))
    a = ap.parse_args()
    total = a.levels * a.per
    flat, lev = [], []
    for r in range(a.reps):
        # interleaved, so both see the same machine
        flat.append(time_start_all(levels_conf(a.levels, a.per, a.startsecs,
                                               False), total))
        lev.append(time_start_all(levels_conf(a.levels, a.per, a.startsecs,
                                              True), total))
        print("rep %d: flat %.3fs, levels %.3fs" % (r, flat[-1], lev[-1]),
              flush=True)
    lat = []
    for r in range(a.reps):
        lat += latency(a.pairs)
    cmd = "/usr/bin/python3 bench/depends.py --reps %d --pairs %d " \
        "--levels %d --per %d --startsecs %g" % (a.reps, a.pairs, a.levels,
                                                a.per, a.startsecs)
    fm, lm = statistics.median(flat), statistics.median(lev)
    text = f"""# depends_on: cost of dependency levels, and release latency

Reproduce: `{cmd}` (build: `make`; {platform.node()}, {os.cpu_count()} CPUs,
{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}; the machine is shared
with other work, so absolute times carry noise: compare the rows).

## {total} processes from NEW to all RUNNING (`start all`), startsecs = {a.startsecs:g}

| layout | median of {a.reps} | min | max |
|---|---|---|---|
| no depends_on | {fm:.3f} s | {min(flat):.3f} s | {max(flat):.3f} s |
| {a.levels} levels of {a.per}, each level `depends_on` the whole level below | {lm:.3f} s | {min(lev):.3f} s | {max(lev):.3f} s |

Levels minus flat: {lm - fm:+.3f} s in all, {(lm - fm) / max(1, a.levels - 1) * 1000:+.1f} ms per level
(the floor of readiness alone is {a.levels} x startsecs = {a.levels * a.startsecs:g} s).
Each of the {total - a.per} dependents waits on {a.per} processes: a level's last
RUNNING releases the whole next level in the same turn of the loop, and
each state change looks only at the changed process's dependents.

## A dependency RUNNING -> its dependent spawned

{a.pairs} pairs `dep_i <- web_i` started together, {a.reps} runs, {len(lat)} samples;
tendd's own event timestamps (web_i STARTING, stamped after its spawn
returned, minus dep_i RUNNING):

| median | p90 | p99 | max |
|---|---|---|---|
| {statistics.median(lat):.0f} µs | {pct(lat, 90):.0f} µs | {pct(lat, 99):.0f} µs | {max(lat):.0f} µs |

Target: under 1 ms median. The time is the spawn of the dependent
itself (clone + exec report) plus the look at dep_i's one dependent; no
timer or poll stands between them.
"""
    Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
