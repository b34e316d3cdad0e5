"""
GET /metrics (spec section 11): valid for `promtool check metrics` on the
Unix socket and on [inet_http_server] (with its Basic auth); values agree
with `tendctl --json status`; counters (CPU seconds, restarts) never go
backwards across a process's restarts; log bytes per stream; reloads.
One tendd serves the module.
"""
import os
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from conftest import Tend, reachable_tmp, require, wait_for
from observe import (free_port, inet_section, parse_metrics, request,
                     value)

PROMTOOL = Path(shutil.which("promtool") or "/usr/bin/promtool")
AUTH = ("u", "pw")

PROGRAMS = """\
    [program:idle]
    command = {sleeper}
    startsecs = 0

    [program:talk]
    command = /bin/sh -c 'echo hello-out; echo hello-err >&2; exec sleep 1000'
    startsecs = 0

    [program:off]
    command = /bin/sleep 1000
    autostart = false

    [program:grouped]
    command = /bin/sleep 1000
    startsecs = 0
    stopasgroup = true

    [program:fails]
    command = /bin/sh -c 'exit 3'
    startsecs = 1
    startretries = 0

    [program:spin]
    command = /bin/sh -c 'i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done'
    autostart = false
    autorestart = true
    startsecs = 0
    backoff_max = 0.05

    [group:grp]
    programs = g1

    [program:g1]
    command = /bin/sleep 1000
    startsecs = 0
    """


@pytest.fixture(scope="module")
def srv():
    workdir = tempfile.mkdtemp(prefix="tend-", dir=reachable_tmp())
    t = Tend(workdir)
    t.port = free_port()
    t.write_config(inet_section(t.port, *AUTH) + "\n" + textwrap.dedent(
        PROGRAMS.format(sleeper=t.helper("sleeper"))))
    try:
        t.start()
        t.wait_state("idle", "RUNNING")
        t.wait_state("talk", "RUNNING")
        t.wait_state("grouped", "RUNNING")
        t.wait_state("fails", "FATAL")
    except BaseException:
        t.cleanup()
        raise
    yield t
    t.cleanup()
    shutil.rmtree(workdir, ignore_errors=True)


def scrape(t, where=None, auth=None):
    status, headers, body = request(where or str(t.sock), "GET", "/metrics",
                                    auth=auth)
    assert status == 200, (status, body)
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    return body.decode()


def promtool(text):
    require(PROMTOOL, "apt-get install prometheus (make deps)")
    r = subprocess.run([str(PROMTOOL), "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (r.stdout, r.stderr, text)


def test_valid_on_unix_socket_and_inet(srv):
    text = scrape(srv)
    promtool(text)
    inet = scrape(srv, srv.port, AUTH)
    promtool(inet)
    fams = parse_metrics(inet)
    for fam in ("tend_process_state", "tend_process_up",
                "tend_process_restarts_total",
                "tend_process_start_time_seconds",
                "tend_process_last_exit_code",
                "tend_process_cpu_seconds_total",
                "tend_process_resident_memory_bytes", "tend_process_health",
                "tend_log_bytes_written_total",
                "tend_log_bytes_dropped_total", "tend_processes",
                "tend_reloads_total", "tend_build_info"):
        assert fam in fams, fam
    assert fams["tend_process_cpu_seconds_total"]["type"] == "counter"
    assert fams["tend_process_resident_memory_bytes"]["type"] == "gauge"
    # TCP without the credentials: refused, nothing shown
    status, _, body = request(srv.port, "GET", "/metrics")
    assert status == 401 and b"tend_" not in body
    status, _, _ = request(srv.port, "GET", "/metrics", auth=("u", "no"))
    assert status == 401
    status, _, _ = request(str(srv.sock), "POST", "/metrics")
    assert status == 405


def test_values_agree_with_status(srv):
    before = {p["name"]: p for p in srv.status_json()}
    fams = parse_metrics(scrape(srv))
    assert set(before) == {ls["name"] for ls, _ in
                           fams["tend_process_up"]["samples"]}
    states = {ls["state"] for ls, _ in fams["tend_process_state"]["samples"]}
    for name, p in before.items():
        lab = {"name": name, "group": p["group"]}
        # one series per state, 1 for the current one
        for s in states:
            assert value(fams, "tend_process_state", state=s, **lab) == \
                (1 if s == p["state"] else 0), (name, s)
        assert value(fams, "tend_process_up", **lab) == \
            (1 if p["state"] == "RUNNING" else 0)
        assert value(fams, "tend_process_restarts_total", **lab) == \
            p["restarts"]
        exit_code = value(fams, "tend_process_last_exit_code", **lab)
        assert exit_code == p["exitcode"], name
        mem = value(fams, "tend_process_resident_memory_bytes", **lab)
        cpu = value(fams, "tend_process_cpu_seconds_total", **lab)
        if p["pid"] is None:
            assert mem is None and p["memory_bytes"] is None
        else:
            assert mem > 0 and p["memory_bytes"] > 0
            assert 0.5 <= mem / p["memory_bytes"] <= 2, (mem, p)
            # a counter read after the status: never less
            assert cpu >= p["cpu_seconds"] >= 0
            start = value(fams, "tend_process_start_time_seconds", **lab)
            assert abs(start - (p["since"] - p["uptime"])) < 5 or \
                p["state"] != "RUNNING"
    assert value(fams, "tend_process_last_exit_code", name="fails") == 3
    assert value(fams, "tend_process_state", name="fails",
                 state="FATAL") == 1
    assert value(fams, "tend_process_up", name="grp:g1", group="grp") == 1
    assert value(fams, "tend_process_health", name="idle") is None
    # tendd's own: processes by state add up
    by_state = {ls["state"]: v for ls, v in
                fams["tend_processes"]["samples"]}
    assert sum(by_state.values()) == len(before)
    for s in states:
        assert by_state[s] == sum(1 for p in before.values()
                                  if p["state"] == s)
    assert [ls for ls, v in fams["tend_build_info"]["samples"] if v == 1]


def test_log_bytes_per_stream(srv):
    def written():
        fams = parse_metrics(scrape(srv))
        return (value(fams, "tend_log_bytes_written_total", name="talk",
                      stream="stdout"),
                value(fams, "tend_log_bytes_written_total", name="talk",
                      stream="stderr"),
                value(fams, "tend_log_bytes_dropped_total", name="talk",
                      stream="stdout"))
    out, err, dropped = wait_for(lambda: (lambda w: w if w[0] >= 10 and
                                          w[1] >= 10 else None)(written()),
                                 what="talk's output counted")
    assert out == len("hello-out\n") and err == len("hello-err\n")
    assert dropped == 0


def test_counters_never_go_backwards_across_restarts(srv):
    rc, out, err = srv.ctl("start", "--no-wait", "spin")
    assert rc == 0, (out, err)
    seen = []

    def enough():
        fams = parse_metrics(scrape(srv))
        seen.append((value(fams, "tend_process_restarts_total",
                           name="spin"),
                     value(fams, "tend_process_cpu_seconds_total",
                           name="spin")))
        return seen[-1][0] >= 4
    try:
        wait_for(enough, timeout=20, interval=0.02,
                 what="spin restarted 4 times")
    finally:
        srv.ctl("stop", "spin")
    fams = parse_metrics(scrape(srv))
    seen.append((value(fams, "tend_process_restarts_total", name="spin"),
                 value(fams, "tend_process_cpu_seconds_total", name="spin")))
    for a, b in zip(seen, seen[1:]):
        assert b[0] >= a[0] and b[1] >= a[1], seen
    # the runs add up: more CPU after four restarts than after the first
    first = min(c for r, c in seen if r >= 1)
    assert seen[-1][1] > first, seen


def test_reloads_are_counted(srv):
    before = value(parse_metrics(scrape(srv)), "tend_reloads_total")
    rc, out, err = srv.ctl("reload")
    assert rc == 0, (out, err)
    assert value(parse_metrics(scrape(srv)), "tend_reloads_total") == \
        before + 1


def test_tendctl_status_resources(srv):
    rc, out, err = srv.ctl("status", "--resources")
    assert rc == 3, (rc, out, err)     # off and fails are not RUNNING
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "STATE", "CPU%", "MEM",
                                "DESCRIPTION"]
    rows = {ln.split()[0]: ln.split() for ln in lines[1:]}
    assert set(rows) == {p["name"] for p in srv.status_json()}
    idle = rows["idle"]
    assert idle[1] == "RUNNING"
    assert float(idle[2]) >= 0 and idle[3][-1] in "BKMG" and \
        float(idle[3][:-1]) > 0
    assert idle[4] == "pid"
    off = rows["off"]     # no pid: no figures, the description follows
    assert off[1] in ("NEW", "STOPPED") and off[2].lower() == "not"
    # the plain table is unchanged: no header, no columns
    rc, out, err = srv.ctl("status", "idle")
    assert rc == 0 and out.split()[:3] == ["idle", "RUNNING", "pid"]


def own_cgroup(pid):
    """PID's cgroup v2 directory, when it is its own (stopasgroup)."""
    with open("/proc/%d/cgroup" % pid) as f:
        rel = [ln.split(":", 2)[2] for ln in f.read().splitlines()
               if ln.startswith("0::")]
    for base in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if rel and "/services/" in rel[0] and \
                not rel[0].endswith("/shared") and \
                os.path.exists(base + rel[0] + "/memory.current"):
            return base + rel[0]
    return None


def test_memory_is_the_cgroups_when_it_has_one(srv):
    pid = srv.proc_status("grouped")["pid"]
    where = own_cgroup(pid)
    if where is None:
        # no cgroup v2 here: the process's RSS, as for the others
        where = "/proc/%d/stat" % pid
    fams = parse_metrics(scrape(srv))
    mem = value(fams, "tend_process_resident_memory_bytes", name="grouped")
    if where.startswith("/proc"):
        with open(where) as f:
            rss = int(f.read().rsplit(")", 1)[1].split()[21])
        assert 0.5 <= mem / (rss * os.sysconf("SC_PAGE_SIZE")) <= 2
        return
    with open(where + "/memory.current") as f:
        current = int(f.read())
    with open("/proc/%d/stat" % pid) as f:
        rss = int(f.read().rsplit(")", 1)[1].split()[21]) * \
            os.sysconf("SC_PAGE_SIZE")
    # the cgroup's figure (read a moment apart), not the RSS's
    assert abs(mem - current) < abs(mem - rss), (mem, current, rss)
