"""
Packaging (issues: tend in its real homes; 20, the Debian package). The
package itself is built by `make deb` (dpkg-buildpackage, then lintian,
which fails on any error or warning) and tried under a real systemd by
`make test-systemd`; both take minutes, so this suite checks what they
are made of, quickly: debian/'s metadata agrees with the Makefile, `make
install` with debian/rules' own words stages every file the package
ships, the staged tendd runs and accepts the packaged config, the units
say what the docs promise and pass `systemd-analyze verify` (with the
staged /usr laid over the real one in a private mount namespace), and
the Docker example's config is valid.
"""
import os
import re
import subprocess
from pathlib import Path

from conftest import BUILD, ROOT, TENDD

# Every path make install stages for the package (debhelper adds
# copyright and changelog, and gzips man pages and long docs).
STAGED_FILES = {
    "/usr/sbin/tendd", "/usr/bin/tendctl", "/usr/libexec/tend/after-stop",
    "/lib/systemd/system/tend.service", "/lib/systemd/system/tend.socket",
    "/usr/lib/sysusers.d/tend.conf",
    "/etc/tend/tend.conf", "/etc/tend/conf.d/",
    "/usr/share/man/man8/tendd.8", "/usr/share/man/man1/tendctl.1",
    "/usr/share/man/man5/tend.conf.5",
    "/usr/share/doc/tend/README.md",
}
if (ROOT / "packaging/completion/tendctl.bash").exists():
    STAGED_FILES.add("/usr/share/bash-completion/completions/tendctl")


def make(*args, timeout=120):
    """make in the checkout, with the build the suite runs (TEND_BUILD)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "-s", "--no-print-directory",
                        "B=%s" % os.path.relpath(BUILD, ROOT)] + list(args),
                       cwd=str(ROOT), env=env, capture_output=True,
                       text=True, timeout=timeout)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r


def run(*argv, **kw):
    return subprocess.run([str(a) for a in argv], capture_output=True,
                          text=True, timeout=30, **kw)


def rules_make_words():
    """TEND_MAKE of debian/rules: the words its make install gets,
    without B= (the suite's build is used) and DEBS=."""
    text = (ROOT / "debian/rules").read_text().replace("\\\n", " ")
    m = re.search(r"^TEND_MAKE\s*=\s*(.*)$", text, re.M)
    assert m, "no TEND_MAKE in debian/rules"
    return [w for w in m.group(1).split()
            if not w.startswith(("B=", "DEBS="))]


def unit_settings(path):
    """{key: [values]} of a unit file."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def test_debian_metadata_agrees_with_the_makefile():
    version = re.search(r"^VERSION\s*=\s*(\S+)",
                        (ROOT / "Makefile").read_text(), re.M).group(1)
    r = run("dpkg-parsechangelog", "-l", ROOT / "debian/changelog",
            "-S", "Version")
    assert r.returncode == 0 and r.stdout.strip() == version, (r, version)
    control = (ROOT / "debian/control").read_text()
    assert re.search(r"^Source: tend$", control, re.M)
    assert re.search(r"^Package: tend$", control, re.M)
    maint = re.search(r"^Maintainer: (.*)$", control, re.M).group(1)
    assert re.fullmatch(r"[^<>]+ <[^@\s]+@[\w.-]+\.[a-z]+>", maint), maint
    assert "localhost" not in maint
    for dep in ("libevent-dev", "libinih-dev", "libjansson-dev",
                "libsystemd-dev", "dh-sequence-installsysusers"):
        assert dep in control, dep
    assert (ROOT / "debian/copyright").read_text().startswith(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
    assert (ROOT / "debian/source/format").read_text().strip() == "3.0 (native)"
    assert os.access(ROOT / "debian/rules", os.X_OK)
    for script in ("tend.prerm", "tend.postrm"):
        text = (ROOT / "debian" / script).read_text()
        assert "#DEBHELPER#" in text, script
        assert run("sh", "-n", ROOT / "debian" / script).returncode == 0


def test_staged_package_tree_and_units(tend):
    root = tend.dir / "root"
    make("install", "DESTDIR=%s" % root, *rules_make_words())
    files = {"/" + str(p.relative_to(root)) + ("/" if p.is_dir() else "")
             for p in root.rglob("*")}
    missing = STAGED_FILES - files
    assert not missing, "not staged for the package: %s" % sorted(missing)

    # What it installs works: tendd runs, the packaged config is valid
    # and names the socket tend.socket makes, for the tend group.
    r = run(root / "usr/sbin/tendd", "--version")
    assert r.returncode == 0 and r.stdout.startswith("tendd "), r
    r = run(root / "usr/sbin/tendd", "--check", "-c",
            root / "etc/tend/tend.conf")
    assert r.returncode == 0, (r.stdout, r.stderr)
    conf = (root / "etc/tend/tend.conf").read_text()
    for line in ("socket = /run/tend/tend.sock", "socket_owner = root:tend",
                 "socket_mode = 0660"):
        assert "\n" + line + "\n" in conf, line
    assert (root / "usr/lib/sysusers.d/tend.conf").read_text() \
        .splitlines()[-1].split() == ["g", "tend", "-", "-"]

    units = root / "lib/systemd/system"
    svc = unit_settings(units / "tend.service")
    want = {"Type": ["notify"], "NotifyAccess": ["main"],
            "ExecStart": ["/usr/sbin/tendd -c /etc/tend/tend.conf"],
            "ExecReload": ["/usr/bin/tendctl -c /etc/tend/tend.conf reload"],
            "KillMode": ["process"],
            "ExecStopPost": ["/usr/libexec/tend/after-stop"],
            "Delegate": ["yes"], "Restart": ["on-failure"],
            "RuntimeDirectory": ["tend"], "RuntimeDirectoryPreserve": ["yes"]}
    bad = {k: svc.get(k) for k, v in want.items() if svc.get(k) != v}
    assert not bad, bad
    sock = unit_settings(units / "tend.socket")
    want = {"ListenStream": ["/run/tend/tend.sock"], "SocketGroup": ["tend"],
            "SocketMode": ["0660"], "Service": ["tend.service"]}
    bad = {k: sock.get(k) for k, v in want.items() if sock.get(k) != v}
    assert not bad, bad
    stop = root / "usr/libexec/tend/after-stop"
    assert os.access(stop, os.X_OK)
    assert run("sh", "-n", stop).returncode == 0

    # after-stop kills only after a clean stop, and only below a unit's
    # .control cgroup: anywhere else it says so and touches nothing.
    for result in ("signal", "watchdog", "core-dump", "exit-code", ""):
        r = run(stop, env={"PATH": os.environ["PATH"],
                           "SERVICE_RESULT": result})
        assert r.returncode == 0 and r.stdout + r.stderr == "", (result, r)
    r = run(stop, env={"PATH": os.environ["PATH"], "SERVICE_RESULT": "success"})
    assert r.returncode == 0 and "nothing killed" in r.stderr, r

    # systemd-analyze verify prints problems but exits 0 for most of them:
    # the test wants silence. The staged /usr is laid over the real one
    # (a read-only overlay in a private mount namespace), so ExecStart=,
    # ExecReload=, ExecStopPost= and Documentation= resolve as on an
    # installed system.
    r = run("unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount -t overlay overlay -o "lowerdir=$0/usr:/usr" /usr && '
            'exec systemd-analyze verify "$1" "$2"', root,
            units / "tend.service", units / "tend.socket")
    assert r.returncode == 0 and r.stdout + r.stderr == "", \
        (r.stdout, r.stderr)


def test_make_install_elsewhere(tend):
    """The default prefix: the units run that tendd, tendctl and
    after-stop; a changed config is kept."""
    local = tend.dir / "local"
    make("install", "DESTDIR=%s" % local)
    svc = unit_settings(local / "usr/local/lib/systemd/system/tend.service")
    assert svc["ExecStart"] == ["/usr/local/sbin/tendd -c /etc/tend/tend.conf"]
    assert svc["ExecReload"] == [
        "/usr/local/bin/tendctl -c /etc/tend/tend.conf reload"]
    assert svc["ExecStopPost"] == ["/usr/local/libexec/tend/after-stop"]
    for f in ("usr/local/libexec/tend/after-stop", "usr/local/bin/tendctl",
              "usr/local/lib/sysusers.d/tend.conf",
              "usr/local/share/man/man1/tendctl.1"):
        assert (local / f).exists(), f
    conf = local / "etc/tend/tend.conf"
    conf.write_text("[tend]\n; mine\n")
    make("install", "DESTDIR=%s" % local)
    assert conf.read_text() == "[tend]\n; mine\n"


def test_docker_example_config_is_valid():
    r = run(TENDD, "--check", "-c", ROOT / "packaging/docker/tend.conf")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "2 programs" in r.stdout
