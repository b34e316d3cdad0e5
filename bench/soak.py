#!/usr/bin/python3
"""bench/soak.py: tendd under a long, steady churn (issue 8: soak).

Runs N processes (default 1,000) under one tendd and restarts them at a
steady rate (default 10,000 an hour) for a bounded time: two of every three
restarts are a SIGKILL of the child (tendd restarts it on its own), the
third a `tendctl restart NAME`; every 10 s a `tendctl status` of all, every
30 s a `tendctl tail` of one. Each child writes 80 KiB to stdout when it
starts (more than its 64 KiB tail ring holds, so every ring is full from
the first start on and ring memory cannot pass for growth) into a log file
rotated every 16 KiB, so output and rotation churn with the restarts. Every --sample seconds it records tendd's RSS, CPU time, open
descriptors, children and zombies; at the end it compares the last sample
with the first one after the warm-up and says whether tendd stayed flat.

    make soak                                  # 10 minutes
    bench/soak.py --minutes 60                 # the full hour
    bench/soak.py --procs 100 --minutes 2      # a quick look

Writes bench/SOAK.md (or --out) and bench/results/soak-*.json. Not part of
make check: it reports figures; the tests check behaviour.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(BENCH, "lib"))
import harness  # noqa: E402  (machine description, shared with bench/run)
import procfs   # noqa: E402


def log(msg):
    print("[%7.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def write_config(d, n, spew):
    logs = os.path.join(d, "logs")
    os.makedirs(logs)
    with open(os.path.join(d, "tend.conf"), "w") as f:
        f.write("[tend]\nsocket = %s/tend.sock\nlogfile = %s/tendd.log\n"
                "minfds = %d\n" % (d, d, 4 * n + 256))
        f.write("\n[program:soak]\nnumprocs = %d\n"
                "process_name = %%(program_name)s%%(process_num)04d\n"
                "command = %s --bytes 80K --linger 1000000\n"
                "autorestart = true\nstartsecs = 0\nbackoff_reset = 1\n"
                "stdout_logfile = %s/%%(process_num)04d.out\n"
                "stdout_logfile_maxbytes = 16KB\nstdout_logfile_backups = 1\n"
                "stderr_logfile = %s/%%(process_num)04d.err\n"
                "stderr_logfile_maxbytes = 16KB\nstderr_logfile_backups = 1\n"
                % (n, spew, logs, logs))


def ctl(d, *args, timeout=60):
    return subprocess.run([os.path.join(ROOT, "build", "tendctl"), "-s",
                           os.path.join(d, "tend.sock")] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def running(d):
    """name -> pid of every RUNNING process, from tendctl status --json."""
    r = ctl(d, "--json", "status")
    return {p["name"]: p["pid"] for p in json.loads(r.stdout)
            if p["state"] == "RUNNING" and p["pid"]}


def zombies_of(pid):
    n = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        if rest[0] == "Z" and int(rest[1]) == pid:
            n += 1
    return n


def sample(tendd, t0, restarts):
    rss, pss = procfs.memory_kib(tendd)
    try:
        fds = len(os.listdir("/proc/%d/fd" % tendd))
        with open("/proc/%d/task/%d/children" % (tendd, tendd)) as f:
            kids = len(f.read().split())
    except OSError:
        fds = kids = None
    return {"t_s": round(time.monotonic() - t0, 1), "rss_kib": rss,
            "pss_kib": pss, "cpu_s": round(procfs.cpu_ns(tendd) / 1e9, 3),
            "fds": fds, "children": kids, "zombies": zombies_of(tendd),
            "restarts": restarts}


def verdict(samples, warm):
    base = next((s for s in samples if s["t_s"] >= warm), samples[0])
    last = samples[-1]
    grow = last["rss_kib"] - base["rss_kib"]
    # Flat: allocator noise, not growth with restarts.
    rss_ok = grow <= max(256, base["rss_kib"] * 0.02)
    fds_ok = abs(last["fds"] - base["fds"]) <= 8
    zombies_ok = all(s["zombies"] <= 5 for s in samples)
    kids_ok = abs(last["children"] - base["children"]) <= 5
    span = last["restarts"] - base["restarts"]
    cpu = last["cpu_s"] - base["cpu_s"]
    return {"base": base, "last": last, "rss_growth_kib": grow,
            "rss_growth_whole_run_kib": last["rss_kib"] -
            samples[0]["rss_kib"],
            "rss_flat": rss_ok, "fds_flat": fds_ok,
            "no_zombie_buildup": zombies_ok, "children_kept": kids_ok,
            "cpu_ms_per_restart": round(cpu * 1000 / span, 3) if span else
            None, "flat": rss_ok and fds_ok and zombies_ok and kids_ok}


def render(res):
    m, a, v = res["machine"], res["args"], res["verdict"]
    out = ["# tend soak: %d processes, %d restarts an hour, %g minutes"
           % (a["procs"], a["per_hour"], a["minutes"]), "",
           "| | |", "|---|---|",
           "| date | %s |" % res["date"],
           "| command | `%s` |" % res["command"],
           "| machine | %s, %d CPUs, %s GiB RAM, kernel %s, Debian %s |" % (
               m["cpu"], m["cpus"], m["mem_gib"], m["kernel"], m["debian"]),
           "| tend | commit %s%s |" % (m["tend_commit"],
                                     " (dirty)" if m["tend_dirty"] else ""),
           "| restarts | %d done (%d by SIGKILL, %d by `tendctl restart`)"
           " in %.0f s |" % (res["restarts"], res["kills"],
                             res["ctl_restarts"], res["elapsed_s"]),
           "| control | %d `status` of all, %d `tail`, failures: %d |" % (
               res["statuses"], res["tails"], res["ctl_failures"]),
           "", "## Verdict", "",
           "**%s**: RSS %+d KiB from %d KiB after the %g s warm-up "
           "(flat: within max(256 KiB, 2%%)); descriptors %d -> %d; "
           "children %d -> %d; zombies at most %d; tendd CPU %.3f ms per "
           "restart." % (
               "flat" if v["flat"] else "NOT FLAT", v["rss_growth_kib"],
               v["base"]["rss_kib"], a["warmup"], v["base"]["fds"],
               v["last"]["fds"], v["base"]["children"],
               v["last"]["children"],
               max(s["zombies"] for s in res["samples"]),
               v["cpu_ms_per_restart"] or 0),
           "", "Over the whole run, warm-up included: RSS %+d KiB." %
           v["rss_growth_whole_run_kib"], "",
           "## Samples", "",
           "| t, s | restarts | RSS, KiB | PSS, KiB | CPU, s | fds | "
           "children | zombies |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in res["samples"]:
        out.append("| %.0f | %d | %d | %d | %.2f | %d | %d | %d |" % (
            s["t_s"], s["restarts"], s["rss_kib"], s["pss_kib"] or 0,
            s["cpu_s"], s["fds"], s["children"], s["zombies"]))
    return "\n".join(out) + "\n"


def main(argv):
    p = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__
                                .split("\n\n")[0])
    p.add_argument("--procs", type=int, default=1000)
    p.add_argument("--per-hour", type=int, default=10000,
                   help="restarts an hour (default: %(default)s)")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--sample", type=float, default=30,
                   help="seconds between samples (default: %(default)s)")
    p.add_argument("--warmup", type=float,
                   help="seconds before the baseline sample (default: half "
                   "the run: glibc's heap settles into its working size "
                   "over the first few hundred `tendctl restart`s)")
    p.add_argument("--base", default="/dev/shm")
    p.add_argument("--out", default=os.path.join(BENCH, "SOAK.md"))
    p.add_argument("--json-dir", default=os.path.join(BENCH, "results"))
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    if a.warmup is None:
        a.warmup = a.minutes * 30
    rng = random.Random(a.seed)
    spew = os.path.join(ROOT, "build", "helpers", "spew")
    for b in (os.path.join(ROOT, "build", "tendd"), spew):
        if not os.access(b, os.X_OK):
            sys.exit("soak: %s is missing: run make all helpers" % b)
    # SIGTERM (or SIGINT in a background job) still shuts tendd down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    d = tempfile.mkdtemp(prefix="tendsoak-", dir=a.base)
    write_config(d, a.procs, spew)
    errf = open(os.path.join(d, "tendd.stderr"), "w")
    proc = subprocess.Popen([os.path.join(ROOT, "build", "tendd"), "-c",
                             os.path.join(d, "tend.conf")],
                            stdin=subprocess.DEVNULL, stdout=errf,
                            stderr=subprocess.STDOUT, start_new_session=True)
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": os.environ.get("SOAK_COMMAND",
                                     "bench/soak.py " + " ".join(argv)),
           "machine": harness.machine(), "args": vars(a), "samples": []}
    kills = ctl_restarts = statuses = tails = failures = 0
    try:
        deadline = time.monotonic() + 60
        while len(running(d) if os.path.exists(os.path.join(
                d, "tend.sock")) else {}) < a.procs:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("soak: tendd did not bring up %d processes"
                                 % a.procs)
            time.sleep(0.2)
        log("%d processes up; soaking for %g min at %d restarts/hour" % (
            a.procs, a.minutes, a.per_hour))
        t0 = time.monotonic()
        end = t0 + a.minutes * 60
        every = 3600.0 / a.per_hour
        next_restart, next_sample = t0, t0
        next_status, next_tail = t0 + 10, t0 + 30
        pids = running(d)
        names = sorted(pids)
        while True:
            now = time.monotonic()
            if now >= next_sample or now >= end:
                s = sample(proc.pid, t0, kills + ctl_restarts)
                res["samples"].append(s)
                log("rss %d KiB, cpu %.2f s, fds %d, children %d, zombies "
                    "%d, restarts %d" % (s["rss_kib"], s["cpu_s"], s["fds"],
                                         s["children"], s["zombies"],
                                         s["restarts"]))
                next_sample += a.sample
                if now >= end:
                    break
            if proc.poll() is not None:
                raise SystemExit("soak: tendd exited (%s)" % proc.returncode)
            if now >= next_status:
                pids = running(d)
                statuses += 1
                next_status += 10
            if now >= next_tail:
                r = ctl(d, "tail", rng.choice(names))
                tails += 1
                failures += r.returncode != 0
                next_tail += 30
            if now >= next_restart:
                name = rng.choice(names)
                if (kills + ctl_restarts) % 3 == 2:
                    r = ctl(d, "restart", name)
                    failures += r.returncode != 0
                    ctl_restarts += 1
                else:
                    pid = pids.pop(name, None)
                    if pid:
                        try:
                            os.kill(pid, signal.SIGKILL)
                            kills += 1
                        except ProcessLookupError:
                            pass
                next_restart += every
            time.sleep(max(0.0, min(next_restart, next_sample, next_status,
                                    next_tail) - time.monotonic()))
        res.update(elapsed_s=round(time.monotonic() - t0, 1),
                   restarts=kills + ctl_restarts, kills=kills,
                   ctl_restarts=ctl_restarts, statuses=statuses,
                   tails=tails, ctl_failures=failures)
        res["verdict"] = verdict(res["samples"], a.warmup)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        errf.close()
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(a.json_dir, exist_ok=True)
    jpath = os.path.join(a.json_dir, "soak-%s.json" % time.strftime(
        "%Y%m%dT%H%M%SZ", time.gmtime()))
    with open(jpath, "w") as f:
        json.dump(res, f, indent=1)
    with open(a.out, "w") as f:
        f.write(render(res))
    log("%s: %s; wrote %s and %s" % (
        "flat" if res["verdict"]["flat"] else "NOT FLAT",
        "RSS %+d KiB" % res["verdict"]["rss_growth_kib"], a.out, jpath))
    return 0 if res["verdict"]["flat"] else 1


T0 = time.monotonic()
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
