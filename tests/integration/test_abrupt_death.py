"""
When tendd dies abruptly (SIGKILL), its services die with it (the
parent-death signal) but what they started does not: a master's workers
live on, holding the master's port. The next tendd on the same socket
stops them before it starts anything (SPEC §1: "no orphaned services"),
and leaves jobs, which run on by design, and other tendds alone. With
cgroups it finds them in its predecessor's services/ cgroups, without in
the sessions SOCKET.state recorded.

The service is the helper binder: it listens on a port picked free at
test time and leaves a worker holding it; a second binder on that port
exits 78 (php-fpm's "cannot bind"), so "RUNNING again" proves the port
was given back.
"""
import os
import re
import signal
import socket

import pytest

from conftest import alive, forker_pids, remove_cgroup, wait_for
from test_cgroup import (cg, cgroup2_mounts, cgroup2_writable, hide_cgroup2,
                         instance_dir, job_dir, own_cgroup, procs_in,
                         shared_dir)

assert cg  # the fixture, defined in test_cgroup.py

LEFT = "a previous tendd left running"
ENDED = "the processes a previous tendd left have ended"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_taken(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def binder_pids(path, not_master=None):
    """binder's pidfile, (master, worker), once it names a master other
    than NOT_MASTER: binder writes it only once it listens."""
    def get():
        try:
            with open(path) as f:
                m, w = (int(x) for x in f.read().split())
        except (FileNotFoundError, ValueError):
            return None
        return (m, w) if m != not_master else None
    return wait_for(get, 10, what="binder's pidfile")


class Mark:
    """The log from a point on: what one tendd of the test wrote."""

    def __init__(self, tend):
        self.tend, self.at = tend, len(tend.log())

    def text(self):
        return self.tend.log()[self.at:]


def kill_tendd(tend, *services):
    """SIGKILL, as a person's kill -9: the services die with tendd."""
    tend.signal(signal.SIGKILL)
    tend.wait_exit()
    for pid in services:
        wait_for(lambda: not alive(pid), 5,
                 what="pid %d to die with tendd" % pid)


def gone(pid):
    """PID has ended (its files, the port among them, went before the
    cgroup emptied; its last instants as a task may take a moment)."""
    wait_for(lambda: not alive(pid), 5, what="pid %d to have ended" % pid)


def assert_stopped_before_start(log, name):
    """The sweep ended before NAME was started again, which it was once,
    without a failed start."""
    assert ENDED in log, log
    starts = [m.start() for m in re.finditer(
        r"\b%s: NEW -> STARTING" % re.escape(name), log)]
    assert len(starts) == 1, log
    assert log.index(ENDED) < starts[0], log
    assert not re.search(r"\b%s: \w+ -> (BACKOFF|FATAL)" % re.escape(name),
                         log), log


def start_other(tend, tmp_path):
    """An independent tendd (its own config and socket) with a service of
    the same name that leaves a setsid grandchild; its pids."""
    other = tmp_path / "other"
    other.mkdir()
    pf = other / "pids"
    conf = other / "tend.conf"
    conf.write_text(f"""[tend]
socket = {other}/tend.sock
childlogdir = {other}

[program:web]
command = {tend.helper("forker", "--pidfile", pf, "--setsid")}
startsecs = 0
""")
    p = tend.spawn_tendd(conf=conf, log=other / "tendd.log")
    tend._extra.append(p)
    pids = forker_pids(str(pf))
    tend.track(*pids)
    return p, pids


def test_a_restarted_tendd_stops_what_its_services_left_first(cg, tmp_path):
    tend = cg
    port = free_port()
    pf, jpf = tend.path("web.pids"), tend.path("gjob.pids")
    tend.write_config(f"""
        [program:web]
        command = {tend.helper("binder", "--port", port, "--pidfile", pf,
                               "--worker", "setsid")}
        startsecs = 0
        [program:job]
        command = {tend.helper("sleeper")}
        daemon = false
        startsecs = 0
        joinsecs = 0
        [program:gjob]
        command = {tend.helper("forker", "--pidfile", jpf, "--setsid")}
        daemon = false
        startsecs = 0
        joinsecs = 0
        killasgroup = true
    """)
    tend.start()
    tend.wait_state("web", "RUNNING")
    master, worker = binder_pids(pf)
    job = tend.wait_state("job", "RUNNING")["pid"]
    tend.wait_state("gjob", "RUNNING")
    jleader, jgchild = forker_pids(jpf)
    tend.track(master, worker, job, jleader, jgchild)
    inst = instance_dir(tend)
    assert procs_in(shared_dir(inst)) == sorted([master, worker])
    p2, (oleader, ogchild) = start_other(tend, tmp_path)

    kill_tendd(tend, master)
    # The premise: the worker lives on, and holds the port.
    assert alive(worker) and port_taken(port)
    assert alive(job) and alive(jleader) and alive(jgchild)

    os.unlink(pf)
    mark = Mark(tend)
    tend.start()
    st = tend.wait_state("web", "RUNNING")
    new_master, new_worker = binder_pids(pf, not_master=master)
    tend.track(new_master, new_worker)
    assert st["pid"] == new_master
    gone(worker)
    log = mark.text()
    assert re.search(r"info: services without a group stop: stopping 1 "
                     r"process %s: pid %d \(binder\)\n" % (LEFT, worker),
                     log), log
    assert_stopped_before_start(log, "web")
    # Jobs run on, also one in a cgroup of its own, and only its
    # predecessor's services were stopped: not the other tendd's.
    assert alive(job) and alive(jleader) and alive(jgchild)
    assert {jleader, jgchild} <= set(procs_in(job_dir(inst, "gjob%3Agjob")))
    assert log.count(LEFT) == 1, log
    assert alive(oleader) and alive(ogchild)
    assert p2.poll() is None
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0
    p2.send_signal(signal.SIGTERM)
    assert tend.wait_exit(proc=p2) == 0


def test_what_a_plain_stop_left_is_stopped_by_the_next_tendd(cg):
    """A clean exit too leaves what a stop without stopasgroup left (as
    supervisord does): the instance directory and SOCKET.state stay, and
    the next tendd stops it before it starts the service again."""
    tend = cg
    port = free_port()
    pf = tend.path("web.pids")
    tend.write_config(f"""
        [program:web]
        command = {tend.helper("binder", "--port", port, "--pidfile", pf,
                               "--worker", "setsid")}
        startsecs = 0
    """)
    tend.start()
    tend.wait_state("web", "RUNNING")
    master, worker = binder_pids(pf)
    tend.track(master, worker)
    inst = instance_dir(tend)
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0
    assert alive(worker) and procs_in(shared_dir(inst)) == [worker]
    assert os.path.exists(str(tend.sock) + ".state")

    os.unlink(pf)
    mark = Mark(tend)
    tend.start()
    tend.wait_state("web", "RUNNING")
    tend.track(*binder_pids(pf, not_master=master))
    gone(worker)
    assert_stopped_before_start(mark.text(), "web")
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0


@pytest.fixture
def elsewhere():
    """A cgroup beside the test's own, removed (with what tendd made in
    it) after the test's tendds and processes are gone."""
    why = cgroup2_writable()
    if why:
        pytest.skip(why)
    base = cgroup2_mounts()[0] + own_cgroup().rstrip("/")
    path = os.path.join(base, "tend-test-elsewhere-%d-%s" % (
        os.getpid(), os.urandom(4).hex()))
    os.mkdir(path)
    yield path
    remove_cgroup(path)


def test_a_predecessor_in_another_cgroup_is_found_through_its_state_file(
        elsewhere, cg):
    """tendd run by hand again from another login is in another cgroup:
    SOCKET.state names its predecessor's instance directory there."""
    tend = cg
    port = free_port()
    pf = tend.path("web.pids")
    tend.write_config(f"""
        [program:web]
        command = {tend.helper("binder", "--port", port, "--pidfile", pf,
                               "--worker", "setsid")}
        startsecs = 0
    """)

    def move():
        with open(os.path.join(elsewhere, "cgroup.procs"), "w") as f:
            f.write("0")
    tend.start(preexec_fn=move)
    tend.wait_state("web", "RUNNING")
    master, worker = binder_pids(pf)
    tend.track(master, worker)
    inst = instance_dir(tend)
    assert os.path.dirname(inst) == elsewhere
    kill_tendd(tend, master)
    assert alive(worker)

    os.unlink(pf)
    mark = Mark(tend)
    tend.start()
    inst2 = wait_for(lambda: re.search(
        r"group stops use a cgroup per process.* in (/\S+)\n", mark.text()),
        5).group(1)
    assert inst2 != inst
    assert os.path.basename(inst2) == os.path.basename(inst)
    tend.wait_state("web", "RUNNING")
    tend.track(*binder_pids(pf, not_master=master))
    gone(worker)
    assert_stopped_before_start(mark.text(), "web")
    wait_for(lambda: not os.path.exists(inst), 5,
             what="the old instance directory removed")


def test_without_cgroups_what_is_left_in_a_services_session_is_stopped(tend):
    """No cgroup2 (here: a mount namespace without it): SOCKET.state
    records each service's session, and the next tendd stops what is left
    in it. A worker that left the session (setsid) is out of its reach,
    the documented limit."""
    if os.getuid() != 0:
        pytest.skip("hiding cgroup2 needs a mount namespace (root)")
    port, port2 = free_port(), free_port()
    pf, pf2 = tend.path("web.pids"), tend.path("away.pids")
    tend.write_config(f"""
        [program:web]
        command = {tend.helper("binder", "--port", port, "--pidfile", pf,
                               "--worker", "session")}
        startsecs = 0
        [program:away]
        command = {tend.helper("binder", "--port", port2, "--pidfile", pf2,
                               "--worker", "setsid")}
        startsecs = 0
        autorestart = false
        startretries = 0
        [program:job]
        command = {tend.helper("sleeper")}
        daemon = false
        startsecs = 0
    """)
    tend.start(preexec_fn=hide_cgroup2)
    assert "info: no cgroups (" in tend.log()
    tend.wait_state("web", "RUNNING")
    tend.wait_state("away", "RUNNING")
    master, worker = binder_pids(pf)
    amaster, aworker = binder_pids(pf2)
    job = tend.wait_state("job", "RUNNING")["pid"]
    tend.track(master, worker, amaster, aworker, job)
    with open(str(tend.sock) + ".state") as f:
        state = f.read()
    assert re.search(r"^session %d \d+ web +$" % master, state, re.M), state
    assert re.search(r"^session %d \d+ away +$" % amaster, state, re.M)
    assert "session %d " % job not in state

    kill_tendd(tend, master, amaster)
    assert alive(worker) and port_taken(port) and alive(job)

    os.unlink(pf)
    mark = Mark(tend)
    tend.start(preexec_fn=hide_cgroup2)
    tend.wait_state("web", "RUNNING")
    tend.track(*binder_pids(pf, not_master=master))
    gone(worker)
    log = mark.text()
    assert re.search(r"info: web \(session %d\): stopping 1 process %s: "
                     r"pid %d \(binder\)\n" % (master, LEFT, worker), log), log
    assert_stopped_before_start(log, "web")
    assert log.count(LEFT) == 1, log
    # Out of reach: it left the session. Jobs run on.
    assert alive(aworker) and alive(job)
