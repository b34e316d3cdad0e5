"""
The status page, GET / (spec section 11), in headless Chromium: it lists
every process, follows a stop made with tendctl without a reload (live
updates from /api/events), shows recent output on a click, and its
buttons act only for a user with [inet_http_server] credentials, never
for a cross-site request. One tendd and one browser serve the module.
"""
import http.server
import json
import shutil
import tempfile
import textwrap
import threading

import pytest

from cdp import Browser
from conftest import Tend, reachable_tmp, wait_for
from observe import free_port, inet_section, request

AUTH = ("u", "pw")

PROGRAMS = """\
    [program:web]
    command = /bin/sh -c 'echo web-says-hello; exec sleep 1000'
    startsecs = 0

    [program:worker]
    command = /bin/sleep 1000
    startsecs = 0

    [program:victim]
    command = /bin/sleep 1000
    startsecs = 0

    [program:idle]
    command = /bin/sleep 1000
    autostart = false
    """


@pytest.fixture(scope="module")
def srv():
    workdir = tempfile.mkdtemp(prefix="tend-", dir=reachable_tmp())
    t = Tend(workdir)
    t.port = free_port()
    t.write_config(inet_section(t.port, *AUTH) + "\n" +
                   textwrap.dedent(PROGRAMS))
    try:
        t.start()
        for name in ("web", "worker", "victim"):
            t.wait_state(name, "RUNNING")
        t.url = "http://127.0.0.1:%d/" % t.port
        b = Browser()
    except BaseException:
        t.cleanup()
        raise
    t.browser = b
    yield t
    b.close()
    t.cleanup()
    shutil.rmtree(workdir, ignore_errors=True)


class Evil:
    """Another site on this machine (another origin than tendd's)."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"<!DOCTYPE html><p>elsewhere</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def page(srv):
    """The page freshly loaded with the credentials."""
    b = srv.browser
    b.auth(*AUTH)
    b.goto(srv.url)
    return b


def rows(b):
    return b.eval("""[...document.querySelectorAll('#rows tr[data-name]')]
        .map(r => [r.dataset.name, r.dataset.state])""") or []


def test_lists_every_process_and_follows_a_stop_live(srv):
    b = page(srv)
    names = {p["name"]: p["state"] for p in srv.status_json()}
    wait_for(lambda: dict(rows(b)) == names, what="the page lists all")
    wait_for(lambda: b.eval("document.getElementById('conn').textContent")
             == "live", what="the event stream is open")
    b.eval("window.__not_reloaded = 1")
    rc, out, err = srv.ctl("stop", "worker")
    assert rc == 0, (out, err)
    wait_for(lambda: dict(rows(b)).get("worker") == "STOPPED",
             what="the page shows worker STOPPED")
    assert b.eval("window.__not_reloaded") == 1
    rc, out, err = srv.ctl("start", "worker")
    assert rc == 0, (out, err)
    wait_for(lambda: dict(rows(b)).get("worker") == "RUNNING",
             what="the page shows worker RUNNING again")
    assert b.eval("window.__not_reloaded") == 1
    # the cells a person reads: pid, CPU, memory of a running process
    cells = b.eval("""[...document.querySelector('#rows tr[data-name="web"]')
        .children].map(td => td.textContent)""")
    assert str(srv.proc_status("web")["pid"]) in cells
    assert any(c.endswith("s") and c[0].isdigit() for c in cells), cells
    assert any("iB" in c or c.endswith(" B") for c in cells), cells


def test_recent_output_one_click_away(srv):
    b = page(srv)
    wait_for(lambda: "web" in dict(rows(b)), what="web listed")
    b.eval("""document.querySelector('#rows tr[data-name="web"] button.name')
        .click()""")
    wait_for(lambda: "web-says-hello" in (b.eval(
        "(document.querySelector('pre[data-stream=stdout]') || {})"
        ".textContent || ''")), what="web's output shown")


def test_buttons_act_for_an_authenticated_user(srv):
    b = page(srv)
    wait_for(lambda: b.eval("document.querySelectorAll("
                            "'#rows tr[data-name=\"victim\"] button.act')"
                            ".length") == 3, what="buttons shown")
    b.eval("""window.alert = () => {};
        document.querySelector(
        '#rows tr[data-name="victim"] button[data-action="stop"]').click()""")
    srv.wait_state("victim", "STOPPED")
    b.eval("""document.querySelector(
        '#rows tr[data-name="victim"] button[data-action="start"]').click()""")
    srv.wait_state("victim", "RUNNING")
    # without credentials: nothing at all (a browser would ask for them)
    for method, path in (("GET", "/"), ("GET", "/api/status"),
                         ("GET", "/api/events"),
                         ("POST", "/api/action/stop/victim")):
        st, _, _ = request(srv.port, method, path)
        assert st == 401, (method, path)
    # a listener without credentials: a read-only page, actions refused
    st, _, body = request(str(srv.sock), "GET", "/api/status")
    assert st == 200 and json.loads(body)["can_act"] is False
    assert json.loads(body)["token"] is None
    st, _, _ = request(str(srv.sock), "POST", "/api/action/stop/victim")
    assert st == 403
    assert srv.proc_status("victim")["state"] == "RUNNING"


def test_cross_site_posts_are_refused(srv):
    st, _, body = request(srv.port, "GET", "/api/status", auth=AUTH)
    token = json.loads(body)["token"]
    assert token
    for headers in ({}, {"X-Tend-Token": "0" * len(token)},
                    {"X-Tend-Token": token, "Origin": "http://evil.example"},
                    {"X-Tend-Token": token, "Origin": "null"},
                    {"X-Tend-Token": token, "Sec-Fetch-Site": "cross-site"}):
        st, _, _ = request(srv.port, "POST", "/api/action/stop/victim",
                           auth=AUTH, headers=headers)
        assert st == 403, headers
    st, _, _ = request(srv.port, "GET", "/api/action/stop/victim", auth=AUTH)
    assert st == 405
    # a page of another origin, in a browser that holds the credentials
    evil = Evil()
    try:
        b = srv.browser
        b.auth(*AUTH)
        b.goto(evil.url)
        wait_for(lambda: b.eval("document.readyState") == "complete",
                 what="the other site's page loaded")
        before = srv.log().count("refused a status page action")
        b.eval("""fetch('%sapi/action/stop/victim', {method: 'POST',
            mode: 'no-cors', credentials: 'include'}).then(() => 1, () => 0)"""
               % srv.url)
        wait_for(lambda: srv.log().count("refused a status page action")
                 >= before + 1, what="a cross-site fetch refused")
        b.eval("""(() => { const f = document.createElement('form');
            f.method = 'POST'; f.action = '%sapi/action/stop/victim';
            document.body.appendChild(f); f.submit(); return 1; })()"""
               % srv.url)
        wait_for(lambda: srv.log().count("refused a status page action")
                 >= before + 2, what="a cross-site form refused")
    finally:
        evil.close()
    assert srv.proc_status("victim")["state"] == "RUNNING"
    # the same user from the page itself may act
    st, _, body = request(srv.port, "POST", "/api/action/restart/victim",
                          auth=AUTH, headers={"X-Tend-Token": token,
                                              "Origin": srv.url[:-1],
                                              "Host": srv.url[7:-1]})
    assert st == 200 and json.loads(body)["ok"] is True
    srv.wait_state("victim", "RUNNING")


def test_readable_on_a_phone(srv):
    b = page(srv)
    b.call("Emulation.setDeviceMetricsOverride", width=390, height=800,
           deviceScaleFactor=2, mobile=True)
    try:
        wait_for(lambda: "web" in dict(rows(b)), what="web listed")
        # nothing wider than the screen; name, state, CPU and memory shown
        assert b.eval("document.documentElement.scrollWidth") <= 390
        shown = b.eval("""[...document.querySelectorAll('thead th')]
            .filter(t => t.offsetWidth > 0).map(t => t.textContent)""")
        assert shown[:2] == ["Name", "State"] and "CPU" in shown and \
            "Memory" in shown, shown
        # the buttons come with the output, one tap on the name away
        b.eval("""document.querySelector(
            '#rows tr[data-name="web"] button.name').click()""")
        wait_for(lambda: b.eval("""[...document.querySelectorAll(
            '.acts-in button.act')].filter(x => x.offsetWidth > 0)
            .length""") == 3, what="the buttons under the output")
    finally:
        b.call("Emulation.clearDeviceMetricsOverride")
