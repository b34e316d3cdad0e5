"""
tendctl against a real tendd (spec §4): exit statuses 0/1/2/3/4/5, the
supervisorctl status layout, --json, -c, and the waiting commands.
"""
import json
import re
import socket

from conftest import exists

STATUS_LINE = re.compile(
    r"^(\S+)\s+(RUNNING|STARTING|STOPPED|EXITED|BACKOFF|FATAL|NEW|STOPPING"
    r"|PAUSED)\s+(.*)$")


def lines_by_name(out):
    res = {}
    for line in out.splitlines():
        m = STATUS_LINE.match(line)
        if m:
            res[m.group(1)] = (m.group(2), m.group(3))
    return res


def config(tend):
    tend.write_config(f"""
        [program:web]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:idle]
        command = {tend.helper("sleeper")}
        startsecs = 1
        autostart = false
        [program:broken]
        command = /nonexistent/tend-broken
        autostart = false
        [program:failing]
        command = {tend.helper("exitwith", 1)}
        startsecs = 1
        startretries = 0
        autostart = false
    """)
    tend.start()
    tend.wait_state("web", "RUNNING")


def test_status_exit_codes_and_layout(tend):
    config(tend)
    rc, out, err = tend.ctl("status", "web")
    assert rc == 0, (rc, out, err)
    pid = tend.proc_status("web")["pid"]
    line = out.strip()
    assert re.match(r"^web\s+RUNNING\s+pid %d, uptime \d+:\d\d:\d\d$" % pid,
                    line), line
    rc, out, err = tend.ctl("status")
    assert rc == 3, (rc, out, err)          # idle/broken/failing not running
    names = lines_by_name(out)
    assert set(names) == {"web", "idle", "broken", "failing"}, out
    assert names["idle"][0] == "NEW"
    rc, out, err = tend.ctl("status", "idle")
    assert rc == 3, (rc, out, err)
    rc, out, err = tend.ctl("status", "nosuch")
    assert (rc, out, err) == (4, "", "tendctl: no such process: nosuch\n"), \
        (rc, out, err)
    rc, out, err = tend.ctl("status", "web", "nosuch")
    assert rc == 4, (rc, out, err)


def test_status_json(tend):
    config(tend)
    rc, out, err = tend.ctl("--json", "status")
    assert rc == 3, (rc, out, err)
    doc = json.loads(out)
    assert isinstance(doc, list)
    by = {p["name"]: p for p in doc}
    assert set(by) == {"web", "idle", "broken", "failing"}
    for p in doc:
        for k in ("name", "group", "state", "pid", "exitcode", "uptime",
                  "restarts", "daemon", "description"):
            assert k in p, (k, p)
    assert by["web"]["state"] == "RUNNING"
    assert isinstance(by["web"]["pid"], int)
    assert by["idle"]["pid"] is None and by["idle"]["exitcode"] is None
    rc, out, err = tend.ctl("--json", "status", "web")
    assert rc == 0 and [p["name"] for p in json.loads(out)] == ["web"]


def test_start_stop_restart_exit_codes(tend):
    config(tend)
    rc, out, err = tend.ctl("start", "idle")
    assert rc == 0, (rc, out, err)
    # start waits until RUNNING (startsecs = 1).
    assert tend.proc_status("idle")["state"] == "RUNNING"
    rc, out, err = tend.ctl("start", "idle")         # already running
    assert rc == 0, (rc, out, err)
    pid = tend.proc_status("idle")["pid"]
    rc, out, err = tend.ctl("restart", "idle")
    assert rc == 0, (rc, out, err)
    p = tend.proc_status("idle")
    assert p["state"] == "RUNNING" and p["pid"] != pid
    rc, out, err = tend.ctl("stop", "idle")
    assert rc == 0, (rc, out, err)
    assert tend.proc_status("idle")["state"] == "STOPPED"
    assert not exists(p["pid"])
    rc, out, err = tend.ctl("stop", "idle")          # already stopped
    assert rc == 0, (rc, out, err)
    rc, out, err = tend.ctl("status", "web")
    assert rc == 0


def test_start_failure_is_1_with_reason(tend):
    config(tend)
    rc, out, err = tend.ctl("start", "broken")
    assert (rc, out, err) == (1, "", "broken: ERROR (cannot execute "
                              "/nonexistent/tend-broken: No such file or "
                              "directory)\n"), (rc, out, err)
    rc, out, err = tend.ctl("start", "failing")
    assert (rc, out, err) == (1, "", "failing: ERROR (exited with code 1 "
                              "before startsecs=1s; gave up after 0 "
                              "retries)\n"), (rc, out, err)
    # An unknown name is 4 (spec §4), whatever the command.
    rc, out, err = tend.ctl("start", "nosuch")
    assert (rc, out, err) == (4, "", "tendctl: no such process: nosuch\n"), \
        (rc, out, err)


def test_stop_all(tend):
    config(tend)
    rc, out, err = tend.ctl("stop", "all")
    assert rc == 0, (rc, out, err)
    assert tend.proc_status("web")["state"] == "STOPPED"


def test_usage_errors_are_2(tend):
    config(tend)
    for args in ([], ["frobnicate"], ["start"], ["--no-such-option", "status"]):
        rc, out, err = tend.ctl(*args)
        assert rc == 2, (args, rc, out, err)
        assert err.strip(), "no message for a usage error %s" % args


def test_unreachable_is_5_with_the_path(tend):
    missing = str(tend.dir / "nothing-here.sock")
    rc, out, err = tend.ctl("-s", missing, "status", sock=False)
    assert (rc, out, err) == (5, "", "tendctl: cannot reach tendd at %s: No "
                              "such file or directory\n" % missing), \
        (rc, out, err)
    # A stale socket file with no listener.
    stale = str(tend.dir / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    rc, out, err = tend.ctl("-s", stale, "status", sock=False)
    assert rc == 5, (rc, out, err)
    assert stale in err, err


def test_config_and_env_find_the_socket(tend):
    config(tend)
    rc, out, err = tend.ctl("-c", str(tend.conf), "status", "web", sock=False)
    assert rc == 0, (rc, out, err)
    rc, out, err = tend.ctl("status", "web", sock=False,
                            env={"TEND_SOCKET": str(tend.sock)})
    assert rc == 0, (rc, out, err)


def test_version(tend):
    config(tend)
    rc, out, err = tend.ctl("version")
    assert rc == 0, (rc, out, err)
    assert re.search(r"\d+\.\d+", out), out


def test_shutdown(tend):
    config(tend)
    rc, out, err = tend.ctl("shutdown")
    assert rc == 0, (rc, out, err)
    assert tend.wait_exit() == 0
    rc, out, err = tend.ctl("status")
    assert rc == 5, (rc, out, err)


def test_backoff_and_fatal_status_lines(tend):
    tend.write_config(f"""
        [program:flaky]
        command = {tend.helper("exitwith", 1)}
        startsecs = 1
        startretries = 3
        [program:broken]
        command = /nonexistent/tend-broken
    """)
    tend.start()
    tend.wait_state("flaky", "BACKOFF")
    tend.wait_state("broken", "FATAL")
    rc, out, err = tend.ctl("status")
    assert rc == 3
    names = lines_by_name(out)
    state, desc = names["flaky"]
    if state == "BACKOFF":
        assert re.search(r"retry \d+ of 3 in \d+", desc), desc
    state, desc = names["broken"]
    assert state == "FATAL"
    assert "cannot execute /nonexistent/tend-broken: No such file or directory" \
        in desc, desc


def test_start_waits_for_job_completion(tend):
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("exitwith", 0, "--after", 0.5)}
        daemon = false
        autostart = false
        [program:badjob]
        command = {tend.helper("exitwith", 3, "--after", 0.5)}
        daemon = false
        autostart = false
        startretries = 0
    """)
    tend.start()
    rc, out, err = tend.ctl("start", "job")
    assert rc == 0, (rc, out, err)
    rc, out, err = tend.ctl("start", "badjob")
    assert rc == 1, (rc, out, err)


def test_restart_when_unreachable_is_5(tend):
    rc, out, err = tend.ctl("-s", str(tend.dir / "x.sock"), "restart", "web",
                            sock=False)
    assert rc == 5, (rc, out, err)
    assert str(tend.dir / "x.sock") in err, err
