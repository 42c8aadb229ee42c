"""What ``/proc`` says about a process: its start time and command line.

``sedna up`` records its own start time in ``server.json``; ``sedna down``
compares it with the process now holding that pid before it signals, so a
pid reused after a crash of the server is never signalled. Off Linux (no
``/proc``) both functions answer ``None``: the caller decides.
"""

__all__ = ("start_time", "cmdline")


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
