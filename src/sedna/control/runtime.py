"""The ``Runtime`` protocol: what the server and the dashboard use of a runtime.

Both runtimes implement it: the local one (:class:`sedna.runtimes.local.runtime.LocalRuntime`,
objects in a SQLite file, workers as processes) and the Kubernetes one
(:class:`sedna.runtimes.kubernetes.runtime.KubernetesRuntime`, objects in the API
server, workers as Pods). The server (:mod:`sedna.server`) builds its app around
any object with these methods, and never reaches into a runtime's store.

Objects are dicts shaped as Kubernetes objects (``metadata``, ``spec``,
``status``). A worker is a dict with ``namespace``, ``name``, ``job``, ``stage``,
``round``, ``phase``, ``exit_code``, ``report`` (its last report or None),
``record`` (what the runtime keeps of it: ``log``, the path of its log file where
there is one), ``created`` and ``finished``. Errors: a missing object is
:class:`~sedna.common.exceptions.NotFound`, a stale write
:class:`~sedna.common.exceptions.Conflict`, a refused report
:class:`ReportRefused`.
"""

from typing import Iterable, List, Optional, Protocol, Tuple, runtime_checkable

from sedna.common.exceptions import ReportRefused, SednaError  # noqa: F401 - some re-exported

__all__ = ("Runtime", "ReportRefused")


@runtime_checkable
class Runtime(Protocol):
    """What the server and the dashboard need of a runtime."""

    #: The admin bearer token of this control plane (None where the runtime has none).
    token: Optional[str]

    def get(self, kind: str, namespace: str, name: str, with_state: bool = False) -> dict:
        """One object (``with_state``: with the controller's private ``state``)."""

    def list(self, kind: str, namespace: Optional[str] = None, with_state: bool = False,
             limit: Optional[int] = None, after: Optional[Tuple[str, str]] = None) -> List[dict]:
        """Objects of ``kind`` by (namespace, name); ``limit``/``after`` page through them."""

    def apply(self, manifest: dict, dry_run: bool = False, create_only: bool = False) -> Tuple[dict, str]:
        """Create or update (``created``/``configured``/``unchanged``); the controller looks soon.
        ``create_only``: an object of that name that exists already is a Conflict, decided in
        the same step as the write (of concurrent creates of one name, one succeeds)."""

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete an object (a job stops its workers first)."""

    def update_status(self, kind: str, namespace: str, name: str, status: dict,
                      expect_version: Optional[str] = None) -> None:
        """Replace an object's status (``expect_version``: refused as a Conflict when stale)."""

    def workers(self, namespace: Optional[str] = None, job: Optional[str] = None, limit: Optional[int] = None,
                after: Optional[tuple] = None) -> List[dict]:
        """Workers by (created, namespace, name); ``limit``/``after`` page through them."""

    def worker(self, namespace: str, name: str) -> dict:
        """One worker."""

    def worker_by_token(self, token: str) -> Optional[Tuple[str, str]]:
        """``(namespace, name)`` of the worker whose own token ``token`` is, or None."""

    def report(self, namespace: str, worker: str, body: dict) -> None:
        """Accept a worker's report (already checked by :func:`sedna.control.reports.report_errors`);
        NotFound for an unknown worker or a job gone, ReportRefused for a report that does not fit."""

    def worker_counts(self) -> Iterable[dict]:
        """Per (namespace, job, stage): ``workers`` started and distinct ``rounds`` (for /metrics)."""

    def stage_durations(self, bounds) -> Iterable[dict]:
        """Per stage: ``count``, ``seconds`` and ``le`` of the ended train/eval workers (for /metrics)."""

    def on_reconcile(self, callback) -> None:
        """Call ``callback(seconds)`` after each job reconcile this process makes (none: never called)."""

    def shutdown(self, keep_workers: bool = False) -> List[str]:
        """Stop the control plane (``sedna down``); the names of the workers stopped."""
