"""peers.py: one adapter per supervisor under test. An adapter only knows
how to configure its supervisor, launch it, and spell its own CLI commands;
timing, /proc checks, kills and teardown are the harness's, identical for
every peer.

Each adapter configures its supervisor for its *minimum restart delay*
(MIN_DELAY says what that is and why) and gives the tiny child program as
every service; the log test uses the supervisor's own logger."""
import glob
import os
import shutil
import signal
import subprocess
import time


def _write(path, text, mode=None):
    with open(path, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)


def _dpkg_version(pkg):
    try:
        return subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
            text=True, timeout=10).stdout.strip() or None
    except OSError:
        return None


class Peer:
    name = "?"
    MIN_DELAY = ""
    SETTINGS = ""
    SHUTDOWN = ""

    def __init__(self, bins):
        self.bins = bins          # paths of the harness's built helpers

    def available(self):
        return None               # or why not

    def version(self):
        return None

    def env(self, d):
        return {}

    def setup(self, d, names):
        raise NotImplementedError

    def setup_log(self, d, logdir):
        raise NotImplementedError

    def launch_argv(self, d):
        raise NotImplementedError

    def status_cmd(self, d):
        raise NotImplementedError

    def count_up(self, out):
        raise NotImplementedError

    def stop_all_cmd(self, d):
        raise NotImplementedError

    def start_all_cmd(self, d):
        raise NotImplementedError

    def shutdown(self, d, sup_pid):
        """Asks the supervisor to stop everything and exit; returns a Popen
        when that is a command (the harness reaps it), else None."""
        os.kill(sup_pid, signal.SIGTERM)
        return None

    def log_files(self, logdir):
        """The captured output in stream order."""
        return sorted(glob.glob(os.path.join(logdir, "*")))

    def log_missing(self):
        """What the log row says when the supervisor wrote no log at all."""
        return "no log file written"


class Tend(Peer):
    name = "tend"
    MIN_DELAY = ("restart_delay = 0 (the default): a RUNNING process that "
                 "exits is spawned again at once. The crash-loop backoff "
                 "(1 s, 2 s, ...) applies only to an exit within "
                 "backoff_reset s of the previous start; the harness sets "
                 "backoff_reset = 1 and kills only children up >= 1.5 s, so "
                 "the restart rows see no backoff. The re-kill row shows the "
                 "backoff: the first crash-loop delay is 1 s.")
    SETTINGS = ("`[program:cN]` `command=CHILD cN autorestart=true "
                "startsecs=0 restart_delay=0 backoff_reset=1 "
                "stdout_logfile=NONE stderr_logfile=NONE` (N sections until "
                "numprocs lands); `[tend] socket=DIR/tend.sock`; `tendd -c "
                "CONF` in the foreground, its log on stderr to a file; log "
                "test: `stdout_logfile=FILE stdout_logfile_maxbytes=0`")
    SHUTDOWN = "SIGTERM to tendd"

    def __init__(self, bins, build):
        super().__init__(bins)
        self.tendd = os.path.join(build, "tendd")
        self.tendctl = os.path.join(build, "tendctl")

    def available(self):
        for p in (self.tendd, self.tendctl):
            if not os.access(p, os.X_OK):
                return "%s is missing (run make)" % p
        return None

    def version(self):
        try:
            out = subprocess.run([self.tendd, "--version"],
                                 capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip()
        except OSError:
            return None

    def _conf(self, d, sections):
        text = "[tend]\nsocket = %s/tend.sock\nchildlogdir = %s/childlog\n" % (
            d, d)
        os.makedirs(os.path.join(d, "childlog"), exist_ok=True)
        _write(os.path.join(d, "tend.conf"), text + "".join(sections))

    def setup(self, d, names):
        self._conf(d, [
            "\n[program:%s]\ncommand = %s %s\nautorestart = true\n"
            "startsecs = 0\nrestart_delay = 0\nbackoff_reset = 1\n"
            "stdout_logfile = NONE\nstderr_logfile = NONE\n"
            % (n, self.bins["child"], n) for n in names])

    def setup_log(self, d, logdir):
        self._conf(d, [
            "\n[program:blast]\ncommand = %s blast\nautorestart = true\n"
            "startsecs = 0\nstdout_logfile = %s/blast.log\n"
            "stdout_logfile_maxbytes = 0\nstderr_logfile = NONE\n"
            % (self.bins["blast"], logdir)])

    def launch_argv(self, d):
        return [self.tendd, "-c", os.path.join(d, "tend.conf")]

    def _ctl(self, d, *args):
        return [self.tendctl, "-s", os.path.join(d, "tend.sock")] + list(args)

    def status_cmd(self, d):
        return self._ctl(d, "status")

    def count_up(self, out):
        return sum(1 for line in out.splitlines() if " RUNNING " in line)

    def stop_all_cmd(self, d):
        return self._ctl(d, "stop", "all")

    def start_all_cmd(self, d):
        return self._ctl(d, "start", "all")

    def log_missing(self):
        # Until output capture (issue 4) lands, tendd sends children's
        # output to /dev/null and writes no file.
        return "pending output capture"


class Supervisord(Peer):
    name = "supervisord"
    MIN_DELAY = ("startsecs = 0 makes every exit an exit from RUNNING, so "
                 "backoff/startretries never apply. No setting removes the "
                 "~1 s: the respawn happens in the main loop iteration after "
                 "the reap, and the loop waits in poll() with a hard-coded "
                 "1 s timeout.")
    SETTINGS = ("`[program:cN]` `command=CHILD cN autostart=true "
                "autorestart=true startsecs=0 startretries=1000 "
                "redirect_stderr=true stdout_logfile=NONE`, one program per "
                "group; `[supervisord] nodaemon=true`; `supervisord -n -c "
                "CONF`; log test: `stdout_logfile=FILE "
                "stdout_logfile_maxbytes=0`")
    SHUTDOWN = "SIGTERM to supervisord"

    def available(self):
        for p in ("supervisord", "supervisorctl"):
            if shutil.which(p) is None:
                return "%s is not installed" % p
        return None

    def version(self):
        return _dpkg_version("supervisor")

    def _conf(self, d, programs, nfiles):
        minfds = max(1024, nfiles)
        text = """[unix_http_server]
file = {d}/supervisor.sock
chmod = 0700

[supervisord]
nodaemon = true
logfile = {d}/supervisord.log
pidfile = {d}/supervisord.pid
childlogdir = {d}
minfds = {minfds}
minprocs = 200

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl = unix://{d}/supervisor.sock
""".format(d=d, minfds=minfds)
        _write(os.path.join(d, "supervisord.conf"), text + "".join(programs))

    def setup(self, d, names):
        self._conf(d, [
            "\n[program:%s]\ncommand = %s %s\nautostart = true\n"
            "autorestart = true\nstartsecs = 0\nstartretries = 1000\n"
            "redirect_stderr = true\nstdout_logfile = NONE\n"
            % (n, self.bins["child"], n) for n in names],
            nfiles=4 * len(names) + 64)

    def setup_log(self, d, logdir):
        self._conf(d, [
            "\n[program:blast]\ncommand = %s blast\nautostart = true\n"
            "autorestart = true\nstartsecs = 0\nredirect_stderr = true\n"
            "stdout_logfile = %s/blast.log\nstdout_logfile_maxbytes = 0\n"
            % (self.bins["blast"], logdir)], nfiles=64)

    def launch_argv(self, d):
        return ["supervisord", "-n", "-c", os.path.join(d, "supervisord.conf")]

    def _ctl(self, d, *args):
        return ["supervisorctl", "-c",
                os.path.join(d, "supervisord.conf")] + list(args)

    def status_cmd(self, d):
        return self._ctl(d, "status")

    def count_up(self, out):
        return sum(1 for line in out.splitlines() if " RUNNING " in line)

    def stop_all_cmd(self, d):
        return self._ctl(d, "stop", "all")

    def start_all_cmd(self, d):
        return self._ctl(d, "start", "all")


class Runit(Peer):
    name = "runit"
    MIN_DELAY = ("runsv restarts ./run at once if it ran >= 1 s, otherwise "
                 "it sleeps until 1 s after the previous start (hard-coded, "
                 "not configurable); the harness kills only children up "
                 ">= 1.5 s, and the re-kill row shows the 1 s.")
    SETTINGS = ("`service/cN/run` is a symlink to CHILD (no shell); "
                "`runsvdir service` in the foreground; the service "
                "directory's mtime is set 60 s back (runsvdir does not trust "
                "a directory changed in the current second and would wait "
                "for its next scan); log test: `log/run` = `exec svlogd DIR`, "
                "`DIR/config` = `s0` (no rotation)")
    SHUTDOWN = ("SIGHUP to runsvdir (it TERMs every runsv and exits; each "
                "runsv stops its service and exits)")

    def available(self):
        for p in ("runsvdir", "runsv", "sv", "svlogd"):
            if shutil.which(p) is None:
                return "%s is not installed" % p
        return None

    def version(self):
        return _dpkg_version("runit")

    def _services(self, d):
        return sorted(glob.glob(os.path.join(d, "service", "*")))

    def setup(self, d, names):
        base = os.path.join(d, "service")
        for n in names:
            os.makedirs(os.path.join(base, n))
            os.symlink(self.bins["child"], os.path.join(base, n, "run"))
        self._backdate(base)

    def _backdate(self, base):
        past = time.time() - 60
        os.utime(base, (past, past))

    def setup_log(self, d, logdir):
        base = os.path.join(d, "service")
        svc = os.path.join(base, "blast")
        os.makedirs(os.path.join(svc, "log"))
        os.symlink(self.bins["blast"], os.path.join(svc, "run"))
        os.makedirs(logdir, exist_ok=True)
        _write(os.path.join(logdir, "config"), "s0\n")
        _write(os.path.join(svc, "log", "run"),
               "#!/bin/sh\nexec svlogd %s\n" % logdir, 0o755)
        self._backdate(base)

    def launch_argv(self, d):
        return ["runsvdir", os.path.join(d, "service")]

    def status_cmd(self, d):
        return ["sv", "status"] + self._services(d)

    def count_up(self, out):
        return sum(1 for line in out.splitlines() if line.startswith("run: "))

    def stop_all_cmd(self, d):
        return ["sv", "down"] + self._services(d)

    def start_all_cmd(self, d):
        return ["sv", "up"] + self._services(d)

    def shutdown(self, d, sup_pid):
        os.kill(sup_pid, signal.SIGHUP)
        return None

    def log_files(self, logdir):
        arch = sorted(glob.glob(os.path.join(logdir, "@*")))
        cur = os.path.join(logdir, "current")
        return arch + ([cur] if os.path.exists(cur) else [])


class S6(Peer):
    name = "s6"
    MIN_DELAY = ("s6-supervise restarts at once a service that signalled "
                 "readiness >= 1 s ago; otherwise it waits until 1 s after "
                 "the readiness (or, without readiness notification, after "
                 "the death: every restart then takes 1 s). Hard-coded. The "
                 "child signals readiness on notification-fd 3 at start; the "
                 "harness kills only children up >= 1.5 s; the re-kill row "
                 "shows the 1 s.")
    SETTINGS = ("`scan/cN/run` is a symlink to CHILD, `notification-fd` = 3 "
                "(the child writes a newline there at start); `s6-svscan -c "
                "2N+10 scan` in the foreground; log test: `log/run` = `exec "
                "s6-log n100 s16777215 DIR` (s6-log rotates at 16 MiB at "
                "most; the archives are read back in order)")
    SHUTDOWN = "`s6-svscanctl -t scan`"

    def available(self):
        for p in ("s6-svscan", "s6-supervise", "s6-svc", "s6-svstat",
                  "s6-svscanctl", "s6-log"):
            if shutil.which(p) is None:
                return "%s is not installed" % p
        return None

    def version(self):
        return _dpkg_version("s6")

    def env(self, d):
        return {"BENCH_NOTIFY_FD": "3"}

    def setup(self, d, names):
        self.n = len(names)
        base = os.path.join(d, "scan")
        for n in names:
            os.makedirs(os.path.join(base, n))
            os.symlink(self.bins["child"], os.path.join(base, n, "run"))
            _write(os.path.join(base, n, "notification-fd"), "3\n")

    def setup_log(self, d, logdir):
        self.n = 2
        svc = os.path.join(d, "scan", "blast")
        os.makedirs(os.path.join(svc, "log"))
        os.symlink(self.bins["blast"], os.path.join(svc, "run"))
        _write(os.path.join(svc, "notification-fd"), "3\n")
        os.makedirs(logdir, exist_ok=True)
        _write(os.path.join(svc, "log", "run"),
               "#!/bin/sh\nexec s6-log n100 s16777215 %s\n" % logdir, 0o755)

    def launch_argv(self, d):
        return ["s6-svscan", "-c", str(2 * self.n + 10),
                os.path.join(d, "scan")]

    def _loop(self, d, tool):
        # s6-svc and s6-svstat take one service directory: a shell loop is
        # how a user lists or stops them all (N execs).
        return ["/bin/sh", "-c",
                'for s in "$0"/*; do %s "$s"; done' % tool,
                os.path.join(d, "scan")]

    def status_cmd(self, d):
        return self._loop(d, "s6-svstat")

    def count_up(self, out):
        return sum(1 for line in out.splitlines() if line.startswith("up "))

    def stop_all_cmd(self, d):
        return self._loop(d, "s6-svc -d")

    def start_all_cmd(self, d):
        return self._loop(d, "s6-svc -u")

    def shutdown(self, d, sup_pid):
        return subprocess.Popen(["s6-svscanctl", "-t",
                                 os.path.join(d, "scan")])

    def log_files(self, logdir):
        arch = sorted(glob.glob(os.path.join(logdir, "@*")))
        cur = os.path.join(logdir, "current")
        return arch + ([cur] if os.path.exists(cur) else [])


class Floor(Peer):
    name = "floor"
    MIN_DELAY = "none: respawn as soon as the child's pidfd is readable"
    SETTINGS = ("`floorsup -s SOCK -c CONF` (bench/src/floorsup.c: one "
                "process, epoll, a pidfd per child, posix_spawn, output "
                "pipe -> read 64 KiB -> write to the file); CLI `floorsup -C "
                "SOCK status|stop|start`")
    SHUTDOWN = "SIGTERM to floorsup"

    def setup(self, d, names):
        _write(os.path.join(d, "floor.conf"), "".join(
            "%s - %s %s\n" % (n, self.bins["child"], n) for n in names))

    def setup_log(self, d, logdir):
        os.makedirs(logdir, exist_ok=True)
        _write(os.path.join(d, "floor.conf"), "blast %s/blast.log %s blast\n"
               % (logdir, self.bins["blast"]))

    def launch_argv(self, d):
        return [self.bins["floorsup"], "-s", os.path.join(d, "floor.sock"),
                "-c", os.path.join(d, "floor.conf")]

    def _ctl(self, d, cmd):
        return [self.bins["floorsup"], "-C", os.path.join(d, "floor.sock"),
                cmd]

    def status_cmd(self, d):
        return self._ctl(d, "status")

    def count_up(self, out):
        return sum(1 for line in out.splitlines() if " up " in line)

    def stop_all_cmd(self, d):
        return self._ctl(d, "stop")

    def start_all_cmd(self, d):
        return self._ctl(d, "start")


def all_peers(bins, tend_build):
    return [Tend(bins, tend_build), Supervisord(bins), Runit(bins), S6(bins),
            Floor(bins)]
