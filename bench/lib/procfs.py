"""procfs.py: what the benchmark knows about processes comes from /proc,
never from a supervisor's word: the process tree below the launcher, which
processes are the supervisor's own and which are its children, their CPU
time and memory."""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def stat(pid):
    """(state, ppid, utime+stime ticks, starttime) of PID, or None."""
    raw = _read("/proc/%d/stat" % pid)
    if raw is None:
        return None
    rest = raw[raw.rindex(b")") + 2:].split()
    return (rest[0].decode(), int(rest[1]), int(rest[11]) + int(rest[12]),
            int(rest[19]))


def exe(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def table():
    """{pid: ppid} of every live (non-zombie) process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = stat(int(name))
        if st is not None and st[0] not in ("Z", "X"):
            out[int(name)] = st[1]
    return out


def descendants(root, tab=None):
    """Live descendants of ROOT (not ROOT itself)."""
    tab = table() if tab is None else tab
    kids = {}
    for pid, ppid in tab.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], list(kids.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def classify(root, child_exes):
    """Splits ROOT's live descendants into (children, supervisor processes):
    children are the processes whose executable is one of CHILD_EXES (the
    benchmark's tiny programs); everything else below ROOT belongs to the
    supervisor under test (runsv, s6-supervise, a logger, ...)."""
    children, sup = [], []
    for pid in descendants(root):
        e = exe(pid)
        if e is None and stat(pid) is None:
            continue
        (children if e in child_exes else sup).append(pid)
    return children, sup


def cpu_ns(pid):
    """CPU time PID has used, in ns: /proc/PID/schedstat when the kernel has
    it (ns resolution), else utime+stime (one clock tick)."""
    raw = _read("/proc/%d/schedstat" % pid)
    if raw:
        return int(raw.split()[0])
    st = stat(pid)
    return None if st is None else st[2] * 1000000000 // CLK_TCK


def memory_kib(pid):
    """(VmRSS, Pss) of PID in KiB; None for what cannot be read."""
    rss = pss = None
    raw = _read("/proc/%d/status" % pid)
    for line in (raw or b"").splitlines():
        if line.startswith(b"VmRSS:"):
            rss = int(line.split()[1])
    raw = _read("/proc/%d/smaps_rollup" % pid)
    for line in (raw or b"").splitlines():
        if line.startswith(b"Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def system_busy_ns():
    """Busy CPU time of the whole machine (all CPUs), in ns."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) * \
        1000000000 // CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])
