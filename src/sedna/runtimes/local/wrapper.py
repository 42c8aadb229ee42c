"""The wrapper every local worker runs under (``python -m sedna.runtimes.local.wrapper``).

It runs the worker's command as its child in the given folder, with the
address-space limit of ``--memory`` and, where the launcher passed them in
``_SEDNA_CONFINE``, confined by Landlock to its paths
(:mod:`sedna.runtimes.local.confinement`) and, where it passed ``_SEDNA_WORKER_USER``
(``uid:gid``), as that user; forwards the stop signals to it, writes
the child's exit code (``-N`` when killed by signal N) to the exit file
atomically when it ends, then kills whatever the child left in its session:
see :mod:`sedna.runtimes.local.workers` for the process layout.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from sedna.common import capabilities, landlock
from sedna.common.procs import kill_session

__all__ = ("main", "write_exit_file")

_FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                      signal.SIGUSR2)


def write_exit_file(path, code):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump({"exit_code": int(code), "finished_at": time.time()}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _before_exec(memory, confined, user=None):
    """What the child does between fork and exec (so that only it is limited and confined):
    the address-space limit, then every capability dropped (and, with ``user``, a ``(uid, gid)``,
    that user taken) and Landlock; None if nothing."""
    if not memory and confined is None and user is None:
        return None

    def setup():
        if memory:
            import resource

            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (memory if hard == resource.RLIM_INFINITY else min(memory, hard),
                                                    hard))
        if confined is not None or user is not None:  # root keeps CAP_SYS_PTRACE otherwise: /proc would
            capabilities.drop_all(*(user or (None, None)))  # open the server to it
        if confined is not None:
            landlock.restrict_self(confined["read"], confined["write"])
    return setup


def main(argv=None):
    parser = argparse.ArgumentParser(prog="sedna-worker-wrapper")
    parser.add_argument("--exit-file", required=True)
    parser.add_argument("--cwd", default=None)
    parser.add_argument("--memory", type=int, default=0)
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    cmd = ns.argv[1:] if ns.argv and ns.argv[0] == "--" else ns.argv
    if not cmd:
        parser.error("no command")

    env = dict(os.environ)
    confined = env.pop("_SEDNA_CONFINE", None)
    confined = json.loads(confined) if confined else None
    user = env.pop("_SEDNA_WORKER_USER", None)
    user = tuple(int(n) for n in user.split(":")) if user else None
    worker_pp = env.pop("_SEDNA_WORKER_PYTHONPATH", None)
    if worker_pp is not None:
        if not worker_pp:
            env.pop("PYTHONPATH", None)
        else:
            env["PYTHONPATH"] = worker_pp

    child = None
    pending = []

    def forward(signum, _frame):
        if child is None:
            pending.append(signum)
            return
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    for sig in _FORWARDED_SIGNALS:
        signal.signal(sig, forward)

    try:
        child = subprocess.Popen(cmd, cwd=ns.cwd, env=env, preexec_fn=_before_exec(ns.memory, confined, user))
    except (OSError, subprocess.SubprocessError) as e:  # SubprocessError: before_exec failed (Landlock refused)
        print(f"sedna: cannot start worker {cmd!r}: {e}", file=sys.stderr, flush=True)
        write_exit_file(ns.exit_file, 127)
        return 127
    for signum in pending:
        forward(signum, None)
    while True:
        try:
            code = child.wait()
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries for us
            continue
    write_exit_file(ns.exit_file, code)
    # As a container runtime does when the main process exits: nothing else of the worker survives.
    kill_session(os.getsid(0), exclude=(os.getpid(),))
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
