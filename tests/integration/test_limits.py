"""
cgroup v2 limits (SPEC §12): memory_max, memory_high, cpu_max, cpu_weight,
pids_max, applied to the process's own cgroup before it runs; an OOM
kill reported as "killed: out of memory"; a warning at --check and
nothing applied where the controllers cannot be used. The tests that
need the controllers skip where cgroup2 lacks them (a hybrid hierarchy
whose memory, cpu and pids are cgroup v1's).
"""
import os
import subprocess

import pytest

from conftest import TENDD, wait_for
from test_cgroup import cgroup2_mounts, cgroup2_writable, own_cgroup


def controllers_missing():
    why = cgroup2_writable()
    if why:
        return why
    path = os.path.join(cgroup2_mounts()[0] + own_cgroup().rstrip("/"),
                        "cgroup.controllers")
    with open(path) as f:
        have = f.read().split()
    need = [c for c in ("memory", "cpu", "pids") if c not in have]
    return "cgroup2 lacks %s" % ", ".join(need) if need else None


@pytest.fixture
def limits(tend):
    why = controllers_missing()
    if why:
        pytest.skip(why)
    return tend


def test_check_warns_only_where_limits_cannot_apply(tend):
    tend.write_config("""
        [program:capped]
        command = /bin/true
        memory_max = 64MB
        pids_max = 10
        """)
    r = subprocess.run([str(TENDD), "--check", "-c", str(tend.conf)],
                       capture_output=True, text=True, timeout=30)
    text = r.stdout + r.stderr
    assert r.returncode == 0, text
    if controllers_missing():
        assert "[program:capped] memory_max: not applied" in text, text
        assert "[program:capped] pids_max: not applied" in text, text
    else:
        assert "not applied" not in text, text


def test_memory_max_kill_is_reported_as_out_of_memory(limits):
    tend = limits
    tend.write_config("""
        [program:hog]
        command = python3 -c "b = bytearray(256 << 20); import time; time.sleep(30)"
        memory_max = 32MB
        startsecs = 0
        autorestart = false
        startretries = 0
        """)
    tend.start()
    st = tend.wait_state("hog", "EXITED", "FATAL", "BACKOFF", timeout=20)
    assert "killed: out of memory" in st["description"], st


def test_pids_max_holds_a_fork_bomb(limits):
    tend = limits
    tend.write_config(f"""
        [program:bomb]
        command = {tend.helper("forkbomb", "--nproc", 100000)}
        pids_max = 20
        startsecs = 0
        """)
    tend.start()
    tend.wait_state("bomb", "RUNNING")
    inst = wait_for(lambda: [l for l in tend.log().splitlines()
                             if "cgroup per process" in l], what="cgroup")
    cgdir = inst[0].rsplit(" in ", 1)[1]
    path = os.path.join(cgdir, "services", "bomb", "pids.current")
    wait_for(lambda: int(open(path).read()) >= 15, what="the bomb at work")
    with open(os.path.join(cgdir, "services", "bomb", "pids.max")) as f:
        assert f.read().strip() == "20"
    assert int(open(path).read()) <= 20
    assert tend.ctl("stop", "bomb")[0] == 0
