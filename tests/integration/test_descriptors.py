"""
Descriptors (issue 12, "Descriptor exhaustion is treated as the program's
fault"): running out of file descriptors is the machine's state, so a start
it prevents is BACKOFF with the counts, retried until there is room, never
FATAL; a stream whose log is NONE is /dev/null and costs tendd nothing;
redirect_stderr costs one pipe; --check warns when the config needs more
descriptors than the limit. tendd runs under a low hard limit (setrlimit
in the child before exec), so the tests do not depend on the machine's.
"""
import ctypes
import os
import re
import resource
import subprocess

from conftest import TENDD, read_json_line, settled_fds, wait_for
from test_commands import subscribe

LIMIT = 200
# What status says of a process the machine could not start.
SHORT_RE = re.compile(r"Too many open files \((\d+) of %d descriptors in use"
                      % LIMIT)
RETRY_RE = re.compile(r"; retry (\d+) in \d+s$")


CAP_SYS_RESOURCE = 24


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_sys_resource():
    """Without CAP_SYS_RESOURCE tendd cannot raise its hard limit (as root
    here, without it): what these tests are about, wherever they run."""
    libc = ctypes.CDLL(None, use_errno=True)
    hdr = _CapHeader(0x20080522, 0)         # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(hdr), data) != 0:
        return
    for d in data:
        d.effective &= ~(1 << CAP_SYS_RESOURCE)
        d.permitted &= ~(1 << CAP_SYS_RESOURCE)
        d.inheritable &= ~(1 << CAP_SYS_RESOURCE)
    if libc.capset(ctypes.byref(hdr), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def low_limit(n=LIMIT, keep_caps=False):
    def set_limit():
        if not keep_caps:
            drop_sys_resource()
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return set_limit


def may_raise_limits():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << CAP_SYS_RESOURCE))
    return False


def fds_of(pid):
    """{fd: target} of a process, from /proc."""
    out = {}
    base = "/proc/%d/fd" % pid
    for name in os.listdir(base):
        try:
            out[int(name)] = os.readlink(os.path.join(base, name))
        except FileNotFoundError:
            pass
    return out


def by_state(st):
    out = {}
    for name, p in st.items():
        out.setdefault(p["state"], []).append(name)
    return out


def test_out_of_descriptors_is_backoff_with_the_counts_then_recovers(tend):
    """200 processes under a limit of 200: those that do not fit wait in
    BACKOFF (never FATAL, however many tries: startretries does not count
    them), the reason gives the descriptors in use and the limit, a client
    can still connect, and once some are stopped the rest come up."""
    n = 200
    tend.write_config(f"""
        [program:fill]
        command = {tend.helper("sleeper")}
        process_name = fill%(process_num)03d
        numprocs = {n}
        stdout_logfile = NONE
        stderr_logfile = NONE
        startsecs = 0
        startretries = 1
        backoff_max = 1
    """)
    tend.start(preexec_fn=low_limit(), timeout=20)

    def settled():
        st = tend.status()
        groups = by_state(st)
        if set(groups) <= {"RUNNING", "BACKOFF"} and groups.get("BACKOFF"):
            return st
        return None
    st = wait_for(settled, 20, what="every process RUNNING or BACKOFF")
    groups = by_state(st)
    running, waiting = groups["RUNNING"], groups["BACKOFF"]
    assert len(running) + len(waiting) == n
    assert len(running) >= 50, groups.keys()
    for name in waiting:
        m = SHORT_RE.search(st[name]["description"])
        assert m, st[name]
        # All but the 32 kept for clients are taken (by processes or tendd).
        assert LIMIT - 32 <= int(m.group(1)) <= LIMIT, st[name]

    # More tries than startretries = 1 allows, and still BACKOFF.
    probe = waiting[0]

    def retried():
        p = tend.proc_status(probe)
        m = RETRY_RE.search(p["description"])
        return p if m and int(m.group(1)) >= 3 else None
    p = wait_for(retried, 20, what="a third try of %s" % probe)
    assert p["state"] == "BACKOFF", p
    assert not any(new == "FATAL" for _, _, new in tend.transitions())

    # Room again: stop more than are waiting; every other one comes up.
    stop = running[:len(waiting) + 20]
    rc, out, err = tend.ctl("stop", *stop, timeout=60)
    assert rc == 0, (rc, out, err)

    def all_up():
        st = tend.status()
        rest = {k: v for k, v in st.items() if k not in stop}
        return all(v["state"] == "RUNNING" for v in rest.values()) and st
    st = wait_for(all_up, 30, what="the waiting processes RUNNING")
    assert all(st[k]["state"] == "STOPPED" for k in stop)
    assert not any(new == "FATAL" for _, _, new in tend.transitions())
    # The first failed start is one logged transition; the retries that
    # fail again are not a line each.
    for name in waiting[:5]:
        backoffs = [t for t in tend.transitions(name) if t[2] == "BACKOFF"]
        assert len(backoffs) == 1, tend.transitions(name)


def test_the_backoff_event_of_a_start_without_room_names_its_delay(tend):
    """The BACKOFF a start without descriptors enters is armed before it
    is announced: its event says when the retry comes ("retry 1 in 1s"),
    never "in 0s" (the timer armed after the event)."""
    limit, n = 80, 120
    tend.write_config(f"""
        [program:fill]
        command = {tend.helper("sleeper")}
        process_name = fill%(process_num)03d
        numprocs = {n}
        stdout_logfile = NONE
        stderr_logfile = NONE
        startsecs = 0
        autostart = false
        backoff_max = 4
    """)
    tend.start(preexec_fn=low_limit(limit))
    s, buf = subscribe(tend)
    first, seen = {}, set()
    with s:
        rc, out, err = tend.ctl("start", "fill:*", timeout=60)
        assert rc != 0 and "Too many open files" in out + err, (rc, out, err)
        # Until each has been RUNNING or BACKOFF: every first try is in.
        s.settimeout(30)
        while len(seen) < n:
            e = read_json_line(s, buf)
            assert e is not None, "the events stream ended"
            if e.get("to") == "BACKOFF":
                first.setdefault(e["name"], e)
            if e.get("to") in ("RUNNING", "BACKOFF"):
                seen.add(e["name"])
    assert first, "no process went to BACKOFF"
    for name, e in first.items():
        assert "Too many open files (" in e["description"], e
        m = re.search(r"; retry 1 in (\d+)s$", e["description"])
        assert m and int(m.group(1)) >= 1, e


def test_none_is_dev_null_and_redirect_stderr_is_one_pipe(tend):
    tend.write_config(f"""
        [program:none]
        command = {tend.helper("sleeper")}
        stdout_logfile = NONE
        stderr_logfile = NONE
        startsecs = 0
        [program:merged]
        command = {tend.helper("sleeper")}
        redirect_stderr = true
        stdout_logfile = %(here)s/merged.log
        startsecs = 0
        [program:both]
        command = {tend.helper("sleeper")}
        stdout_logfile = %(here)s/both.out
        stderr_logfile = %(here)s/both.err
        startsecs = 0
        [program:half]
        command = {tend.helper("sleeper")}
        stdout_logfile = NONE
        stderr_logfile = %(here)s/half.err
        startsecs = 0
    """)
    tend.start()
    pids = {}
    for name in ("none", "merged", "both", "half"):
        pids[name] = tend.wait_state(name, "RUNNING")["pid"]
    child = {name: fds_of(pid) for name, pid in pids.items()}

    assert child["none"][1] == child["none"][2] == "/dev/null", child["none"]
    assert child["half"][1] == "/dev/null", child["half"]
    assert child["half"][2].startswith("pipe:"), child["half"]
    assert child["merged"][1].startswith("pipe:"), child["merged"]
    assert child["merged"][1] == child["merged"][2], child["merged"]
    assert child["both"][1].startswith("pipe:"), child["both"]
    assert child["both"][2].startswith("pipe:"), child["both"]
    assert child["both"][1] != child["both"][2], child["both"]
    assert child["none"][0] == "/dev/null"

    # tendd holds exactly the read end of each of those pipes: 4 in all.
    ours = [t for t in fds_of(tend.pid).values() if t.startswith("pipe:")]
    theirs = {child[n][fd] for n in child for fd in (1, 2)
              if child[n][fd].startswith("pipe:")}
    assert len(theirs) == 4, theirs
    assert sorted(t for t in ours if t in theirs) == sorted(theirs), ours

    # Nothing captured from a NONE stream: tail is empty, not an error.
    rc, out, err = tend.ctl("tail", "none")
    assert rc == 0 and out == "", (rc, out, err)


def check(tend, conf_text):
    tend.write_config(conf_text)
    r = subprocess.run([str(TENDD), "-c", str(tend.conf), "--check"],
                       capture_output=True, text=True, timeout=30,
                       preexec_fn=low_limit())
    return r.returncode, r.stdout + r.stderr


def test_check_warns_when_the_config_needs_more_descriptors(tend):
    # 100 processes with AUTO logs: a pidfd, 2 pipes and 2 files each,
    # plus 128 for tendd itself and its clients.
    rc, out = check(tend, f"""
        [program:auto]
        command = {tend.helper("sleeper")}
        process_name = a%(process_num)d
        numprocs = 100
    """)
    assert rc == 0, out
    assert re.search(r"tend\.conf: 100 processes need about 628 file "
                     r"descriptors \(500 for them, 128 for tendd", out), out
    assert "more than the hard limit of 200, which tendd cannot raise" \
        in out, out

    # One shared log file and redirect_stderr: a pidfd and one pipe each,
    # the file once.
    rc, out = check(tend, f"""
        [program:shared]
        command = {tend.helper("sleeper")}
        process_name = s%(process_num)d
        numprocs = 100
        redirect_stderr = true
        stdout_logfile = %(here)s/shared.log
    """)
    assert rc == 0, out
    assert "100 processes need about 329 file descriptors" in out, out

    # NONE: a pidfd each; 70 + 128 fit under 200, and no warning.
    rc, out = check(tend, f"""
        [program:quiet]
        command = {tend.helper("sleeper")}
        process_name = q%(process_num)d
        numprocs = 70
        stdout_logfile = NONE
        stderr_logfile = NONE
    """)
    assert rc == 0, out
    assert "descriptors" not in out, out
    assert "0 warnings" in out, out


def test_start_up_raises_the_limit_or_says_it_cannot(tend):
    """Where tendd may raise its hard limit (CAP_SYS_RESOURCE, root under
    systemd) it raises it to what the config needs; where it may not
    (this machine's root), it says so at start-up. Which one is this
    machine's: the test asserts that one."""
    tend.write_config(f"""
        [program:auto]
        command = {tend.helper("sleeper")}
        process_name = a%(process_num)d
        numprocs = 60
        autostart = false
    """)
    tend.start(preexec_fn=low_limit(keep_caps=True))
    limits = open("/proc/%d/limits" % tend.pid).read()
    m = re.search(r"Max open files\s+(\d+)\s+(\d+)", limits)
    if may_raise_limits():
        assert "descriptor limit raised from 200 to 428" in tend.log()
        assert m.groups() == ("428", "428"), limits
        assert "which tendd cannot raise" not in tend.log()
    else:
        assert re.search(r"60 processes need about 428 file descriptors.*"
                         r"which tendd cannot raise", tend.log()), tend.log()
        assert m.groups() == ("200", "200"), limits


def test_pipe_and_pidfd_exhaustion_are_backoff_with_the_counts(tend):
    """The limit cut from outside to leave one descriptor, taken by a
    client: a start finds no room for its pipe (a program with a log) or
    its pidfd (one with NONE logs). Each is BACKOFF with the descriptors
    in use and the limit, the client gets the reason, and once the limit
    is back both come up, without anyone starting them again."""
    tend.write_config(f"""
        [program:logged]
        command = {tend.helper("sleeper")}
        stdout_logfile = %(here)s/logged.log
        stderr_logfile = NONE
        startsecs = 0
        backoff_max = 1
        [program:quiet]
        command = {tend.helper("sleeper")}
        stdout_logfile = NONE
        stderr_logfile = NONE
        startsecs = 0
        autostart = false
        backoff_max = 1
    """)
    tend.start()
    tend.wait_state("logged", "RUNNING")
    # Stopped, its log file stays open: the next start needs only a pipe.
    rc, out, err = tend.ctl("stop", "logged")
    assert rc == 0, (rc, out, err)
    old = resource.prlimit(tend.pid, resource.RLIMIT_NOFILE)
    held = settled_fds(tend.pid)
    lowest_free = min(set(range(len(held) + 1)) - held)
    limit = lowest_free + 1
    resource.prlimit(tend.pid, resource.RLIMIT_NOFILE, (limit, old[1]))
    try:
        with tend.connect() as s:       # the last free descriptor
            replies = {}
            for name in ("logged", "quiet"):
                s.sendall(b'{"id": 1, "cmd": "start", "names": ["%s"]}\n'
                          % name.encode())
                replies[name] = s.recv(65536).decode()
        assert "cannot create a pipe: Too many open files (%d of %d " \
            "descriptors in use)" % (limit, limit) in replies["logged"], \
            replies
        assert "cannot fork: Too many open files (%d of %d descriptors " \
            "in use)" % (limit, limit) in replies["quiet"], replies
    finally:
        resource.prlimit(tend.pid, resource.RLIMIT_NOFILE, old)
    for name, before in (("logged", "STOPPED"), ("quiet", "NEW")):
        tend.wait_state(name, "RUNNING")
        # Retried by tendd itself: nobody started it again.
        assert tend.transitions(name)[-3:] == [
            (name, before, "BACKOFF"), (name, "BACKOFF", "STARTING"),
            (name, "STARTING", "RUNNING")], tend.transitions(name)
    assert not any(new == "FATAL" for _, _, new in tend.transitions())
