"""``sedna operator``: the kopf operator of the Kubernetes runtime.

One kopf daemon per LifelongLearningJob runs :class:`JobReconciler` passes:
after each pass it sleeps for the delay ``reconcile`` asked for, or until
something about the job changes (the job itself — e.g. a report the node
agent wrote —, one of its Pods, its Dataset's sample count). A pass decides
first from the watch cache (kopf indices of jobs, Datasets and the jobs'
Pods, :mod:`sedna.runtimes.kubernetes.cache`): a waiting job's periodic check
makes no API call; a pass that must write reads the API afresh and writes
from that (:mod:`sedna.runtimes.kubernetes.jobs`). Deleting a job runs
the finalizer handler, which removes its Pods and token Secrets (on a real
cluster ownerReferences would too; the finalizer does not wait for the
garbage collector). A restarted operator gets a daemon per existing job and
carries on from the job's status.

``run_operator(args)`` is what ``sedna operator`` calls; ``python -m
sedna.runtimes.kubernetes.operator --server URL`` runs it without the CLI.
"""

import argparse
import asyncio
import logging
import os
import time

import kopf

from sedna.common import constants
from sedna.common.constants import GROUP, VERSION
from sedna.common.log import LOGGER
from sedna.control.conditions import utcnow
from sedna.control.reconcile import Settings
from sedna.control.retry import Failures, error_status
from sedna.runtimes.kubernetes import add_api_flags, add_metrics_flags, setup_logging
from sedna.runtimes.kubernetes import metrics as op_metrics
from sedna.runtimes.kubernetes.api import JOBS, Api, connection
from sedna.runtimes.kubernetes.cache import WatchCache, register_indices
from sedna.runtimes.kubernetes.jobs import PRIVATE, JobReconciler
from sedna.runtimes.kubernetes.pods import JOB_KIND, LABEL_JOB

LOG = LOGGER.getChild("operator")
MIN_PERIOD = 0.2  # seconds between two passes on one job, however many events come


class Operator:
    """The reconciler plus the wake-up events of the job daemons."""

    def __init__(self, conn, settings=None, lc_server=None):
        self.conn = conn
        self.api = Api(conn)
        self.jobs = JobReconciler(self.api, settings, lc_server)
        self._wake = {}  # (namespace, job) -> asyncio.Event
        self.metrics = op_metrics.OperatorMetrics(lambda: self.jobs.cache)
        self.metrics_endpoint = None  # (token, host, port) when /metrics is served
        self._metrics_runner = None

    def wake(self, namespace, name):
        ev = self._wake.get((namespace, name))
        if ev is not None:
            ev.set()

    def wake_dataset(self, namespace, dataset):
        for (ns, job), ds in list(self.jobs.datasets.items()):
            if ns == namespace and ds == dataset:
                self.wake(ns, job)

    async def follow(self, namespace, name, stopped):
        """The daemon's body: reconcile until the job is gone or the operator stops."""
        ev = self._wake.setdefault((namespace, name), asyncio.Event())
        failures, key = Failures(0.5, 30.0), (namespace, name)
        try:
            while not stopped:
                ev.clear()
                t0 = time.perf_counter()
                try:
                    delay = await self.jobs.reconcile(namespace, name)
                    failures.succeeded(key)
                    self.metrics.observe(time.perf_counter() - t0)
                except Exception as e:  # noqa: BLE001 - a failed pass (409 on a stale write...) is redone
                    self.metrics.observe(time.perf_counter() - t0, failed=True)
                    n, delay = failures.failed(key)
                    LOG.warning("job %s/%s: pass failed (%s: %s); again in %gs", namespace, name,
                                type(e).__name__, e, delay, exc_info=n == 1)
                    if n > 1:  # a lone 409 is routine; a repeated failure is shown on the job
                        await self._record_error(namespace, name, e, n, delay)
                if delay is None:
                    return
                await asyncio.sleep(MIN_PERIOD)
                await _wait_any(ev, stopped, max(0.0, delay - MIN_PERIOD))
        finally:
            self._wake.pop((namespace, name), None)
            self.jobs.datasets.pop((namespace, name), None)


    async def _record_error(self, namespace, name, error, attempt, delay):
        """A ``ReconcileError`` condition on the job (cleared by the next good pass)."""
        try:
            job = await self.api.get(JOBS, namespace, name)
            if job is None:
                return
            public = {k: v for k, v in (job.get("status") or {}).items() if k not in PRIVATE}
            status = error_status(JOB_KIND, public, error, utcnow(), attempt, delay)
            await self.api.patch(JOBS, namespace, name, {"status": {"conditions": status["conditions"]}},
                                 sub="status")
        except Exception:  # noqa: BLE001 - the API itself away: logged, retried with the job
            LOG.exception("job %s/%s: cannot record the error", namespace, name)


async def _wait_any(ev, stopped, timeout):
    tasks = [asyncio.ensure_future(ev.wait()), asyncio.ensure_future(stopped.wait())]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


def build_registry(op):
    """The kopf handlers of ``op`` in their own registry (nothing registered at import)."""
    reg = kopf.OperatorRegistry()

    @kopf.on.startup(registry=reg)
    async def startup(settings: kopf.OperatorSettings, **_):
        settings.peering.standalone = True
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=GROUP)
        settings.persistence.finalizer = "sedna.io/finalizer"
        settings.posting.level = logging.WARNING
        settings.watching.server_timeout = 60
        await op.api.__aenter__()
        if op.metrics_endpoint:
            op._metrics_runner = await op_metrics.serve(op.metrics, *op.metrics_endpoint)

    @kopf.on.cleanup(registry=reg)
    async def cleanup(**_):
        if op._metrics_runner is not None:
            await op._metrics_runner.cleanup()
        await op.api.__aexit__(None, None, None)

    @kopf.on.login(registry=reg)
    def login(**_):
        c = op.conn
        return kopf.ConnectionInfo(server=c.server, token=c.token, ca_path=c.ca_path, insecure=c.insecure,
                                   certificate_path=c.cert_path, private_key_path=c.key_path)

    register_indices(reg)

    @kopf.daemon(GROUP, VERSION, constants.JOBS, registry=reg, cancellation_timeout=5.0)
    async def job_daemon(namespace, name, stopped, **kwargs):
        if op.jobs.cache is None:  # kopf's indices, the same objects for every handler
            op.jobs.cache = WatchCache.from_kwargs(kwargs)
        await op.follow(namespace, name, stopped)

    @kopf.on.delete(GROUP, VERSION, constants.JOBS, registry=reg)
    async def job_deleted(namespace, name, **_):
        n = await op.jobs.delete_workers(namespace, name)
        LOG.info("job %s/%s deleted: %d Pods removed", namespace, name, n)

    @kopf.on.event(GROUP, VERSION, constants.JOBS, registry=reg)
    def job_event(namespace, name, **_):
        op.wake(namespace, name)

    @kopf.on.event("v1", "pods", labels={LABEL_JOB: kopf.PRESENT}, registry=reg)
    def pod_event(namespace, labels, **_):
        op.wake(namespace, labels[LABEL_JOB])

    @kopf.on.event(GROUP, VERSION, constants.DATASETS, registry=reg)
    def dataset_event(namespace, name, **_):
        op.wake_dataset(namespace, name)

    return reg


def run_operator(args):
    """``sedna operator``: args ``namespace`` (None: all), ``kubeconfig``, ``server``
    (and optionally ``lc_server``: the report endpoint workers get instead of their node's agent)."""
    conn = connection(getattr(args, "server", None), getattr(args, "kubeconfig", None))
    op = Operator(conn, Settings(), getattr(args, "lc_server", None) or os.environ.get("SEDNA_LC_SERVER"))
    op.metrics_endpoint = metrics_endpoint(args)
    namespace = getattr(args, "namespace", None)
    reg = build_registry(op)
    LOG.info("sedna operator on %s (%s)", conn.server, f"namespace {namespace}" if namespace else "all namespaces")
    kopf.run(registry=reg, standalone=True, clusterwide=namespace is None,
             namespaces=[namespace] if namespace else [])
    return 0


def metrics_endpoint(args):
    """``(token, host, port)`` of ``--metrics-port``, or None; a port without a token is
    refused (the families name jobs and their metrics: no anonymous scrapes)."""
    port = getattr(args, "metrics_port", None)
    if port is None:
        return None
    if not 0 < port < 65536:
        raise SystemExit(f"sedna operator: --metrics-port {port}: not a port number")
    try:
        token = op_metrics.read_token(getattr(args, "metrics_token_file", None), os.environ.get("SEDNA_METRICS_TOKEN"))
    except (OSError, ValueError) as e:
        raise SystemExit(f"sedna operator: --metrics-token-file: {e}") from None
    if token is None:
        raise SystemExit("sedna operator: --metrics-port needs a token: set $SEDNA_METRICS_TOKEN or "
                         "--metrics-token-file (scrapes send it as 'Authorization: Bearer TOKEN')")
    return token, getattr(args, "metrics_address", "0.0.0.0"), port


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sedna.runtimes.kubernetes.operator")
    p.add_argument("--namespace", default=None)
    add_api_flags(p)
    add_metrics_flags(p)
    p.add_argument("--lc-server", dest="lc_server", default=None)
    args = p.parse_args(argv)
    setup_logging()
    return run_operator(args)


if __name__ == "__main__":
    raise SystemExit(main())
