"""The error and backoff loop of both runtimes' controllers.

An exception while handling one object (a job's reconcile pass, a dataset's
index check) is that object's alone: the runtime counts its failed passes in
a row (:class:`Failures`), tries it again after a doubling, capped delay
(:func:`~sedna.control.conditions.error_backoff`), and shows the error on the
object as a ``ReconcileError`` condition (:func:`error_status`); the next
good pass marks the condition over (``reconcile`` does, with ``clear_error``).
"""

from sedna.control.conditions import error_backoff, record_error
from sedna.control.status import check_status

__all__ = ("Failures", "error_status")


class Failures:
    """Failed passes in a row, per object key, and the delay before each next try."""

    def __init__(self, base=2.0, cap=300.0):
        self.base, self.cap = base, cap
        self._count = {}

    def failed(self, key):
        """One more failure of ``key``: ``(failures in a row, seconds before the next try)``."""
        n = self._count[key] = self._count.get(key, 0) + 1
        return n, error_backoff(n, self.base, self.cap)

    def succeeded(self, key):
        self._count.pop(key, None)

    def keep_only(self, keys):
        """Forget the objects not in ``keys`` (deleted)."""
        self._count = {k: n for k, n in self._count.items() if k in keys}

    def __len__(self):
        return len(self._count)


def error_status(kind, status, error, now, attempt, delay):
    """``status`` (a copy) with a ``ReconcileError`` condition saying what failed and when the
    next try is; an object whose status itself is invalid says so first (often the cause)."""
    message = str(error) if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
    invalid = check_status(kind, status)
    if invalid:
        message = ("its status is invalid: " + "; ".join(f"{p}: {m}" for p, m in invalid[:5])
                   + f" ({message})")
    return record_error(status, type(error).__name__, message, now, attempt, delay)
