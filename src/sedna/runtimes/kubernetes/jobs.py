"""One reconcile of one LifelongLearningJob against the API server.

Read (the job, its Dataset, the Pods it owns), decide with the pure
:func:`sedna.control.reconcile.reconcile` (the local runtime's). A pass first
decides from the operator's watch cache; when that decision writes nothing
(a waiting job's periodic check) the pass ends without an API call, else the
objects are read again from the API and the pass decides from those, saves
the decision in the job's status through ``/status`` with the resourceVersion
read (a real server refuses a stale write with 409: the pass is simply
redone), then carries out the actions. Every action can be repeated safely:
Pods and Secrets have fixed names (a second create answers 409 and the
existing one is kept), round files are rewritten identically. So an
operator killed anywhere restarts from the API objects alone and never
creates a Pod twice.

What the job's status holds besides the contract's fields:
``status.sednaState`` (the controller's private state: round, attempt,
sample pool) and ``status.workerReports`` (``{worker: report}``, written by
the node agent).
"""

import copy
import os
from dataclasses import dataclass
from typing import Optional

from sedna.common.log import LOGGER
from sedna.control import pool
from sedna.control.conditions import index_problem, wallclock
from sedna.control.contract import unseen_count
from sedna.control.deploy import publish_deployment
from sedna.control.reconcile import Action, ActionKind, DatasetObs, Settings, WorkerObs, reconcile
from sedna.runtimes.kubernetes import pods, samples
from sedna.runtimes.kubernetes.api import JOBS, PODS, SECRETS, ApiError
from sedna.runtimes.kubernetes.cache import ApiSource

LOG = LOGGER.getChild("operator")
STATE_KEY = "sednaState"
AWAITING_KEY = "awaiting_files"  # in the private state: {worker: {stage, round, env}} held for their round files
FILES_RECHECK = 1.0  # seconds between two looks for the round files a held train Pod needs
REPORTS_KEY = "workerReports"
PRIVATE = (STATE_KEY, REPORTS_KEY)


def _dataset_obs(job, ds, state):
    if ds is None or ds.get("metadata", {}).get("deletionTimestamp"):
        return DatasetObs(exists=False)
    n = int((ds.get("status") or {}).get("numberOfSamples") or 0)
    pt, pe = pool.pending(state, n, pool.train_prob(job))
    return DatasetObs(exists=True, url=ds["spec"].get("url", ""), format=str(ds["spec"].get("format") or "txt").lower(),
                      number_of_samples=n, pending_train=pt, pending_eval=pe, problem=index_problem(ds.get("status")))


def _unseen(job):
    """The unseen count, where the inference worker's folder can be read from here (None: not known)."""
    try:
        return unseen_count(job)
    except OSError:
        return None


def _only_check_moved(patch):
    """Whether status ``patch`` moves the trigger's last check time alone."""
    return bool(patch) and set(patch) == {STATE_KEY} and set(patch[STATE_KEY] or ()) == {"last_check"}


def _merge_diff(old, new):
    """An RFC 7386 merge patch turning dict ``old`` into ``new``: changed keys, nested dicts as
    patches of their own, keys gone as null (a key missing and a null value are the same)."""
    patch = {}
    for k, v in new.items():
        o = old.get(k)
        if isinstance(v, dict) and isinstance(o, dict):
            sub = _merge_diff(o, v)
            if sub:
                patch[k] = sub
        elif o != v:
            patch[k] = v
    patch.update({k: None for k in old if k not in new})
    return patch


def _status_patch(old, new):
    """A merge patch turning status ``old`` into ``new``; None if equal. Private keys the pass does
    not produce (``workerReports``, the agent's) are left alone."""
    patch = _merge_diff(old, new)
    for k in PRIVATE:
        if k not in new:
            patch.pop(k, None)
    return patch or None


def _files_ready(job, state, stage, r):
    """Whether a ``stage`` worker of round ``r`` may start: a train worker needs the round's
    files (written by this operator, or by the Dataset's node agent when only it can read the
    index); a Pod started before would fail on a missing file."""
    if stage != "train":
        return True
    out = job["spec"]["outputDir"]
    return samples.round_written(out if "://" in out else os.path.abspath(out), state.get("data_format") or "txt", r)


def _now_ready(job, state, actions):
    """Start actions for the held workers (``AWAITING_KEY``) whose round files exist now."""
    asked = {a.name for a in actions if a.kind == ActionKind.START_WORKER}
    return [Action(kind=ActionKind.START_WORKER, name=w, stage=h["stage"], round=h["round"], env=h["env"])
            for w, h in (state.get(AWAITING_KEY) or {}).items()
            if w == state.get("worker") and w not in asked and _files_ready(job, state, h["stage"], h["round"])]


@dataclass
class _Plan:
    """One pass's decision: ``patch`` for the job's status (None: nothing), ``result.actions``."""
    ds: Optional[dict]
    result: object  # reconcile's Result (status, requeue_after)
    actions: list   # reconcile's actions, and the held Pods whose round files have come since
    new_state: dict
    patch: Optional[dict]
    checked: bool  # the trigger was checked, and only that moved in the state (kept in memory)

    @property
    def quiet(self):
        """Nothing to write and nothing to do (a waiting job's periodic check)."""
        return not self.patch and not self.actions


class JobReconciler:
    """Reconciles jobs through ``api`` (:class:`~sedna.runtimes.kubernetes.api.Api`)."""

    def __init__(self, api, settings=None, lc_server=None, clock=wallclock):
        self.api = api
        self.settings = settings or Settings()
        self.lc_server = lc_server
        self.clock = clock
        self.datasets = {}   # (namespace, job) -> the Dataset it names (to wake it on dataset events)
        self.cache = None    # a WatchCache once the operator has its watches (see cache.py)
        self.stats = {"reconciles": 0, "cached": 0, "pods_created": 0}
        self._tails = {}     # failed Pod -> its log tail
        self._checks = {}    # (namespace, job) -> the last trigger check, when only that changed

    async def observe(self, source, job):
        """The job's Dataset, its workers and its private state, read from ``source``."""
        meta, spec = job["metadata"], job["spec"]
        ns, name = meta["namespace"], meta["name"]
        ds_name = (spec.get("dataset") or {}).get("name")
        self.datasets[(ns, name)] = ds_name
        ds = await source.dataset(ns, ds_name) if ds_name else None
        owned = await source.pods(ns, name)
        status = job.get("status") or {}
        reports = status.get(REPORTS_KEY) or {}
        state = copy.deepcopy(status.get(STATE_KEY) or {})
        workers = [pods.observe(p, reports.get(p["metadata"]["name"])) for p in owned
                   if not p["metadata"].get("deletionTimestamp")]
        by_name = {p["metadata"]["name"]: p for p in owned}
        for w in workers:
            if w.phase == "Failed" and w.name == state.get("worker"):
                container = pods.failed_container(by_name[w.name])[0]
                w.log_tail = await source.log_tail(ns, w.name, container) or w.log_tail
        seen = {w.name for w in workers}
        for wname, why in (state.get("start_errors") or {}).items():
            if wname not in seen:  # a Pod the API refused: fails like one that exited
                workers.append(WorkerObs(name=wname, stage=why["stage"], round=why["round"], phase="Failed",
                                         error=why["error"]))
        for wname, held in (state.get(AWAITING_KEY) or {}).items():
            if wname not in seen:  # a Pod held back until its round's files exist: pending
                workers.append(WorkerObs(name=wname, stage=held["stage"], round=held["round"], phase="Pending"))
        return ds, workers, state

    async def _log_tail(self, ns, pod_name, container=None, lines=50):
        """The last lines of a failed Pod's log, of ``container`` where named (once per Pod;
        "" where the API has none)."""
        key = (pod_name, container)
        if key not in self._tails:
            try:
                self._tails[key] = await self.api.log(ns, pod_name, lines, container=container) or ""
            except ApiError:
                self._tails[key] = ""
            if len(self._tails) > 1000:
                self._tails.pop(next(iter(self._tails)))
        return self._tails[key]

    async def reconcile(self, namespace, name):
        """One pass; seconds until the job wants to be looked at again (None: it is gone).

        Decided first from the watch cache (when there is one): a pass with nothing to write —
        a waiting job's periodic check — ends there without an API call. Any pass that must
        write decides again from the API's objects and writes from those."""
        if self.cache is not None:
            job = await self.cache.job(namespace, name)
            if job is not None and not job["metadata"].get("deletionTimestamp"):
                plan = await self._plan(self.cache, job)
                if plan.quiet:
                    self.stats["cached"] += 1
                    self._remember_check(plan, namespace, name)
                    return plan.result.requeue_after
        job = await self.api.get(JOBS, namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return None
        self.stats["reconciles"] += 1
        plan = await self._plan(ApiSource(self.api, self._log_tail), job)
        self._remember_check(plan, namespace, name)
        return plan.result.requeue_after if plan.quiet else await self._write(job, plan)

    def _remember_check(self, plan, namespace, name):
        if plan.checked:
            self._checks[(namespace, name)] = plan.new_state.get("last_check")

    async def _plan(self, source, job):
        """What one pass would do to ``job``, its objects read from ``source``."""
        ds, workers, state = await self.observe(source, job)
        key = (job["metadata"]["namespace"], job["metadata"]["name"])
        if self._checks.get(key, "") > (state.get("last_check") or ""):
            state = dict(state, last_check=self._checks[key])
        status = job.get("status") or {}
        public = {k: v for k, v in status.items() if k not in PRIVATE}
        result = reconcile(dict(job, status=public, state=state), _dataset_obs(job, ds, state), workers,
                           self.clock(), self.settings, unseen_samples=_unseen(job))
        actions = list(result.actions) + _now_ready(job, result.state, result.actions)
        new_state = self._pool(result.state, actions, ds, job)
        new_status = dict(result.status, **{STATE_KEY: new_state})
        patch = _status_patch(status, new_status)
        checked = _only_check_moved(patch)
        if checked:
            # a waiting job's periodic check: kept in memory, not written (a write is an event that
            # wakes the job again; after a restart the first check simply comes at once)
            patch = None
        live = {w.name for w in workers} | {a.name for a in actions if a.kind == ActionKind.START_WORKER}
        gone = {k: None for k in (status.get(REPORTS_KEY) or {}) if k not in live}
        if gone:  # reports of Pods that are gone (bounded: one per live worker)
            patch = dict(patch or {}, **{REPORTS_KEY: gone})
        return _Plan(ds, result, actions, new_state, patch, checked)

    async def _write(self, job, plan):
        """Save ``plan``'s status (with the resourceVersion read) and carry out its actions."""
        namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        if plan.patch:
            body = {"status": plan.patch}
            if job["metadata"].get("resourceVersion"):
                body["metadata"] = {"resourceVersion": job["metadata"]["resourceVersion"]}
            await self.api.patch(JOBS, namespace, name, body, sub="status")
        new_state, actions = plan.new_state, plan.actions
        errors, held = await self.carry_out(job, plan.ds, new_state, actions)
        if errors or held:
            add = {"start_errors": errors, AWAITING_KEY: held}
            await self.api.patch(JOBS, namespace, name, {"status": {STATE_KEY: {k: v for k, v in add.items() if v}}},
                                 sub="status")  # merged into what the first patch wrote
            return 0.2 if errors else FILES_RECHECK
        return 0.2 if actions else plan.result.requeue_after

    def _pool(self, state, actions, ds, job):
        n = int(((ds or {}).get("status") or {}).get("numberOfSamples") or 0)
        state = pool.apply_actions(dict(state), actions, n, pool.train_prob(job))
        live = {a.name for a in actions if a.kind == ActionKind.START_WORKER}
        errs = {k: v for k, v in (state.get("start_errors") or {}).items()
                if k not in live and v.get("round", 0) >= state.get("round", 0)}
        state["start_errors"] = errs
        held = {k: v for k, v in (state.get(AWAITING_KEY) or {}).items() if k not in live and k == state.get("worker")}
        if held:
            state[AWAITING_KEY] = held
        else:  # absent rather than empty: the jobs that never wait for files keep their state as it was
            state.pop(AWAITING_KEY, None)
        return state

    async def carry_out(self, job, ds, state, actions):
        """Do ``actions``; returns ``{worker: {error, stage, round}}`` for workers that could not start,
        and ``{worker: {stage, round, env}}`` for train workers held until their round's files exist."""
        errors, held = {}, {}
        for a in actions:
            try:
                if a.kind == ActionKind.START_WORKER and a.name in errors:
                    continue
                if a.kind == ActionKind.START_WORKER and not _files_ready(job, state, a.stage, a.round):
                    if a.name not in (state.get(AWAITING_KEY) or {}):
                        LOG.info("job %s/%s: %s waits for round %d's files", job["metadata"]["namespace"],
                                 job["metadata"]["name"], a.name, a.round)
                    held[a.name] = {"stage": a.stage, "round": a.round, "env": dict(a.env)}
                    continue
                await self._execute(job, ds, state, a)
            except Exception as e:  # noqa: BLE001 - recorded; reconcile decides (retry, then Failed)
                LOG.error("job %s/%s: %s %s failed: %s", job["metadata"]["namespace"], job["metadata"]["name"],
                          a.kind, a.name or a.round, e)
                if a.kind in (ActionKind.START_WORKER, ActionKind.PUBLISH_DEPLOYMENT):
                    errors[a.name] = {"error": str(e)[:500], "stage": a.stage or "deploy", "round": a.round}
        return errors, held

    async def _execute(self, job, ds, state, a):
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        if a.kind == ActionKind.START_ROUND:
            self._write_round(job, ds, state, a.round)
        elif a.kind == ActionKind.START_WORKER:
            await self.api.create(SECRETS, ns, pods.token_secret(job, a.name, a.stage, a.round))
            created = await self.api.create(PODS, ns, pods.pod(job, a.name, a.stage, a.round, a.env, self.lc_server))
            self.stats["pods_created"] += 1
            LOG.info("job %s/%s: %s Pod %s (round %d)", ns, name, a.stage, created["metadata"]["name"], a.round)
        elif a.kind == ActionKind.STOP_WORKER:
            await self.api.delete(PODS, ns, a.name)
            await self.api.delete(SECRETS, ns, pods.token_secret_name(a.name))
        elif a.kind == ActionKind.PUBLISH_DEPLOYMENT:
            publish_deployment(a.source, a.target, job["spec"]["outputDir"])

    def _write_round(self, job, ds, state, r):
        claim = (state.get("claims") or {}).get(str(r))
        if ds is None or not claim:
            return
        try:
            samples.write_round(job["spec"]["outputDir"], state.get("data_format") or "txt", ds, r, claim,
                                pool.train_prob(job))
        except (OSError, ValueError) as e:
            # the sample log is on the dataset's node only; the train worker reports what it cannot read
            LOG.warning("job %s: round %d files not written here: %s", job["metadata"]["name"], r, e)

    async def delete_workers(self, namespace, name):
        """The job is being deleted: remove its Pods and token Secrets (the finalizer's work)."""
        n = 0
        for res in (PODS, SECRETS):
            for obj in await self.api.list(res, namespace, labels={pods.LABEL_JOB: name}):
                try:
                    await self.api.delete(res, namespace, obj["metadata"]["name"])
                    n += res == PODS
                except ApiError as e:
                    LOG.warning("job %s/%s: cannot delete %s: %s", namespace, name, obj["metadata"]["name"], e)
        return n
