"""
depends_on (spec §7, WAITING in §1): service dependencies are satisfied
when RUNNING, job dependencies when EXITED with an expected code; a start
pulls its dependencies in, transitively; a failed dependency fails what
waits on it; a stop (and shutdown) takes dependents first; unknown names
and cycles are config errors; reloads change dependencies without
restarts. Order is read from the events' seq numbers, never from times.
"""
import json
import os
import signal
import subprocess

from conftest import TENDD, read_json_line, require, wait_for


class Events:
    """An events subscription: every state event since it began."""

    def __init__(self, tend):
        self.sock = tend.connect()
        self.sock.sendall(b'{"id": 1, "cmd": "events"}\n')
        self.buf = bytearray()
        assert read_json_line(self.sock, self.buf) == {"id": 1, "ok": True}
        self.sock.settimeout(15)
        self.got = []

    def until(self, name, to, since=0):
        """Reads events until NAME reaches state TO (an event from the
        SINCE-th on); returns that event."""
        for e in self.got[since:]:
            if e["name"] == name and e["to"] == to:
                return e

        def more():
            e = read_json_line(self.sock, self.buf)
            assert e is not None, "tendd closed the events stream"
            self.got.append(e)
            return e if e["name"] == name and e["to"] == to else None
        return wait_for(more, what="%s to become %s" % (name, to))

    def seq(self, name, to, nth=0):
        """The seq of NAME's NTH event to TO (read so far)."""
        found = [e["seq"] for e in self.got
                 if e["name"] == name and e["to"] == to]
        assert len(found) > nth, (name, to, self.got)
        return found[nth]

    def of(self, name):
        return [e for e in self.got if e["name"] == name]

    def close(self):
        self.sock.close()


def svc(tend, name, *lines):
    return "[program:%s]\ncommand = %s\n%s\n" % (
        name, tend.helper("sleeper"), "\n".join(lines))


def test_job_and_service_dependencies_pulled_in_by_start(tend):
    tend.write_config(
        svc(tend, "db", "startsecs = 0.3", "autostart = false")
        + "[program:migrate]\ncommand = %s\ndaemon = false\n"
          "autostart = false\ndepends_on = db\n"
        % tend.helper("exitwith", 0, "--after", 0.2)
        + svc(tend, "web", "startsecs = 0", "autostart = false",
              "depends_on = db, migrate"))
    tend.start()
    ev = Events(tend)
    try:
        rc, out, err = tend.ctl("start", "web")
        assert rc == 0, (rc, out, err)
        st = tend.status()
        assert st["web"]["state"] == "RUNNING"
        assert st["db"]["state"] == "RUNNING"
        assert st["migrate"]["state"] == "EXITED"
        ev.until("web", "RUNNING")
        w = ev.until("web", "WAITING")
        assert w["description"] == "waiting for db (STARTING)", w
        m = ev.until("migrate", "WAITING")
        assert m["description"] == "waiting for db (STARTING)", m
        # db up before the job runs; the job done before web spawns
        assert ev.seq("db", "RUNNING") < ev.seq("migrate", "STARTING")
        assert ev.seq("migrate", "EXITED") < ev.seq("web", "STARTING")
        # started web alone: its dependencies came with it
        assert ev.seq("db", "STARTING") < ev.seq("db", "RUNNING")
        # a second start of web runs nothing again: the job is done
        n = len(ev.got)
        rc, out, err = tend.ctl("start", "web")
        assert rc == 0 and tend.status()["migrate"]["state"] == "EXITED"
        rc, out, err = tend.ctl("--json", "status", "web")
        assert json.loads(out)[0]["state"] == "RUNNING"
        assert len(ev.got) == n
    finally:
        ev.close()


def test_waiting_shows_in_status_and_json(tend):
    tend.write_config(
        svc(tend, "db", "startsecs = 60")
        + svc(tend, "web", "startsecs = 0", "depends_on = db"))
    tend.start()
    tend.wait_state("web", "WAITING")
    rc, out, err = tend.ctl("status", "web")
    assert rc == 3, (rc, out, err)
    assert out.split(None, 2)[1:] == ["WAITING",
                                      "waiting for db (STARTING)\n"], out
    js = [p for p in tend.status_json() if p["name"] == "web"][0]
    assert js["state"] == "WAITING" and js["pid"] is None, js
    assert js["description"] == "waiting for db (STARTING)"
    # start --no-wait on a waiting process answers at once
    rc, out, err = tend.ctl("start", "--no-wait", "web")
    assert rc == 0, (rc, out, err)
    # stopping what waits ends the wait: no spawn later
    rc, out, err = tend.ctl("stop", "web")
    assert rc == 0, (rc, out, err)
    assert tend.proc_status("web")["state"] == "STOPPED"


def test_fatal_dependency_fails_its_dependents(tend):
    tend.write_config(
        "[program:db]\ncommand = /nonexistent/db\nautostart = false\n"
        + "[program:mig]\ncommand = %s\ndaemon = false\nstartsecs = 0\n"
          "autorestart = false\nautostart = false\n"
        % tend.helper("exitwith", 3, "--after", 0.2)
        + svc(tend, "web", "autostart = false", "depends_on = db")
        + svc(tend, "api", "autostart = false", "depends_on = mig"))
    tend.start()
    rc, out, err = tend.ctl("start", "web")
    assert rc == 1, (rc, out, err)
    assert "dependency db failed" in out + err, (out, err)
    web = tend.proc_status("web")
    assert web["state"] == "FATAL"
    assert web["description"] == "dependency db failed", web
    assert tend.proc_status("db")["state"] == "FATAL"
    # a job that exits badly and is not retried
    rc, out, err = tend.ctl("start", "api")
    assert rc == 1, (rc, out, err)
    assert "dependency mig failed" in out + err, (out, err)
    assert tend.proc_status("mig")["state"] == "EXITED"
    assert tend.proc_status("api")["description"] == "dependency mig failed"


def chain(tend):
    """db <- api <- web, and a free-standing one."""
    return (svc(tend, "db", "startsecs = 0")
            + svc(tend, "api", "startsecs = 0", "depends_on = db")
            + svc(tend, "web", "startsecs = 0", "depends_on = api")
            + svc(tend, "free", "startsecs = 0"))


def test_stop_takes_dependents_first_in_reverse_order(tend):
    tend.write_config(chain(tend))
    tend.start()
    for n in ("db", "api", "web", "free"):
        tend.wait_state(n, "RUNNING")
    ev = Events(tend)
    try:
        rc, out, err = tend.ctl("stop", "db")
        assert rc == 0, (rc, out, err)
        ev.until("db", "STOPPED")
        assert ev.seq("web", "STOPPED") < ev.seq("api", "STOPPING")
        assert ev.seq("api", "STOPPED") < ev.seq("db", "STOPPING")
        st = tend.status()
        assert [st[n]["state"] for n in ("db", "api", "web", "free")] == \
            ["STOPPED", "STOPPED", "STOPPED", "RUNNING"], st
        # start web: all of the chain again, in order
        rc, out, err = tend.ctl("start", "web")
        assert rc == 0, (rc, out, err)
        ev.until("web", "RUNNING")
        assert ev.seq("db", "RUNNING") < ev.seq("api", "STARTING")
        assert ev.seq("api", "RUNNING") < ev.seq("web", "STARTING")
    finally:
        ev.close()


def test_shutdown_stops_dependents_first(tend):
    # priorities say the opposite: dependencies win over them
    tend.write_config(chain(tend).replace(
        "[program:web]", "[program:web]\npriority = 1").replace(
        "[program:db]", "[program:db]\npriority = 2000"))
    tend.start()
    for n in ("db", "api", "web", "free"):
        tend.wait_state(n, "RUNNING")
    ev = Events(tend)
    try:
        rc, out, err = tend.ctl("shutdown")
        assert rc == 0, (rc, out, err)
        ev.until("db", "STOPPED")
        assert ev.seq("web", "STOPPED") < ev.seq("api", "STOPPING")
        assert ev.seq("api", "STOPPED") < ev.seq("db", "STOPPING")
        assert tend.wait_exit() == 0
    finally:
        ev.close()


def test_crashed_dependency_leaves_dependents_running(tend):
    tend.write_config(svc(tend, "db", "startsecs = 0")
                      + svc(tend, "web", "startsecs = 0", "depends_on = db"))
    tend.start()
    db = tend.wait_state("db", "RUNNING")
    web = tend.wait_state("web", "RUNNING")
    ev = Events(tend)
    try:
        os.kill(db["pid"], signal.SIGKILL)
        ev.until("db", "RUNNING")
        assert ev.of("web") == [], ev.got
        now = tend.proc_status("web")
        assert now["state"] == "RUNNING" and now["pid"] == web["pid"]
    finally:
        ev.close()


def test_numprocs_and_group_dependencies(tend):
    tend.write_config(
        "[program:workers]\ncommand = %s\nnumprocs = 3\nstartsecs = 0.2\n"
        "process_name = workers_%%(process_num)d\n" % tend.helper("sleeper")
        + "[group:back]\nprograms = db, cache\n"
        + svc(tend, "db", "startsecs = 0.2")
        + svc(tend, "cache", "startsecs = 0.2", "depends_on = back:db")
        + svc(tend, "web", "startsecs = 0", "autostart = false",
              "depends_on = workers, back"))
    tend.start()
    ev = Events(tend)
    try:
        rc, out, err = tend.ctl("start", "web")
        assert rc == 0, (rc, out, err)
        ev.until("web", "RUNNING")
        st = tend.status()
        ups = ["workers:workers_0", "workers:workers_1", "workers:workers_2",
               "back:db", "back:cache"]
        assert all(st[n]["state"] == "RUNNING" for n in ups), st
        # the ones still coming up when the events began: before web
        for e in ev.got:
            if e["name"] in ups and e["to"] == "RUNNING":
                assert e["seq"] < ev.seq("web", "STARTING"), ev.got
    finally:
        ev.close()


def check(tend):
    require(TENDD, "make build/tendd")
    r = subprocess.run([str(TENDD), "-c", str(tend.conf), "--check"],
                       capture_output=True, text=True, timeout=10,
                       cwd=str(tend.dir))
    return r.returncode, r.stdout + r.stderr


def test_cycles_and_unknown_names_at_check(tend):
    conf = tend.dir / "a.conf"
    conf.write_text("[program:web]\n"
                    "command = /bin/true\n"
                    "\n"
                    "depends_on = api\n"
                    "[program:api]\n"
                    "command = /bin/true\n"
                    "depends_on = db\n"
                    "[program:db]\n"
                    "command = /bin/true\n"
                    "depends_on = web\n")
    tend.conf = conf
    rc, out = check(tend)
    assert rc == 1, out
    assert "a.conf:4: [program:web] depends_on: cycle web -> api -> db " \
        "-> web" in out, out
    conf.write_text("[program:web]\n"
                    "command = /bin/true\n"
                    "depends_on = nosuch\n")
    rc, out = check(tend)
    assert rc == 1, out
    assert "a.conf:3: [program:web] depends_on: unknown name nosuch" in out


def pids(tend):
    return {n: p["pid"] for n, p in tend.status().items()}


def test_reload_changes_dependencies_without_restarts(tend):
    base = svc(tend, "db", "startsecs = 0") + svc(tend, "slow",
                                                  "startsecs = 60")
    tend.write_config(base + svc(tend, "web", "startsecs = 0"))
    tend.start()
    tend.wait_state("db", "RUNNING")
    tend.wait_state("web", "RUNNING")
    before = pids(tend)
    # adding a dependency: nothing restarts
    tend.write_config(base + svc(tend, "web", "startsecs = 0",
                                 "depends_on = db"))
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    assert "0 changed" in out, out
    assert pids(tend)["web"] == before["web"]
    # ... and it applies from now on: stopping db takes web first
    ev = Events(tend)
    try:
        assert tend.ctl("stop", "db")[0] == 0
        ev.until("db", "STOPPED")
        assert ev.seq("web", "STOPPED") < ev.seq("db", "STOPPING")
    finally:
        ev.close()
    # a dependency on what is still STARTING: web waits
    tend.write_config(base + svc(tend, "web", "startsecs = 0",
                                 "depends_on = slow"))
    assert tend.ctl("reload")[0] == 0
    assert tend.ctl("start", "--no-wait", "web")[0] == 0
    w = tend.wait_state("web", "WAITING")
    assert w["description"] == "waiting for slow (STARTING)", w
    # removed: it starts at once
    tend.write_config(base + svc(tend, "web", "startsecs = 0"))
    rc, out, err = tend.ctl("reload")
    assert rc == 0 and "0 changed" in out, (rc, out, err)
    tend.wait_state("web", "RUNNING")
    assert tend.proc_status("slow")["state"] == "STARTING"


def test_reload_restarting_or_removing_a_dependency_stops_dependents_first(
        tend):
    db = svc(tend, "db", "startsecs = 0")
    web = svc(tend, "web", "startsecs = 0", "depends_on = db")
    tend.write_config(db + web + svc(tend, "api", "startsecs = 0",
                                     "depends_on = web"))
    tend.start()
    for n in ("db", "web", "api"):
        tend.wait_state(n, "RUNNING")
    ev = Events(tend)
    try:
        # db changed: api, web stop (in that order), db restarts, they
        # come back after it
        tend.write_config(db.replace("startsecs = 0", "startsecs = 0\n"
                                     "stopwaitsecs = 7")
                          + web + svc(tend, "api", "startsecs = 0",
                                      "depends_on = web"))
        rc, out, err = tend.ctl("reload")
        assert rc == 0 and "1 changed" in out, (rc, out, err)
        ev.until("api", "RUNNING")
        assert ev.seq("api", "STOPPED") < ev.seq("web", "STOPPING")
        assert ev.seq("web", "STOPPED") < ev.seq("db", "STOPPING")
        assert ev.seq("db", "RUNNING") < ev.seq("web", "STARTING")
        assert ev.seq("web", "RUNNING") < ev.seq("api", "STARTING")
        # db and web removed, api no longer depends: web stops before db
        tend.write_config(svc(tend, "api", "startsecs = 0"))
        n = len(ev.got)
        rc, out, err = tend.ctl("reload")
        assert rc == 0, (rc, out, err)
        ev.until("db", "STOPPED", since=n)
        assert ev.seq("web", "STOPPED", 1) < ev.seq("db", "STOPPING", 1)
        wait_for(lambda: set(tend.status()) == {"api"}, what="db, web gone")
    finally:
        ev.close()
