"""
tendd --check and config errors at startup (spec §2, §3): errors as
file:line: message with exit 1, warnings (missing executable, unknown key)
with exit 0, --strict, and nothing started by --check.
"""
import re
import subprocess

from conftest import TENDD, read_records, require


def check(tend, *args, conf=None):
    require(TENDD, "make build/tendd")
    r = subprocess.run([str(TENDD), "-c", str(conf or tend.conf), "--check"]
                       + list(args), capture_output=True, text=True,
                       timeout=10, cwd=str(tend.dir))
    return r.returncode, r.stdout + r.stderr


def numbered(text):
    """Config text exactly as given (no dedent surprises): line 1 first."""
    return "\n".join(line.strip() for line in text.strip("\n").split("\n")) \
        + "\n"


def test_good_config_exits_0(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper", "--record", rec)}
        startsecs = 2
        autorestart = true
        exitcodes = 0,2
        stopsignal = INT
        environment = A="x,y",B=2
        daemon = false
        priority = 10
    """)
    rc, out = check(tend)
    assert rc == 0, out
    # --check starts nothing and opens no socket.
    assert read_records(rec) == []
    assert not tend.sock.exists()


def test_errors_have_file_and_line_and_exit_1(tend):
    conf = tend.conf
    conf.write_text(numbered(f"""
        [tend]
        socket = {tend.sock}

        [program:a]
        command = /bin/true
        startsecs = abc

        [program:b]
        autostart = true

        [program:c]
        command = /bin/true
        stopsignal = NOPE

        [program:d]
        command = /bin/%(ENV_TEND_SURELY_UNSET_VARIABLE)s
    """))
    rc, out = check(tend)
    assert rc == 1, out
    msgs = out.splitlines()

    def has(line, *words):
        pat = re.compile(r"%s:%d: " % (re.escape(str(conf)), line))
        return any(pat.search(m) and all(w in m for w in words) for m in msgs)
    assert has(6, "startsecs"), out
    assert has(8, "command") or has(9, "command"), out
    assert has(13, "stopsignal"), out
    assert has(16, "TEND_SURELY_UNSET_VARIABLE"), out


def test_syntax_error(tend):
    tend.conf.write_text(numbered(f"""
        [tend]
        socket = {tend.sock}
        [program:x
        command = /bin/true
    """))
    rc, out = check(tend)
    assert rc == 1, out
    assert re.search(r"%s:3: " % re.escape(str(tend.conf)), out), out


def test_missing_executable_is_only_a_warning(tend):
    tend.conf.write_text(numbered(f"""
        [tend]
        socket = {tend.sock}
        [program:x]
        command = /nonexistent/tend-check-binary
    """))
    rc, out = check(tend)
    assert rc == 0, out
    assert "/nonexistent/tend-check-binary" in out, out


def test_unknown_key_warns_and_strict_fails(tend):
    tend.conf.write_text(numbered(f"""
        [tend]
        socket = {tend.sock}
        [program:x]
        command = /bin/true
        no_such_key = 1
    """))
    rc, out = check(tend)
    assert rc == 0, out
    assert re.search(r"%s:5: .*no_such_key" % re.escape(str(tend.conf)), out), out
    rc, out = check(tend, "--strict")
    assert rc == 1, out


def labelled(text):
    """The message lines of --check or tendctl reload: (label, rest)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"(error|warning): (.*)$", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


LABELLED = """
    [tend]
    socket = {sock}
    [include]
    files = nothing-here.d/*.conf
    [program:a]
    command = /bin/true
    startsecs = abc
    no_such_key = 1
    [program:b]
    command = /nonexistent/tend-check-binary
"""


def test_every_message_is_labelled_error_or_warning(tend):
    """Each line says what it is in front, so FILE:LINE: message stays one
    string; an [include] glob that matches nothing is a warning (as in
    supervisord); under --strict the warnings about the file are
    errors, those about this machine stay warnings."""
    conf = tend.conf
    conf.write_text(numbered(LABELLED.format(sock=tend.sock)))
    rc, out = check(tend)
    assert rc == 1, out
    assert labelled(out) == [
        ("warning", "%s:4: [include] files: no file matches %s/"
                    "nothing-here.d/*.conf" % (conf, tend.dir)),
        ("error", "%s:7: [program:a] startsecs: expected a number of "
                  "seconds (such as 5 or 0.5), got 'abc'" % conf),
        ("warning", "%s:8: [program:a] no_such_key: unknown key; ignored"
                    % conf),
        ("warning", "%s:10: [program:b] command: cannot execute "
                    "/nonexistent/tend-check-binary: No such file or "
                    "directory" % conf),
    ], out
    rc, out = check(tend, "--strict")
    assert rc == 1, out
    assert [label for label, _ in labelled(out)] == [
        "warning", "error", "error", "warning"], out


def test_reload_labels_its_messages_as_check_does(tend):
    good = numbered(f"""
        [tend]
        socket = {tend.sock}
        [program:a]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """)
    tend.conf.write_text(good)
    tend.start()
    tend.wait_state("a", "RUNNING")
    # Warnings only: applied, and the same lines --check prints.
    tend.conf.write_text(good + "no_such_key = 1\n[include]\n"
                         "files = nothing-here.d/*.conf\n")
    rc, want = check(tend)
    assert rc == 0 and len(labelled(want)) == 2, want
    for args in (("reload", "--check"), ("reload",)):
        rc, out, err = tend.ctl(*args)
        assert rc == 0, (rc, out, err)
        assert labelled(err) == labelled(want), (err, want)
    # Errors: refused, each line labelled as --check labels it.
    tend.conf.write_text(good.replace("startsecs = 0", "startsecs = soon"))
    rc, want = check(tend)
    assert rc == 1 and labelled(want), want
    for args in (("reload", "--check"), ("reload",)):
        rc, out, err = tend.ctl(*args)
        assert rc == 1, (rc, out, err)
        assert labelled(err) == labelled(want), (err, want)
        assert "error: %s:5: [program:a] startsecs: expected a number" % \
            tend.conf in err, err


def test_tendd_refuses_to_start_on_errors(tend):
    rec = tend.path("rec")
    tend.write_config(f"""
        [program:good]
        command = {tend.helper("sleeper", "--record", rec)}
        [program:bad]
        command = /bin/true
        startretries = lots
    """)
    p = tend.spawn_tendd()
    tend.proc, tend.pid = p, p.pid
    rc = tend.wait_exit(timeout=5)
    assert rc == 1, rc
    assert "startretries" in tend.log()
    assert read_records(rec) == [], "started programs from a broken config"
    assert not tend.sock.exists()


def test_long_lines_work(tend):
    long_value = "x" * (64 * 1024)
    tend.conf.write_text(numbered(f"""
        [tend]
        socket = {tend.sock}
        [program:x]
        command = /bin/true
        environment = LONG="{long_value}"
    """))
    rc, out = check(tend)
    assert rc == 0, out[:2000]


def run_tendd(*args, timeout=10):
    require(TENDD, "make build/tendd")
    r = subprocess.run([str(TENDD)] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def test_version_flag():
    rc, out = run_tendd("--version")
    assert rc == 0, out
    assert re.search(r"\d+\.\d+\.\d+", out), out


def test_missing_config_file_exits_1_with_reason(tend):
    missing = str(tend.dir / "no-such.conf")
    rc, out = run_tendd("-c", missing)
    assert rc == 1, out
    assert missing in out, out
    rc, out = run_tendd("-c", missing, "--check")
    assert rc == 1, out


def test_bad_option_is_an_error(tend):
    rc, out = run_tendd("--no-such-option")
    assert rc != 0, out
    assert out.strip(), "no message"
