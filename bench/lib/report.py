"""report.py: renders one or more runs' JSON as the Markdown results page:
rows metric x N, columns tend, supervisord, runit, s6, floor, then the
ratios tend/peer. With several runs, each cell is the median of the runs'
values. Cells whose repetitions (or runs) spread by more than NOISY are
marked, and so is the steady-state row when the rest of the machine was
busy during its window."""
import os
import statistics

COLS = ["tend", "supervisord", "runit", "s6", "floor"]
PEERS = ["supervisord", "runit", "s6"]
NOISY = 1.3          # max/min of a cell's repetitions above this: "~"
BUSY_SHARE = 0.10    # steady: other CPU above 10% of one core: "!"


def pct(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    if not s:
        return None
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


def _med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _spread(xs):
    xs = [x for x in xs if x is not None]
    if len(xs) < 2 or min(xs) <= 0:
        return False
    return max(xs) / min(xs) > NOISY


def _steady(key, scale=1.0):
    """A steady-state figure; noisy when the rest of the machine was busy
    during the window."""
    def get(r):
        st = r.get("steady")
        if not st:
            return None, False
        busy = st["other_cpu_s"] > BUSY_SHARE * st["seconds"]
        return st[key] * scale, busy
    return get


def _reps(key):
    """Median of one value per supervisor launch; noisy when the launches
    spread."""
    def get(r):
        xs = r.get(key) or []
        return (_med(xs), _spread(xs)) if xs else (None, False)
    return get


def _dist(key, agg):
    """A statistic of many samples from one launch (restart, status): the
    spread is the measured distribution itself, not noise."""
    def get(r):
        xs = r.get(key) or []
        return (agg(xs), False) if xs else (None, False)
    return get


# (label, getter, format, marker for a noisy cell); lower is better. The
# re-kill row shows a policy (each peer's restart throttle, tend's
# configured crash-loop backoff), not a cost: no "tend leads" for it.
NO_LEAD = ("re-kill",)
METRICS = [
    ("cold start: launch to all N running, s",
     _reps("cold_start_s"), "%.3f", "~"),
    ("restart after SIGKILL, median ms",
     _dist("restart_ms", _med), "%.2f", "~"),
    ("restart after SIGKILL, p99 ms",
     _dist("restart_ms", lambda xs: pct(xs, 99)), "%.2f", "~"),
    ("re-kill at once after a restart, median ms (throttle/backoff)",
     _dist("rekill_ms", _med), "%.1f", "~"),
    ("steady: supervisor CPU s in the idle window",
     _steady("cpu_s"), "%.3f", "!"),
    ("steady: supervisor RSS sum, MiB",
     _steady("rss_kib", 1 / 1024), "%.1f", "!"),
    ("steady: supervisor PSS sum, MiB",
     _steady("pss_kib", 1 / 1024), "%.1f", "!"),
    ("status of all N via own CLI, median ms",
     _dist("status_ms", _med), "%.2f", "~"),
    ("stop all: command to all N exited, s",
     _reps("stop_all_s"), "%.3f", "~"),
    ("start all (supervisor up), s",
     _reps("start_all_s"), "%.3f", "~"),
    ("shutdown: signal to all children exited, s",
     _reps("shutdown_children_s"), "%.3f", "~"),
    ("shutdown: signal to all supervisor processes exited, s",
     _reps("shutdown_sup_s"), "%.3f", "~"),
]


def _cell(runs, peer, n, getter):
    """The median over RUNS of one cell, and whether it is noisy."""
    vals, noisy = [], False
    for run in runs:
        r = run.get("results", {}).get(peer, {}).get(str(n))
        if r is None:
            continue
        v, nz = getter(r)
        if v is not None:
            vals.append(v)
            noisy = noisy or nz
    if not vals:
        return None, False
    return _med(vals), noisy or _spread(vals)


def _fmt(v, fmt):
    if v is None:
        return "—"
    return fmt % v


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    if r >= 10:
        return "%.0f" % r
    return "%.2f" % r if r >= 0.1 else "%.2g" % r


def _leads(vals, higher_better=False):
    t = vals.get("tend")
    others = [vals[p] for p in PEERS if vals.get(p) is not None]
    if t is None or not others:
        return "—"
    best = max(others) if higher_better else min(others)
    ok = t >= best if higher_better else t <= best
    return "yes" if ok else "no"


def _log_cell(runs, peer):
    reps = []
    for run in runs:
        reps.extend(run.get("log", {}).get(peer, []))
    if not reps:
        return None
    measured = [r for r in reps if r.get("mb_s") is not None]
    if not measured:
        return {"status": reps[0].get("status", "?")}
    return {"mb_s": _med([r["mb_s"] for r in measured]),
            "noisy": _spread([r["mb_s"] for r in measured]),
            "lost": max(r.get("lost", 0) for r in measured),
            "extra": max(r.get("extra", 0) for r in measured),
            "ok": all(r.get("status") == "ok" for r in measured),
            "cpu": _med([r.get("sup_cpu_s") for r in measured]),
            "reps": len(measured),
            "status": ", ".join(sorted({r["status"] for r in reps}))}


def render(runs):
    first = runs[0]
    m = first["machine"]
    ns = sorted({int(n) for run in runs for res in run["results"].values()
                 for n in res})
    present = [c for c in COLS
               if any(c in run["results"] or c in run.get("log", {})
                      for run in runs)]
    out = []
    w = out.append
    w("# tend benchmark: tend, supervisord, runit, s6 and the floor\n")
    if any(run.get("quick") for run in runs):
        w("> **Quick development run (`--quick`): small N, few repetitions, "
          "short windows. Not results: do not quote these figures.**\n")
    w("| | |\n|---|---|")
    w("| date | %s |" % ", ".join(run["date"] for run in runs))
    w("| command | %s |" % "; ".join("`%s`" % run["command"] for run in runs))
    w("| runs | %d (each cell: median of the runs' values) |" % len(runs))
    w("| machine | %s, %d CPUs, %.0f GiB RAM, kernel %s, Debian %s, PID 1 "
      "is `%s` |" % (m["cpu"], m["cpus"], m["mem_gib"], m["kernel"],
                     m["debian"], m["pid1"]))
    w("| tend | commit %s%s |" % (m["tend_commit"],
                                  " (with uncommitted changes)"
                                  if m["tend_dirty"] else ""))
    for name in ("supervisord", "runit", "s6"):
        info = first["peers"].get(name)
        if info:
            w("| %s | %s |" % (name, info["version"] and "Debian %s" %
                               info["version"] or info["unavailable"]))
    s = first["settings"]
    w("| settings | N = %s; %d launches per N (%d at N >= 1000); %d kills; "
      "%d re-kills; %g s steady window; status %d runs; log %d MB x %d; "
      "state on `%s` |\n" % (
          ", ".join(str(n) for n in ns), s["reps"],
          min(s["reps"], s["reps_1000"]), s["kills"], s["rekills"],
          s["steady"], s["status_reps"], s["log_mb"], s["log_reps"],
          s["base"]))

    w("## Side by side\n")
    w("Lower is better in every row but log throughput. Ratios are tend / "
      "peer (below 1: tend is ahead). \"tend leads\" compares tend with the "
      "best of supervisord, runit and s6. `~`: the repetitions of this cell "
      "spread by more than %d%% (noisy); `!`: the rest of the machine used "
      "more than %d%% of a CPU during the steady window.\n" % (
          round((NOISY - 1) * 100), round(BUSY_SHARE * 100)))
    ratio_cols = [c for c in present if c != "tend"]
    w("| metric | N | %s | %s | tend leads |" % (
        " | ".join(present),
        " | ".join("tend/%s" % c for c in ratio_cols)))
    w("|---|---|%s%s---|" % ("---:|" * len(present),
                            "---:|" * len(ratio_cols)))
    for label, getter, fmt, marker in METRICS:
        for n in ns:
            vals, cells = {}, []
            for c in present:
                v, noisy = _cell(runs, c, n, getter)
                vals[c] = v
                cells.append(_fmt(v, fmt) + (" " + marker if noisy else ""))
            if all(v is None for v in vals.values()):
                continue
            ratios = [_ratio(vals.get("tend"), vals.get(c))
                      for c in ratio_cols]
            w("| %s | %d | %s | %s | %s |" % (
                label, n, " | ".join(cells), " | ".join(ratios),
                "n/a" if label.startswith(NO_LEAD) else _leads(vals)))
    extra = _extra_rows(runs, ns, present)
    if extra:
        w("")
        w("Processes the steady-state memory rows sum (supervisor "
          "processes, children excluded):\n")
        w(extra)

    w("\n## Log throughput\n")
    nb = first["settings"]["log_mb"]
    w("One child writes %d MB (deterministic 100-byte lines) to stdout; "
      "each supervisor's own logger captures it to a file. MB/s = bytes / "
      "(time the files reached full size - the writer's start). Lost = "
      "bytes missing or wrong, from a byte-for-byte comparison with the "
      "stream written (`logcheck`). Higher is better.\n" % nb)
    w("| | %s |" % " | ".join(present))
    w("|---|%s" % ("---:|" * len(present)))
    cells = {c: _log_cell(runs, c) for c in present}
    rows = [("MB/s (median)", lambda x: "%.0f%s" % (x["mb_s"], " ~"
                                                    if x["noisy"] else "")),
            ("bytes lost", lambda x: "%d" % x["lost"]),
            ("bytes beyond the stream", lambda x: "%d" % x["extra"]),
            ("supervisor + logger CPU s", lambda x: "%.2f" % x["cpu"]
             if x["cpu"] is not None else "—"),
            ("repetitions", lambda x: "%d" % x["reps"])]
    for label, f in rows:
        w("| %s | %s |" % (label, " | ".join(
            "—" if cells[c] is None else
            (f(cells[c]) if "mb_s" in cells[c] else cells[c]["status"])
            for c in present)))
    vals = {c: cells[c]["mb_s"] for c in present
            if cells[c] is not None and "mb_s" in cells[c]}
    if "tend" in vals:
        w("\ntend/peer throughput: %s; tend leads: %s" % (
            ", ".join("%s %.2f" % (c, vals["tend"] / vals[c])
                      for c in vals if c != "tend"),
            _leads(vals, higher_better=True)))

    w("\n## Physical floor of this machine\n")
    w("`build/bench/phys` (bench/src/phys.c), no supervisor involved: "
      "fork/vfork/posix_spawn + exec + wait of the static tiny program "
      "(`child --exit`); child death to the parent having noticed and "
      "reaped it (from the child's last stamp, or from the parent's "
      "`kill()`), via pidfd + epoll and via signalfd + epoll; and SIGKILL "
      "of a running child to its replacement's own start stamp "
      "(kill -> pidfd -> posix_spawn -> exec -> main). Measured at the "
      "start and at the end of the run: a large difference means the "
      "machine's speed changed during the run.\n")
    w("| test | run | median µs | p99 µs | ops/s |")
    w("|---|---|---:|---:|---:|")
    for i, run in enumerate(runs):
        for when in ("start", "end"):
            ph = run.get("phys", {}).get(when)
            if not ph:
                continue
            for test, v in ph.items():
                w("| %s | %s%s | %.1f | %.1f | %s |" % (
                    test, "run %d, " % (i + 1) if len(runs) > 1 else "",
                    when, v["median_us"], v["p99_us"],
                    "%.0f" % v["ops_per_s"] if "ops_per_s" in v else "—"))

    w("\n## Noise and problems\n")
    w(_noise(runs))

    w("\n## How each supervisor was configured\n")
    w("| peer | settings | minimum restart delay it allows | shutdown |")
    w("|---|---|---|---|")
    for c in present:
        info = first["peers"].get(c)
        if info:
            w("| %s | %s | %s | %s |" % tuple(
                x.replace("|", "\\|") for x in (
                    c, info["settings"], info["min_delay"],
                    info["shutdown"])))
    w("\nMethod: bench/README.md. Reproduce: `%s`.\n" % first["command"])
    return "\n".join(out) + "\n"


def _extra_rows(runs, ns, present):
    lines = ["| N | %s |" % " | ".join(present),
             "|---|%s" % ("---:|" * len(present))]
    any_v = False
    for n in ns:
        cells = []
        for c in present:
            v, _ = _cell(runs, c, n, _steady("procs"))
            any_v = any_v or v is not None
            cells.append("—" if v is None else "%d" % v)
        lines.append("| %d | %s |" % (n, " | ".join(cells)))
    return "\n".join(lines) if any_v else ""


def _noise(runs):
    out = []
    for i, run in enumerate(runs):
        pre = "run %d: " % (i + 1) if len(runs) > 1 else ""
        idle = run.get("idle_before")
        if idle:
            out.append("- %sbefore the run the machine was using %.2f CPUs "
                       "(load average %.2f)%s." % (
                           pre, idle["busy_cpus"], idle["loadavg"],
                           "" if idle["busy_cpus"] < 0.1 else
                           ": **not idle, figures are noisy**"))
        ph = run.get("phys", {})
        if "start" in ph and "end" in ph:
            a = ph["start"]["fork_exec_wait"]["median_us"]
            b = ph["end"]["fork_exec_wait"]["median_us"]
            drift = max(a, b) / min(a, b)
            out.append("- %sfork+exec+wait median %.0f µs at the start, "
                       "%.0f µs at the end (%s)." % (
                           pre, a, b, "stable" if drift < 1.25 else
                           "**the machine's speed changed by %.0f%% during "
                           "the run**" % ((drift - 1) * 100)))
        busy = []
        for peer, byn in run.get("results", {}).items():
            for n, r in byn.items():
                st = r.get("steady")
                if st and st["other_cpu_s"] > BUSY_SHARE * st["seconds"]:
                    busy.append("%s N=%s (%.1f CPU s)" % (
                        peer, n, st["other_cpu_s"]))
                for e in r.get("errors", []):
                    out.append("- %s%s N=%s: error: %s" % (pre, peer, n, e))
                chk = r.get("status_check")
                if chk and not chk["ok"]:
                    out.append("- %s%s N=%s: the status command reported %d "
                               "of %s up (exit %d)." % (
                                   pre, peer, n, chk["reported_up"], n,
                                   chk["exit"]))
                st = r.get("steady")
                if st and (st["procs_changed"] or
                           st["children_after"] != int(n)):
                    out.append("- %s%s N=%s: during the steady window the "
                               "supervisor's processes changed or children "
                               "went missing (%d children after)." % (
                                   pre, peer, n, st["children_after"]))
        if busy:
            out.append("- %sother work on the machine during the steady "
                       "window: %s." % (pre, ", ".join(busy)))
        for s in run.get("skipped", []):
            out.append("- %sskipped (time budget): %s" % (pre, s))
        for peer, info in run.get("peers", {}).items():
            if info.get("unavailable"):
                out.append("- %s%s not measured: %s" % (
                    pre, peer, info["unavailable"]))
        if run.get("install"):
            out.append("- %speers: %s" % (pre, run["install"]))
        for key, when in (("peer_daemons_at_start", "before the run"),
                          ("leftover_peer_daemons", "after the run")):
            found = run.get(key)
            out.append("- %speer daemons (supervisord, runsvdir, runsv, "
                       "s6-svscan, s6-supervise) running %s: %s." % (
                           pre, when, ", ".join(
                               "%s (pid %s)" % (os.path.basename(e), p)
                               for p, e in sorted(found.items()))
                           if found else "none"))
        out.append("- %stook %.1f min." % (pre, (run.get("elapsed_s") or 0)
                                           / 60))
    return "\n".join(out)
