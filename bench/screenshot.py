"""
Takes docs/status-page.png: a tendd with a few processes in several
states, its status page in headless Chromium (tests/integration/cdp.py).
Run from the repository root after make: /usr/bin/python3 bench/screenshot.py
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from cdp import Browser  # noqa: E402
from observe import free_port  # noqa: E402

CONF = """[tend]
socket = %(here)s/tend.sock
childlogdir = %(here)s/logs

[inet_http_server]
port = 127.0.0.1:{port}
username = admin
password = secret

[program:api]
command = /bin/sh -c 'echo "listening on :8080"; exec sleep 100000'
startsecs = 0
healthcheck = exec:/bin/true
healthcheck_interval = 1

[program:worker]
command = /bin/sh -c 'echo "processing queue"; while :; do :; done'
startsecs = 0
numprocs = 2
process_name = worker-%(process_num)d

[program:cron]
command = /bin/sleep 100000
autostart = false

[program:legacy]
command = /bin/sh -c 'echo "config missing" >&2; exit 2'
startsecs = 1
startretries = 0

[program:db]
command = /bin/sleep 100000
startsecs = 0
"""


def main():
    d = Path(tempfile.mkdtemp(prefix="tend-shot-"))
    (d / "logs").mkdir()
    port = free_port()
    (d / "tend.conf").write_text(CONF.format(port=port))
    tendd = subprocess.Popen([str(ROOT / "build" / "tendd"), "-c",
                              str(d / "tend.conf")],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    b = None
    try:
        time.sleep(3)   # a one-off picture: let the states settle
        b = Browser()
        b.call("Emulation.setDeviceMetricsOverride", width=1060, height=400,
               deviceScaleFactor=1, mobile=False)
        b.auth("admin", "secret")
        b.goto("http://127.0.0.1:%d/" % port)
        time.sleep(6)   # two refreshes: CPU% needs a pair of samples
        b.screenshot(ROOT / "docs" / "status-page.png")
        if os.environ.get("PHONE"):
            b.call("Emulation.setDeviceMetricsOverride", width=390,
                   height=700, deviceScaleFactor=1, mobile=True)
            time.sleep(1)
            b.screenshot(os.environ["PHONE"])
    finally:
        if b is not None:
            b.close()
        tendd.terminate()
        tendd.wait(timeout=30)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
