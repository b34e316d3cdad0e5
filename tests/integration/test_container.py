"""
tendd as a container's init (spec §3): PID 1 of a fresh PID namespace
(`unshare --pid --fork --mount-proc`, what a container runtime gives it).
It reaps every orphan, turns SIGTERM into an orderly shutdown with exit
status 0, and exits 1 when a critical program went FATAL.
"""
import os
import shutil
import signal
import subprocess

import pytest

from conftest import (TENDD, descendants, exists, read_records, require,
                      wait_for, wait_records)


def nspid(pid):
    """PID as its own (innermost) namespace sees it."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except FileNotFoundError:
        return None
    return None


def start_as_pid1(tend, wait=True):
    """Runs tendd as PID 1 of a new PID namespace; returns its host pid
    (WAIT: once its socket answers). tend.proc is unshare, which exits
    with tendd's status."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is missing", pytrace=False)
    require(TENDD, "make build/tendd")
    logf = open(tend.logpath, "ab")
    tend._logfiles.append(logf)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LISTEN_", "NOTIFY_", "WATCHDOG_"))}
    tend.proc = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
         str(TENDD), "-c", str(tend.conf)],
        stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
        env=env, cwd=str(tend.dir), start_new_session=True)
    tend.pid = tend.proc.pid
    if not wait:
        return None
    init = wait_for(lambda: next((p for p in descendants(tend.proc.pid)
                                  if nspid(p) == 1), None), 5,
                    what="tendd as PID 1 of the new namespace")

    def answers():
        try:
            return tend.request("version", timeout=2).get("ok")
        except (OSError, ValueError):
            return False
    wait_for(answers, 5, what="tendd's socket")
    return init


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_pid1_reaps_orphans_and_stops_cleanly(tend, sig):
    pf, srec = tend.path("orphan"), tend.path("srec")
    tend.write_config(f"""
        [program:orph]
        command = {tend.helper("orphaner", "--pidfile", pf, "--after", 0.5)}
        startsecs = 0
        [program:svc]
        command = {tend.helper("sleeper", "--record", srec, "--term-exit", 0)}
        startsecs = 0
    """)
    init = start_as_pid1(tend)
    assert tend.request("version")["pid"] == 1
    gns = wait_for(lambda: os.path.exists(pf) and int(open(pf).read()), 5,
                   what="the orphan's pid")
    g = wait_for(lambda: next((p for p in descendants(init)
                               if nspid(p) == gns), None), 5,
                 what="the orphan in the host's /proc")
    with open("/proc/%d/stat" % g) as f:
        assert int(f.read().rsplit(")", 1)[1].split()[1]) == init, \
            "the orphan was not reparented to tendd (PID 1)"
    # It exits after 0.5 s: PID 1 reaps it, no zombie stays behind.
    wait_for(lambda: not exists(g), 5, what="PID 1 to reap the orphan")

    # The service has its SIGTERM handler once it has recorded itself.
    wait_records(srec, 1)
    # docker stop sends SIGTERM; Ctrl-C on `docker run -it`, SIGINT
    os.kill(init, sig)
    assert tend.wait_exit(timeout=10) == 0, tend.log()
    assert [tag for _, _, tag in read_records(srec)] == ["", "term"], \
        "the service was not stopped with its stop signal"


def test_pid1_exits_1_when_a_critical_program_is_fatal(tend):
    srec, go = tend.path("srec"), tend.path("go")
    # vital fails (exits 3 before startsecs) only once the test has seen
    # svc's record and made GO, so svc has run when it is stopped,
    # however late its helper gets to run.
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper", "--record", srec)}
        startsecs = 0
        [program:vital]
        command = /bin/sh -c "while [ ! -e {go} ]; do sleep 0.05; done; exit 3"
        startsecs = 30
        startretries = 0
        critical = true
    """)
    start_as_pid1(tend, wait=False)
    svc = wait_records(srec, 1)[0][0]
    open(go, "w").close()
    assert tend.wait_exit(timeout=10) == 1, tend.log()
    assert "critical program vital is FATAL" in tend.log()
    # the other service was stopped in order, not killed with the namespace
    assert [r[0] for r in read_records(srec)] == [svc]
    assert ("svc", "RUNNING", "STOPPING") in tend.transitions("svc")
    assert ("svc", "STOPPING", "STOPPED") in tend.transitions("svc")
