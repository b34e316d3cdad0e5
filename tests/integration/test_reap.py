"""
Reaping (daemon/reap.c; issue 12): a waitpid() that fails never hands
tendd a status that means nothing, and never makes it spin. The failure
is made by tests/helpers/preload/waitfail.c (LD_PRELOAD): a waitpid() for
a child that exited with a chosen code fails with ECHILD and leaves the
caller's status at 0, as garbage would be.
"""
import os

from conftest import (HELPERS, exists, is_zombie, read_records, require,
                      wait_for)

SHIM = HELPERS / "waitfail.so"


def shim_env(**extra):
    """Preloads waitfail.so into tendd (an ASan tendd must accept a
    library loaded before its runtime)."""
    require(SHIM, "make helpers")
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = {"LD_PRELOAD": str(SHIM), "ASAN_OPTIONS":
           (asan + ":" if asan else "") + "verify_asan_link_order=0"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def test_a_failed_reap_keeps_the_exit_that_waitid_saw(tend):
    """The reap of the process fails once: its exit code is still 42 (as
    waitid() saw it), not whatever the status variable held, and the
    zombie is reaped by the sweep that follows."""
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:e42]
        command = {tend.helper("exitwith", 42, "--record", rec)}
        startsecs = 0
        autorestart = false
    """)
    tend.start(env=shim_env(WAITFAIL_CODE=42))
    p = tend.wait_state("e42", "EXITED")
    pid = int(open(rec).read().split()[0])
    assert p["exitcode"] == 42, p
    assert "e42: cannot reap pid %d: No child processes" % pid in tend.log()
    assert ("e42", "RUNNING", "EXITED") in tend.transitions("e42")
    # The zombie left by the failed reap goes at the next sweep.
    wait_for(lambda: not exists(pid), 5, what="the zombie to be reaped")
    assert tend.proc.poll() is None


def test_a_zombie_that_cannot_be_reaped_never_stalls_tendd(tend):
    """Every waitpid() for a child that exited with 42 fails, so an orphan
    that exits with 42 stays a zombie that each sweep finds first: tendd
    says so and leaves it, rather than spin over it, and goes on serving,
    reaping and restarting its own processes."""
    orphan = tend.path("orphan")
    tend.write_config(f"""
        [program:orph]
        command = /bin/sh -c "(exec {tend.helper("exitwith", 42, "--after", 0.2, "--record", orphan)}) & exit 0"
        startsecs = 0
        daemon = false
        autorestart = false
        [program:later]
        command = {tend.helper("exitwith", 3, "--after", 0.2)}
        startsecs = 0
        autostart = false
        autorestart = false
    """)
    tend.start(env=shim_env(WAITFAIL_CODE=42, WAITFAIL_ALWAYS=1))
    opid = wait_for(lambda: read_records(orphan), 5,
                    what="the orphan's pid")[0][0]
    tend.track(opid)
    wait_for(lambda: is_zombie(opid), 5, what="the orphan's exit")
    assert tend.request("status", timeout=5)["ok"]
    assert tend.wait_state("orph", "EXITED")["exitcode"] == 0
    # Still serving, and still reaping its own processes.
    for _ in range(3):
        rc, out, err = tend.ctl("start", "later", timeout=10)
        assert rc == 0, (rc, out, err)
        p = tend.wait_state("later", "EXITED")
        assert p["exitcode"] == 3, p
    assert "cannot reap pid %d (not ours): No child processes" % opid \
        in tend.log()
    assert is_zombie(opid)
    assert tend.proc.poll() is None
