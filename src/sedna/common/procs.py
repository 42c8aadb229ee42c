"""What ``/proc`` says about a process: its start time and command line.

``sedna up`` records its own start time in ``server.json``; ``sedna down``
compares it with the process now holding that pid before it signals, so a
pid reused after a crash of the server is never signalled. Off Linux (no
``/proc``) the functions answer ``None`` (or nothing): the caller decides.
The local launcher uses the rest: a worker's process stat, the boot id, and
its session's members (to stop a worker with everything it forked).
"""

import os
import signal

__all__ = ("start_time", "cmdline", "proc_stat", "boot_id", "session_members", "kill_session")


def start_time(pid):
    """Field 22 of ``/proc/<pid>/stat`` (clock ticks after boot), or ``None``."""
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError, TypeError):
        return None


def cmdline(pid):
    """The arguments of process ``pid`` (a list), or ``None`` when unreadable."""
    try:
        with open(f"/proc/{int(pid)}/cmdline", "rb") as f:
            raw = f.read()
    except (OSError, ValueError, TypeError):
        return None
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def proc_stat(pid):
    """(state, pgrp, session, starttime) of a process from /proc, or None when it does not exist."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    rest = data[data.rfind(")") + 2:].split()
    # rest[0] is field 3 (state); starttime is field 22.
    try:
        return rest[0], int(rest[2]), int(rest[3]), int(rest[19])
    except (IndexError, ValueError):
        return None


def boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def session_members(sid, exclude=()):
    """Pids of the live (non-zombie) processes whose session id is ``sid``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        st = proc_stat(entry)
        if st and st[2] == sid and st[0] not in ("Z", "X"):
            out.append(int(entry))
    return out


def kill_session(sid, exclude=()):
    """SIGKILL every process of session ``sid`` (but ``exclude``), a few passes for late forks."""
    for _ in range(3):
        members = session_members(sid, exclude=exclude)
        if not members:
            break
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
