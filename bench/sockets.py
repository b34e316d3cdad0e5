#!/usr/bin/python3
"""bench/sockets.py: restarts under load with sockets held by tendd (issue 17).

A real server that takes systemd sockets, Debian's gunicorn (one sync
worker per gunicorn), answers "ok PID" on loopback while wrk drives it
(HTTP/1.1, --timeout 10s so a request waiting in the backlog is a slow
request, not an error). Midway through the run the server is restarted:

  tend-restart       tendd holds tcp://127.0.0.1:PORT (sockets =),
                     numprocs = 1, `tendctl restart web`
  tend-rolling       the same with numprocs = 4, `tendctl restart --rolling`
                     of the four (each next one once the previous is RUNNING)
  supervisord-restart  supervisord 4.x, a plain [program:] whose gunicorn
                     binds the port itself, numprocs = 1,
                     `supervisorctl restart web`
  supervisord-rolling  numprocs = 4 gunicorns binding the port with
                     --reuse-port, `supervisorctl restart` of each in turn

For each: requests done, failed requests (wrk's socket errors: connect =
refused, read/write/timeout, plus non-2xx), and the worst latency of the
run (which is the restart's). Needs gunicorn, wrk and supervisor
(apt-get install gunicorn wrk supervisor).

    bench/sockets.py                 # every scenario 3 times, ~3 minutes
    bench/sockets.py --only tend-restart --secs 6

Writes bench/RESULTS-sockets.md (or --out). Not part of make check: the
behaviour is tests/integration/test_sockets.py's.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TEND_BUILD", "build")
TENDD = os.path.join(ROOT, BUILD, "tendd")
TENDCTL = os.path.join(ROOT, BUILD, "tendctl")

APP = '''import os
def app(environ, start_response):
    body = ("ok %d\\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(port, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            if b" 200 " in c.recv(64):
                c.close()
                return
            c.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("nothing answers on port %d" % port)


def run_wrk(port, secs, conns, result):
    r = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % secs,
                        "--timeout", "10s",
                        "http://127.0.0.1:%d/" % port],
                       capture_output=True, text=True)
    result["out"] = r.stdout + r.stderr


def parse_wrk(out):
    res = {"requests": 0, "connect": 0, "read": 0, "write": 0,
           "timeout": 0, "non2xx": 0, "max": "?"}
    m = re.search(r"(\d+) requests in", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        for k, v in zip(("connect", "read", "write", "timeout"), m.groups()):
            res[k] = int(v)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out)
    if m:
        res["max"] = m.group(1)
    res["failed"] = (res["connect"] + res["read"] + res["write"]
                     + res["timeout"] + res["non2xx"])
    return res


def under_load(port, secs, conns, restart):
    """wrk for SECS; RESTART() runs a third of the way in."""
    result = {}
    t = threading.Thread(target=run_wrk, args=(port, secs, conns, result))
    t.start()
    time.sleep(secs / 3)
    t0 = time.monotonic()
    rc = restart()
    took = time.monotonic() - t0
    t.join()
    res = parse_wrk(result.get("out", ""))
    res["restart_rc"] = rc
    res["restart_secs"] = took
    res["raw"] = result.get("out", "")
    return res


def tend_scenario(work, n, rolling, secs, conns):
    port = free_port()
    conf = os.path.join(work, "tend.conf")
    with open(conf, "w") as f:
        f.write("[tend]\nsocket = %s/tend.sock\nchildlogdir = %s\n"
                "logfile = %s/tendd.log\n\n"
                "[program:web]\ncommand = gunicorn -w 1 --chdir %s app:app\n"
                "sockets = tcp://127.0.0.1:%d\nsocket_backlog = 1024\n"
                "numprocs = %d\nprocess_name = web_%%(process_num)d\n"
                "startsecs = 1\nstopwaitsecs = 30\n"
                % (work, work, work, work, port, n))
    d = subprocess.Popen([TENDD, "-c", conf], stdin=subprocess.DEVNULL)
    try:
        wait_http(port)
        names = ["web:web_%d" % i for i in range(n)]
        for nm in names:
            subprocess.run([TENDCTL, "-c", conf, "start", nm],
                           capture_output=True)
        args = ["restart", "--rolling"] if rolling else ["restart"]

        def restart():
            return subprocess.run([TENDCTL, "-c", conf] + args + names,
                                  capture_output=True).returncode
        return under_load(port, secs, conns, restart)
    finally:
        d.terminate()
        d.wait(60)


def supervisord_scenario(work, n, rolling, secs, conns):
    port = free_port()
    conf = os.path.join(work, "supervisord.conf")
    reuse = " --reuse-port" if n > 1 else ""
    with open(conf, "w") as f:
        f.write("[unix_http_server]\nfile = %s/sv.sock\n\n"
                "[supervisord]\nlogfile = %s/supervisord.log\n"
                "pidfile = %s/supervisord.pid\nchildlogdir = %s\n"
                "nodaemon = true\n\n"
                "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory"
                " = supervisor.rpcinterface:make_main_rpcinterface\n\n"
                "[supervisorctl]\nserverurl = unix://%s/sv.sock\n\n"
                "[program:web]\ncommand = gunicorn -w 1 --chdir %s "
                "-b 127.0.0.1:%d --backlog 1024%s app:app\n"
                "numprocs = %d\nprocess_name = web_%%(process_num)d\n"
                "startsecs = 1\nstopwaitsecs = 30\n"
                % (work, work, work, work, work, work, port, reuse, n))
    d = subprocess.Popen(["supervisord", "-c", conf],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_http(port)
        time.sleep(1.5)     # every process past startsecs
        names = ["web:web_%d" % i for i in range(n)]

        def restart():
            rc = 0
            if rolling:
                for nm in names:
                    rc |= subprocess.run(["supervisorctl", "-c", conf,
                                          "restart", nm],
                                         capture_output=True).returncode
            else:
                rc = subprocess.run(["supervisorctl", "-c", conf, "restart"]
                                    + names, capture_output=True).returncode
            return rc
        return under_load(port, secs, conns, restart)
    finally:
        d.terminate()
        d.wait(60)


SCENARIOS = {
    "tend-restart": (tend_scenario, 1, False),
    "tend-rolling": (tend_scenario, 4, True),
    "supervisord-restart": (supervisord_scenario, 1, False),
    "supervisord-rolling": (supervisord_scenario, 4, True),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=int, default=9)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--only", action="append")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs of each scenario (default 3)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench",
                                                  "RESULTS-sockets.md"))
    a = ap.parse_args()
    for tool in ("gunicorn", "wrk", "supervisord"):
        if shutil.which(tool) is None:
            sys.exit("%s is missing: apt-get install gunicorn wrk "
                     "supervisor" % tool)
    rows = []
    for run in range(a.runs):
        for name in a.only or list(SCENARIOS):
            fn, n, rolling = SCENARIOS[name]
            work = tempfile.mkdtemp(prefix="tend-bench-sockets-")
            with open(os.path.join(work, "app.py"), "w") as f:
                f.write(APP)
            res = fn(work, n, rolling, a.secs, a.conns)
            shutil.rmtree(work, ignore_errors=True)
            rows.append((name, n, res))
            print("%-20s n=%d requests=%d failed=%d (connect %d, read %d, "
                  "write %d, timeout %d, non-2xx %d) max=%s restart rc=%d "
                  "in %.2fs" % (name, n, res["requests"], res["failed"],
                                res["connect"], res["read"], res["write"],
                                res["timeout"], res["non2xx"], res["max"],
                                res["restart_rc"], res["restart_secs"]),
                  flush=True)
    with open(a.out, "w") as f:
        f.write(RESULTS_HEAD % {"secs": a.secs, "conns": a.conns,
                                "uname": os.uname().release,
                                "cpus": os.cpu_count(), "runs": a.runs})
        f.write("| scenario | numprocs | requests | failed | "
                "connect/read/write/timeout/non-2xx | worst latency | "
                "restart took |\n|---|---|---|---|---|---|---|\n")
        for name, n, r in sorted(rows, key=lambda x: list(SCENARIOS).index(
                x[0])):
            f.write("| %s | %d | %d | %d | %d/%d/%d/%d/%d | %s | %.2f s |\n"
                    % (name, n, r["requests"], r["failed"], r["connect"],
                       r["read"], r["write"], r["timeout"], r["non2xx"],
                       r["max"], r["restart_secs"]))
        f.write(RESULTS_TAIL)


RESULTS_HEAD = """# Restarts under load: sockets held by tendd vs supervisord

`bench/sockets.py` (issue 17): Debian's gunicorn (one sync worker per
gunicorn, an app answering "ok PID") on loopback, driven by
`wrk -t2 -c%(conns)d -d%(secs)ds --timeout 10s` (HTTP/1.1; gunicorn's
sync worker closes each connection, so every request is a new
connection). A third of the way in, the server is restarted; the run's
worst latency is the restart's. "failed" is everything wrk counts as an
error: connect, read and write errors, timeouts and non-2xx answers.
wrk connects without blocking, so a refused connection shows as a
*write* error (ECONNREFUSED surfaces at the first write), a reset one as
a read error. 2 shared CPUs (%(cpus)s online), Linux %(uname)s, other
jobs running beside it: counts matter, latencies are indicative. Each
scenario ran %(runs)d times (one row a run), interleaved.

"""

RESULTS_TAIL = """
What the rows are:

- **tend-restart**: `sockets = tcp://127.0.0.1:PORT`, numprocs = 1,
  `tendctl restart web:web_0`. The listening socket is tendd's: while the
  old gunicorn stops and the new one boots, connections wait in the
  socket's backlog and are served by the new process. None is refused;
  the worst latency is the restart itself.
- **tend-rolling**: numprocs = 4 sharing the socket, `tendctl restart
  --rolling` of the four: the next one is stopped only once the previous
  is RUNNING again, so three always accept.
- **supervisord-restart**: supervisord 4.2, a plain `[program:]` whose
  gunicorn binds the port itself, `supervisorctl restart`: between the
  old process closing the port and the new one binding it, connections
  are refused (wrk's write errors), and those already queued in the old
  listener are reset (read errors).
- **supervisord-rolling**: four gunicorns binding the port with
  `--reuse-port`, `supervisorctl restart` of each in turn (each returns
  once that one is RUNNING): the kernel spreads new connections over the
  listeners, and those queued in a stopping process's own listener are
  reset when it closes.

Reproduce: `apt-get install gunicorn wrk supervisor; make; bench/sockets.py`.
"""

if __name__ == "__main__":
    main()
