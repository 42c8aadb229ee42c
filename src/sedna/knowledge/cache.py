"""Edge cache: keep the deployed knowledge base loaded and hot-swap it when it changes.

``current`` is one ``(KBVersion, obj)`` tuple replaced by a single attribute
assignment, so a reader that takes ``cache.current`` once sees a consistent
pair even while a swap happens.
"""

import os
import threading

from sedna.common.exceptions import DataFileNotFoundError, KnowledgeBaseError
from sedna.common.file_ops import FileOps
from sedna.common.log import sedna_logger
from sedna.knowledge.index import read_index

__all__ = ("EdgeKBCache",)

LOG = sedna_logger(__name__)
DEFAULT_POLL_SECONDS = 60.0


class EdgeKBCache:
    """Loads the index at ``index_url`` with ``loader(KBVersion) -> obj`` and keeps it fresh.

    ``poll_period``: seconds between checks of the polling thread; None reads
    ``MODEL_POLL_PERIOD_SECONDS`` when ``start()`` runs (default 60).
    ``on_swap(version, obj)`` is called after each swap made by ``check()``.
    """

    def __init__(self, index_url, loader, poll_period=None, on_swap=None):
        self.index_url = index_url
        self.loader = loader
        self.poll_period = poll_period
        self.on_swap = on_swap
        self.current = None  # (KBVersion, obj), swapped as a whole
        self._signature = None
        self._check_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    # --------------------------------------------------------------- loading
    def _file_signature(self):
        """(inode, mtime_ns, size) of a local index file, None for a remote one."""
        if FileOps.is_remote(self.index_url):
            return None
        try:
            st = os.stat(FileOps._local(self.index_url))
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def load(self):
        """Load the index now (synchronously) and return ``(version, obj)``."""
        with self._check_lock:
            signature = self._file_signature()
            version = read_index(self.index_url)
            pair = (version, self.loader(version))
            self.current = pair
            self._signature = signature
            return pair

    def check(self):
        """Swap to the version the index names now, if it changed; True when swapped.

        Cheap when nothing changed: a local index whose inode, mtime and size
        are unchanged is not re-read. A failing read or loader keeps the old
        version (logged) and returns False.
        """
        with self._check_lock:
            signature = self._file_signature()
            if self.current is not None and signature is not None \
                    and signature == self._signature:
                return False
            try:
                version = read_index(self.index_url)
            except (KnowledgeBaseError, DataFileNotFoundError, OSError) as err:
                LOG.warning("knowledge-base index %s unreadable, keeping the loaded one: %s",
                            self.index_url, err)
                return False
            old = self.current
            if old is not None and old[0].key == version.key:
                self._signature = signature
                return False
            return self._swap(version, signature)

    def _swap(self, version, signature):
        try:
            obj = self.loader(version)
        except Exception as err:  # any loader failure must keep the service on the old models
            LOG.error("loading knowledge-base version %s failed, keeping version %s: %s",
                      version.number, self.current[0].number if self.current else None, err)
            return False
        self.current = (version, obj)
        self._signature = signature
        LOG.info("knowledge base swapped to version %s", version.number)
        if self.on_swap is not None:
            try:
                self.on_swap(version, obj)
            except Exception as err:  # a callback bug must not undo the swap
                LOG.error("on_swap callback failed: %s", err)
        return True

    # --------------------------------------------------------------- polling
    def _period(self):
        if self.poll_period is not None:
            return float(self.poll_period)
        raw = os.environ.get("MODEL_POLL_PERIOD_SECONDS")
        try:
            return float(raw) if raw else DEFAULT_POLL_SECONDS
        except ValueError:
            LOG.warning("MODEL_POLL_PERIOD_SECONDS=%r is not a number; using %s",
                        raw, DEFAULT_POLL_SECONDS)
            return DEFAULT_POLL_SECONDS

    def start(self):
        """Start the daemon thread that calls ``check()`` every poll period."""
        if self._thread is not None and self._thread.is_alive():
            return self
        period = self._period()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(period,), daemon=True,
                                        name="sedna-kb-cache")
        self._thread.start()
        return self

    def _run(self, period):
        delay = 0 if self.current is None else period  # not loaded yet: try at once
        while not self._stop.wait(delay):
            delay = period
            try:
                self.check()
            except Exception as err:  # keep polling whatever one check did
                LOG.error("knowledge-base check failed: %s", err)

    def stop(self, timeout=None):
        """Stop the polling thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
