#!/usr/bin/python3
"""
bench/tendctl_start.py: what a run of tendctl costs, linked dynamically
(the default, and the package's) or statically (TENDCTL_STATIC=1);
`make bench-tendctl`, figures in bench/RESULTS-tendctl.md.

tendctl is exec'd once per question a script asks, so its start-up is
most of what it costs. Measured, interleaved round by round so that both
builds see the same machine, REPS times each:

  /bin/true           a program that does nothing, linked dynamically to libc
  tendctl --help      start-up alone: loader, relocations, libc init, a print
  tendctl status      status of N processes from a private tendd

Time: os.posix_spawn() to waitpid() returning, in this process (Python's
own overhead is the same for every row). Output goes
to /dev/null. Median, p10 and p90 in microseconds.

  /usr/bin/python3 bench/tendctl_start.py --dynamic build/tendctl \\
      --static build/static/tendctl [--reps 2000] [--n 100] [--out FILE]
"""
import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("TEND_BUILD", str(ROOT / "build")))


def spawn_wait(argv, devnull):
    t = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
        (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, st = os.waitpid(pid, 0)
    dt = time.perf_counter_ns() - t
    return dt, os.waitstatus_to_exitcode(st)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dynamic", default=str(BUILD / "tendctl"))
    ap.add_argument("--static", default=str(BUILD / "static" / "tendctl"))
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--out", default=str(ROOT / "bench/RESULTS-tendctl.md"))
    a = ap.parse_args()

    builds = {"dynamic": os.path.abspath(a.dynamic),
              "static": os.path.abspath(a.static)}
    for name, path in builds.items():
        ldd = subprocess.run(["ldd", path], capture_output=True, text=True)
        static = "not a dynamic executable" in ldd.stdout + ldd.stderr
        if static != (name == "static"):
            raise SystemExit("%s is not a %s executable" % (path, name))

    d = tempfile.mkdtemp(prefix="tend-bench-ctl-")
    sock = os.path.join(d, "tend.sock")
    Path(d, "tend.conf").write_text(
        "[tend]\nsocket = %s\nchildlogdir = %s\n\n[program:p]\n"
        "command = /bin/sleep 100000\nnumprocs = %d\n"
        "process_name = %%(program_name)s_%%(process_num)d\n"
        "stdout_logfile = NONE\nstderr_logfile = NONE\nstartsecs = 0\n"
        % (sock, d, a.n))
    tendd = subprocess.Popen([str(BUILD / "tendd"), "-c", os.path.join(
        d, "tend.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    rows = {}
    try:
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run([builds["dynamic"], "-s", sock, "status"],
                               capture_output=True, text=True)
            if r.returncode == 0 and len(r.stdout.splitlines()) == a.n:
                break
            if time.monotonic() > deadline or tendd.poll() is not None:
                raise SystemExit("tendd did not start %d processes" % a.n)
            time.sleep(0.1)

        cases = [("/bin/true", None, ["/bin/true"])]
        for name, path in builds.items():
            cases.append(("tendctl --help", name, [path, "--help"]))
            cases.append(("tendctl status (%d processes)" % a.n, name,
                          [path, "-s", sock, "status"]))
        samples = {(c[0], c[1]): [] for c in cases}
        devnull = os.open(os.devnull, os.O_RDWR)
        for _ in range(20):             # warm the page cache
            for label, build, argv in cases:
                spawn_wait(argv, devnull)
        for _ in range(a.reps):
            for label, build, argv in cases:
                dt, rc = spawn_wait(argv, devnull)
                if rc != 0:
                    raise SystemExit("%s exited %d" % (argv, rc))
                samples[(label, build)].append(dt / 1000.0)
        os.close(devnull)
        rows = {k: (statistics.median(v), pct(v, 10), pct(v, 90))
                for k, v in samples.items()}
    finally:
        os.killpg(tendd.pid, signal.SIGTERM)
        tendd.wait(timeout=30)
        shutil.rmtree(d, ignore_errors=True)

    sizes = {n: os.path.getsize(p) for n, p in builds.items()}
    lines = [
        "# tendctl: dynamic or static",
        "",
        "`make bench-tendctl` (bench/tendctl_start.py): the wall time of one "
        "run of tendctl, posix_spawn() to waitpid(), median (p10-p90) of %d "
        "runs each, interleaved; a private tendd with %d processes for "
        "`status`. Machine: %s, %d CPUs, Linux %s, load average %.1f at "
        "the end (other work was running: the p10-p90 spread shows it)."
        % (a.reps, a.n, platform.machine(), os.cpu_count(),
           platform.release(), os.getloadavg()[0]),
        "",
        "| run | dynamic (the package's) | static (TENDCTL_STATIC=1) "
        "| static saves |",
        "|---|---:|---:|---:|",
    ]
    m, lo, hi = rows[("/bin/true", None)]
    lines.append("| `/bin/true` (dynamic, libc only) | %.0f us (%.0f-%.0f) "
                 "| | |" % (m, lo, hi))
    for label in ("tendctl --help", "tendctl status (%d processes)" % a.n):
        dm, dlo, dhi = rows[(label, "dynamic")]
        sm, slo, shi = rows[(label, "static")]
        lines.append("| `%s` | %.0f us (%.0f-%.0f) | %.0f us (%.0f-%.0f) "
                     "| %.0f us |" % (label, dm, dlo, dhi, sm, slo, shi,
                                      dm - sm))
    dm = rows[("tendctl --help", "dynamic")][0]
    sm = rows[("tendctl --help", "static")][0]
    lines += [
        "",
        "Linking statically saves the dynamic loader's work (mapping libc, "
        "jansson and inih, relocations): %.0f us a run here, %.0f%% of a "
        "dynamic tendctl that only starts. Sizes: %d bytes dynamic, %d "
        "static (stripped by the package build, not here)."
        % (dm - sm, 100.0 * (dm - sm) / dm, sizes["dynamic"],
           sizes["static"]),
        "",
        "The package links tendctl dynamically all the same: glibc, jansson "
        "and inih then get their security updates into it, which Debian "
        "requires (lintian's `statically-linked-binary`); a script that "
        "asks tendd a hundred questions pays %.0f ms more for it. `make "
        "TENDCTL_STATIC=1` builds the static one for whoever wants it."
        % ((dm - sm) * 100 / 1000.0),
        "",
    ]
    Path(a.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
