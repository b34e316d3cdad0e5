#!/usr/bin/python3
"""
make test-systemd (issue 20): the Debian package under a real systemd.

Makes a Debian 12 tree with debootstrap (cached in CACHE between runs:
the first run downloads about 60 MB from Debian's archive), boots a copy
of it (an overlay: the cached tree is never written) with
`systemd-nspawn -b` (systemd 252 as the container's PID 1; this host has
no systemd of its own, hence --register=no --keep-unit), runs commands in
it with `nsenter -t PID -a`, installs the package and checks what an
administrator relies on. One line per check, "ok" or "FAIL" with the
reason; exits 1 if any failed. Needs root. Not part of `make check`.

    tests/systemd/run.py build/tend_0.1.0_amd64.deb [--keep] [--cache DIR]
"""
import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SUITE = "bookworm"
# What the container needs besides minbase: systemd as init, dbus (as a
# real system has it), ps, and the package's dependencies (added from the
# .deb's Depends, so dpkg -i works without a network).
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "procps"]
# The programs the checks run. Each sleeps for a distinct number of
# seconds, which is how a process is recognised in the container.
TEST_CONF = """\
; tests/systemd/run.py
[program:svc]
command = /bin/sleep 3101
[program:grp]
; a master that leaves a setsid()'d worker: stopasgroup reaches it
command = /bin/sh -c "setsid /bin/sleep 3112 & exec /bin/sleep 3111"
stopasgroup = true
[program:esc]
; the same without stopasgroup: the worker escapes tendd's stop
command = /bin/sh -c "setsid /bin/sleep 3122 & exec /bin/sleep 3121"
[program:job]
command = /bin/sleep 3201
daemon = false
joinsecs = 2
[program:jlog]
command = /bin/sh -c "echo hello-journal; exec /bin/sleep 3301"
stdout_logfile = journal
"""
PROGRAMS = ("esc", "grp", "jlog", "job", "svc")
# The AUTO log files one tendd run makes: every stream but jlog's stdout.
AUTO_STREAMS = 2 * len(PROGRAMS) - 1
MARKS = {"svc": "3101", "grp": "3111", "grp-worker": "3112", "esc": "3121",
         "esc-worker": "3122", "job": "3201", "jlog": "3301"}
# The documented steps (README "As a systemd service", tendd(8)).
SOCKET_STEPS = ["systemctl stop tend.service",
                "systemctl enable --now tend.socket",
                "systemctl start tend.service"]
DEB_FILES = {
    "/usr/sbin/tendd", "/usr/bin/tendctl", "/usr/libexec/tend/after-stop",
    "/lib/systemd/system/tend.service", "/lib/systemd/system/tend.socket",
    "/usr/lib/sysusers.d/tend.conf", "/etc/tend/tend.conf", "/etc/tend/conf.d/",
    "/usr/share/man/man8/tendd.8.gz", "/usr/share/man/man1/tendctl.1.gz",
    "/usr/share/man/man5/tend.conf.5.gz", "/usr/share/doc/tend/copyright",
    "/usr/share/doc/tend/changelog.gz", "/usr/share/doc/tend/README.md.gz",
    "/usr/share/bash-completion/completions/tendctl",
}


class Failed(Exception):
    pass


def run(argv, timeout=60, **kw):
    return subprocess.run([str(a) for a in argv], capture_output=True,
                          text=True, timeout=timeout, **kw)


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failed("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(0.2)


# ---------------------------------------------------------------- the tree

def apt_mirror():
    """The host's Debian mirror (its deb822 or one-line sources)."""
    for path in ("/etc/apt/sources.list.d/debian.sources",
                 "/etc/apt/sources.list"):
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s", text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def deb_depends(deb):
    """The package names tend depends on (first of each alternative)."""
    dep = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    return sorted({d.split("|")[0].split("(")[0].strip()
                   for d in dep.split(",") if d.strip()})


def base_tree(cache, deb):
    """The cached debootstrap tree for this package's dependencies."""
    pkgs = sorted(set(BASE_PACKAGES + deb_depends(deb)))
    key = hashlib.sha256((SUITE + " " + " ".join(pkgs)).encode()).hexdigest()[:12]
    tree = os.path.join(cache, "%s-%s" % (SUITE, key))
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(tree):
            return tree, False
        tmp = tree + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        mirror = apt_mirror()
        print("making the Debian %s tree in %s (debootstrap from %s) ..."
              % (SUITE, tree, mirror), flush=True)
        r = subprocess.run(["debootstrap", "--variant=minbase",
                            "--include=" + ",".join(pkgs), SUITE, tmp, mirror],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=1800)
        if r.returncode != 0:
            sys.exit("debootstrap failed:\n" + r.stdout[-3000:])
        # A machine id of its own at first boot; no getty on the console.
        open(os.path.join(tmp, "etc/machine-id"), "w").close()
        os.rename(tmp, tree)
        for old in os.listdir(cache):
            p = os.path.join(cache, old)
            if old.startswith(SUITE + "-") and p != tree and os.path.isdir(p):
                shutil.rmtree(p, ignore_errors=True)
        return tree, True


# ---------------------------------------------------------- the container

class Container:
    def __init__(self, base, workdir):
        self.base = base
        self.dir = workdir
        self.root = os.path.join(workdir, "root")
        self.name = "tend-test-%d" % os.getpid()
        self.nspawn = None
        self.pid = None
        self.boots = 0
        for d in ("upper", "work", "root"):
            os.makedirs(os.path.join(workdir, d))
        r = run(["mount", "-t", "overlay", "overlay", "-o",
                 "lowerdir=%s,upperdir=%s/upper,workdir=%s/work"
                 % (base, workdir, workdir), self.root])
        if r.returncode != 0:
            raise SystemExit("cannot mount the overlay: " + r.stderr)

    def boot(self):
        self.boots += 1
        log = open(os.path.join(self.dir, "console-%d.log" % self.boots), "w")
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "-D", self.root, "--boot", "--register=no",
             "--keep-unit", "-M", self.name, "--console=pipe",
             "--private-network"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)
        log.close()

        def init_pid():
            if self.nspawn.poll() is not None:
                raise Failed("systemd-nspawn exited with %d (see %s)"
                             % (self.nspawn.returncode, self.dir))
            for task in os.listdir("/proc/%d/task" % self.nspawn.pid):
                try:
                    kids = open("/proc/%d/task/%s/children"
                                % (self.nspawn.pid, task)).read().split()
                except OSError:
                    continue
                for k in kids:
                    if open("/proc/%s/comm" % k).read().strip() == "systemd":
                        return int(k)
            return None
        self.pid = wait_until(init_pid, 30, "the container's systemd")
        wait_until(lambda: self.sh("systemctl is-system-running")
                   .stdout.strip() in ("running", "degraded"),
                   90, "the container to finish booting")

    def sh(self, script, timeout=60, check=False):
        """SCRIPT in the container (all its namespaces), as root."""
        r = run(["nsenter", "-t", self.pid, "-a", "--", "/bin/sh", "-c",
                 script], timeout=timeout,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                     "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"})
        if check and r.returncode != 0:
            raise Failed("`%s` exited %d: %s" % (script, r.returncode,
                                                 (r.stderr or r.stdout).strip()[-500:]))
        return r

    def out(self, script, **kw):
        return self.sh(script, check=True, **kw).stdout.strip()

    def reboot(self):
        self.sh("systemctl reboot")
        try:
            rc = self.nspawn.wait(timeout=120)
        except subprocess.TimeoutExpired:
            raise Failed("the container did not reboot within 120 s")
        if rc != 133:       # nspawn's "the container asked to reboot"
            raise Failed("systemd-nspawn exited %d, not 133 (reboot)" % rc)
        self.boot()

    def write(self, path, text):
        full = self.root + path
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def close(self):
        if self.nspawn is not None and self.nspawn.poll() is None:
            # nspawn halts the container on SIGTERM, at once on a second.
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.nspawn.send_signal(signal.SIGTERM)
                try:
                    self.nspawn.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.nspawn.kill()
                    self.nspawn.wait()
        run(["umount", self.root])


# ------------------------------------------------------------- in the box

def show(c, prop, unit="tend.service"):
    return c.out("systemctl show -P %s %s" % (prop, unit))


def pids_of(c, mark):
    """Live pids of the test processes sleeping MARK seconds."""
    out = c.sh("pgrep -x -f '/bin/sleep %s'" % mark).stdout.split()
    return sorted(int(p) for p in out)


def status(c, user=None):
    """{name: (state, pid)} from tendctl --json status."""
    pre = "runuser -u %s -- " % user if user else ""
    r = c.sh(pre + "tendctl --json status")
    if r.returncode not in (0, 3):
        raise Failed("tendctl status exited %d: %s" % (r.returncode,
                                                      r.stderr.strip()))
    return {p["name"]: (p["state"], p["pid"]) for p in json.loads(r.stdout)}


def all_running(c, names=PROGRAMS):
    def ok():
        try:
            st = status(c)
        except Failed:
            return None
        return st if all(st.get(n, ("",))[0] == "RUNNING" for n in names) \
            else None
    return wait_until(ok, 30, "%s RUNNING" % ", ".join(names))


def active(c, unit="tend.service"):
    return wait_until(lambda: show(c, "ActiveState", unit) == "active",
                      60, "%s active" % unit)


def journal(c, unit="tend.service"):
    return c.out("journalctl -u %s --no-pager -o cat" % unit)


def expect(cond, why):
    if not cond:
        raise Failed(why)


# ------------------------------------------------------------------ checks

def check_package(deb, c):
    listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
    files = {line.split()[-1][1:] for line in listing}
    missing = DEB_FILES - files
    expect(not missing, "not in the package: %s" % sorted(missing))
    owners = {line.split()[1] for line in listing}
    expect(owners == {"root/root"}, "owners %s" % owners)
    fields = {k: run(["dpkg-deb", "-f", deb, k]).stdout.strip()
              for k in ("Maintainer", "Depends")}
    expect("localhost" not in fields["Maintainer"], fields["Maintainer"])
    expect("libsystemd0" in fields["Depends"] and "sysusers" in
           fields["Depends"], fields["Depends"])
    with tempfile.TemporaryDirectory() as d:
        run(["dpkg-deb", "-e", deb, d + "/ctl"])
        conffiles = open(d + "/ctl/conffiles").read().split()
        expect(conffiles == ["/etc/tend/tend.conf"], conffiles)
        expect(os.path.exists(d + "/ctl/md5sums"), "no md5sums")
        run(["dpkg-deb", "-x", deb, d + "/x"])
        ctl = run(["readelf", "-d", d + "/x/usr/bin/tendctl"]).stdout
        for lib in ("libc.so.6", "libjansson.so.4", "libinih.so.1"):
            expect("[%s]" % lib in ctl, "tendctl does not link %s "
                   "dynamically" % lib)
        for b in ("usr/sbin/tendd", "usr/bin/tendctl"):
            dyn = run(["readelf", "-W", "-d", "%s/x/%s" % (d, b)]).stdout
            expect(re.search(r"FLAGS.*\bNOW\b", dyn), "%s: no BIND_NOW" % b)
            syms = run(["readelf", "-W", "--dyn-syms", "%s/x/%s" % (d, b)]).stdout
            expect("__stack_chk_fail" in syms, "%s: no stack protector" % b)
            expect(re.search(r"__\w+_chk\b", syms.replace(
                "__stack_chk_fail", "")), "%s: no _FORTIFY_SOURCE" % b)


def check_install(deb, c):
    shutil.copy(deb, c.root + "/var/tmp/tend.deb")
    c.out("dpkg -i /var/tmp/tend.deb", timeout=120)
    expect(c.sh("getent group tend").returncode == 0, "no tend group")
    active(c)
    expect(show(c, "UnitFileState") == "enabled", "tend.service not enabled")
    expect(show(c, "ActiveState", "tend.socket") == "inactive" and
           show(c, "UnitFileState", "tend.socket") == "disabled",
           "tend.socket enabled or started by the package")
    mode = c.out("stat -c '%A %U:%G' /run/tend/tend.sock")
    expect(mode == "srw-rw---- root:tend", "socket is %s" % mode)


def check_notify(c):
    expect(show(c, "Type") == "notify", "Type is not notify")
    st = show(c, "StatusText")
    expect(st == "0 running, 0 starting, 0 backoff, 0 fatal", "STATUS=%r" % st)
    expect("telling systemd we are ready" in journal(c), "no READY=1 in log")


def check_reload_applied(c):
    c.write("/etc/tend/conf.d/test.conf", TEST_CONF)
    c.out("systemctl reload tend")
    all_running(c)
    wait_until(lambda: show(c, "StatusText").startswith("5 running"), 10,
               "STATUS=5 running")
    expect("reloaded: 5 added, 0 changed, 0 removed" in journal(c),
           "tendctl's summary is not in the journal")


def check_reload_refused(c):
    before = status(c)
    c.write("/etc/tend/conf.d/bad.conf", "[program:bad]\nautostart = maybe\n")
    r = c.sh("systemctl reload tend")
    c.sh("rm /etc/tend/conf.d/bad.conf")
    expect(r.returncode != 0, "systemctl reload succeeded on a bad config")
    j = journal(c)
    expect(re.search(r"/etc/tend/conf\.d/bad\.conf:2: .*autostart", j),
           "no file:line error in the journal")
    expect(status(c) == before, "a refused reload changed processes")
    expect(show(c, "ActiveState") == "active", "tend not active")


def check_journal(c):
    st = status(c)
    j = [json.loads(line) for line in c.out(
        "journalctl -u tend -o json --no-pager").splitlines()]
    own = [e for e in j if e.get("SYSLOG_IDENTIFIER") == "tend"
           and e.get("TEND_LEVEL") == "info"]
    expect(own and all(e.get("PRIORITY") == "6" for e in own),
           "tendd's own entries lack TEND_LEVEL/PRIORITY")
    hello = [e for e in j if e.get("MESSAGE") == "hello-journal"]
    expect(hello, "jlog's output is not in the journal")
    e = hello[-1]
    want = {"SYSLOG_IDENTIFIER": "jlog", "TEND_PROCESS": "jlog:jlog",
            "TEND_STREAM": "stdout", "PRIORITY": "6",
            "SYSLOG_PID": str(st["jlog"][1]), "_SYSTEMD_UNIT": "tend.service"}
    bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
    expect(not bad, "journal fields %s, want %s" % (bad, want))


def check_cgroups(c):
    main = show(c, "MainPID")
    own = c.out("sed -n 's/^0:://p' /proc/%s/cgroup" % main)
    expect(own == "/system.slice/tend.service", "tendd in %s" % own)
    grp = pids_of(c, MARKS["grp"]) + pids_of(c, MARKS["grp-worker"])
    cgs = {c.out("sed -n 's/^0:://p' /proc/%d/cgroup" % p) for p in grp}
    expect(len(grp) == 2 and len(cgs) == 1 and re.fullmatch(
        r"/system\.slice/tend\.service/tend-[0-9a-f]+/(?:[^/]+/)*grp%3Agrp",
        next(iter(cgs))), "grp and its worker not in a cgroup of their "
        "own: %s" % cgs)
    c.out("tendctl stop grp")
    expect(not pids_of(c, MARKS["grp-worker"]),
           "tendctl stop grp left its setsid()'d worker")
    c.out("tendctl start grp")


def check_stop_leaves_nothing(c):
    expect(pids_of(c, MARKS["esc-worker"]), "esc's worker is not running")
    c.out("systemctl stop tend", timeout=120)
    expect(show(c, "ActiveState") == "inactive" and show(c, "Result") ==
           "success", "tend.service not cleanly stopped")
    left = {k: pids_of(c, m) for k, m in MARKS.items() if pids_of(c, m)}
    expect(not left, "left running: %s" % left)
    expect(c.sh("test -e /sys/fs/cgroup/system.slice/tend.service")
           .returncode != 0, "tend.service's cgroup is still there")
    expect("after-stop: killing what tendd left" in journal(c),
           "after-stop did not say what it killed")
    c.out("systemctl start tend")
    all_running(c)


def check_watchdog(c):
    # The shipped WatchdogSec is 30 s; 5 s keeps the run short.
    c.write("/etc/systemd/system/tend.service.d/watchdog.conf",
            "[Service]\nWatchdogSec=5\n")
    c.out("systemctl daemon-reload && systemctl restart tend")
    all_running(c)
    main, restarts = show(c, "MainPID"), int(show(c, "NRestarts"))
    job = status(c)["job"][1]
    c.out("kill -STOP %s" % main)
    wait_until(lambda: show(c, "MainPID") not in ("0", main) and
               show(c, "ActiveState") == "active", 60, "a new tendd")
    expect(int(show(c, "NRestarts")) == restarts + 1, "NRestarts")
    expect("Watchdog timeout" in journal(c), "no watchdog timeout logged")
    expect(pids_of(c, MARKS["job"]) and job in pids_of(c, MARKS["job"]),
           "the job did not outlive the watchdog's kill")
    all_running(c)
    c.out("rm /etc/systemd/system/tend.service.d/watchdog.conf && "
          "systemctl daemon-reload")
    # Start again from nothing: a clean stop ends what the old tendd left.
    c.out("systemctl restart tend", timeout=120)
    all_running(c)


def check_kill9(c, state):
    main = show(c, "MainPID")
    state["before"] = status(c)
    c.out("kill -KILL %s" % main)
    wait_until(lambda: show(c, "MainPID") not in ("0", main) and
               show(c, "ActiveState") == "active", 60, "a new tendd")
    state["after"] = all_running(c)
    expect("Failed with result 'signal'" in journal(c), "no failure logged")


def check_kill9_services(c, state):
    before, after = state["before"], state["after"]
    for name in ("svc", "grp", "esc", "jlog"):
        old, new = before[name][1], after[name][1]
        expect(old != new, "%s kept pid %d" % (name, old))
        p = pids_of(c, MARKS[name])
        expect(p == [new], "%s: processes %s, tend says %d" % (name, p, new))


def check_kill9_job(c, state):
    old = state["before"]["job"][1]
    expect(old in pids_of(c, MARKS["job"]), "the job (pid %d) died with "
           "tendd" % old)


def check_kill9_group_leftovers(c, state):
    p = pids_of(c, MARKS["grp-worker"])
    expect(len(p) == 1, "grp's worker: %d processes %s (the old tendd's "
           "was not stopped)" % (len(p), p))


def check_group_member(c):
    c.out("id alice >/dev/null 2>&1 || useradd -m -G tend alice; "
          "id bob >/dev/null 2>&1 || useradd -m bob")
    st = status(c, user="alice")
    expect(sorted(st) == sorted(PROGRAMS), "alice sees %s" % sorted(st))
    r = c.sh("runuser -u alice -- tendctl status")
    expect(r.returncode == 0 and len(r.stdout.splitlines()) == len(PROGRAMS),
           "plain tendctl status as alice: %d %r %r" % (r.returncode, r.stdout,
                                                         r.stderr))
    r = c.sh("runuser -u bob -- tendctl status")
    expect(r.returncode == 5 and "Permission denied" in r.stderr,
           "bob (not in tend): %d %r" % (r.returncode, r.stderr))


def auto_logs(c):
    return c.out("ls /var/log/tend").split()


def check_reboot(c):
    c.reboot()
    active(c)
    all_running(c)
    expect(show(c, "ExecMainStartTimestampMonotonic") != "0", "not started")
    logs = auto_logs(c)
    expect(len(logs) == AUTO_STREAMS, "/var/log/tend holds %d files, not "
           "the %d of this run: %s" % (len(logs), AUTO_STREAMS, logs))


def check_upgrade(deb, c):
    main, before = show(c, "MainPID"), status(c)
    c.out("dpkg -i /var/tmp/tend.deb", timeout=120)
    expect(show(c, "MainPID") == main, "tendd was restarted by the upgrade")
    expect(status(c) == before, "programs were restarted by the upgrade")


def check_remove(c):
    c.out("dpkg -r tend", timeout=120)
    expect(c.sh("pgrep -x tendd").returncode != 0, "tendd still runs")
    left = {k: pids_of(c, m) for k, m in MARKS.items() if pids_of(c, m)}
    expect(not left, "left running: %s" % left)
    expect(show(c, "LoadState") == "not-found", "tend.service still loaded")
    expect(c.sh("test -e /run/tend").returncode != 0, "/run/tend left")
    expect(c.sh("test -f /etc/tend/tend.conf").returncode == 0,
           "the conffile went with dpkg -r")


def check_reinstall(c):
    c.out("dpkg -i /var/tmp/tend.deb", timeout=120)
    active(c)
    expect(show(c, "UnitFileState") == "enabled", "not enabled")
    all_running(c)


def check_purge(c):
    c.out("dpkg -P tend", timeout=120)
    gone = ["/etc/tend/tend.conf", "/var/log/tend",
            "/etc/systemd/system/multi-user.target.wants/tend.service",
            "/etc/systemd/system/sockets.target.wants/tend.socket",
            "/var/lib/systemd/deb-systemd-helper-enabled/tend.service.dsh-also",
            "/run/tend"]
    left = [p for p in gone if c.sh("test -e %s || test -L %s" % (p, p))
            .returncode == 0]
    expect(not left, "left after purge: %s" % left)
    expect(c.sh("pgrep -x tendd").returncode != 0, "tendd still runs")
    expect(c.sh("getent group tend").returncode == 0,
           "the tend group went (system groups stay)")


def check_socket_activation(c):
    c.out("dpkg -i /var/tmp/tend.deb", timeout=120)
    active(c)
    c.write("/etc/tend/conf.d/test.conf", TEST_CONF)
    for step in SOCKET_STEPS:
        c.out(step, timeout=120)
    active(c)
    expect(show(c, "ActiveState", "tend.socket") == "active", "socket")
    expect("listening on /run/tend/tend.sock (passed by systemd)" in
           journal(c), "tendd did not get the socket from systemd")
    all_running(c)
    mode = c.out("stat -c '%A %U:%G' /run/tend/tend.sock")
    expect(mode == "srw-rw---- root:tend", "socket is %s" % mode)
    # Stopped, the first tendctl starts it again.
    c.out("systemctl stop tend.service", timeout=120)
    st = status(c, user="alice")
    expect(sorted(st) == sorted(PROGRAMS), "alice sees %s" % sorted(st))
    active(c)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("deb")
    ap.add_argument("--cache", default=os.environ.get(
        "TEND_SYSTEMD_CACHE", "/var/cache/tend-test-systemd"))
    ap.add_argument("--keep", action="store_true",
                    help="leave the container's directory for a look")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("make test-systemd needs root (debootstrap, mount, nspawn)")
    deb = os.path.abspath(a.deb)
    t0 = time.monotonic()
    base, made = base_tree(a.cache, deb)
    print("tree: %s (%s)" % (base, "new" if made else "cached"), flush=True)
    workdir = tempfile.mkdtemp(prefix="tend-systemd-", dir="/var/tmp")
    c = Container(base, workdir)
    results = []

    def check(name, fn, *args, fatal=False):
        t = time.monotonic()
        try:
            fn(*args)
            results.append(True)
            print("ok    %-58s %5.1fs" % (name, time.monotonic() - t), flush=True)
            return True
        except (Failed, subprocess.TimeoutExpired, KeyError, ValueError,
                OSError) as e:
            results.append(False)
            print("FAIL  %s: %s" % (name, e), flush=True)
            if fatal:
                raise SystemExit(1)
            return False

    try:
        check("boot Debian 12 with systemd-nspawn -b", c.boot, fatal=True)
        print("      systemd: %s" % c.out("systemctl --version | head -1"))
        check("package: files, conffile, Depends, dynamic tendctl, hardening",
              check_package, deb, c)
        check("install: tend group, service enabled+active, socket 0660 root:tend",
              check_install, deb, c, fatal=True)
        check("start: Type=notify, READY=1, STATUS=", check_notify, c)
        check("systemctl reload: applied (5 programs added)",
              check_reload_applied, c, fatal=True)
        check("systemctl reload: refused, fails with file:line, nothing changed",
              check_reload_refused, c)
        check("journal fields (tendd's and a program's)", check_journal, c)
        check("cgroup delegation: stopasgroup program and worker",
              check_cgroups, c)
        check("systemctl stop leaves nothing (escaped worker too)",
              check_stop_leaves_nothing, c)
        check("watchdog: SIGSTOPped tendd restarted, job runs on",
              check_watchdog, c)
        state = {}
        if check("kill -9 of tendd: systemd starts a new one", check_kill9,
                 c, state):
            check("kill -9: each service once again, no duplicate",
                  check_kill9_services, c, state)
            check("kill -9: the job (daemon = false) runs on",
                  check_kill9_job, c, state)
            check("kill -9: a stopasgroup service's old worker is stopped",
                  check_kill9_group_leftovers, c, state)
        check("group member's plain tendctl status (non-member refused)",
              check_group_member, c)
        check("reboot: tend back, AUTO logs of earlier runs cleaned",
              check_reboot, c)
        check("upgrade (dpkg -i again): tendd and programs untouched",
              check_upgrade, deb, c)
        check("dpkg -r: stopped, nothing left running, conffile kept",
              check_remove, c)
        check("reinstall: enabled and started", check_reinstall, c)
        check("dpkg -P: config, logs, enablement gone; group kept",
              check_purge, c)
        check("socket activation on a fresh install, as documented",
              check_socket_activation, c)
        check("dpkg -P with tend.socket enabled", check_purge, c)
    finally:
        c.close()
        if a.keep:
            print("container files kept in %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    passed = sum(results)
    print("%d passed, %d failed (%.0f s)" % (passed, len(results) - passed,
                                             time.monotonic() - t0))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
