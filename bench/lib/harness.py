"""harness.py: tend's benchmark against supervisord, runit and s6 (and the
floor), one run on one machine, every peer measured the same way.

Run through bench/run (make bench). See bench/README.md for the method;
in short: every supervisor is started by bench/src/launch.c (a subreaper
that holds its whole process tree), supervises N copies of a static tiny
program that stamps CLOCK_MONOTONIC into an events file as the first thing
it does, and every figure is computed from those stamps and from /proc,
never from what the supervisor says about itself."""
import argparse
import json
import os
import platform
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import peers as peers_mod
import procfs
import report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "bench")
PEER_NAMES = ["tend", "supervisord", "runit", "s6", "floor"]
DEBIAN_PEERS = {"supervisord": "supervisor", "runit": "runit", "s6": "s6"}
PEER_DAEMONS = ("supervisord", "runsvdir", "runsv", "s6-svscan",
                "s6-supervise")

# A child must have run this long before it is killed, so that the 1 s
# restart throttles of runit and s6 (and tend's crash-loop backoff with
# backoff_reset = 1) do not apply: the restart rows measure restarts of
# healthy services.
MIN_AGE_NS = 1_500_000_000

T0 = time.monotonic()


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def log(msg):
    print("[%7.1fs] %s" % (time.monotonic() - T0, msg), file=sys.stderr,
          flush=True)


class BenchError(Exception):
    pass


# ------------------------------------------------------------ building

def build_helpers(outdir):
    """Builds the C helpers with gcc; the children statically, so that an
    exec costs what it must and no more."""
    os.makedirs(outdir, exist_ok=True)
    src = os.path.join(BENCH, "src")
    warn = ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow",
            "-D_GNU_SOURCE"]
    targets = [("child", ["child.c"], ["-static"]),
               ("blast", ["child.c"], ["-static", "-DBLAST"]),
               ("logcheck", ["logcheck.c"], []),
               ("launch", ["launch.c"], []),
               ("floorsup", ["floorsup.c"], []),
               ("phys", ["phys.c"], [])]
    bins = {}
    for name, files, extra in targets:
        out = os.path.join(outdir, name)
        srcs = [os.path.join(src, f) for f in files]
        deps = srcs + [os.path.join(src, "stream.h")]
        if not os.path.exists(out) or any(
                os.path.getmtime(d) > os.path.getmtime(out) for d in deps):
            cmd = ["gcc"] + warn + extra + ["-o", out] + srcs
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise BenchError("building %s failed:\n%s" % (name, r.stderr))
        bins[name] = os.path.realpath(out)
    return bins


# ------------------------------------------------------------ peers on disk

def peer_daemon_pids():
    out = {}
    for pid in procfs.table():
        e = procfs.exe(pid)
        if e is not None and os.path.basename(e) in PEER_DAEMONS:
            out[pid] = e
        elif e is not None and "python" in os.path.basename(e):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if b"supervisord" in f.read():
                        out[pid] = "supervisord"
            except OSError:
                pass
    return out


def install_peers(wanted):
    """apt-get installs the Debian packages of the peers that are missing.
    PID 1 is not systemd here and Debian's policy-rc.d forbids starting
    services, so installing must start nothing: checked from /proc, and any
    peer daemon that appeared anyway is killed by pid."""
    missing = []
    for peer in wanted:
        pkg = DEBIAN_PEERS.get(peer)
        if pkg is None:
            continue
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                           capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            missing.append(pkg)
    if not missing:
        return None
    if os.getuid() != 0:
        return "not root: run 'apt-get install %s' first" % " ".join(missing)
    before = peer_daemon_pids()
    log("installing %s (apt-get)" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
    r = subprocess.run(cmd + missing, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env,
                       capture_output=True)
        r = subprocess.run(cmd + missing, env=env, capture_output=True,
                           text=True)
    started = {p: e for p, e in peer_daemon_pids().items() if p not in before}
    for pid, e in started.items():
        log("install started %s (pid %d): killing it" % (e, pid))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if r.returncode != 0:
        return "apt-get install %s failed: %s" % (
            " ".join(missing), r.stderr.strip()[-500:])
    return ("installed %s; started: %s" % (
        " ".join(missing), ", ".join(sorted(started.values())) or "nothing"))


# ------------------------------------------------------------ events

class Events:
    """The append-only events file every child stamps into."""

    def __init__(self, path):
        self.path = path
        open(path, "w").close()
        self.f = open(path, "rb")
        self.buf = b""
        self.current = {}     # name -> (pid, t_ns) of the latest start
        self.launch = None    # (supervisor pid, t_ns)
        self.marks = {}       # (what, name) -> (pid, t_ns, extra)

    def poll(self):
        data = self.f.read()
        if not data:
            return False
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            f = line.decode().split()
            if len(f) < 4:
                continue
            what, name, pid, t = f[0], f[1], int(f[2]), int(f[3])
            if what == "up":
                self.current[name] = (pid, t)
            elif what == "launch":
                self.launch = (pid, t)
            else:
                self.marks[(what, name)] = (pid, t,
                                            int(f[4]) if len(f) > 4 else None)
        return True

    def wait(self, cond, timeout, what, interval=0.002):
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            v = cond()
            if v:
                return v
            if time.monotonic() > deadline:
                raise BenchError("timeout (%.0f s) waiting for %s" %
                                 (timeout, what))
            time.sleep(interval)


# ------------------------------------------------------------ pidfds

def open_pidfds(pids):
    fds = {}
    for pid in pids:
        try:
            fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            pass
    return fds


def wait_pidfds(fds, timeout):
    """Returns the time (monotonic ns) the last of FDS became readable, or
    None on timeout; closes them all."""
    ep = select.epoll()
    last = now_ns()
    try:
        for fd in fds:
            ep.register(fd, select.EPOLLIN | select.EPOLLONESHOT)
        left = len(fds)
        deadline = time.monotonic() + timeout
        while left:
            remain = deadline - time.monotonic()
            if remain <= 0:
                return None
            events = ep.poll(min(remain, 1.0), maxevents=max(left, 1))
            if events:
                last = now_ns()
                left -= len(events)
        return last
    finally:
        ep.close()
        for fd in fds:
            os.close(fd)


# ------------------------------------------------------------ one instance

class Instance:
    """One supervisor under test, launched in its own directory."""

    def __init__(self, args, bins, peer, tag):
        self.args, self.bins, self.peer = args, bins, peer
        self.dir = tempfile.mkdtemp(prefix="%s-%s-" % (peer.name, tag),
                                    dir=args.run_dir)
        self.events = Events(os.path.join(self.dir, "events"))
        self.proc = None
        self.child_exes = {bins["child"], bins["blast"]}

    def launch(self):
        env = dict(os.environ)
        env["BENCH_EVENTS"] = self.events.path
        env.update(self.peer.env(self.dir))
        out = open(os.path.join(self.dir, "supervisor.out"), "wb")
        self.proc = subprocess.Popen(
            [self.bins["launch"], self.events.path] +
            self.peer.launch_argv(self.dir),
            cwd=self.dir, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        self.events.wait(lambda: self.events.launch, 10, "the launcher")
        return self.events.launch

    @property
    def sup_pid(self):
        return self.events.launch[0]

    def classify(self):
        return procfs.classify(self.proc.pid, self.child_exes)

    def sup_cpu_ns(self, pids=None):
        if pids is None:
            pids = self.classify()[1]
        return sum(procfs.cpu_ns(p) or 0 for p in pids)

    def check_alive(self):
        if self.proc.poll() is not None:
            raise BenchError("%s exited (status %s); its output: %s" % (
                self.peer.name, self.proc.returncode, self.tail_output()))

    def tail_output(self):
        try:
            with open(os.path.join(self.dir, "supervisor.out"), "rb") as f:
                return f.read()[-600:].decode(errors="replace").strip()
        except OSError:
            return ""

    def teardown(self):
        """Kills, by pid, whatever is still running below the launcher, and
        reaps the launcher."""
        if self.proc is not None:
            for _ in range(50):
                pids = procfs.descendants(self.proc.pid)
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.02)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------ phases

def cold_start(inst, names):
    """Supervisor launch -> every name has a running child. Counted from
    the children's own stamps, then checked in /proc: exactly N children
    below the supervisor, and they are the stamped ones."""
    n = len(names)
    t_launch = inst.launch()[1]
    ev = inst.events

    def all_up():
        inst.check_alive()
        return len(ev.current) >= n
    ev.wait(all_up, 30 + 0.1 * n, "all %d children to start" % n)
    t_last = max(t for _, t in ev.current.values())
    children, sup = inst.classify()
    stamped = {pid for pid, _ in ev.current.values()}
    verify = {"children_in_proc": len(children),
              "stamped_alive": len(stamped & set(children)),
              "supervisor_procs": len(sup)}
    if len(children) != n or stamped != set(children):
        raise BenchError("/proc shows %d children (%d of them stamped), "
                         "expected %d" % (len(children),
                                          verify["stamped_alive"], n))
    return (t_last - t_launch) / 1e9, verify


def wait_min_age(ev, names=None):
    """Sleeps until every child (of NAMES) has run MIN_AGE_NS."""
    ev.poll()
    ts = [t for name, (_, t) in ev.current.items()
          if names is None or name in names]
    wait = (max(ts) + MIN_AGE_NS - now_ns()) / 1e9 if ts else 0
    if wait > 0:
        time.sleep(wait + 0.01)


def pick_old(ev, rng):
    while True:
        ev.poll()
        t = now_ns()
        old = [name for name, (_, ts) in ev.current.items()
               if t - ts >= MIN_AGE_NS]
        if old:
            return rng.choice(sorted(old))
        youngest_old = min(ts for _, ts in ev.current.values())
        time.sleep(max(0.005, (youngest_old + MIN_AGE_NS - t) / 1e9))


def kill_and_wait(inst, name, timeout=15):
    """SIGKILLs NAME's child; returns ms from the kill() call to the
    replacement's own start stamp."""
    ev = inst.events
    old_pid = ev.current[name][0]
    t_kill = now_ns()
    os.kill(old_pid, signal.SIGKILL)

    def replaced():
        cur = ev.current.get(name)
        if cur and cur[0] != old_pid:
            return cur
        inst.check_alive()
        return None
    _, t_new = ev.wait(replaced, timeout, "%s to be restarted" % name)
    return (t_new - t_kill) / 1e6


def restart_latency(inst, kills, rng):
    out = []
    for _ in range(kills):
        name = pick_old(inst.events, rng)
        out.append(kill_and_wait(inst, name))
        # Let the supervisor finish its bookkeeping (status files, logs)
        # so that kills do not overlap.
        time.sleep(0.02)
    return out


def rekill_latency(inst, rekills, rng):
    """Kill, then kill the replacement right after it starts: shows each
    supervisor's restart throttle / crash-loop delay."""
    out = []
    for _ in range(rekills):
        name = pick_old(inst.events, rng)
        kill_and_wait(inst, name)
        out.append(kill_and_wait(inst, name))
        time.sleep(0.02)
    return out


def steady_state(inst, n, seconds):
    """N idle children for SECONDS: CPU the supervisor's own processes used,
    their summed RSS and PSS, and the rest of the machine's CPU use in the
    same window (a noise gauge: other work on the machine)."""
    time.sleep(2)
    children, sup = inst.classify()
    busy0, cpu0, t0 = procfs.system_busy_ns(), inst.sup_cpu_ns(sup), now_ns()
    load0 = procfs.loadavg()
    time.sleep(seconds)
    busy1, cpu1, t1 = procfs.system_busy_ns(), inst.sup_cpu_ns(sup), now_ns()
    children2, sup2 = inst.classify()
    rss = pss = 0
    for pid in sup2:
        r, p = procfs.memory_kib(pid)
        rss += r or 0
        pss += p or 0
    cpu_s = (cpu1 - cpu0) / 1e9
    return {"seconds": (t1 - t0) / 1e9, "cpu_s": cpu_s,
            "rss_kib": rss, "pss_kib": pss, "procs": len(sup2),
            "children_before": len(children), "children_after": len(children2),
            "procs_changed": sorted(sup) != sorted(sup2),
            "other_cpu_s": max(0.0, (busy1 - busy0) / 1e9 - cpu_s),
            "loadavg": [load0, procfs.loadavg()]}


def status_latency(inst, n, reps, budget):
    """Wall time of the peer's own 'status of everything' CLI, after one
    untimed warm-up run; checks that it reports all N up."""
    cmd = inst.peer.status_cmd(inst.dir)
    r = subprocess.run(cmd, cwd=inst.dir, capture_output=True, text=True,
                       timeout=120)
    up = inst.peer.count_up(r.stdout)
    times, deadline = [], time.monotonic() + budget
    while len(times) < reps and (len(times) < 5 or
                                 time.monotonic() < deadline):
        t0 = time.perf_counter_ns()
        subprocess.run(cmd, cwd=inst.dir, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return times, {"reported_up": up, "exit": r.returncode,
                   "ok": up == n,
                   "sample": r.stdout.splitlines()[:2]}


def run_cli(inst, cmd):
    return subprocess.Popen(cmd, cwd=inst.dir, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def stop_all(inst, n, timeout):
    """The peer's stop-everything command, supervisor staying up: from the
    command's start until every child has exited (pidfds opened first)."""
    ev = inst.events
    wait_min_age(ev)
    children, _ = inst.classify()
    fds = open_pidfds(children)
    t0 = now_ns()
    cli = run_cli(inst, inst.peer.stop_all_cmd(inst.dir))
    t_gone = wait_pidfds(fds, timeout)
    _, err = cli.communicate(timeout=timeout)
    t_cli = now_ns()
    if t_gone is None:
        raise BenchError("stop all: children still running after %.0f s"
                         % timeout)
    time.sleep(0.2)
    left, _ = inst.classify()
    if left:
        raise BenchError("stop all: %d children running again 0.2 s later"
                         % len(left))
    return (t_gone - t0) / 1e9, {"cli_s": (t_cli - t0) / 1e9,
                                 "cli_exit": cli.returncode,
                                 "stopped": len(children)}


def start_all(inst, names, timeout):
    """The peer's start-everything command, supervisor up, all stopped:
    until every name has a new child (its own start stamp)."""
    ev = inst.events
    ev.poll()
    old = {name: pid for name, (pid, _) in ev.current.items()}
    t0 = now_ns()
    cli = run_cli(inst, inst.peer.start_all_cmd(inst.dir))

    def all_new():
        inst.check_alive()
        return all(name in ev.current and ev.current[name][0] != old.get(name)
                   for name in names)
    ev.wait(all_new, timeout, "start all")
    t_last = max(ev.current[name][1] for name in names)
    cli.communicate(timeout=timeout)
    return (t_last - t0) / 1e9, {"cli_s": (now_ns() - t0) / 1e9,
                                 "cli_exit": cli.returncode}


def shutdown(inst, timeout):
    """Shutdown with all children running: signal (or command) until every
    child is gone, and until every supervisor process is gone."""
    children, sup = inst.classify()
    child_fds, sup_fds = open_pidfds(children), open_pidfds(sup)
    t0 = now_ns()
    cmd = inst.peer.shutdown(inst.dir, inst.sup_pid)
    t_children = wait_pidfds(child_fds, timeout)
    t_sup = wait_pidfds(sup_fds, timeout) if t_children else None
    if cmd is not None:
        try:
            cmd.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            cmd.kill()
            cmd.communicate()
    if t_children is None or t_sup is None:
        raise BenchError("shutdown: %s still running after %.0f s" % (
            "children" if t_children is None else "supervisor", timeout))
    return (t_children - t0) / 1e9, (t_sup - t0) / 1e9


# ------------------------------------------------------------ one (peer, N)

def bench_block(args, bins, peer, n):
    names = ["c%d" % i for i in range(n)]
    res = {"n": n, "cold_start_s": [], "verify": [], "restart_ms": [],
           "rekill_ms": [], "steady": None, "status_ms": [],
           "status_check": None, "stop_all_s": [], "stop_all_info": [],
           "start_all_s": [], "start_all_info": [],
           "shutdown_children_s": [], "shutdown_sup_s": [], "errors": [],
           "loadavg": [procfs.loadavg()]}
    rng = random.Random(n)
    reps = args.reps if n < 1000 else min(args.reps, args.reps_1000)
    for rep in range(reps):
        inst = Instance(args, bins, peer, "n%d" % n)
        try:
            peer.setup(inst.dir, names)
            cs, verify = cold_start(inst, names)
            res["cold_start_s"].append(cs)
            res["verify"].append(verify)
            log("%s N=%d rep %d/%d: cold start %.3f s" % (
                peer.name, n, rep + 1, reps, cs))
            if rep == 0:
                if args.steady > 0:
                    res["steady"] = steady_state(inst, n, args.steady)
                    log("  steady: %.3f CPU s, RSS %.1f MiB, PSS %.1f MiB "
                        "(%d procs)" % (res["steady"]["cpu_s"],
                                        res["steady"]["rss_kib"] / 1024,
                                        res["steady"]["pss_kib"] / 1024,
                                        res["steady"]["procs"]))
                res["restart_ms"] = restart_latency(inst, args.kills, rng)
                log("  restart: median %.2f ms, p99 %.2f ms (%d kills)" % (
                    statistics.median(res["restart_ms"]),
                    report.pct(res["restart_ms"], 99), args.kills))
                if args.rekills > 0:
                    res["rekill_ms"] = rekill_latency(inst, args.rekills, rng)
                    log("  re-kill: median %.1f ms" %
                        statistics.median(res["rekill_ms"]))
                res["status_ms"], res["status_check"] = status_latency(
                    inst, n, args.status_reps, args.status_budget)
                log("  status: median %.2f ms (%d runs), reports %d/%d up" % (
                    statistics.median(res["status_ms"]), len(res["status_ms"]),
                    res["status_check"]["reported_up"], n))
            timeout = 30 + 0.1 * n
            s, info = stop_all(inst, n, timeout)
            res["stop_all_s"].append(s)
            res["stop_all_info"].append(info)
            s2, info2 = start_all(inst, names, timeout)
            res["start_all_s"].append(s2)
            res["start_all_info"].append(info2)
            log("  stop all %.3f s, start all %.3f s" % (s, s2))
            wait_min_age(inst.events)
            sc, ss = shutdown(inst, args.shutdown_timeout)
            res["shutdown_children_s"].append(sc)
            res["shutdown_sup_s"].append(ss)
            log("  shutdown: children gone %.3f s, supervisor gone %.3f s"
                % (sc, ss))
        except (BenchError, OSError, subprocess.SubprocessError,
                ValueError) as e:
            msg = "rep %d: %s" % (rep + 1, e)
            res["errors"].append(msg)
            log("  ERROR %s %s" % (peer.name, msg))
            if inst.proc is not None and inst.proc.poll() is not None:
                log("  its output: %s" % inst.tail_output())
        finally:
            inst.teardown()
    res["loadavg"].append(procfs.loadavg())
    return res


# ------------------------------------------------------------ log test

def log_size(peer, logdir):
    total = 0
    for f in peer.log_files(logdir):
        try:
            total += os.stat(f).st_size
        except OSError:
            pass
    return total


def bench_log(args, bins, peer, rep):
    nbytes = args.log_mb * 1000000 // 100 * 100
    inst = Instance(args, bins, peer, "log")
    logdir = os.path.join(inst.dir, "logs")
    os.makedirs(logdir, exist_ok=True)
    go = os.path.join(inst.dir, "go")
    os.environ["BENCH_GO"], os.environ["BENCH_BYTES"] = go, str(nbytes)
    out = {"bytes_expected": nbytes}
    try:
        peer.setup_log(inst.dir, logdir)
        inst.launch()
        ev = inst.events
        ev.wait(lambda: inst.check_alive() or "blast" in ev.current, 30,
                "the writer to start")
        time.sleep(0.5)   # the logger (svlogd, s6-log) is started too
        _, sup = inst.classify()
        cpu0 = inst.sup_cpu_ns(sup)
        open(go, "w").close()
        _, t_go, _ = ev.wait(lambda: ev.marks.get(("go", "blast")), 10,
                             "the writer's go")
        timeout = 30 + nbytes / 5e6
        deadline = time.monotonic() + timeout
        size, last_growth, t_full = 0, time.monotonic(), None
        while True:
            s = log_size(peer, logdir)
            t = now_ns()
            if s >= nbytes:
                t_full = t
                size = s
                break
            if s != size:
                size, last_growth = s, time.monotonic()
            ev.poll()
            wrote = ev.marks.get(("wrote", "blast"))
            if wrote and time.monotonic() - last_growth > 3:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        _, sup2 = inst.classify()
        out["sup_cpu_s"] = (inst.sup_cpu_ns(sup2) - cpu0) / 1e9
        try:
            ev.wait(lambda: ev.marks.get(("wrote", "blast")), 5,
                    "the writer's end")
        except BenchError:
            pass
        wrote = ev.marks.get(("wrote", "blast"))
        out["writer_s"] = (wrote[1] - t_go) / 1e9 if wrote else None
        out["writer_bytes"] = wrote[2] if wrote else None
        if size == 0 and t_full is None:
            out["status"] = peer.log_missing()
            return out
        time.sleep(0.3)   # anything beyond the expected size shows too
        files = peer.log_files(logdir)
        r = subprocess.run([bins["logcheck"], str(nbytes)] + files,
                           capture_output=True, text=True, timeout=300)
        check = json.loads(r.stdout)
        out.update(check)
        out["files"] = len(files)
        out["lost"] = nbytes - check["match"]
        out["extra"] = max(0, check["bytes"] - nbytes)
        if t_full is not None:
            out["mb_s"] = nbytes / 1e6 / ((t_full - t_go) / 1e9)
            out["status"] = "ok" if check["ok"] else "corrupt"
        else:
            out["status"] = "incomplete after %.0f s" % timeout
        return out
    except (BenchError, OSError, subprocess.SubprocessError,
            ValueError) as e:
        out["status"] = "error: %s" % e
        return out
    finally:
        del os.environ["BENCH_GO"], os.environ["BENCH_BYTES"]
        inst.teardown()


# ------------------------------------------------------------ physical floor

def physical(bins, base, iters):
    fd, events = tempfile.mkstemp(prefix="phys-", dir=base)
    os.close(fd)
    try:
        r = subprocess.run([bins["phys"], bins["child"], events, str(iters)],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise BenchError("phys failed: %s" % r.stderr)
        return json.loads(r.stdout)
    finally:
        os.unlink(events)


# ------------------------------------------------------------ machine

def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return ""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        debian = ""
    try:
        with open("/proc/1/comm") as f:
            init = f.read().strip()
    except OSError:
        init = "?"
    fs = sh(["stat", "-f", "-c", "%T", os.path.realpath(ROOT)])
    return {"kernel": platform.release(), "cpu": model,
            "cpus": os.cpu_count(), "mem_gib": round(mem_kib / 1048576, 1),
            "debian": debian, "pid1": init,
            "python": platform.python_version(),
            "tend_commit": sh(["git", "-C", ROOT, "rev-parse", "--short",
                               "HEAD"]),
            "tend_dirty": bool(sh(["git", "-C", ROOT, "status",
                                   "--porcelain", "--untracked-files=no"])),
            "repo_fs": fs}


# ------------------------------------------------------------ main

# Defaults of a full run, and of a --quick smoke run where they differ.
FULL = {"n": "10,100,1000", "reps": 3, "kills": 50, "rekills": 5,
        "steady": 30.0, "status_reps": 20, "log_mb": 1000, "log_reps": 3,
        "phys_iters": 2000}
QUICK = {"n": "10", "reps": 1, "kills": 10, "rekills": 2, "steady": 3.0,
         "status_reps": 5, "log_mb": 20, "log_reps": 1, "phys_iters": 200}
QUICK_DIR = "/tmp/tend-bench-quick"


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="tend against supervisord, runit and s6 (and the "
        "floor): cold start, restart latency, steady-state memory and CPU, "
        "status latency, log throughput, stop-all; see bench/README.md. "
        "Defaults are a full run's; --quick changes those not given.")
    p.add_argument("--only", default=",".join(PEER_NAMES),
                   help="peers to measure (default: %(default)s)")
    p.add_argument("--n", help="numbers of children (default: %s; quick: "
                   "%s; empty: no supervision blocks)" % (FULL["n"],
                                                          QUICK["n"]))
    p.add_argument("--reps", type=int,
                   help="supervisor launches per N; cold start, stop all, "
                   "start all and shutdown are medians of these (default: "
                   "%d)" % FULL["reps"])
    p.add_argument("--reps-1000", type=int, default=3,
                   help="at most this many launches at N >= 1000")
    p.add_argument("--kills", type=int, help="SIGKILLs for the restart "
                   "latency (default: %d)" % FULL["kills"])
    p.add_argument("--rekills", type=int, help="kill-the-replacement-at-"
                   "once samples (default: %d)" % FULL["rekills"])
    p.add_argument("--steady", type=float, help="seconds of idle steady "
                   "state (default: %g)" % FULL["steady"])
    p.add_argument("--status-reps", type=int, help="timed status runs "
                   "(default: %d)" % FULL["status_reps"])
    p.add_argument("--status-budget", type=float, default=20,
                   help="stop timing status after this many seconds "
                   "(at least 5 runs; default: %(default)s)")
    p.add_argument("--log-mb", type=int, help="MB (10^6 bytes) the log "
                   "test's writer writes (default: %d = 1 GB)"
                   % FULL["log_mb"])
    p.add_argument("--log-reps", type=int, help="log test repetitions "
                   "(default: %d)" % FULL["log_reps"])
    p.add_argument("--no-log", action="store_true", help="skip the log test")
    p.add_argument("--phys-iters", type=int, help="iterations of the "
                   "physical-floor tests (default: %d)" % FULL["phys_iters"])
    p.add_argument("--shutdown-timeout", type=float, default=90)
    p.add_argument("--base", default="/dev/shm",
                   help="where service dirs, events and logs live "
                   "(default: %(default)s, tmpfs)")
    p.add_argument("--tend-build", default=os.path.join(ROOT, "build"),
                   help="directory of tendd and tendctl")
    p.add_argument("--out", help="the Markdown table (default: "
                   "bench/RESULTS.md; quick: %s/RESULTS.md)" % QUICK_DIR)
    p.add_argument("--json-dir", help="raw results, one JSON file per run "
                   "(default: bench/results; quick: %s)" % QUICK_DIR)
    p.add_argument("--max-minutes", type=float, default=50,
                   help="time budget: blocks that would start later are "
                   "skipped and marked so (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="development smoke run (about 1.5 min): N=10, 1 "
                   "launch, 10 kills, 3 s steady, 20 MB log, results under "
                   "%s; the figures are not for publication" % QUICK_DIR)
    p.add_argument("--no-install", action="store_true",
                   help="never apt-get install the peers")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directories")
    p.add_argument("--render", nargs="+", metavar="JSON",
                   help="only write --out from these runs' JSON files "
                   "(medians across runs)")
    args = p.parse_args(argv)
    for k, v in (QUICK if args.quick else FULL).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.out is None:
        args.out = (os.path.join(QUICK_DIR, "RESULTS.md") if args.quick
                    else os.path.join(BENCH, "RESULTS.md"))
    if args.json_dir is None:
        args.json_dir = (QUICK_DIR if args.quick
                         else os.path.join(BENCH, "results"))
    args.only = [x.strip() for x in args.only.split(",") if x.strip()]
    for x in args.only:
        if x not in PEER_NAMES:
            p.error("--only: unknown %r (one of %s)" % (
                x, ", ".join(PEER_NAMES)))
    args.n = [int(x) for x in args.n.split(",") if x.strip()]
    if args.kills < 1 or args.reps < 1:
        p.error("--kills and --reps must be >= 1")
    return args


def remove_stale(base):
    """Removes the directories of earlier runs whose harness is gone (one
    killed with SIGKILL cannot clean up; its logs can be a GB of RAM)."""
    for d in os.listdir(base):
        parts = d.split("-")
        if parts[0] != "tendbench" or len(parts) < 3 or \
                not parts[1].isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % parts[1], "rb") as f:
                if b"harness.py" in f.read():
                    continue
        except OSError:
            pass
        log("removing %s (left by an earlier run)" % os.path.join(base, d))
        shutil.rmtree(os.path.join(base, d), ignore_errors=True)


def idle_check(seconds=2.0):
    """How busy the machine is before the run starts (other engineers'
    builds, say): CPU seconds used per second over a short window."""
    b0, t0 = procfs.system_busy_ns(), time.monotonic()
    time.sleep(seconds)
    return {"busy_cpus": (procfs.system_busy_ns() - b0) / 1e9 /
            (time.monotonic() - t0), "loadavg": procfs.loadavg()}


def main(argv):
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every instance is torn down by pid.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.render:
        runs = []
        for path in args.render:
            with open(path) as f:
                runs.append(json.load(f))
        with open(args.out, "w") as f:
            f.write(report.render(runs))
        log("wrote %s from %d run(s)" % (args.out, len(runs)))
        return 0

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    os.makedirs(args.json_dir, exist_ok=True)
    json_path = os.path.join(args.json_dir, "run-%s.json" % stamp)
    bins = build_helpers(os.path.join(ROOT, "build", "bench"))
    remove_stale(args.base)
    args.run_dir = tempfile.mkdtemp(prefix="tendbench-%d-" % os.getpid(),
                                    dir=args.base)
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass

    run = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": os.environ.get("BENCH_COMMAND") or
           " ".join(["bench/run"] + argv),
           "quick": args.quick, "machine": machine(),
           "settings": {k: v for k, v in vars(args).items()
                        if k not in ("render",)},
           "install": None, "peers": {}, "results": {}, "log": {},
           "phys": {}, "skipped": [], "elapsed_s": None}
    wanted = [x for x in PEER_NAMES if x in args.only]
    # Peer daemons running before we start anything (an earlier install,
    # another user): reported, never touched.
    run["peer_daemons_at_start"] = peer_daemon_pids()
    if not args.no_install:
        run["install"] = install_peers(wanted)
        if run["install"]:
            log(run["install"])
    all_p = {p.name: p for p in peers_mod.all_peers(bins, args.tend_build)}
    active = []
    for name in wanted:
        p = all_p[name]
        why = p.available()
        run["peers"][name] = {"version": None if why else p.version(),
                              "unavailable": why,
                              "min_delay": p.MIN_DELAY,
                              "settings": p.SETTINGS,
                              "shutdown": p.SHUTDOWN}
        if why:
            log("skipping %s: %s" % (name, why))
        else:
            active.append(p)

    def save():
        run["elapsed_s"] = time.monotonic() - T0
        with open(json_path + ".tmp", "w") as f:
            json.dump(run, f, indent=1)
        os.replace(json_path + ".tmp", json_path)

    budget = args.max_minutes * 60
    try:
        run["idle_before"] = idle_check()
        log("machine before the run: %.2f CPUs busy, load %.2f" % (
            run["idle_before"]["busy_cpus"], run["idle_before"]["loadavg"]))
        log("physical floor (start of run)")
        run["phys"]["start"] = physical(bins, args.run_dir, args.phys_iters)
        save()
        if active:
            for n in args.n:
                for p in active:
                    if time.monotonic() - T0 > budget:
                        run["skipped"].append("%s N=%d" % (p.name, n))
                        log("time budget spent: skipping %s N=%d" % (
                            p.name, n))
                        continue
                    res = bench_block(args, bins, p, n)
                    run["results"].setdefault(p.name, {})[str(n)] = res
                    save()
            if not args.no_log:
                for p in active:
                    run["log"][p.name] = []
                    for rep in range(args.log_reps):
                        if time.monotonic() - T0 > budget:
                            run["skipped"].append("%s log" % p.name)
                            break
                        r = bench_log(args, bins, p, rep)
                        run["log"][p.name].append(r)
                        log("log %s rep %d: %s%s" % (
                            p.name, rep + 1, r.get("status"),
                            ", %.0f MB/s, lost %d B" % (r["mb_s"], r["lost"])
                            if "mb_s" in r else ""))
                        save()
                        if not r.get("status", "").startswith("ok") and \
                                "mb_s" not in r:
                            break
        log("physical floor (end of run)")
        run["phys"]["end"] = physical(bins, args.run_dir, args.phys_iters)
    finally:
        if not args.keep:
            shutil.rmtree(args.run_dir, ignore_errors=True)
        save()
        run["leftover_peer_daemons"] = peer_daemon_pids()
        save()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report.render([run]))
    log("wrote %s and %s (%.1f min)" % (args.out, json_path,
                                        (time.monotonic() - T0) / 60))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
