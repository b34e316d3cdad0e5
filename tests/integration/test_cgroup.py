"""
A cgroup (v2) per process that stops as a group: the group of stopasgroup
and killasgroup is everything the process started, even a grandchild that
double-forked and called setsid(). Other services share one cgroup, so
that a tendd started after one that died abruptly finds what they left
(test_abrupt_death.py). Directories are made per tendd instance (named
after the socket): services/NAME, services/shared and jobs/NAME, removed
once empty; without a usable cgroup2 tendd falls back to the session.
Skipped where no cgroup2 hierarchy is writable here.
"""
import ctypes
import os
import re
import signal

import pytest

from conftest import (alive, exists, forker_pids, holds_for, proc_stat,
                      wait_for)


def cgroup2_mounts():
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                out.append(fields[4].encode().decode("unicode_escape"))
    return out


def own_cgroup(pid="self"):
    with open("/proc/%s/cgroup" % pid) as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].rstrip("\n")
    return None


def cgroup2_writable():
    """Why cgroup tests cannot run here, or None."""
    mounts, mine = cgroup2_mounts(), own_cgroup()
    if not mounts or mine is None:
        return "no cgroup2 hierarchy"
    probe = os.path.join(mounts[0] + mine.rstrip("/"),
                         "tend-test-probe-%d" % os.getpid())
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as e:
        return "cgroup2 not writable: %s" % e
    return None


@pytest.fixture
def cg(tend):
    why = cgroup2_writable()
    if why:
        pytest.skip(why)
    return tend


INSTANCE_RE = r"group stops use a cgroup per process.* in (/\S+)\n"


def instance_dir(tend, log=None):
    m = wait_for(lambda: re.search(
        INSTANCE_RE, log.read_text() if log else tend.log()), 5,
        what="the cgroup log line")
    return m.group(1)


def svc_dir(inst, name):
    """The cgroup of a service with a group stop."""
    return os.path.join(inst, "services", name)


def job_dir(inst, name):
    """The cgroup of a job with a group stop."""
    return os.path.join(inst, "jobs", name)


def shared_dir(inst):
    """The cgroup services without a group stop share."""
    return os.path.join(inst, "services", "shared")


def subdirs(path):
    """Every cgroup below PATH, relative to it."""
    return sorted(os.path.relpath(d, path) for d, _, _ in os.walk(path)
                  if d != path)


def procs_in(path):
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return sorted(int(x) for x in f.read().split())
    except FileNotFoundError:
        return None


def start_daemonizing(tend, extra=(), flags=(), name="grp"):
    pf = tend.path("pids-" + name)
    tend.write_config("\n".join([
        "[program:%s]" % name,
        "command = " + tend.helper("forker", "--pidfile", pf, "--setsid",
                                   *flags),
        "startsecs = 0"] + list(extra)), tend="loglevel = debug")
    tend.start()
    tend.wait_state(name, "RUNNING")
    leader, gchild = forker_pids(pf)
    tend.track(leader, gchild)
    st = proc_stat(gchild)
    assert st[3] == gchild != leader, "the grandchild did not leave the session"
    assert st[1] == tend.pid, "not adopted by tendd (subreaper)"
    return leader, gchild


def test_the_cgroup_holds_exactly_the_process_and_its_descendants(cg):
    tend = cg
    leader, gchild = start_daemonizing(tend, ["stopasgroup = true"])
    inst = instance_dir(tend)
    d = svc_dir(inst, "grp%3Agrp")
    assert procs_in(d) == sorted([leader, gchild])
    rel = own_cgroup(leader)
    assert rel.endswith("/" + os.path.basename(inst) +
                        "/services/grp%3Agrp"), rel
    assert own_cgroup(gchild) == rel
    assert own_cgroup(tend.pid) != rel, "tendd itself is in it"
    # Nothing else in the instance: one directory per process.
    assert subdirs(inst) == ["services", "services/grp%3Agrp"], \
        subdirs(inst)


def test_killasgroup_kills_a_grandchild_that_left_the_session(cg):
    tend = cg
    leader, gchild = start_daemonizing(
        tend, ["killasgroup = true", "stopwaitsecs = 1"], ["--ignore-term"])
    rc, out, err = tend.ctl("stop", "grp")
    assert rc == 0, (rc, out, err)
    assert tend.proc_status("grp")["exitcode"] == -9
    wait_for(lambda: not exists(gchild), 3,
             what="the setsid grandchild killed and reaped")
    assert re.search(r"reaped pid %d .*exit code -9" % gchild, tend.log())


def test_stopasgroup_terms_a_grandchild_that_left_the_session(cg):
    tend = cg
    leader, gchild = start_daemonizing(tend, ["stopasgroup = true"])
    rc, out, err = tend.ctl("stop", "grp")
    assert rc == 0, (rc, out, err)
    wait_for(lambda: not exists(gchild), 3,
             what="the setsid grandchild stopped and reaped")
    # It got the stop signal itself, not only the SIGKILL of what is left.
    assert re.search(r"reaped pid %d .*exit code -15" % gchild, tend.log())
    assert tend.proc_status("grp")["state"] == "STOPPED"


def test_directories_go_after_stop_and_shutdown(cg):
    tend = cg
    leader, gchild = start_daemonizing(tend, ["stopasgroup = true"])
    inst = instance_dir(tend)
    d = svc_dir(inst, "grp%3Agrp")
    assert os.path.isdir(d)
    assert tend.ctl("stop", "grp")[0] == 0
    wait_for(lambda: not os.path.exists(d), 3, what="its cgroup removed")
    assert tend.ctl("start", "grp")[0] == 0
    tend.wait_state("grp", "RUNNING")
    wait_for(lambda: procs_in(d), 3, what="its cgroup again")
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0
    assert not os.path.exists(inst), os.listdir(inst)


def test_services_without_group_stops_share_a_cgroup_and_jobs_get_none(cg):
    """Only stopasgroup and killasgroup use a group, so only their
    programs pay for a cgroup of their own. Other services share one (what
    they leave is found by the next tendd should this one die abruptly),
    and a plain stop leaves the grandchild that left the session alone, as
    under supervisord. A job without a group stop stays in tendd's
    cgroup: nothing ever kills a job's leftovers."""
    tend = cg
    pf = tend.path("pids-job")
    leader, gchild = start_daemonizing(tend, extra=[
        "[program:job]",
        "command = " + tend.helper("forker", "--pidfile", pf, "--setsid"),
        "daemon = false",
        "startsecs = 0"])
    jleader, jgchild = forker_pids(pf)
    tend.track(jleader, jgchild)
    inst = instance_dir(tend)
    shared = shared_dir(inst)
    assert own_cgroup(leader) == own_cgroup(gchild) == \
        own_cgroup(tend.pid).rstrip("/") + "/%s/services/shared" % \
        os.path.basename(inst)
    assert procs_in(shared) == sorted([leader, gchild])
    assert own_cgroup(jleader) == own_cgroup(jgchild) == own_cgroup(tend.pid)
    assert subdirs(inst) == ["services", "services/shared"], subdirs(inst)
    assert tend.ctl("stop", "grp")[0] == 0
    assert not exists(leader)
    assert alive(gchild) and procs_in(shared) == [gchild]
    os.kill(gchild, signal.SIGKILL)


def test_a_restart_keeps_the_directory(cg):
    """A process that exits and is restarted stays in the same directory
    (not removed and made again: that costs each restart); what it left
    running is still in its group."""
    tend = cg
    leader, gchild = start_daemonizing(tend, ["stopasgroup = true"])
    d = svc_dir(instance_dir(tend), "grp%3Agrp")
    ino = os.stat(d).st_ino
    os.kill(leader, signal.SIGKILL)
    new = wait_for(lambda: (lambda p: p if p and p != leader else None)(
        tend.proc_status("grp").get("pid")), 10, what="the restart")
    tend.wait_state("grp", "RUNNING")
    assert os.stat(d).st_ino == ino
    assert new in procs_in(d) and gchild in procs_in(d)
    assert tend.ctl("stop", "grp")[0] == 0
    wait_for(lambda: not alive(gchild), 5, what="the old grandchild stopped")
    wait_for(lambda: not os.path.exists(d), 5, what="the directory removed")


def test_two_instances_do_not_collide(cg, tmp_path):
    tend = cg
    leader, gchild = start_daemonizing(tend, ["stopasgroup = true"])
    inst = instance_dir(tend)
    # A second tendd, same program names, another socket.
    other = tmp_path / "second"
    other.mkdir()
    conf = other / "tend.conf"
    pf = other / "pids"
    conf.write_text(f"""[tend]
socket = {other}/tend.sock
childlogdir = {other}

[program:grp]
command = {tend.helper("forker", "--pidfile", pf, "--setsid")}
startsecs = 0
stopasgroup = true
""")
    log2 = other / "tendd.log"
    p2 = tend.spawn_tendd(conf=conf, log=log2)
    tend._extra.append(p2)
    l2, g2 = forker_pids(str(pf))
    tend.track(l2, g2)
    inst2 = instance_dir(tend, log2)
    assert inst2 != inst
    assert os.path.dirname(inst2) == os.path.dirname(inst)
    assert procs_in(svc_dir(inst2, "grp%3Agrp")) == sorted([l2, g2])
    # Stopping one's group leaves the other's alone.
    assert tend.ctl("stop", "grp")[0] == 0
    wait_for(lambda: not exists(gchild), 3)
    assert alive(l2) and alive(g2)
    p2.send_signal(signal.SIGTERM)
    assert tend.wait_exit(proc=p2) == 0
    assert not exists(l2)
    assert not os.path.exists(inst2)


def test_a_restarted_tendd_finds_its_predecessors_directory(cg):
    """SIGKILLed, tendd leaves its directories: a tendd on the same socket
    uses the same instance, removes the services' (the service died with
    tendd) and leaves the job that runs on (the promise for jobs), whose
    directory goes when it ends."""
    tend = cg
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        stopasgroup = true
        [program:job]
        command = {tend.helper("sleeper")}
        daemon = false
        startsecs = 0
        killasgroup = true
    """)
    tend.start()
    svc = tend.wait_state("svc", "RUNNING")["pid"]
    job = tend.wait_state("job", "RUNNING")["pid"]
    tend.track(svc, job)
    inst = instance_dir(tend)
    tend.signal(signal.SIGKILL)
    tend.wait_exit()
    wait_for(lambda: not alive(svc), 3, what="the service dead with tendd")
    assert alive(job)
    sd, jd = svc_dir(inst, "svc%3Asvc"), job_dir(inst, "job%3Ajob")
    assert os.path.isdir(sd) and procs_in(jd) == [job]

    tend.write_config("")
    tend.logpath.write_text("")
    tend.start()
    assert instance_dir(tend) == inst
    wait_for(lambda: not os.path.exists(os.path.dirname(sd)), 3,
             what="the services' directories removed")
    # Nothing was left in them to stop.
    assert "a previous tendd left running" not in tend.log()
    assert alive(job) and procs_in(jd) == [job]
    os.kill(job, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(jd), 3, what="the job's cgroup gone")
    tend.signal(signal.SIGTERM)
    assert tend.wait_exit() == 0
    assert not os.path.exists(inst)


CLONE_NEWNS, MS_REC, MS_PRIVATE, MNT_DETACH = 0x20000, 0x4000, 0x40000, 2


def hide_cgroup2():
    """preexec_fn: a private mount namespace without cgroup2 in it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0 or \
            libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        os._exit(97)
    for m in cgroup2_mounts():
        if libc.umount2(m.encode(), MNT_DETACH) != 0:
            os._exit(98)


def test_without_cgroup2_the_group_is_the_session(cg):
    """Real fallback: tendd started where no cgroup2 is mounted (a mount
    namespace of its own) says so once and stops groups as before: its
    session, not a grandchild that left it."""
    tend = cg
    pf, pf2 = tend.path("pids"), tend.path("pids2")
    tend.write_config(f"""
        [program:grp]
        command = {tend.helper("forker", "--pidfile", pf, "--new-pgrp")}
        startsecs = 0
        stopasgroup = true
        [program:away]
        command = {tend.helper("forker", "--pidfile", pf2, "--setsid")}
        startsecs = 0
        stopasgroup = true
    """)
    tend.start(preexec_fn=hide_cgroup2)
    assert re.search(r"info: no cgroups \(.*\): stopasgroup and killasgroup "
                     r"reach a process's session", tend.log()), tend.log()
    assert "processes get a cgroup" not in tend.log()
    tend.wait_state("grp", "RUNNING")
    tend.wait_state("away", "RUNNING")
    leader, child = forker_pids(pf)
    l2, g2 = forker_pids(pf2)
    tend.track(leader, child, l2, g2)
    assert own_cgroup(leader) == own_cgroup(tend.pid)
    assert tend.ctl("stop", "grp", "away")[0] == 0
    wait_for(lambda: not exists(child), 3, what="the session member stopped")
    # The documented limit of the fallback: the setsid grandchild lives.
    holds_for(lambda: alive(g2), 0.3, what="the setsid grandchild alive")
    os.kill(g2, signal.SIGKILL)


def test_a_program_removed_by_reload_takes_its_cgroup_along(cg):
    tend = cg
    leader, gchild = start_daemonizing(tend, ["stopasgroup = true"])
    d = svc_dir(instance_dir(tend), "grp%3Agrp")
    assert procs_in(d) == sorted([leader, gchild])
    tend.write_config("")
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    wait_for(lambda: not exists(gchild), 5, what="the group stopped")
    wait_for(lambda: not os.path.exists(d), 3, what="its cgroup removed")
    assert tend.status() == {}


def test_a_reload_that_makes_a_job_a_service_moves_its_cgroup(cg):
    """jobs/ is what the next tendd leaves alone, services/ what it stops:
    a process is always on the side its current daemon setting says."""
    tend = cg
    program = """
        [program:p]
        command = {cmd}
        startsecs = 0
        killasgroup = true
        daemon = {daemon}
    """
    tend.write_config(program.format(cmd=tend.helper("sleeper"),
                                     daemon="false"))
    tend.start()
    old = tend.wait_state("p", "RUNNING")["pid"]
    tend.track(old)
    inst = instance_dir(tend)
    assert procs_in(job_dir(inst, "p%3Ap")) == [old]
    tend.write_config(program.format(cmd=tend.helper("sleeper"),
                                     daemon="true"))
    rc, out, err = tend.ctl("reload")
    assert rc == 0, (rc, out, err)
    new = wait_for(lambda: (lambda p: p["pid"] if p["state"] == "RUNNING" and
                            p["pid"] != old else None)(
                                tend.proc_status("p")), 10,
                   what="p restarted as a service")
    tend.track(new)
    assert procs_in(svc_dir(inst, "p%3Ap")) == [new]
    wait_for(lambda: not os.path.exists(job_dir(inst, "p%3Ap")), 5,
             what="its job cgroup removed")
