#!/usr/bin/python3
"""bench/many.py: 10,000 processes under one tendd (issue 12: descriptors).

One [program:] with numprocs = N (default 10,000) of the benchmark's tiny
static child, `stdout_logfile = stderr_logfile = NONE`, under the machine's
own descriptor limit (20,000 here; tendd cannot raise it: no
CAP_SYS_RESOURCE). Each process then costs tendd one descriptor (its
pidfd), so all N must be RUNNING, none BACKOFF or FATAL. Measured, for each
of --reps launches:

  cold start   tendd's launch until the last child's own start stamp
               (CLOCK_MONOTONIC, written by the child as its first act),
               then until `tendctl status` shows all N RUNNING
  status       wall time of `tendctl status` (and `--json status`) listing
               all N, median of --status-reps after one warm-up
  memory       tendd's VmRSS and Pss with all N running, its descriptors
  stop all     `tendctl stop all` until it returns (it waits for every
               process to be STOPPED, i.e. reaped); then /proc must show no
               child of tendd
  start all    `tendctl start all` until it returns (all RUNNING again)
  shutdown     SIGTERM to tendd with all N running, until tendd has exited

    bench/many.py                  # N = 10,000, 1 launch (about 2 minutes)
    bench/many.py --n 2000 --reps 3

Writes bench/RESULTS-10k.md (or --out) and bench/results/many-*.json. Not
part of make check: it reports figures; tests/integration/test_descriptors.py
checks the behaviour.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(BENCH, "lib"))
import harness  # noqa: E402  (helpers' build, machine description)
import procfs   # noqa: E402

T0 = time.monotonic()


def log(msg):
    print("[%7.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Run:
    """One tendd supervising N children in a private directory."""

    def __init__(self, d, n, child, build):
        self.d, self.n = d, n
        self.tendd = os.path.join(build, "tendd")
        self.tendctl = os.path.join(build, "tendctl")
        self.conf = os.path.join(d, "tend.conf")
        self.sock = os.path.join(d, "tend.sock")
        self.events = os.path.join(d, "events")
        with open(self.conf, "w") as f:
            f.write("[tend]\nsocket = %s\nlogfile = %s/tendd.log\n\n"
                    "[program:w]\nnumprocs = %d\n"
                    "process_name = w%%(process_num)05d\n"
                    "command = %s w%%(process_num)05d\n"
                    "autorestart = true\nstartsecs = 0\n"
                    "stdout_logfile = NONE\nstderr_logfile = NONE\n"
                    % (self.sock, d, n, child))
        self.proc = None

    def ctl(self, *args, timeout=600):
        return subprocess.run([self.tendctl, "-s", self.sock] + list(args),
                              capture_output=True, text=True,
                              timeout=timeout)

    def timed_ctl(self, *args):
        t = now_ns()
        r = self.ctl(*args)
        return (now_ns() - t) / 1e6, r

    def check(self):
        r = subprocess.run([self.tendd, "-c", self.conf, "--check"],
                           capture_output=True, text=True, timeout=120)
        return r.returncode, (r.stdout + r.stderr).strip()

    def launch(self):
        open(self.events, "w").close()
        env = dict(os.environ, BENCH_EVENTS=self.events)
        t0 = now_ns()
        self.proc = subprocess.Popen([self.tendd, "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        return t0

    def wait_stamps(self, timeout):
        """Waits for N start stamps; returns the last one (ns)."""
        seen, last, off = set(), 0, 0
        deadline = time.monotonic() + timeout
        buf = b""
        while len(seen) < self.n:
            if self.proc.poll() is not None:
                raise SystemExit("many: tendd exited (%s)"
                                 % self.proc.returncode)
            if time.monotonic() > deadline:
                raise SystemExit("many: %d of %d children started in %gs"
                                 % (len(seen), self.n, timeout))
            with open(self.events, "rb") as f:
                f.seek(off)
                chunk = f.read()
            off += len(chunk)
            buf += chunk
            lines = buf.split(b"\n")
            buf = lines.pop()
            for line in lines:
                parts = line.split()
                if len(parts) >= 4 and parts[0] == b"up":
                    seen.add(parts[1])
                    last = max(last, int(parts[3]))
            if len(seen) < self.n:
                time.sleep(0.02)
        return last

    def states(self):
        r = self.ctl("--json", "status")
        doc = json.loads(r.stdout) if r.stdout.strip() else None
        if not isinstance(doc, list):
            raise SystemExit("many: tendctl --json status: rc %d, %s %s"
                             % (r.returncode, r.stdout[:300], r.stderr[:300]))
        counts = {}
        for p in doc:
            counts[p["state"]] = counts.get(p["state"], 0) + 1
        return counts

    def children(self):
        try:
            with open("/proc/%d/task/%d/children"
                      % (self.proc.pid, self.proc.pid)) as f:
                return len(f.read().split())
        except OSError:
            return 0

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def limit(self):
        with open("/proc/%d/limits" % self.proc.pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return int(line.split()[3]), int(line.split()[4])
        return None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def one_rep(run, a):
    res = {}
    t0 = run.launch()
    last = run.wait_stamps(a.timeout)
    res["cold_start_last_stamp_ms"] = (last - t0) / 1e6
    # All N started; now until tendd itself says all N are RUNNING.
    while True:
        st = run.states()
        if st.get("RUNNING", 0) == run.n:
            break
        if st.get("FATAL") or st.get("BACKOFF"):
            raise SystemExit("many: not all RUNNING: %s" % st)
        time.sleep(0.05)
    res["cold_start_all_running_ms"] = (now_ns() - t0) / 1e6
    res["states"] = st
    res["tendd_cpu_cold_start_ms"] = procfs.cpu_ns(run.proc.pid) / 1e6
    log("cold start: last child %.0f ms, all RUNNING by %.0f ms"
        % (res["cold_start_last_stamp_ms"], res["cold_start_all_running_ms"]))
    time.sleep(a.settle)
    rss, pss = procfs.memory_kib(run.proc.pid)
    res.update(rss_kib=rss, pss_kib=pss, fds=run.fds(),
               children=run.children(), limit=run.limit())
    log("tendd: RSS %d KiB, PSS %d KiB, %d descriptors (limit %s), %d "
        "children" % (rss, pss, res["fds"], res["limit"], res["children"]))

    for key, args in (("status", ("status",)),
                      ("status_json", ("--json", "status"))):
        times = []
        run.ctl(*args)          # warm-up
        for _ in range(a.status_reps):
            ms, r = run.timed_ctl(*args)
            lines = r.stdout.count("RUNNING")
            if lines != run.n:
                raise SystemExit("many: %s shows %d RUNNING" % (key, lines))
            times.append(ms)
        res[key + "_ms"] = {"median": statistics.median(times),
                            "min": min(times), "max": max(times),
                            "runs": len(times)}
        log("%s: median %.1f ms (%.1f-%.1f)" % (
            key, res[key + "_ms"]["median"], min(times), max(times)))

    ms, r = run.timed_ctl("stop", "all")
    if r.returncode != 0:
        raise SystemExit("many: stop all: %s" % r.stderr[-500:])
    time.sleep(0.2)
    res["stop_all_ms"] = ms
    res["children_after_stop"] = run.children()
    log("stop all: %.0f ms, %d children left" % (ms, res["children_after_stop"]))

    ms, r = run.timed_ctl("start", "all")
    if r.returncode != 0:
        raise SystemExit("many: start all: %s" % r.stderr[-500:])
    res["start_all_ms"] = ms
    res["states_after_start"] = run.states()
    log("start all: %.0f ms, %s" % (ms, res["states_after_start"]))

    t = now_ns()
    run.proc.send_signal(signal.SIGTERM)
    run.proc.wait(timeout=300)
    res["shutdown_ms"] = (now_ns() - t) / 1e6
    res["shutdown_status"] = run.proc.returncode
    log("shutdown: %.0f ms, exit %d" % (res["shutdown_ms"],
                                        run.proc.returncode))
    return res


def median_of(reps, key, sub=None):
    vals = [r[key][sub] if sub else r[key] for r in reps]
    return statistics.median(vals)


def render(res):
    m, a, reps = res["machine"], res["args"], res["reps"]
    lim = reps[0]["limit"]
    out = ["# tend with %s processes" % format(a["n"], ","), "",
           "One `[program:w]` with `numprocs = %d` of the benchmark's tiny "
           "static child, `stdout_logfile = stderr_logfile = NONE`, "
           "`startsecs = 0`, under the machine's descriptor limit. Each "
           "process costs tendd one descriptor (its pidfd): no pipe for a "
           "`NONE` stream." % a["n"], "",
           "| | |", "|---|---|",
           "| date | %s |" % res["date"],
           "| command | `%s` |" % res["command"].strip(),
           "| machine | %s, %d CPUs, %s GiB RAM, kernel %s, Debian %s |" % (
               m["cpu"], m["cpus"], m["mem_gib"], m["kernel"], m["debian"]),
           "| tend | commit %s%s |" % (m["tend_commit"],
                                     " (dirty)" if m["tend_dirty"] else ""),
           "| descriptor limit | hard %d (`ulimit -Hn`; root without "
           "CAP_SYS_RESOURCE cannot raise it); tendd ran with %d/%d |" % (
               res["hard_limit"], lim[0], lim[1]),
           "| `--check` | %s |" % res["check"].replace("\n", "; "),
           "| load before | %.2f CPUs busy, loadavg %.2f |" % (
               res["idle"]["busy_cpus"], res["idle"]["loadavg"]),
           "| launches | %d (each cell: the median) |" % len(reps),
           "", "| row | figure |", "|---|---:|",
           "| processes RUNNING after cold start | %d of %d (states: %s) |"
           % (reps[0]["states"].get("RUNNING", 0), a["n"],
              ", ".join("%s %d" % kv for kv in
                        sorted(reps[0]["states"].items()))),
           "| cold start: launch to the last child's start | %.2f s |"
           % (median_of(reps, "cold_start_last_stamp_ms") / 1000),
           "| cold start: launch to status showing all RUNNING | %.2f s |"
           % (median_of(reps, "cold_start_all_running_ms") / 1000),
           "| tendd CPU time for the cold start | %.2f s |"
           % (median_of(reps, "tendd_cpu_cold_start_ms") / 1000),
           "| `tendctl status` (all %d) | %.0f ms |" % (
               a["n"], median_of(reps, "status_ms", "median")),
           "| `tendctl --json status` (all %d) | %.0f ms |" % (
               a["n"], median_of(reps, "status_json_ms", "median")),
           "| tendd RSS, all running | %.1f MiB |"
           % (median_of(reps, "rss_kib") / 1024),
           "| tendd PSS, all running | %.1f MiB |"
           % (median_of(reps, "pss_kib") / 1024),
           "| tendd descriptors, all running | %d |"
           % median_of(reps, "fds"),
           "| `tendctl stop all` until all reaped | %.2f s |"
           % (median_of(reps, "stop_all_ms") / 1000),
           "| `tendctl start all` until all RUNNING | %.2f s |"
           % (median_of(reps, "start_all_ms") / 1000),
           "| shutdown (SIGTERM) with all running, until tendd exited | "
           "%.2f s |" % (median_of(reps, "shutdown_ms") / 1000),
           "", "Status times are the median of %d runs after a warm-up "
           "(each run's output checked: %d RUNNING lines). After `stop "
           "all`, /proc showed %s child of tendd left."
           % (a["status_reps"], a["n"],
              max(r["children_after_stop"] for r in reps) or "no"), "",
           "Before issue 12 the same config under the same limit started "
           "6,661 processes and made the other 3,339 FATAL at once (`cannot "
           "create a pipe: Too many open files`): every process cost a "
           "pidfd and two pipes, 3 descriptors, even with its output going "
           "nowhere. Now a `NONE` stream is `/dev/null` in the child and "
           "the process costs its pidfd alone.", ""]
    if res["idle"]["busy_cpus"] > 0.5:
        out += ["The machine (2 CPUs, shared) was busy with other work "
                "during the run (%.2f CPUs before it started): the times "
                "are what this load gave, higher than on an idle machine; "
                "most of a cold start is the children's own exec "
                "(tendd's CPU time is the row above)."
                % res["idle"]["busy_cpus"], ""]
    out += ["Reproduce: `ulimit -Hn` (20000 here), then `%s`." %
            res["command"].strip(), ""]
    return "\n".join(out)


def main(argv):
    p = argparse.ArgumentParser(prog="bench/many.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--reps", type=int, default=1,
                   help="launches (default: %(default)s)")
    p.add_argument("--status-reps", type=int, default=10)
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds after all are up before memory is read")
    p.add_argument("--timeout", type=float, default=600,
                   help="most seconds for a cold start")
    p.add_argument("--base", default="/dev/shm")
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--out", default=os.path.join(BENCH, "RESULTS-10k.md"))
    p.add_argument("--json-dir", default=os.path.join(BENCH, "results"))
    p.add_argument("--render", metavar="JSON",
                   help="only write --out again from a run's JSON file")
    a = p.parse_args(argv)
    if a.render:
        with open(a.render) as f:
            res = json.load(f)
        with open(a.out, "w") as f:
            f.write(render(res))
        return 0
    for b in ("tendd", "tendctl"):
        if not os.access(os.path.join(a.build, b), os.X_OK):
            sys.exit("many: %s/%s is missing: run make" % (a.build, b))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    bins = harness.build_helpers(os.path.join(ROOT, "build", "bench"))
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": os.environ.get("MANY_COMMAND",
                                     ("bench/many.py " + " ".join(argv)).strip()),
           "machine": harness.machine(), "args": vars(a), "hard_limit": hard,
           "idle": harness.idle_check(), "reps": []}
    log("hard descriptor limit %d; %d processes, %d launch(es)"
        % (hard, a.n, a.reps))
    d = tempfile.mkdtemp(prefix="tendmany-", dir=a.base)
    run = Run(d, a.n, bins["child"], a.build)
    try:
        rc, out = run.check()
        res["check"] = out.replace(d + "/", "")
        log("--check: %s" % out)
        for i in range(a.reps):
            res["reps"].append(one_rep(run, a))
    finally:
        run.stop()
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(a.json_dir, exist_ok=True)
    jpath = os.path.join(a.json_dir, "many-%s.json" % time.strftime(
        "%Y%m%dT%H%M%SZ", time.gmtime()))
    with open(jpath, "w") as f:
        json.dump(res, f, indent=1)
    with open(a.out, "w") as f:
        f.write(render(res))
    log("wrote %s and %s" % (a.out, jpath))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
