"""Atomic local writes for :class:`~sedna.common.file_ops.FileOps` and the
knowledge base: data goes to a hidden temporary sibling, is flushed and
fsynced, then ``os.replace``-d over the target, so a reader sees the old file
or the new one, never half of it."""

import os
import uuid

__all__ = ("AtomicWriter", "fsync_dir", "temp_name", "write_private")


def fsync_dir(path):
    """Best-effort fsync of a directory so a rename inside it is durable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_name(path):
    """A hidden temporary sibling name for ``path``."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.tmp-{uuid.uuid4().hex[:12]}")


def write_private(path, data):
    """Publish ``data`` (bytes) at ``path`` by rename, readable by its owner only
    (0600). No fsync: for files a reader may miss after a crash but must never
    see half-written (previews, thumbnails)."""
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class AtomicWriter:
    """A file object that becomes ``path`` only when closed without error.

    Used as a context manager, an exception inside the block discards the
    temporary file. Closing commits (fsync + ``os.replace``); ``abort()``
    discards. Garbage-collected without close, it discards too.
    """

    def __init__(self, path, mode="w"):
        if any(c in mode for c in "ra+"):
            raise ValueError(f"atomic writer needs a write mode, got {mode!r}")
        self.path = os.path.abspath(path)
        folder = os.path.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        self._tmp = temp_name(self.path)
        binary = "b" in mode
        self._f = open(self._tmp, "wb" if binary else "w",
                       **({} if binary else {"encoding": "utf-8"}))
        self._done = False

    def __getattr__(self, name):
        if name.startswith("_"):  # only reached before __init__ finished
            raise AttributeError(name)
        return getattr(self._f, name)

    def write(self, data):
        return self._f.write(data)

    def close(self):
        """Flush, fsync and move the temporary file over the target."""
        if self._done:
            return
        self._done = True
        try:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self._discard()
            raise
        fsync_dir(os.path.dirname(self.path))

    def abort(self):
        """Drop everything written so far; the target is left untouched."""
        if not self._done:
            self._done = True
            self._discard()

    def _discard(self):
        try:
            self._f.close()
        finally:
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass

    @property
    def closed(self):
        return self._done

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    def __del__(self):
        try:
            self.abort()
        except Exception:  # interpreter shutdown: nothing sensible left to do
            pass
