"""
AUTO log files of earlier runs (issue 20): as supervisord does at
start-up, tendd removes every file in childlogdir named like an AUTO log
of its identifier (backups included), and only those; `nocleanup = true`
keeps them. Without it a childlogdir grows by two files per program at
every restart of tendd.
"""
import os
import re

# Files an earlier run (or supervisord with the same identifier) left:
# supervisord's pattern, .+?---IDENT-\S+\.log..., anchored at the start.
OLD = [
    "job-stdout---tend-abc123.log",
    "job-stderr---tend-abc123.log",
    "job-stdout---tend-abc123.log.1",        # a rotated backup
    "gone-stdout---tend-Zz9_x0.log",         # a program no longer configured
    "web-stdout---tend-k2sm1lpa.log.2.gz",   # supervisord's: anything after .log
]
# Not AUTO files of this identifier: never touched.
KEEP = [
    "job-stdout---other-abc123.log",         # another identifier
    "job-stdout---tend-.log",                # nothing between IDENT- and .log
    "---tend-abc123.log",                    # nothing before ---
    "job-stdout---tend-abc 123.log",         # a blank before .log
    "job-stdout---tend-abc123.txt",
    "notes.log",
]


def auto_files(tend, name):
    return sorted(n for n in os.listdir(tend.path("logs"))
                  if re.fullmatch(re.escape(name) +
                                  r"-std(out|err)---tend-\w{6}\.log", n))


def run_once(tend):
    """Starts tendd, waits for the job to have run, shuts it down."""
    tend.start()
    tend.wait_state("job", "EXITED")
    rc, out, err = tend.ctl("shutdown")
    assert rc == 0, (rc, out, err)
    assert tend.wait_exit() == 0


def prepare(tend, extra=""):
    tend.write_config(f"""
        [program:job]
        command = {tend.helper("spew", "--ticks", "1", "--both")}
        daemon = false
        startsecs = 0
        autorestart = false
    """, tend=extra)
    logs = tend.dir / "logs"
    for n in OLD + KEEP:
        (logs / n).write_text("old\n")
    # A directory and a symlink named like AUTO logs are left alone.
    (logs / "dir-stdout---tend-abc123.log").mkdir()
    target = tend.dir / "target"
    target.write_text("t\n")
    (logs / "link-stdout---tend-abc123.log").symlink_to(target)
    return logs


def test_auto_logs_of_earlier_runs_removed_at_start(tend):
    logs = prepare(tend)
    run_once(tend)
    present = set(os.listdir(logs))
    assert not present & set(OLD), sorted(present & set(OLD))
    assert set(KEEP) <= present, sorted(set(KEEP) - present)
    assert (logs / "dir-stdout---tend-abc123.log").is_dir()
    assert (logs / "link-stdout---tend-abc123.log").is_symlink()
    assert (tend.dir / "target").read_text() == "t\n"
    first = auto_files(tend, "job")
    assert len(first) == 2, first
    assert "removed %d AUTO log files of earlier runs" % len(OLD) in \
        tend.log(), tend.log()

    # Restarted: the first run's two files go, two new ones come.
    run_once(tend)
    second = auto_files(tend, "job")
    assert len(second) == 2 and not set(first) & set(second), (first, second)
    assert set(KEEP) <= set(os.listdir(logs))


def test_nocleanup_keeps_them(tend):
    logs = prepare(tend, "nocleanup = true")
    run_once(tend)
    run_once(tend)
    present = set(os.listdir(logs))
    assert set(OLD + KEEP) <= present, sorted(set(OLD + KEEP) - present)
    new = set(auto_files(tend, "job")) - set(OLD)
    assert len(new) == 4, sorted(present)
    assert "AUTO log file" not in tend.log()


def test_nocleanup_in_supervisord_section(tend):
    """[supervisord] nocleanup = true, as a migrating user has it: read,
    not warned about as unsupported."""
    tend.write_config("""
        [supervisord]
        nocleanup = true
        childlogdir = %(here)s/logs
        [unix_http_server]
        file = %(here)s/tend.sock
        [program:job]
        command = /bin/true
        startsecs = 0
        autorestart = false
    """, header=False)
    (tend.dir / "logs").mkdir(exist_ok=True)
    old = tend.dir / "logs" / "job-stdout---supervisor-abc123.log"
    old.write_text("old\n")
    mine = tend.dir / "logs" / "job-stdout---tend-abc123.log"
    mine.write_text("old\n")
    run_once(tend)
    assert old.exists() and mine.exists()
    assert "not supported" not in tend.log(), tend.log()
