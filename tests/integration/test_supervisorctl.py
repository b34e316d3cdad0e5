"""
The real supervisorctl (Debian's, 4.2.5) against tendd and against real
supervisord on the same config (spec section 9): one script of commands
runs against both and their outputs and exit statuses are compared line
by line, pids, times and paths masked. The differences that remain are
listed in KNOWN (compared by exit status only) with why; everything else
must match exactly. One supervisord and one tendd serve the module.

The script's commands run supervisorctl's own main() (the function
/usr/bin/supervisorctl loads) in a process forked, per command, from one
that imported it once: the same code, arguments, output and exit status,
without paying Python's start-up (about 0.4 s) 80 times. tail -f and
shutdown run /usr/bin/supervisorctl itself.
"""
import json
import select
import os
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time

import pytest

from conftest import Tend, reachable_tmp, wait_for

SUPERVISORD = "/usr/bin/supervisord"
SUPERVISORCTL = "/usr/bin/supervisorctl"

CONF = """\
    [unix_http_server]
    file = %(here)s/s.sock

    [supervisord]
    logfile = %(here)s/main.log
    pidfile = %(here)s/sd.pid
    childlogdir = %(here)s/logs
    nodaemon = true

    [rpcinterface:supervisor]
    supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

    [supervisorctl]
    serverurl = unix://%(here)s/s.sock

    [program:a]
    command = /bin/sleep 1000
    startsecs = 0

    [program:b]
    command = /bin/sleep 1000
    autostart = false
    startsecs = 0

    [program:echo]
    command = /bin/sh -c 'echo out-line; echo err-line >&2; exec sleep 1000'
    startsecs = 0

    [program:gone]
    command = /bin/sleep 1000
    startsecs = 0

    [group:grp]
    programs = g1,g2

    [program:g1]
    command = /bin/sleep 1000
    startsecs = 0

    [program:g2]
    command = /bin/sleep 1000
    startsecs = 0
    """

# The config after the edit reread/update act on: gone removed, new added.
NEW = """
    [program:new]
    command = /bin/sleep 1000
    startsecs = 0
    """

# (command, how its output is compared): "same" line by line; "sorted":
# the same lines, in any order (supervisord prints a group's or all's
# results as its processes happen to end, tendd in priority order); or a reason the
# text differs (then only the exit status is compared).
SCRIPT = [
    ("status", "same"),
    ("status a", "same"),
    ("status nosuch", "same"),
    ("status grp:*", "same"),
    ("start b", "same"),
    ("start b", "same"),
    ("stop b", "same"),
    ("stop b", "same"),
    ("start nosuch", "same"),
    ("stop grp:*", "sorted"),
    ("start grp:*", "sorted"),
    ("restart a", "same"),
    ("restart grp:g1 b", "sorted"),
    ("stop all", "sorted"),
    ("start all", "sorted"),
    ("signal CONT a", "same"),
    ("signal CONT grp:*", "sorted"),
    ("signal NOSIG a", "same"),
    ("pid", "same"),
    ("pid a", "same"),
    ("pid nosuch", "same"),
    ("tail -5 echo", "same"),
    ("tail echo stderr", "same"),
    ("tail nosuch", "same"),
    ("clear echo", "same"),
    ("tail echo", "same"),
    ("avail", "same"),
    ("reread", "same"),
    ("version", "tendd's own version, not 4.2.5"),
    ("maintail -200", "tendd's own log has tend's format and lines"),
    ("EDIT", None),
    ("reread", "same"),
    ("update", "same"),
    ("status", "same"),
    ("stop new", "same"),
    ("remove new", "same"),
    ("status", "same"),
    ("add new", "same"),
    ("add new", "same"),
    ("status", "same"),
    ("reload", "same"),
]

# One supervisorctl command per line of JSON argv on stdin; per command a
# child runs supervisorctl.main() with its stdout and stderr in files; the
# answer is [exit status, stdout, stderr].
DRIVER = r"""
import json, os, sys, tempfile
from supervisor import supervisorctl
for line in sys.stdin:
    args = json.loads(line)
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        code = 0
        try:
            supervisorctl.main(args)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (e.code is not None)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    texts = []
    for f in (out, err):
        f.seek(0)
        texts.append(f.read().decode(errors="replace"))
        f.close()
    print(json.dumps([os.waitstatus_to_exitcode(status)] + texts), flush=True)
"""

MASKS = [
    (re.compile(r"pid \d+"), "pid N"),
    (re.compile(r"uptime \d+:\d\d:\d\d"), "uptime T"),
    (re.compile(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M"), "DATE"),
    (re.compile(r"^\d+$", re.M), "N"),
]


def mask(text, here):
    text = text.replace(str(here), "HERE")
    for rx, to in MASKS:
        text = rx.sub(to, text)
    return text


class Server:
    def __init__(self, kind):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="tendctl-%s-" % kind,
                                    dir=reachable_tmp())
        os.mkdir(os.path.join(self.dir, "logs"))
        self.conf = os.path.join(self.dir, "sup.conf")
        with open(self.conf, "w") as f:
            f.write(textwrap.dedent(CONF))
        self.proc = None
        self.tend = None
        self.driver = None

    def start(self):
        if self.kind == "tendd":
            self.tend = Tend(self.dir)
            self.tend.conf = self.conf
            self.tend.sock = os.path.join(self.dir, "s.sock")
            self.tend.start()
            self.proc = self.tend.proc
        else:
            self.proc = subprocess.Popen(
                [SUPERVISORD, "-n", "-c", self.conf],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=self.dir,
                start_new_session=True)
        self.wait_up()

    def wait_up(self):
        wait_for(lambda: self.ctl("status")[0] in (0, 3), timeout=20,
                 what="%s answers" % self.kind)
        wait_for(lambda: "STARTING" not in self.ctl("status")[1],
                 timeout=20, what="%s settled" % self.kind)

    def ctl(self, cmd, timeout=30):
        if self.driver is None:
            self.driver = subprocess.Popen(
                ["/usr/bin/python3", "-c", DRIVER], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, cwd=self.dir)
        self.driver.stdin.write(json.dumps(["-c", self.conf] + cmd.split())
                                + "\n")
        self.driver.stdin.flush()
        ready, _, _ = select.select([self.driver.stdout], [], [], timeout)
        if not ready:
            self.driver.kill()
            self.driver.wait()
            self.driver = None
            pytest.fail("supervisorctl %s: no answer in %ss" % (cmd, timeout))
        rc, out, err = json.loads(self.driver.stdout.readline())
        return rc, out + err

    def edit(self):
        with open(self.conf) as f:
            text = f.read()
        text = re.sub(r"\[program:gone\]\n[^\[]*", "", text)
        with open(self.conf, "w") as f:
            f.write(text + textwrap.dedent(NEW))

    def stop(self):
        if self.driver is not None:
            self.driver.stdin.close()
            self.driver.wait()
        if self.tend is not None:
            self.tend.cleanup()
        elif self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pair():
    if not os.path.exists(SUPERVISORD):
        pytest.fail("supervisor is not installed (make deps)")
    servers = [Server("supervisord"), Server("tendd")]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.stop()


def run_script(s, script):
    out = []
    for cmd, how in script:
        if cmd == "EDIT":
            s.edit()
            continue
        rc, text = s.ctl(cmd)
        out.append((cmd, how, rc, mask(text, s.dir)))
        if cmd.startswith(("reload", "start all", "restart all")):
            s.wait_up()
    return out


def test_same_script_same_output(pair):
    import threading
    sd, td = pair
    got = {}
    # both at once: each supervisorctl is mostly Python starting up
    th = threading.Thread(target=lambda: got.update(a=run_script(sd,
                                                                 SCRIPT)))
    th.start()
    b = run_script(td, SCRIPT)
    th.join()
    a = got["a"]
    diffs = []
    for (cmd, how, rc1, t1), (_, _, rc2, t2) in zip(a, b):
        if rc1 != rc2:
            diffs.append("%s: exit %d (supervisord) vs %d (tendd)"
                         % (cmd, rc1, rc2))
        if how == "sorted":
            t1 = "".join(sorted(t1.splitlines(True)))
            t2 = "".join(sorted(t2.splitlines(True)))
        if how in ("same", "sorted") and t1.splitlines() != t2.splitlines():
            diffs.append("%s:\n--- supervisord\n%s--- tendd\n%s"
                         % (cmd, t1, t2))
    assert not diffs, "\n".join(diffs)
    # the script did what it says: exit statuses of status as documented
    rcs = {cmd: rc for cmd, _, rc, _ in b}
    assert rcs["status nosuch"] == 4 and rcs["status a"] == 0
    texts = {cmd: t for cmd, _, _, t in b}
    assert re.match(r"a\s+RUNNING\s+pid N, uptime T$", texts["status a"])
    assert "ERROR (no such process)" in texts["status nosuch"]


@pytest.mark.parametrize("channel,text", [("stdout", "out-line"),
                                          ("stderr", "err-line")])
def test_tail_f(pair, channel, text):
    lines = []
    for s in pair:
        p = subprocess.Popen([SUPERVISORCTL, "-c", s.conf, "tail", "-f",
                              "echo", channel], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        try:
            got = [p.stdout.readline(), p.stdout.readline()]
        finally:
            p.kill()
            p.wait()
        lines.append(got)
    assert lines[0] == lines[1]
    assert text in lines[1][1]


def test_shutdown(pair):
    for s in pair:
        rc, text = s.ctl("shutdown")
        assert (rc, text) == (0, "Shut down\n")
        wait_for(lambda: s.proc.poll() is not None, timeout=20,
                 what="%s exits" % s.kind)
