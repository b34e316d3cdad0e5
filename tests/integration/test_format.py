"""
supervisord's config format (spec §2) with the real binaries: numprocs and
process names, [group:], [include] globs and loops, long lines, every
class of error at its file:line, env_file and rlimits in the child,
minfds, and real-world-style supervisord configs (tests/configs/) that
must pass --check.
"""
import os
import re
import resource
import subprocess
from pathlib import Path

from conftest import ROOT, TENDD, read_facts, require, wait_for


def check(tend, *args, conf=None):
    require(TENDD, "make build/tendd")
    r = subprocess.run([str(TENDD), "-c", str(conf or tend.conf), "--check"]
                       + list(args), capture_output=True, text=True,
                       timeout=10, cwd=str(tend.dir))
    return r.returncode, r.stdout + r.stderr


def facts_of(path):
    """inspect's report, once it has written it."""
    wait_for(lambda: os.path.exists(path), 10, what="inspect writing %s"
             % path)
    return read_facts(path)


def limits_of(pid):
    """{"Max open files": (soft, hard), ...} from /proc/PID/limits."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        for line in f.read().splitlines()[1:]:
            m = re.match(r"(.+?)\s{2,}(\S+)\s+(\S+)", line)
            if m:
                out[m.group(1)] = (m.group(2), m.group(3))
    return out


def test_numprocs_names_and_expansions(tend):
    inspect = tend.helper("inspect", "--out", "%(here)s/w%(process_num)d")
    tend.write_config(f"""
        [program:worker]
        command = {inspect}
        process_name = %(program_name)s_%(process_num)02d
        numprocs = 3
        numprocs_start = 1
        startsecs = 0
        environment = SLOT="%(process_num)d of %(numprocs)d",G=%(group_name)s
    """)
    rc, out = check(tend)
    assert rc == 0, out
    assert "1 program, 3 processes, 1 group" in out, out
    tend.start()
    for n in (1, 2, 3):
        name = "worker:worker_%02d" % n
        tend.wait_state(name, "RUNNING")
        env = facts_of(tend.path("w%d" % n))["env"]
        assert env["SLOT"] == "%d of 3" % n, env
        assert env["G"] == "worker"
        assert env["TEND_PROCESS_NAME"] == "worker_%02d" % n
        assert env["SUPERVISOR_PROCESS_NAME"] == "worker_%02d" % n
        assert env["TEND_GROUP_NAME"] == "worker"
    assert sorted(tend.status()) == ["worker:worker_01", "worker:worker_02",
                                     "worker:worker_03"]
    # GROUP:*, a bare process name, and the status layout.
    rc, out, err = tend.ctl("status", "worker:*")
    assert rc == 0 and len(out.splitlines()) == 3, (rc, out, err)
    assert re.match(r"worker:worker_01 +RUNNING +pid \d+", out), out
    rc, out, err = tend.ctl("stop", "worker_02")
    assert rc == 0, (rc, out, err)
    assert tend.proc_status("worker:worker_02")["state"] == "STOPPED"
    assert tend.proc_status("worker:worker_03")["state"] == "RUNNING"


def test_groups_names_and_order(tend):
    rec = tend.path("rec")
    sleeper = tend.helper("sleeper", "--record", rec)
    inspect = tend.helper("inspect", "--out", "%(here)s/%(program_name)s")
    tend.write_config(f"""
        [group:web]
        programs = nginx,php
        priority = 100

        [program:nginx]
        command = {inspect}
        startsecs = 0
        priority = 2

        [program:php]
        command = {sleeper}
        process_name = php_%(process_num)d
        numprocs = 2
        startsecs = 0
        priority = 1

        [program:db]
        command = {sleeper}
        startsecs = 0
        priority = 500
    """)
    tend.start()
    for name in ("web:nginx", "web:php_0", "web:php_1", "db"):
        tend.wait_state(name, "RUNNING")
    assert sorted(tend.status()) == ["db", "web:nginx", "web:php_0",
                                     "web:php_1"]
    env = facts_of(tend.path("nginx"))["env"]
    assert env["TEND_GROUP_NAME"] == "web"
    assert env["SUPERVISOR_GROUP_NAME"] == "web"
    # The group's priority (100) before db's (500); in it, php (1) first.
    starts = [n for n, old, new in tend.transitions() if new == "STARTING"]
    assert starts == ["web:php_0", "web:php_1", "web:nginx", "db"], starts
    rc, out, err = tend.ctl("stop", "web:*")
    assert rc == 0, (rc, out, err)
    st = tend.status()
    assert [st[n]["state"] for n in ("web:nginx", "web:php_0", "web:php_1")] \
        == ["STOPPED"] * 3
    assert st["db"]["state"] == "RUNNING"


def test_include_globs_relative_to_the_including_file(tend):
    sleeper = tend.helper("sleeper")
    confd = tend.dir / "etc" / "conf.d"
    (confd / "more").mkdir(parents=True)
    (confd / "a.conf").write_text(
        f"[program:a]\ncommand = {sleeper}\nstartsecs = 0\n"
        "[include]\nfiles = more/*.ini\n")
    (confd / "b.conf").write_text(
        f"[program:b]\ncommand = {sleeper}\nstartsecs = 0\n"
        "directory = %(here)s\n")
    (confd / "more" / "c.ini").write_text(
        f"[program:c]\ncommand = {sleeper}\nstartsecs = 0\n")
    (confd / "skipped.txt").write_text("[program:nope]\n")
    main = tend.dir / "etc" / "tend.conf"
    main.write_text(f"[tend]\nsocket = {tend.sock}\nchildlogdir = {tend.dir}\n"
                    "[include]\nfiles = conf.d/*.conf\n   empty.d/*.conf\n")
    rc, out = check(tend, conf=main)
    assert rc == 0, out
    # A glob that matches nothing is a warning, as in supervisord.
    assert "3 programs, 3 processes, 3 groups, 1 warning" in out, out
    assert "warning: %s:5: [include] files: no file matches %s/etc/empty.d/" \
        "*.conf\n" % (main, tend.dir) in out, out
    tend.conf = main
    tend.start()
    for name in ("a", "b", "c"):
        tend.wait_state(name, "RUNNING")
    assert sorted(tend.status()) == ["a", "b", "c"]


def test_include_loop_is_an_error_at_its_line(tend):
    (tend.dir / "a.conf").write_text("[program:a]\ncommand = /bin/true\n"
                                     "[include]\nfiles = b.conf\n")
    (tend.dir / "b.conf").write_text("\n[include]\nfiles = a.conf\n")
    tend.conf.write_text(f"[tend]\nsocket = {tend.sock}\n"
                         "[include]\nfiles = a.conf\n")
    rc, out = check(tend)
    assert rc == 1, out
    want = "%s/b.conf:3: [include] files: include loop: %s/a.conf -> " \
        "%s/b.conf -> %s/a.conf" % ((tend.dir,) * 4)
    assert want in out, out
    p = tend.spawn_tendd()
    tend.proc, tend.pid = p, p.pid
    assert tend.wait_exit(timeout=5) == 1
    assert "include loop" in tend.log()


def test_long_command_and_environment(tend):
    """A 10 KB argument and a 60 KB variable reach the child intact."""
    arg = "".join(chr(ord("a") + i % 26) for i in range(10 * 1024))
    big = "v" * (60 * 1024)
    out = tend.path("arg")
    inspect = tend.helper("inspect", "--out", tend.path("facts"))
    tend.write_config(f"""
        [program:long]
        command = /bin/sh -c 'printf %%s "$1" > {out}.tmp; mv {out}.tmp {out}; exec {inspect}' sh {arg}
        environment = BIG="{big}",AFTER=yes
        startsecs = 0
    """)
    rc, msg = check(tend)
    assert rc == 0, msg[:2000]
    tend.start()
    tend.wait_state("long", "RUNNING")
    env = facts_of(tend.path("facts"))["env"]
    assert env["BIG"] == big
    assert env["AFTER"] == "yes"
    wait_for(lambda: os.path.exists(out), 5, what="the argument file")
    assert Path(out).read_text() == arg


def numbered(text):
    return "\n".join(line.strip() for line in text.strip("\n").split("\n")) \
        + "\n"


def test_every_class_of_error_at_its_line(tend):
    inc = tend.dir / "inc.conf"
    inc.write_text(numbered("""
        [program:inc]
        command = /bin/true
        stopsignal = SIGNOPE
    """))
    tend.conf.write_text(numbered(f"""
        [tend]
        socket = {tend.sock}
        logfle = x
        [program:syntax]
        command = /bin/true
        this line has no equals sign
        [program:type]
        command = /bin/true
        startsecs = soon
        [program:nocommand]
        autostart = true
        [program:env]
        command = /bin/%(ENV_TEND_SURELY_UNSET_VARIABLE)s
        environment = A="unterminated
        [program:many]
        command = /bin/true
        numprocs = 3
        [group:g]
        programs = typ
        [include]
        files = inc.conf
        [program:dup]
        command = /bin/true
        priority = 1
        priority = 2
        autorestrat = true
        [programm:x]
        [eventlistener:e]
        command = /bin/true
        [program:machine]
        command = /nonexistent/tend-binary
        directory = /nonexistent/tend-dir
        user = tend-no-such-user
        [program:broken
    """))
    rc, out = check(tend)
    assert rc == 1, out
    c, i = re.escape(str(tend.conf)), re.escape(str(inc))
    E, W = "error", "warning"
    expected = [
        # errors: the file is wrong
        (E, c, 6, r"syntax error: expected 'key = value' or '\[section\]'"),
        (E, c, 9, r"\[program:type\] startsecs: expected a number of seconds"),
        (E, c, 10, r"\[program:nocommand\] command: missing"),
        (E, c, 13, r"\[program:env\] command: %\(ENV_TEND_SURELY_UNSET_VARIABLE"
                r"\)s: environment variable TEND_SURELY_UNSET_VARIABLE is "
                r"not set"),
        (E, c, 14, r"\[program:env\] environment: unterminated quote"),
        (E, c, 17, r"\[program:many\] numprocs: 3 processes need a "
                r"process_name with %\(process_num\)s"),
        (E, c, 19, r"\[group:g\] programs: no \[program:typ\] section; did you "
                r"mean type\?"),
        (E, i, 3, r"\[program:inc\] stopsignal: unknown signal 'SIGNOPE'"),
        (E, c, 28, r"\[eventlistener:e\] events: missing"),
        (E, c, 34, r"syntax error: missing '\]'"),
        # warnings about the file: errors under --strict
        (W, c, 3, r"\[tend\] logfle: unknown key; did you mean logfile\?"),
        (W, c, 25, r"\[program:dup\] priority: given twice \(also at line 24\); "
                r"the last one is used"),
        (W, c, 26, r"\[program:dup\] autorestrat: unknown key; did you mean "
                r"autorestart\?"),
        (W, c, 27, r"\[programm:x\]: unknown section; did you mean "
                r"\[program:x\]\?"),
        # warnings about this machine: never errors
        (W, c, 31, r"\[program:machine\] command: cannot execute "
                r"/nonexistent/tend-binary"),
        (W, c, 32, r"\[program:machine\] directory: /nonexistent/tend-dir"),
        (W, c, 33, r"\[program:machine\] user: user 'tend-no-such-user' does "
                r"not exist"),
    ]
    lines = out.splitlines()
    for label, f, n, what in expected:
        pat = re.compile(r"^%s: %s:%d: %s" % (label, f, n, what))
        assert any(pat.search(m) for m in lines), \
            "missing %s: %s:%d: %s in:\n%s" % (label, f, n, what, out)
    assert re.search(r": 10 errors, 7 warnings; nothing started", out), out
    # Every message is labelled.
    assert all(m.startswith(("error: ", "warning: ")) for m in lines[:-1]), out
    rc, out = check(tend, "--strict")
    assert rc == 1, out
    assert re.search(r": 14 errors, 3 warnings; nothing started", out), out
    # Under --strict the warnings about the file are errors, and say so;
    # those about this machine stay warnings.
    lines = out.splitlines()
    for label, f, n, what in expected:
        if f == c and n in (3, 25, 26, 27, 28):
            label = E
        pat = re.compile(r"^%s: %s:%d: %s" % (label, f, n, what))
        assert any(pat.search(m) for m in lines), \
            "missing %s: %s:%d: %s in:\n%s" % (label, f, n, what, out)


def test_a_config_for_another_machine_still_checks(tend):
    """Missing users, directories and binaries are this machine's problem:
    warnings, and at start only that program is FATAL."""
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:good]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 0
        [program:elsewhere]
        command = /opt/app/bin/server
        directory = /nonexistent/tend-dir
    """)
    rc, out = check(tend, "--strict")
    assert rc == 0, out
    assert "2 programs, 2 processes, 2 groups, 2 warnings" in out, out
    tend.start()
    tend.wait_state("good", "RUNNING")
    bad = tend.wait_state("elsewhere", "FATAL")
    assert "/nonexistent/tend-dir" in bad["description"], bad


def test_env_file_and_rlimits_reach_the_child(tend):
    envf = tend.dir / "app.env"
    envf.write_text("# app settings\nDB_URL=postgres://db/app?a=1\n"
                    "export TOKEN='s3 cr3t'\nOVERRIDDEN=from-file\n")
    inspect = tend.helper("inspect", "--out", tend.path("facts"))
    tend.write_config(f"""
        [program:app]
        command = {inspect}
        env_file = app.env
        environment = OVERRIDDEN=from-config
        rlimit_nofile = 200
        rlimit_core = 0
        startsecs = 0

        [program:noenv]
        command = {inspect}
        env_file = %(here)s/missing.env
        startsecs = 0
    """)
    rc, out = check(tend)
    assert rc == 0, out
    assert "missing.env: No such file or directory" in out, out
    tend.start()
    pid = tend.wait_state("app", "RUNNING")["pid"]
    env = facts_of(tend.path("facts"))["env"]
    assert env["DB_URL"] == "postgres://db/app?a=1"
    assert env["TOKEN"] == "s3 cr3t"
    assert env["OVERRIDDEN"] == "from-config"
    lim = limits_of(pid)
    assert lim["Max open files"] == ("200", "200"), lim
    assert lim["Max core file size"] == ("0", "0"), lim
    bad = tend.wait_state("noenv", "FATAL")
    assert "env_file: cannot read" in bad["description"], bad
    assert "missing.env" in bad["description"], bad


def test_minfds_raises_tendds_limit(tend):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2048 if hard == resource.RLIM_INFINITY else min(hard, 2048)
    tend.write_config(f"""
        [program:s]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """, tend=f"minfds = {want}")

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    tend.start(preexec_fn=low_limit)
    pid = tend.wait_state("s", "RUNNING")["pid"]
    assert int(limits_of(tend.pid)["Max open files"][0]) >= want
    # Children inherit it, as under supervisord.
    assert int(limits_of(pid)["Max open files"][0]) >= want


CONFIGS = ROOT / "tests" / "configs"


def test_real_world_supervisord_configs_pass_check(tend):
    confs = sorted(CONFIGS.glob("*.conf"))
    assert len(confs) >= 4, confs
    for conf in confs:
        first = conf.read_text().splitlines()[0]
        m = re.match(r"; expect: (.*)", first)
        assert m, "%s: first line must be '; expect: N programs, ...'" % conf
        rc, out = check(tend, conf=conf)
        assert rc == 0, "%s:\n%s" % (conf, out)
        assert re.search(r": OK: %s, \d+ warnings?$" % re.escape(m.group(1)),
                         out, re.M), "%s:\n%s" % (conf, out)
        # Warnings only about this machine and sections tend does without.
        for line in out.splitlines():
            if "OK:" in line:
                continue
            assert re.search(r"No such file|does not exist|not found in "
                             r"PATH|cannot execute|not supported by tend|"
                             r"tendd is not root", line), line
