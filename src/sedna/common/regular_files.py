"""Opening a file someone less trusted may have replaced: a FIFO must not block
the reader, a device or a folder must not be read as data.

:func:`open_regular` opens without blocking (``O_NONBLOCK``) and keeps the file
only if ``fstat`` on the descriptor says it is a regular file; otherwise
:class:`~sedna.common.exceptions.NotRegularFile` names the path and what it is.
"""

import os
import stat

from sedna.common.exceptions import FileTooLarge, NotRegularFile

__all__ = ("describe_mode", "open_regular", "read_regular")


def describe_mode(mode):
    """What a ``st_mode`` is, in words: ``"a FIFO"``, ``"a folder"``..."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return words
    return "not a regular file"


def open_regular(path, follow_symlinks=True):
    """A read-only descriptor of ``path``, which must be a regular file.

    Opened with ``O_NONBLOCK`` (a FIFO without a writer does not block the
    caller) and ``O_CLOEXEC``; then ``fstat`` on the descriptor itself decides.
    Raises :class:`NotRegularFile` (the descriptor closed) for anything else,
    and the ``OSError`` of ``open`` (FileNotFoundError...) as is. The caller
    closes the descriptor.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
    except BaseException:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(f"{os.fsdecode(path)} is {describe_mode(mode)}, not a regular file: refusing to read it")
    return fd


def read_regular(path, limit, follow_symlinks=True):
    """The bytes of regular file ``path`` (:func:`open_regular`), at most ``limit`` of them:
    a longer file (a sparse one too) is :class:`FileTooLarge`, told by its size before
    anything is read."""
    fd = open_regular(path, follow_symlinks=follow_symlinks)
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        raw = f.read(limit + 1) if size <= limit else b""
    if size > limit or len(raw) > limit:
        raise FileTooLarge(f"{os.fsdecode(path)} is {max(size, len(raw))} bytes, over the {limit} it may have: "
                           "refusing to read it")
    return raw
