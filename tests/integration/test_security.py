"""
Security (issue 8, part 4) where no other file proves it: symlinks and
hard links planted at the paths tendd writes (socket, lock file, pidfile,
log files, AUTO log files), user= giving exactly the user's uid, gid and
supplementary groups (read from /proc), no descriptor of tendd in a child
(read from /proc, with notify, followers, subscribers and many clients),
and names that cannot escape childlogdir. SO_PEERCRED and the socket's
modes under umask 0 are in test_socket_safety.py and test_control.py.
"""
import os
import socket
import stat
import subprocess

import pytest

from conftest import TENDD, alive, read_json_line, require, wait_for


def victim(tend, name="victim", text="precious\n"):
    """A file that must never be written through a planted link."""
    path = tend.dir / name
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def untouched(path, text="precious\n"):
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, \
        oct(st.st_mode)
    assert path.read_text() == text, path.read_text()[:200]


def start_fails(tend, what):
    """Runs tendd, which must refuse to start, naming WHAT."""
    p = tend.spawn_tendd()
    tend._extra.append(p)
    assert tend.wait_exit(proc=p, timeout=10) == 1
    assert what in tend.log(), tend.log()


# ------------------------------------------------------------- symlinks

@pytest.mark.parametrize("where", ["socket", "lock", "logfile"])
def test_a_link_at_the_socket_its_lock_or_the_log_is_never_followed(
        tend, where):
    v = victim(tend)
    dangling = tend.dir / "created-through-link"
    tend.write_config("", tend="logfile = %(here)s/own.log"
                      if where == "logfile" else "")
    path, refusal = {
        "socket": (tend.sock, "not a socket"),
        "lock": (tend.dir / (tend.sock.name + ".lock"), "cannot open "),
        "logfile": (tend.dir / "own.log", "cannot open logfile"),
    }[where]
    os.symlink(v, path)
    start_fails(tend, refusal)
    untouched(v)
    assert os.path.islink(path)
    # A dangling link must not create its target either.
    os.unlink(path)
    os.symlink(dangling, path)
    start_fails(tend, refusal)
    assert not os.path.lexists(dangling)


def test_pidfile_is_never_written_through_a_planted_link(tend):
    """tendd writes PIDFILE.new, then renames it over PIDFILE: a hard link
    or symlink planted at either name is replaced, never written into."""
    v1, v2 = victim(tend, "victim1"), victim(tend, "victim2")
    pidfile = tend.dir / "tendd.pid"
    os.link(v1, str(pidfile) + ".new")          # a hard link
    os.symlink(v2, pidfile)                     # a symlink
    tend.write_config("", tend="pidfile = %(here)s/tendd.pid")
    tend.start()
    untouched(v1)
    untouched(v2)
    assert not os.path.islink(pidfile)
    assert pidfile.read_text().strip() == str(tend.pid)


def shared_dir(tend):
    """A directory anyone may write to (like /tmp), where a link may be
    planted by someone else."""
    d = tend.dir / "shared"
    d.mkdir()
    os.chmod(d, 0o1777)
    os.chmod(tend.dir, 0o755)
    return d


def test_a_link_planted_at_a_log_file_in_a_shared_directory(tend):
    d = shared_dir(tend)
    v = victim(tend)
    out = d / "out.log"
    os.symlink(v, out)
    tend.write_config(f"""
        [program:talk]
        command = {tend.helper("spew", "--ticks", 0, "--every", 0.05)}
        startsecs = 0
        stdout_logfile = {out}
    """)
    tend.start()
    # Refused before the spawn, with the reason: FATAL, as a missing log
    # directory is.
    p = tend.wait_state("talk", "FATAL")
    assert "symbolic link in a directory others can write to" in \
        p["description"], p
    untouched(v)
    assert os.path.islink(out)
    # The same link in a directory only root writes to is followed (people
    # point logs at /proc/1/fd/1 in containers).
    own = tend.dir / "own"
    own.mkdir(mode=0o755)
    os.symlink(v, own / "out.log")
    tend.write_config(f"""
        [program:talk]
        command = {tend.helper("spew", "--ticks", 0, "--every", 0.05)}
        startsecs = 0
        stdout_logfile = {own}/out.log
    """)
    assert tend.request("reload")["ok"]
    tend.wait_state("talk", "RUNNING")
    wait_for(lambda: "tick" in v.read_text(), 5, what="a trusted link used")


def test_a_link_swapped_in_for_an_auto_log_file(tend):
    """An AUTO file in a shared childlogdir replaced by a link (then a
    reopen, as logrotate's postrotate does): tendd does not follow it."""
    d = shared_dir(tend)
    v = victim(tend)
    tend.write_config(f"""
        [program:talk]
        command = {tend.helper("spew", "--ticks", 0, "--every", 0.05)}
        startsecs = 0
    """, tend=f"childlogdir = {d}")
    tend.start()
    tend.wait_state("talk", "RUNNING")
    auto = wait_for(lambda: [f for f in d.iterdir()
                             if f.name.startswith("talk-stdout---")], 5)[0]
    wait_for(lambda: auto.stat().st_size > 0, 5, what="output in the file")
    auto.unlink()
    os.symlink(v, auto)
    rc, o, e = tend.ctl("reopen")
    wait_for(lambda: "symbolic link" in tend.log(), 5,
             what="tendd to refuse the link")
    wait_for(lambda: "tick 40" in tend.ctl("tail", "talk")[1], 5)
    untouched(v)


# ------------------------------------------------------- names and AUTO

def test_names_that_could_escape_childlogdir_are_refused(tend):
    require(TENDD, "make build/tendd")
    cases = {
        "[program:../../x]": "a program name must be non-empty, without "
                             "':', '/'",
        "[program:a b]": "a program name must be non-empty",
    }
    for section, want in cases.items():
        tend.conf.write_text("[tend]\nsocket = %(here)s/s.sock\n\n"
                             f"{section}\ncommand = /bin/true\n")
        r = subprocess.run([str(TENDD), "--check", "-c", str(tend.conf)],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 1 and want in r.stderr, (section, r.stderr)
    # A name that only an expansion makes dangerous is refused as well.
    tend.conf.write_text("[tend]\nsocket = %(here)s/s.sock\n\n[program:p]\n"
                         "command = /bin/true\nprocess_name = %(ENV_EVIL)s\n")
    r = subprocess.run([str(TENDD), "--check", "-c", str(tend.conf)],
                       capture_output=True, text=True, timeout=10,
                       env=dict(os.environ, EVIL="../../escape"))
    assert r.returncode == 1 and "not a valid process name" in r.stderr, \
        r.stderr


def test_auto_log_names_stay_in_childlogdir(tend):
    """Shell metacharacters in a name are only characters (no shell ever
    sees them), and an identifier with slashes cannot lead AUTO files out
    of childlogdir."""
    logs = tend.dir / "deep" / "logs"
    logs.mkdir(parents=True)
    name = "evil;$(touch${IFS}pwned)`id`|&*?<>'\"..\\"
    tend.write_config(f"""
        [program:{name}]
        command = {tend.helper("spew", "--ticks", 0, "--every", 0.1,
                               "--both")}
        startsecs = 0
        [program:..]
        command = {tend.helper("sleeper")}
        startsecs = 0
    """, tend="identifier = ../../x/../escaped")
    tend.conf.write_text(tend.conf.read_text().replace(
        "childlogdir = %(here)s/logs", "childlogdir = %s" % logs))
    tend.start()
    tend.wait_state(name, "RUNNING")
    tend.wait_state("..", "RUNNING")
    files = wait_for(lambda: len(list(logs.iterdir())) == 4 and
                     list(logs.iterdir()), 5, what="four AUTO files")
    for f in files:
        assert f.parent == logs and f.is_file(), f
    assert sum(f.name.startswith(name + "-stdout---") for f in files) == 1, \
        files
    wait_for(lambda: any(f.stat().st_size > 0 for f in files), 5)
    # Nothing anywhere else: no 'pwned', no 'escaped' file.
    found = [os.path.join(r, n) for r, ds, ns in os.walk(tend.dir)
             for n in ns + ds if "pwned" in n and "evil" not in n or
             n.startswith("escaped")]
    assert not found, found
    assert sorted(os.listdir(tend.dir / "deep")) == ["logs"]


# ------------------------------------------------------------- user=

def test_user_gets_exactly_its_uid_gid_and_groups(tend):
    """A user with two supplementary groups, in a private mount namespace
    (bind-mounted /etc/passwd and /etc/group: the machine is unchanged).
    /proc/PID/status of the child: all four uids and gids are the user's,
    the groups are exactly its groups, and no capability is left."""
    tend.write_config(f"""
        [program:dropped]
        command = {tend.public_helper("sleeper")}
        startsecs = 0
        user = tendtest
        directory = /
    """)
    tend.start(wrap=tend.users_namespace(
        passwd="tendtest:x:4242:4242::/nonexistent:/usr/sbin/nologin\n",
        group="tendtest:x:4242:\ntendextra:x:4243:tendtest\n"
              "tendmore:x:4244:root,tendtest\ntendnot:x:4245:root\n"))
    pid = tend.wait_state("dropped", "RUNNING")["pid"]
    tend.track(pid)
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.split()
    assert status["Uid"] == ["4242"] * 4, status["Uid"]
    assert status["Gid"] == ["4242"] * 4, status["Gid"]
    assert sorted(map(int, status["Groups"])) == [4242, 4243, 4244], \
        status["Groups"]
    for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(status[cap][0], 16) == 0, (cap, status[cap])
    env = open("/proc/%d/environ" % pid).read().split("\0")
    assert "USER=tendtest" in env and "LOGNAME=tendtest" in env, env


# ----------------------------------------------------------- descriptors

def child_fds(pid):
    """{fd: target} of PID, read from /proc by the test (not self-told)."""
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return out


def test_children_hold_no_descriptor_of_tendd(tend):
    """Spawned while tendd has its notify socket, a journal-less log file,
    a tail -f follower, an events subscriber and 50 client connections
    open: the child has 0, 1, 2 and nothing else; 0 is /dev/null, 1 and 2
    are its own pipes."""
    tend.write_config(f"""
        [program:notif]
        command = {tend.helper("notifier", "--ready-after", 0.1)}
        ready = notify
        [program:talk]
        command = {tend.helper("spew", "--ticks", 0, "--every", 0.1)}
        startsecs = 0
        [program:late]
        command = {tend.helper("sleeper")}
        startsecs = 0
        autostart = false
    """)
    tend.start()
    notif = tend.wait_state("notif", "RUNNING")["pid"]
    tend.wait_state("talk", "RUNNING")
    clients = [tend.connect() for _ in range(50)]
    try:
        sub = tend.connect()
        sub.sendall(b'{"id": 1, "cmd": "events"}\n')
        assert read_json_line(sub)["ok"]
        fol = tend.connect()
        fol.sendall(b'{"id": 2, "cmd": "tail", "name": "talk", '
                    b'"follow": true}\n')
        assert read_json_line(fol)["ok"]
        clients += [sub, fol]
        r = tend.request("start", names=["late"])
        assert r["ok"], r
        late = tend.proc_status("late")["pid"]
        tendd_fds = len(child_fds(tend.pid))
        assert tendd_fds > 55, "tendd has only %d descriptors" % tendd_fds
        for pid in (late, notif):
            fds = child_fds(pid)
            assert sorted(fds) == [0, 1, 2], (pid, fds)
            assert fds[0] == "/dev/null", fds
            assert fds[1].startswith("pipe:") and \
                fds[2].startswith("pipe:") and fds[1] != fds[2], fds
    finally:
        for s in clients:
            s.close()
    assert alive(late)
