"""Reading a worker's log: the last lines (:func:`tail_file`, never blocking on a
file that is not regular) and following it as it grows (:func:`follow_log`)."""

import os
import time

from sedna.control.files import open_regular

__all__ = ("tail_file", "follow_log")


def tail_file(path, lines, start=0, chunk=65536):
    try:  # never blocks on a FIFO planted in logs/
        with os.fdopen(open_regular(path), "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            begin = max(start if start <= size else 0, size - chunk)
            f.seek(begin)
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    if begin > start:  # a partial first line
        text = text.split("\n", 1)[1] if "\n" in text else text
    out = text.splitlines()
    return "\n".join(out[-lines:] if lines else [])


def follow_log(path, should_stop=None, poll_interval=0.2, from_start=True):
    """Yield the lines of ``path`` (without newline) as they are appended, like ``tail -f``.

    Waits for the file to appear; starts over when it shrinks (truncated or
    replaced).  Stops once ``should_stop()`` returns True (after yielding what
    is left, a last partial line included); without ``should_stop`` it never
    stops by itself.
    """
    pos = None
    buf = b""
    ino = None
    while True:
        stopping = bool(should_stop and should_stop())
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is not None:
            if pos is None:
                pos = 0 if from_start else st.st_size
            if st.st_size < pos or (ino is not None and st.st_ino != ino):
                pos, buf = 0, b""
            ino = st.st_ino
            if st.st_size > pos:
                with open(path, "rb") as f:
                    f.seek(pos)
                    data = f.read(st.st_size - pos)
                pos += len(data)
                buf += data
                *done, buf = buf.split(b"\n")
                for line in done:
                    yield line.decode("utf-8", "replace")
        if stopping:
            if buf:
                yield buf.decode("utf-8", "replace")
            return
        time.sleep(poll_interval)
