#!/usr/bin/python3
"""
bench/output.py: how fast tendd captures a child's output (issue 4);
`make bench-output`, figures in bench/RESULTS-output.md.

A child (build/helpers/spew) writes SIZE bytes to stdout as fast as it
can in CHUNK-byte writes. Measured, each REPS times, on the same file
system (DIR):

  raw       spew | cat > DIR/raw.log            (the floor: one pipe, one copy)
  tend      spew under tendd, stdout_logfile = DIR/out.log, maxbytes = 0
  tend-rot  the same with stdout_logfile_maxbytes = ROTATE, backups enough
            to keep every byte (SIZE / ROTATE + 2)
  tend-ts   the same as tend with log_timestamps = true (more bytes out)

Time: from just before the start request (or the shell pipeline's start)
until the process is EXITED (tendd reports that only once both pipes are
at EOF and everything is written) or the pipeline has exited. Every run is
checked: the size and SHA-256 of the log (the backups oldest first, then
the file) must equal those of the stream spew writes (from `spew | sha256sum`),
so "lost" is the byte difference and must be 0. tend-ts is checked by
stripping the time prefixes.

Loopback only: a private tendd on a socket in a temp dir; bounded in time
(each run times out after 120 s).

  /usr/bin/python3 bench/output.py [--size 1G] [--chunk 64K] [--reps 3]
                                   [--dir /tmp] [--rotate 100M] [--only raw,tend]
                                   [--as-user nobody]
"""
import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("TEND_BUILD", str(ROOT / "build")))
SPEW = BUILD / "helpers" / "spew"
TENDD = BUILD / "tendd"
STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} ", re.M)


def size_arg(s):
    m = re.fullmatch(r"(\d+)([KMG]?)", s.upper())
    if not m:
        raise argparse.ArgumentTypeError("bad size %s" % s)
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def expected(size, chunk, eol=False):
    """(size, sha256) of what spew writes; with EOL, as log_timestamps
    logs it: a last line without its newline gets one."""
    cmd = "%s --bytes %d --chunk %d" % (SPEW, size, chunk)
    if eol:
        last = subprocess.run(cmd + " | tail -c 1", shell=True, check=True,
                              capture_output=True).stdout
        if last != b"\n":
            cmd = "{ %s; echo; }" % cmd
            size += 1
    out = subprocess.run(cmd + " | sha256sum", shell=True, check=True,
                         capture_output=True, text=True)
    return size, out.stdout.split()[0]


def digest(paths, strip_stamps=False):
    h = hashlib.sha256()
    n = 0
    for p in paths:
        with open(p, "rb") as f:
            if strip_stamps:
                data = STAMP.sub(b"", f.read())
                h.update(data)
                n += len(data)
                continue
            while True:
                b = f.read(1 << 22)
                if not b:
                    break
                h.update(b)
                n += len(b)
    return n, h.hexdigest()


def log_files(d, name):
    """NAME.N ... NAME.1, NAME: oldest first."""
    backups = sorted((p for p in d.iterdir()
                      if p.name.startswith(name + ".") and p.name[len(name) + 1:].isdigit()),
                     key=lambda p: -int(p.name[len(name) + 1:]))
    return backups + [d / name]


def cpu_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


AS_USER = []


class Tendd:
    def __init__(self, d, conf):
        self.d = d
        self.sock = d / "tend.sock"
        (d / "tend.conf").write_text(conf)
        if AS_USER:
            os.chmod(d, 0o777)
        self.proc = subprocess.Popen(AS_USER + [str(TENDD), "-c", str(d / "tend.conf")],
                                     stdin=subprocess.DEVNULL,
                                     stdout=open(d / "tendd.log", "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.request("version").get("ok"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("tendd did not start: %s" % (d / "tendd.log").read_text())
            time.sleep(0.02)

    def request(self, cmd, **kw):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(str(self.sock))
            s.sendall((json.dumps(dict(id=1, cmd=cmd, **kw)) + "\n").encode())
            buf = b""
            while b"\n" not in buf:
                c = s.recv(65536)
                if not c:
                    raise OSError("closed")
                buf += c
        return json.loads(buf.split(b"\n")[0])

    def state(self, name):
        return self.request("status", names=[name])["processes"][0]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_raw(d, size, chunk):
    out = d / "raw.log"
    t0 = time.monotonic()
    subprocess.run("%s --bytes %d --chunk %d | cat > %s" % (SPEW, size, chunk, out),
                   shell=True, check=True, timeout=120)
    t = time.monotonic() - t0
    return t, [out], None, False


def run_tend(d, size, chunk, rotate, stamps):
    backups = size // rotate + 2 if rotate else 0
    conf = """[tend]
socket = %(here)s/tend.sock
childlogdir = %(here)s
[program:blast]
command = {spew} --bytes {size} --chunk {chunk}
autostart = false
autorestart = false
startsecs = 0
daemon = false
stdout_logfile = %(here)s/out.log
stdout_logfile_maxbytes = {rotate}
stdout_logfile_backups = {backups}
stderr_logfile = NONE
log_timestamps = {stamps}
""".format(spew=SPEW, size=size, chunk=chunk, rotate=rotate, backups=backups,
           stamps="true" if stamps else "false")
    t = Tendd(d, conf)
    try:
        cpu0 = cpu_of(t.proc.pid)
        t0 = time.monotonic()
        r = t.request("start", names=["blast"], wait=False)
        assert r["ok"], r
        deadline = t0 + 120
        while True:
            st = t.state("blast")
            if st["state"] in ("EXITED", "FATAL", "BACKOFF"):
                break
            if time.monotonic() > deadline:
                raise SystemExit("timed out: %s" % st)
            time.sleep(0.002)
        el = time.monotonic() - t0
        cpu = cpu_of(t.proc.pid) - cpu0
        assert st["state"] == "EXITED" and st["exitcode"] == 0, st
    finally:
        t.close()
    return el, log_files(d, "out.log"), cpu, stamps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=size_arg, default=size_arg("1G"))
    ap.add_argument("--chunk", type=size_arg, default=size_arg("64K"))
    ap.add_argument("--rotate", type=size_arg, default=size_arg("100M"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--only", default="raw,tend,tend-rot,tend-ts")
    ap.add_argument("--as-user", help="run tendd as this user (via setpriv; "
                    "tendd asks for 1 MiB pipes only as root)")
    a = ap.parse_args()
    if a.as_user:
        import pwd
        pw = pwd.getpwnam(a.as_user)
        AS_USER[:] = ["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
                      "--clear-groups"]
    for f in (SPEW, TENDD):
        if not f.exists():
            raise SystemExit("%s missing: make && make helpers" % f)

    want = expected(a.size, a.chunk)
    want_ts = expected(a.size, a.chunk, eol=True)
    modes = a.only.split(",")
    results = {}
    for m in modes:
        results[m] = []
        for rep in range(a.reps):
            d = Path(tempfile.mkdtemp(prefix="tend-bench-", dir=a.dir))
            try:
                subprocess.run(["sync"])
                if m == "raw":
                    el, files, cpu, stamps = run_raw(d, a.size, a.chunk)
                else:
                    el, files, cpu, stamps = run_tend(
                        d, a.size, a.chunk, a.rotate if m == "tend-rot" else 0,
                        m == "tend-ts")
                got = digest(files, strip_stamps=stamps)
                nfiles = len(files)
            finally:
                shutil.rmtree(d, ignore_errors=True)
            w = want_ts if m == "tend-ts" else want
            lost = w[0] - got[0]
            ok = got == w
            results[m].append((el, lost, ok, cpu, nfiles))
            print("%-8s rep %d: %.3f s, %.0f MB/s, lost %d B, sha %s, %d file(s)%s"
                  % (m, rep + 1, el, a.size / el / 1e6, lost, "ok" if ok else "MISMATCH",
                     nfiles, "" if cpu is None else ", tendd CPU %.2f s" % cpu),
                  flush=True)

    print()
    print("machine: %s, %d CPUs, kernel %s; files on %s (%s)"
          % (platform.node(), os.cpu_count(), platform.release(), a.dir,
             subprocess.run(["stat", "-f", "-c", "%T", a.dir], capture_output=True,
                            text=True).stdout.strip()))
    print("size %d bytes, %d-byte writes, %d reps, median\n" % (a.size, a.chunk, a.reps))
    print("| mode | MB/s (median) | min-max MB/s | vs raw | lost bytes | sha256 | tendd CPU s |")
    print("|---|---|---|---|---|---|---|")
    raw = None
    for m in modes:
        rs = results[m]
        mbs = [a.size / r[0] / 1e6 for r in rs]
        med = statistics.median(mbs)
        if m == "raw":
            raw = med
        cpus = [r[3] for r in rs if r[3] is not None]
        print("| %s | %.0f | %.0f-%.0f | %s | %s | %s | %s |"
              % (m, med, min(mbs), max(mbs),
                 "%.0f%%" % (100 * med / raw) if raw else "-",
                 ",".join(str(r[1]) for r in rs),
                 "ok" if all(r[2] for r in rs) else "MISMATCH",
                 "%.2f" % statistics.median(cpus) if cpus else "-"))
    if not all(r[2] for m in modes for r in results[m]):
        sys.exit(1)


if __name__ == "__main__":
    main()
