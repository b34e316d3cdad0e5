"""
Helpers of the observability tests (spec section 11): HTTP to tendd on
its Unix socket or on [inet_http_server], and the Prometheus text format
read back into values.
"""
import base64
import http.client
import re
import socket
import textwrap


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def request(where, method, path, auth=None, headers=None, body=None,
            timeout=10):
    """WHERE: a socket path (str) or a TCP port (int). Returns (status,
    headers as a dict with lower-case keys, body bytes)."""
    if isinstance(where, int):
        c = http.client.HTTPConnection("127.0.0.1", where, timeout=timeout)
    else:
        c = UnixHTTPConnection(str(where), timeout=timeout)
    h = dict(headers or {})
    if auth is not None:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % auth).encode()).decode()
    if method == "POST" and body is None:
        body = b""
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return (r.status, {k.lower(): v for k, v in r.getheaders()},
                r.read())
    finally:
        c.close()


SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n"
                  else m.group(1), v)


def parse_metrics(text):
    """{family: {"help": str, "type": str, "samples": [(labels, value)]}}.
    Every sample line must belong to a family announced by HELP and TYPE."""
    fams = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            fams.setdefault(name, {"samples": []})["help"] = help_
        elif line.startswith("# TYPE "):
            name, _, type_ = line[7:].partition(" ")
            fams.setdefault(name, {"samples": []})["type"] = type_
        elif line and not line.startswith("#"):
            m = SAMPLE_RE.match(line)
            assert m, "not a sample line: %r" % line
            labels = {k: unescape(v)
                      for k, v in LABEL_RE.findall(m.group(2) or "")}
            assert m.group(1) in fams, "sample before its HELP/TYPE: %r" % line
            fams[m.group(1)]["samples"].append((labels, float(m.group(3))))
    for name, f in fams.items():
        assert "help" in f and "type" in f, name
    return fams


def value(fams, family, **labels):
    """The one sample of FAMILY whose labels include LABELS; None if none."""
    hits = [v for ls, v in fams[family]["samples"]
            if all(ls.get(k) == w for k, w in labels.items())]
    assert len(hits) <= 1, (family, labels, hits)
    return hits[0] if hits else None


def inet_section(port, user="u", password="pw"):
    return textwrap.dedent("""\
        [inet_http_server]
        port = 127.0.0.1:%d
        username = %s
        password = %s
        """ % (port, user, password))
