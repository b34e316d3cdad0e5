"""
Runtime operations (SPEC §12): enable/disable kept in state_dir across
restarts, reloads and `start all`; a person's stop remembered beside the
socket, so a tendd killed with SIGKILL and started again leaves it
stopped; a state file that is not ours is reported and ignored.
"""
import glob
import signal

from conftest import wait_for


def two(tend, *more):
    tend.write_config("".join(
        "[program:%s]\ncommand = %s\nstartsecs = 0\n"
        % (name, tend.helper("sleeper")) for name in ("a", "b") + more),
        tend="state_dir = %(here)s/state")


def restart_abruptly(tend):
    """SIGKILL tendd (its services die with it), start it again."""
    tend.signal(signal.SIGKILL)
    tend.wait_exit()
    tend.start()


def test_disable_holds_across_start_all_reload_and_restart(tend):
    two(tend)
    tend.start()
    a = tend.wait_state("a", "RUNNING")
    tend.wait_state("b", "RUNNING")
    rc, out, err = tend.ctl("disable", "a")
    assert rc == 0, (out, err)
    wait_for(lambda: tend.proc_status("a")["state"] == "STOPPED",
             what="a stopped by disable")
    assert a["pid"] is not None
    # start all passes a disabled process by; naming it is refused
    rc, out, err = tend.ctl("start", "all")
    assert rc == 0, (out, err)
    assert tend.proc_status("a")["state"] == "STOPPED"
    rc, out, err = tend.ctl("start", "a")
    assert rc == 1 and "disabled" in err, (rc, out, err)
    assert tend.proc_status("a")["state"] == "STOPPED"
    # unknown names: 4, nothing changes
    rc, out, err = tend.ctl("disable", "nope")
    assert rc == 4, (rc, out, err)
    # a reload (here one that changes a) does not start it
    two(tend, "c")
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (out, err)
    tend.wait_state("c", "RUNNING")
    assert tend.proc_status("a")["state"] == "STOPPED"
    # a clean restart of tendd: still disabled, in the state_dir
    assert len(glob.glob(tend.path("state/*.disabled"))) == 1
    assert tend.ctl("shutdown")[0] == 0
    tend.wait_exit()
    tend.start()
    tend.wait_state("b", "RUNNING")
    assert tend.proc_status("a")["state"] == "STOPPED"
    # enabled: it may start again (enable itself starts nothing)
    rc, out, err = tend.ctl("enable", "a")
    assert rc == 0, (out, err)
    assert tend.proc_status("a")["state"] == "STOPPED"
    rc, out, err = tend.ctl("start", "a")
    assert rc == 0, (out, err)
    assert tend.proc_status("a")["state"] == "RUNNING"


def test_a_persons_stop_outlives_a_killed_tendd(tend):
    two(tend)
    tend.start()
    tend.wait_state("a", "RUNNING")
    tend.wait_state("b", "RUNNING")
    rc, out, err = tend.ctl("stop", "a")
    assert rc == 0, (out, err)
    restart_abruptly(tend)
    tend.wait_state("b", "RUNNING")
    st = tend.proc_status("a")
    assert st["state"] == "STOPPED" and st["pid"] is None, st
    assert "a: stopped by a person before tendd restarted" in tend.log()
    # started again by a person: a next restart starts it
    assert tend.ctl("start", "a")[0] == 0
    restart_abruptly(tend)
    tend.wait_state("a", "RUNNING")


def test_a_foreign_or_corrupt_state_file_is_reported_and_ignored(tend):
    two(tend)
    tend.start()
    tend.wait_state("a", "RUNNING")
    assert tend.ctl("disable", "a")[0] == 0
    assert tend.ctl("shutdown")[0] == 0
    tend.wait_exit()
    (path,) = glob.glob(tend.path("state/*.disabled"))
    with open(path, "wb") as f:
        f.write(b"\xff\xfe garbage\n")
    tend.start()
    tend.wait_state("a", "RUNNING")
    assert "not text (ignored)" in tend.log()
    assert tend.ctl("shutdown")[0] == 0
    tend.wait_exit()
    with open(path, "w") as f:
        f.write("tend-state 1 /some/other.sock\na:a\n")
    tend.start()
    tend.wait_state("a", "RUNNING")
    assert "belongs to the tendd of /some/other.sock" in tend.log()
