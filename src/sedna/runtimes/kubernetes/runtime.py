"""The :class:`~sedna.control.runtime.Runtime` protocol over a Kubernetes API server.

Objects live in the API server (the CRDs' status subresources), workers are
the Pods the operator made for a job; a worker's report is kept in its job's
``status.workerReports``, as the node agent keeps it. Calls are blocking
(each opens one API session): the server calls them from its thread pool,
never from its event loop. Workers report to their node's agent, so no
worker token is known here; nothing runs in this process, so ``shutdown``
stops no worker.
"""

import asyncio

from sedna.common.exceptions import Conflict, NotFound
from sedna.control.conditions import ts, utcnow
from sedna.control.reports import fit_errors, report_entry
from sedna.control.runtime import ReportRefused
from sedna.runtimes.kubernetes import pods
from sedna.runtimes.kubernetes.api import DATASETS, JOBS, PODS, Api
from sedna.runtimes.kubernetes.jobs import PRIVATE, REPORTS_KEY, STATE_KEY
from sedna.common.constants import DATASET, JOB

_RESOURCES = {DATASET: DATASETS, JOB: JOBS}


def _res(kind):
    try:
        return _RESOURCES[kind]
    except KeyError:
        raise NotFound(f"no kind {kind!r} here") from None


def _shown(obj, with_state):
    """An object as the server shows it: the operator's private status keys apart."""
    status = dict(obj.get("status") or {})
    state = status.get(STATE_KEY) or {}
    out = dict(obj, status={k: v for k, v in status.items() if k not in PRIVATE})
    if with_state:
        out["state"] = state
    return out


def _key(obj):
    return obj["metadata"].get("namespace") or "default", obj["metadata"]["name"]



def worker_row(pod, reports):
    """A job's Pod as a worker row of the protocol (``reports``: the job's ``workerReports``)."""
    obs = pods.observe(pod, reports.get(pod["metadata"]["name"]))
    meta, status = pod["metadata"], pod.get("status") or {}
    term = pods.failed_container(pod)[1] or {}
    finished = term.get("finishedAt") if obs.phase in ("Succeeded", "Failed") else None
    return {"namespace": meta.get("namespace") or "default", "name": meta["name"],
            "job": (meta.get("labels") or {}).get(pods.LABEL_JOB), "stage": obs.stage, "round": obs.round,
            "phase": obs.phase, "exit_code": obs.exit_code, "report": obs.report,
            "record": {"node": (pod.get("spec") or {}).get("nodeName"), "hostIP": status.get("hostIP")},
            "created": meta.get("creationTimestamp") or "", "finished": finished}


class KubernetesRuntime:
    """The protocol's methods over the API server of ``conn`` (:func:`~.api.connection`)."""

    def __init__(self, conn, token=None):
        self.conn = conn
        self.token = token

    def _run(self, call):
        async def go():
            async with Api(self.conn) as api:
                return await call(api)
        return asyncio.run(go())

    def get(self, kind, namespace, name, with_state=False):
        obj = self._run(lambda api: api.get(_res(kind), namespace, name))
        if obj is None:
            raise NotFound(f"{kind} {namespace}/{name} not found")
        return _shown(obj, with_state)

    def list(self, kind, namespace=None, with_state=False, limit=None, after=None):
        items = sorted(self._run(lambda api: api.list(_res(kind), namespace)), key=_key)
        items = [o for o in items if after is None or _key(o) > tuple(after)]
        return [_shown(o, with_state) for o in items[:limit or None]]

    def apply(self, manifest, dry_run=False, create_only=False):
        kind, meta = manifest["kind"], manifest["metadata"]
        ns, name = meta.get("namespace") or "default", meta["name"]
        body = {k: v for k, v in manifest.items() if k != "status"}

        async def go(api):
            old = await api.get(_res(kind), ns, name)
            if old is not None and create_only:
                raise Conflict(f"{kind} {ns}/{name} already exists")
            if old is None:
                return (body, "created") if dry_run else \
                    (await api.create(_res(kind), ns, body, exclusive=create_only), "created")
            if old.get("spec") == body.get("spec") and all(
                    (old["metadata"].get(k) or {}) == (meta.get(k) or {}) for k in ("labels", "annotations")):
                return old, "unchanged"
            if dry_run:
                return dict(old, spec=body.get("spec")), "configured"
            patch = {"spec": body.get("spec"), "metadata": {k: meta[k] for k in ("labels", "annotations") if k in meta}}
            return await api.patch(_res(kind), ns, name, patch), "configured"
        obj, verdict = self._run(go)
        return _shown(obj, False), verdict

    def delete(self, kind, namespace, name):
        self.get(kind, namespace, name)
        self._run(lambda api: api.delete(_res(kind), namespace, name))  # the operator's finalizer stops the Pods

    def update_status(self, kind, namespace, name, status, expect_version=None):
        body = {"status": status}
        if expect_version is not None:
            body["metadata"] = {"resourceVersion": str(expect_version)}
        self._run(lambda api: api.patch(_res(kind), namespace, name, body, sub="status"))

    def workers(self, namespace=None, job=None, limit=None, after=None):
        async def go(api):
            jobs = await api.list(JOBS, namespace)
            reports = {_key(j): (j.get("status") or {}).get(REPORTS_KEY) or {} for j in jobs}
            owned = [p for p in await api.list(PODS, namespace) if (p["metadata"].get("labels") or {}).get(pods.LABEL_JOB)]
            return [worker_row(p, reports.get((_key(p)[0], p["metadata"]["labels"][pods.LABEL_JOB]), {}))
                    for p in owned]
        rows = sorted((w for w in self._run(go) if job is None or w["job"] == job),
                      key=lambda w: (w["created"], w["namespace"], w["name"]))
        rows = [w for w in rows if after is None or (w["created"], w["namespace"], w["name"]) > tuple(after)]
        return rows[:limit or None]

    def worker(self, namespace, name):
        for w in self.workers(namespace):
            if w["name"] == name:
                return w
        raise NotFound(f"worker {namespace}/{name} not found")

    def worker_by_token(self, token):
        return None  # a worker reports to its node's agent, with the token of its own Secret

    def report(self, namespace, worker, body):
        w = self.worker(namespace, worker)
        try:
            job = self.get(JOB, namespace, w["job"])
        except NotFound:
            raise NotFound(f"the worker's job {namespace}/{w['job']} is gone") from None
        errors = fit_errors(body, job)
        if errors:
            raise ReportRefused("; ".join(errors))
        patch = {"status": {REPORTS_KEY: {worker: report_entry(body, ts(utcnow()))}}}
        self._run(lambda api: api.patch(JOBS, namespace, w["job"], patch, sub="status"))

    def worker_counts(self):
        counts = {}
        for w in self.workers():
            c = counts.setdefault((w["namespace"], w["job"], w["stage"]), [0, set()])
            c[0] += 1
            c[1].add(w["round"])
        return [{"namespace": k[0], "job": k[1], "stage": k[2], "workers": n, "rounds": len(r)}
                for k, (n, r) in sorted(counts.items())]

    def stage_durations(self, bounds):
        return []  # a Pod's run time is the kubelet's to report (kube-state-metrics)

    def on_reconcile(self, callback):
        pass  # the operator's own /metrics has its reconcile durations

    def shutdown(self, keep_workers=False):
        return []  # workers are Pods: they run on without this process
