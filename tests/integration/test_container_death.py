"""
What an abrupt death of tendd leaves when it is a container's PID 1
(issue 20, docs/behaviour.md "When tendd dies"): nothing. When PID 1 of a
PID namespace dies, the kernel kills every other process in it, so a job
(daemon = false), which runs on after a SIGKILLed tendd started by hand
(test_shutdown.py::test_sigkill_of_tendd_kills_services_not_jobs) and
under the packaged systemd unit (make test-systemd), dies too.
"""
import os
import signal

from conftest import descendants, exists, wait_for
from test_container import nspid, start_as_pid1


def test_sigkill_of_pid1_ends_jobs_too(tend):
    tend.write_config(f"""
        [program:svc]
        command = {tend.helper("sleeper")}
        startsecs = 0
        [program:job]
        command = {tend.helper("sleeper")}
        daemon = false
        startsecs = 0
    """)
    init = start_as_pid1(tend)
    tend.wait_state("svc", "RUNNING")
    job = tend.wait_state("job", "RUNNING")
    # tendd reports pids as its namespace sees them; find the host's.
    host = wait_for(lambda: next((p for p in descendants(init)
                                  if nspid(p) == job["pid"]), None), 5,
                    what="the job in the host's /proc")
    tend.track(host)
    os.kill(init, signal.SIGKILL)
    wait_for(lambda: not exists(host), 5,
             what="the job to end with its PID namespace")
    # The namespace is gone: unshare, which ran tendd, has exited.
    tend.wait_exit(timeout=5)
