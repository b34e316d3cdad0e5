"""
Runtime operations (SPEC §12): enable/disable kept in state_dir across
restarts, reloads and `start all`; a person's stop remembered beside the
socket, so a tendd killed with SIGKILL and started again leaves it
stopped; a state file that is not ours is reported and ignored.
"""
import glob
import os
import subprocess
import time
import json
import signal

from conftest import TENDCTL, TENDD, read_json_line, wait_for


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
    st = tend.proc_status("a")
    assert st["state"] == "STOPPED" and st["enabled"] is False, st
    assert st["description"].endswith("; disabled"), st
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


def pool(tend, numprocs=2, extra=""):
    tend.write_config(f"""
        [program:w]
        command = {tend.helper("sleeper")}
        process_name = %(program_name)s_%(process_num)02d
        numprocs = {numprocs}
        startsecs = 0
        {extra}
        [program:solo]
        command = {tend.helper("sleeper")}
        startsecs = 0
        """, tend="state_dir = %(here)s/state")


def w_names(tend):
    return sorted(n for n in tend.status() if n.startswith("w:"))


def test_scale_up_down_and_a_reload_keeps_it(tend):
    pool(tend)
    tend.start()
    tend.wait_state("w:w_01", "RUNNING")
    solo = tend.wait_state("solo", "RUNNING")
    ev = tend.connect()
    ev.sendall(b'{"id": 1, "cmd": "events"}\n')
    buf = bytearray()
    assert read_json_line(ev, buf)["ok"]
    rc, out, err = tend.ctl("scale", "w", "4")
    assert rc == 0 and "2 -> 4" in out, (rc, out, err)
    for n in ("w:w_02", "w:w_03"):
        tend.wait_state(n, "RUNNING")
    seen = set()
    while not {"w:w_02", "w:w_03"} <= seen:
        e = read_json_line(ev, buf)
        if e.get("to") == "RUNNING":
            seen.add(e["name"])
    assert w_names(tend) == ["w:w_00", "w:w_01", "w:w_02", "w:w_03"]
    assert [p["name"] for p in tend.status_json()
            if p["name"].startswith("w:")] == w_names(tend)
    # down: the highest numbers go, the others keep their pids
    keep = tend.proc_status("w:w_00")["pid"]
    rc, out, err = tend.ctl("--json", "scale", "w", "1")
    assert rc == 0, (out, err)
    assert json.loads(out)["count"] == 1
    wait_for(lambda: w_names(tend) == ["w:w_00"], what="w scaled to 1")
    assert tend.proc_status("w:w_00")["pid"] == keep
    # a reload that leaves numprocs alone keeps the scale
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (out, err)
    assert w_names(tend) == ["w:w_00"]
    assert tend.proc_status("solo")["pid"] == solo["pid"]
    # a reload that changes numprocs: the file speaks again
    pool(tend, 3)
    assert tend.ctl("reload")[0] == 0
    wait_for(lambda: w_names(tend) == ["w:w_00", "w:w_01", "w:w_02"],
             what="numprocs from the file")
    ev.close()


def test_scale_refusals(tend):
    pool(tend)
    tend.start()
    tend.wait_state("solo", "RUNNING")
    assert tend.ctl("scale", "nope", "2")[0] == 4
    assert tend.ctl("scale", "w", "x")[0] == 2
    rc, out, err = tend.ctl("scale", "solo", "2")
    assert rc == 1 and "process_num" in err, (rc, out, err)
    # an edit not yet reloaded is not applied behind the person's back
    pool(tend, 2, "stopwaitsecs = 3")
    rc, out, err = tend.ctl("scale", "w", "3")
    assert rc == 1 and "reload first" in err, (rc, out, err)
    assert len(w_names(tend)) == 2


# ---- pre_start / post_stop

def test_hooks_run_around_each_run(tend):
    order = tend.path("order")
    tend.write_config(f"""
        [program:h]
        command = sh -c 'echo run >> {order}; exec sleep 60'
        pre_start = sh -c 'echo "pre $TEND_PROCESS_NAME" >> {order}'
        post_stop = sh -c 'echo post >> {order}'
        startsecs = 0
        """)
    tend.start()
    tend.wait_state("h", "RUNNING")
    assert tend.ctl("restart", "h")[0] == 0
    assert tend.ctl("stop", "h")[0] == 0

    def lines():
        with open(order) as f:
            return f.read().split("\n")[:-1]
    wait_for(lambda: lines().count("post") == 2, what="two post_stops")
    assert lines() == ["pre h", "run", "post", "pre h", "run", "post"] or \
        lines() == ["pre h", "run", "pre h", "post", "run", "post"], lines()


def test_a_failed_pre_start_is_a_failed_start_with_its_last_line(tend):
    tend.write_config(f"""
        [program:f]
        command = {tend.helper("sleeper")}
        pre_start = sh -c 'echo checking; echo "database not ready" >&2; exit 3'
        startretries = 0
        [program:t]
        command = {tend.helper("sleeper")}
        pre_start = sleep 30
        hook_timeout = 0.5
        startretries = 0
        """)
    tend.start()
    st = tend.wait_state("f", "FATAL")
    assert "pre_start failed: database not ready" in st["description"], st
    assert st["pid"] is None
    st = tend.wait_state("t", "FATAL")
    assert "pre_start still running after 0.5s: killed" in st["description"]
    rc, out, err = tend.ctl("start", "f")
    assert rc == 1 and "database not ready" in err, (rc, out, err)


# ---- run

def test_run_captures_output_waits_and_times_out(tend):
    tend.write_config("", tend="state_dir = %(here)s/state")
    tend.start(env={"TEND_RUN_KEEP": "1"})
    rc, out, err = tend.ctl("run", "--name", "hello", "-e", "FOO=bar",
                            "-e", "BAZ=qux", "--directory", "/", "--",
                            "sh", "-c", 'echo "hi $FOO $BAZ $(pwd)"')
    assert rc == 0 and "run:hello" in out, (rc, out, err)
    st = tend.wait_state("run:hello", "EXITED")
    assert st["exitcode"] == 0 and st["daemon"] is False
    rc, out, err = tend.ctl("tail", "run:hello")
    assert rc == 0 and out == "hi bar qux /\n", (rc, out, err)
    # a second one of the same name while it is listed: refused
    rc, out, err = tend.ctl("run", "--name", "hello", "--", "true")
    assert rc == 1 and "exists" in err, (rc, out, err)
    # --wait exits like wait; --timeout stops it (124)
    rc, out, err = tend.ctl("run", "--wait", "--", "sh", "-c", "exit 3")
    assert rc == 3, (rc, out, err)
    rc, out, err = tend.ctl("run", "--wait", "--timeout", "0.3", "--name",
                            "slow", "--", "sleep", "30")
    assert rc == 124, (rc, out, err)
    tend.wait_state("run:slow", "STOPPED", "EXITED")
    # forgotten once it has been at rest for TEND_RUN_KEEP (600 s)
    wait_for(lambda: "run:hello" not in tend.status(),
             what="run:hello forgotten")
    # a reload does not touch them
    rc, out, err = tend.ctl("run", "--name", "long", "--", "sleep", "30")
    pid = tend.wait_state("run:long", "RUNNING")["pid"]
    assert tend.ctl("reload")[0] == 0
    assert tend.proc_status("run:long")["pid"] == pid
    assert tend.ctl("stop", "run:long")[0] == 0


def test_run_runs_as_the_peer_not_as_tendd(tend):
    tend.write_config("", tend="socket_mode = 0660\n"
                      "socket_owner = root:tendsock\n"
                      "state_dir = %(here)s/state")
    os.chmod(tend.dir, 0o755)
    tend.start(wrap=tend.users_namespace(
        passwd="tendrun:x:4343:4343::/nonexistent:/usr/sbin/nologin\n",
        group="tendrun:x:4343:\ntendsock:x:4344:tendrun\n"))
    ctl = tend.public(TENDCTL)

    def as_peer():
        os.setgroups([4344])
        os.setgid(4343)
        os.setuid(4343)
    r = subprocess.run([str(ctl), "-s", str(tend.sock), "run", "--name",
                        "mine", "--directory", "/", "--", "sleep", "30"],
                       capture_output=True, text=True, timeout=30,
                       preexec_fn=as_peer, env=tend.public_env(os.environ))
    assert r.returncode == 0, (r.stdout, r.stderr)
    pid = tend.wait_state("run:mine", "RUNNING")["pid"]
    tend.track(pid)
    with open("/proc/%d/status" % pid) as f:
        ids = {k: v.split() for k, _, v in
               (line.partition(":") for line in f)}
    assert ids["Uid"] == ["4343"] * 4 and ids["Gid"] == ["4343"] * 4, ids
    assert tend.ctl("stop", "run:mine")[0] == 0


# ---- schedule (the clock is moved through TEND_CLOCK_OFFSET_FILE)

def test_schedule_runs_skips_and_survives_clock_steps(tend):
    out = tend.path("runs")
    offset = tend.path("offset")
    tend.write_config(f"""
        [program:tick]
        command = sh -c 'echo run >> {out}'
        daemon = false
        startsecs = 0
        schedule = * * * * *
        [program:slow]
        command = {tend.helper("sleeper")}
        daemon = false
        startsecs = 0
        schedule = */1 * * * *
        """)
    now = time.time()
    boundary = (int(now) // 60 + 2) * 60
    with open(offset, "w") as f:
        f.write("%f" % (boundary - 0.5 - now))
    tend.start(env={"TEND_CLOCK_OFFSET_FILE": offset})

    def runs():
        try:
            with open(out) as f:
                return f.read().count("run")
        except FileNotFoundError:
            return 0
    st = tend.proc_status("tick")
    assert st["state"] == "NEW" and st["next_run"] == boundary, st
    wait_for(lambda: runs() == 1, what="the first run")
    st = tend.wait_state("tick", "EXITED")
    assert st["next_run"] == boundary + 60, st
    hhmm = time.strftime("%H:%M", time.localtime(boundary + 60))
    assert st["description"].endswith("; next " + hhmm), st
    tend.wait_state("slow", "RUNNING")

    def step(secs):
        with open(offset) as f:
            cur = float(f.read())
        with open(offset, "w") as f:
            f.write("%f" % (cur + secs))
    # forward three hours: a missed run runs once, not 180 times
    step(3 * 3600)
    wait_for(lambda: runs() == 2, what="the run after the step")
    st = tend.wait_state("tick", "EXITED")
    assert st["next_run"] >= boundary + 3 * 3600, st
    # slow was still running: that run is skipped and counted
    st = tend.proc_status("slow")
    assert st["state"] == "RUNNING" and st["skipped_runs"] == 1, st
    assert "schedule: still RUNNING, this run is skipped" in tend.log()
    last = st["next_run"]
    # back ten minutes: nothing runs before the minute after the last
    step(-600)
    wait_for(lambda: tend.log().count("schedule: clock offset now") == 2,
             what="the step back seen")
    st = tend.proc_status("tick")
    assert st["next_run"] == last and runs() == 2, st
    assert tend.ctl("stop", "slow")[0] == 0


def test_schedule_is_for_jobs_and_read_as_cron(tend):
    tend.write_config("""
        [program:svc]
        command = /bin/true
        schedule = @daily
        [program:bad]
        command = /bin/true
        daemon = false
        schedule = 61 * * * *
        """)
    r = subprocess.run([str(TENDD), "--check", "-c", str(tend.conf)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "[program:svc] schedule: only for jobs (daemon = false)" \
        in r.stderr + r.stdout
    assert "[program:bad] schedule: minute: 61 is out of 0-59" \
        in r.stderr + r.stdout


def test_bash_completion_knows_the_runtime_commands(tend):
    from test_commands import complete
    tend.write_config(f"""
        [program:w]
        command = {tend.helper("sleeper")}
        process_name = w_%(process_num)d
        numprocs = 2
        """)
    tend.start()
    sock = str(tend.sock)
    assert complete(tend, "-s", sock, "sc") == ["scale"]
    assert complete(tend, "-s", sock, "dis") == ["disable"]
    assert complete(tend, "-s", sock, "scale", "") == ["w"]
    assert complete(tend, "-s", sock, "enable", "w:w_") == \
        ["w:w_0", "w:w_1"]
    assert "--directory" in complete(tend, "-s", sock, "run", "--d")
    assert "sleep" in complete(tend, "-s", sock, "run", "--", "slee")


def test_scale_down_stops_dependents_first(tend):
    tend.write_config(f"""
        [program:w]
        command = {tend.helper("sleeper")}
        process_name = w_%(process_num)d
        numprocs = 2
        startsecs = 0
        [program:web]
        command = {tend.helper("sleeper")}
        depends_on = w
        startsecs = 0
        """)
    tend.start()
    tend.wait_state("web", "RUNNING")
    rc, out, err = tend.ctl("scale", "w", "1")
    assert rc == 0, (out, err)
    wait_for(lambda: "w:w_1" not in tend.status(), what="w_1 removed")
    tend.wait_state("web", "RUNNING")
    log = tend.log()
    assert log.index("web: RUNNING -> STOPPING") < \
        log.index("w:w_1: RUNNING -> STOPPING"), log
    assert tend.proc_status("w:w_0")["state"] == "RUNNING"


def test_hooks_run_as_the_programs_user(tend):
    out = tend.dir / "hookout"
    out.mkdir()
    os.chmod(out, 0o777)
    os.chmod(tend.dir, 0o755)
    tend.write_config(f"""
        [program:u]
        command = {tend.public_helper("sleeper")}
        user = tendhook
        directory = /
        startsecs = 0
        pre_start = sh -c 'id -u > {out}/pre'
        post_stop = sh -c 'id -u > {out}/post'
        """)
    tend.start(wrap=tend.users_namespace(
        passwd="tendhook:x:4545:4545::/nonexistent:/usr/sbin/nologin\n",
        group="tendhook:x:4545:\n"))
    tend.track(tend.wait_state("u", "RUNNING")["pid"])
    assert (out / "pre").read_text() == "4545\n"
    assert tend.ctl("stop", "u")[0] == 0
    wait_for(lambda: (out / "post").exists() and
             (out / "post").read_text() == "4545\n", what="post_stop")
