"""The local controller: watches datasets, observes workers, calls the pure
``reconcile`` for each job and carries out the actions it returns.

Crash safety: every decision is saved (SQLite transaction) before its effect
is carried out where the effect can be repeated safely (round files are
idempotent, a worker is recorded as intended before it is started), and a
restarted controller adopts the workers that are still running.

Isolation: each dataset and each job is handled on its own. An exception on
one becomes a ``ReconcileError`` condition on that object
(:mod:`sedna.control.conditions`), retried after a doubling, capped delay; the
other objects are handled in the same pass as if nothing happened. Files that
workers can replace (the index, unseen samples, the eval output) are opened
without blocking and only if regular (:mod:`sedna.control.files`), so no FIFO
can stop the controller thread.
"""

import threading
import time
from dataclasses import asdict, is_dataclass

from sedna.common.exceptions import NotFound, WorkerError
from sedna.common.log import LOGGER
from sedna.control import pool
from sedna.control.conditions import clear_error, index_problem, record_index_event, wallclock
from sedna.control.contract import TEMPLATE_KEY, unseen_count, worker_contract_env
from sedna.control.deploy import publish_deployment
from sedna.control.reconcile import ActionKind, DatasetObs, Settings, WorkerObs, reconcile
from sedna.control.rounds import IndexWatcher, RoundFiles, WatchState
from sedna.control.retry import Failures, error_status
from sedna.runtimes.local.store import now_ts
from sedna.runtimes.local.worker_records import WorkerRecord, WorkerSpec
from sedna.common.constants import DATASET, JOB

LOG = LOGGER.getChild("controller")


class Controller:
    """Runs the control loop of the local runtime (one thread)."""

    def __init__(self, store, launcher, lc_server, token, settings=None, clock=wallclock, min_period=0.2):
        self.store = store
        self.launcher = launcher
        self.lc_server = lc_server
        self.token = token
        self.settings = settings or Settings()
        self.clock = clock
        self.min_period = min_period
        self.watcher = IndexWatcher()
        self._wake = threading.Event()
        self._due = {}            # (namespace, job) -> monotonic time of the next reconcile
        self._dataset_due = {}    # (namespace, dataset) -> monotonic time of the next index check
        self._lock = threading.RLock()
        self._failures = Failures(self.settings.backoff_base, self.settings.backoff_max)  # by (kind, ns, name)
        self.stats = {"reconciles": 0, "index_checks": 0, "errors": 0}
        self.reported_at = {}     # (namespace, worker) -> when its last report came (UTC)
        self.reconcile_observers = []  # called with each job reconcile's seconds (/metrics)

    # ------------------------------------------------------------------- loop
    def wake(self, key=None):
        """Reconcile soon: a job (``(ns, name)``) or everything."""
        with self._lock:
            if key is None:
                self._due.clear()
            else:
                self._due.pop(key, None)
        self._wake.set()

    def run(self, stop):
        self.resume()
        while not stop.is_set():
            try:
                delay = self.tick()
            except Exception:  # noqa: BLE001 - the loop must survive one bad tick
                LOG.exception("controller tick failed")
                delay = 1.0
            self._wake.wait(max(self.min_period, delay))
            self._wake.clear()

    def resume(self):
        """After a (re)start: adopt running workers, start those recorded but never started."""
        for w in self.store.workers():
            if w["phase"] in ("Running", "Unknown") and w["record"].get("pid"):
                alive = self.launcher.adopt(_rec(w["record"]))
                LOG.info("worker %s/%s %s", w["namespace"], w["name"], "adopted" if alive else "lost")
                if not alive:
                    self.store.set_worker(w["namespace"], w["name"], phase="Unknown")
            elif w["phase"] == "Pending" and not w["record"].get("pid"):
                try:
                    job = self.store.get(JOB, w["namespace"], w["job"], with_state=True)
                except NotFound:
                    continue
                LOG.info("worker %s/%s was recorded but not started: starting it", w["namespace"], w["name"])
                self._launch(job, w["name"], w["stage"], w["round"], w["record"].get("env") or {}, recorded=True)

    def tick(self):
        """One pass over every dataset and job, each on its own (see the module
        docstring); returns seconds until something is due."""
        mono = time.monotonic()
        next_in = 5.0
        seen = set()
        for ds in self.store.list(DATASET):
            key = (ds["metadata"]["namespace"], ds["metadata"]["name"])
            seen.add((DATASET, *key))
            if self._dataset_due.get(key, 0) <= mono:
                self._dataset_due[key] = mono + self._isolated(DATASET, ds, self._watch)
            next_in = min(next_in, self._dataset_due[key] - mono)
        for job in self.store.list(JOB, with_state=True):
            key = (job["metadata"]["namespace"], job["metadata"]["name"])
            seen.add((JOB, *key))
            with self._lock:
                due = self._due.get(key, 0)
            if due <= mono:
                t0 = time.perf_counter()
                after = self._isolated(JOB, job, self.reconcile_job)
                for observe in self.reconcile_observers:
                    observe(time.perf_counter() - t0)
                with self._lock:
                    self._due[key] = time.monotonic() + max(self.min_period, after)
                    due = self._due[key]
            next_in = min(next_in, due - time.monotonic())
        self._failures.keep_only(seen)  # deleted objects
        return max(0.0, next_in)

    def _isolated(self, kind, obj, handle):
        """``handle(obj)`` (seconds until the object is due again); an exception
        becomes a ReconcileError condition on ``obj`` and a backoff delay."""
        key = (kind, obj["metadata"]["namespace"], obj["metadata"]["name"])
        try:
            after = handle(obj)
        except Exception as e:  # noqa: BLE001 - one object's failure must not stop the others
            n, delay = self._failures.failed(key)
            self.stats["errors"] += 1
            LOG.warning("%s %s/%s: %s: %s (failure %d; next try in %gs)", kind, key[1], key[2],
                        type(e).__name__, e, n, delay, exc_info=n == 1)
            self._record_error(kind, key[1], key[2], e, n, delay)
            return delay
        self._failures.succeeded(key)
        return after

    def _record_error(self, kind, ns, name, error, attempt, delay):
        try:
            obj = self.store.get(kind, ns, name)
        except NotFound:
            return
        try:
            self.store.update_status(kind, ns, name, error_status(kind, obj.get("status"), error, self.clock(),
                                                                  attempt, delay))
        except Exception:  # noqa: BLE001 - the store itself failing: logged, retried with the object
            LOG.exception("%s %s/%s: cannot record the error", kind, ns, name)

    def _watch(self, ds):
        """Read the dataset's index; seconds until the next look."""
        self.check_dataset(ds)
        return self._dataset_period(ds)

    def _dataset_period(self, ds):
        """Check an index as often as the fastest job on it asks (checkPeriodSeconds)."""
        ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
        periods = [((j.get("spec", {}).get("trainSpec") or {}).get("trigger") or {}).get("checkPeriodSeconds")
                   for j in self.store.list(JOB, ns) if (j.get("spec", {}).get("dataset") or {}).get("name") == name]
        periods = [float(p) for p in periods if isinstance(p, (int, float)) and p > 0]
        return max(self.min_period, min(periods) if periods else 5.0)

    # --------------------------------------------------------------- datasets
    def check_dataset(self, ds):
        ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
        url = ds["spec"]["url"]
        if ds["metadata"].get("deletionTimestamp"):
            self.store.remove(DATASET, ns, name)
            return
        watch, old_url, total = self.store.watch_state(ns, name)
        state = WatchState.from_dict(watch) if watch and old_url == url else WatchState()
        self.stats["index_checks"] += 1
        lines, new_state, event = self.watcher.poll(url, state, header=_is_csv(ds))
        status = dict(ds.get("status") or {})
        changed = False
        if lines or watch is None or old_url != url or new_state.to_dict() != state.to_dict():
            total = self.store.add_dataset_lines(ns, name, url, lines, new_state.to_dict())
            changed = bool(lines)
        status["conditions"] = list(status.get("conditions") or [])
        if clear_error(status, self.clock()):
            changed = True
        if record_index_event(status, event, self.clock()):
            changed = True
            if event:
                LOG.warning("dataset %s/%s: %s %s", ns, name, event.reason, event.message)
        if status.get("numberOfSamples") != total:
            status["numberOfSamples"] = total
            status["updateTime"] = now_ts()
            changed = True
        if changed:
            self.store.update_status(DATASET, ns, name, status)
            if lines:
                for job in self.store.list(JOB, ns):
                    if (job["spec"].get("dataset") or {}).get("name") == name:
                        self.wake((ns, job["metadata"]["name"]))

    # -------------------------------------------------------------------- jobs
    def reconcile_job(self, job):
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        self.stats["reconciles"] += 1
        state = dict(job.get("state") or {})
        if job["metadata"].get("deletionTimestamp"):
            for w in self.store.workers(ns, name):
                if w["record"].get("pid"):
                    self.launcher.stop(_rec(w["record"]))
            self.store.remove(JOB, ns, name)
            LOG.info("job %s/%s deleted; its workers are stopped", ns, name)
            return 60.0
        try:
            ds = self.store.get(DATASET, ns, job["spec"]["dataset"]["name"])
        except NotFound:
            ds = None
        n = int(((ds or {}).get("status") or {}).get("numberOfSamples") or 0)
        if ds is not None:
            state = self.store.legacy_pool(ns, name, state)
            pt, pe = pool.pending(state, n, pool.train_prob(job))
            obs_ds = DatasetObs(exists=True, url=ds["spec"]["url"], format=_format(ds), number_of_samples=n,
                                pending_train=pt, pending_eval=pe, problem=index_problem(ds.get("status")))
        else:
            obs_ds = DatasetObs(exists=False)
        workers = [self._observe(w) for w in self.store.workers(ns, name)]
        result = reconcile(dict(job, state=state), obs_ds, workers, self.clock(), self.settings,
                           unseen_samples=unseen_count(job))
        state = pool.apply_actions(result.state, result.actions, n, pool.train_prob(job))
        # save the decision first, then carry it out (each action is safe to repeat)
        self.store.update_status(JOB, ns, name, result.status, state)
        self._carry_out(dict(job, status=result.status, state=state), result.actions)
        return result.requeue_after if not result.actions else self.min_period

    def _carry_out(self, job, actions):
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        refused = {}  # inference worker -> why its deployed index could not be published
        for action in actions:
            try:
                if action.kind == ActionKind.START_WORKER and action.name in refused:
                    self._fail_start(job, action, refused[action.name])
                else:
                    self._execute(job, action)
            except Exception as e:  # noqa: BLE001 - recorded on the worker; reconcile decides
                LOG.error("job %s/%s: action %s failed: %s", ns, name, action.kind, e)
                if action.kind == ActionKind.PUBLISH_DEPLOYMENT:
                    refused[action.name] = str(e)

    def _fail_start(self, job, a, reason):
        """Record worker ``a.name`` as Failed without starting it (reconcile sees why)."""
        ns = job["metadata"]["namespace"]
        self.store.add_worker(ns, a.name, job["metadata"]["name"], a.stage, a.round, {"env": a.env})
        self.store.set_worker(ns, a.name, phase="Failed", record={"env": a.env, "error": reason},
                              finished=now_ts())

    def _observe(self, w):
        phase, code, tail = w["phase"], w["exit_code"], ""
        if w["record"].get("pid") and phase in ("Running", "Unknown", "Pending"):
            st = self.launcher.poll(_rec(w["record"]))
            phase, code, tail = st.phase, st.exit_code, st.log_tail or ""
            if phase != w["phase"] or code != w["exit_code"]:
                self.store.set_worker(w["namespace"], w["name"], phase=phase, exit_code=code,
                                      finished=now_ts() if phase in ("Succeeded", "Failed") else None)
        elif phase in ("Failed",) and w["record"].get("error"):
            tail = w["record"]["error"]
        elif w["record"].get("pid") and phase in ("Succeeded", "Failed"):
            tail = self.launcher.poll(_rec(w["record"])).log_tail or ""
        key = (w["namespace"], w["name"])
        reported = self.reported_at.get(key) if phase in ("Running", "Pending", "Unknown") \
            else self.reported_at.pop(key, None)  # an ended worker needs no grace
        return WorkerObs(name=w["name"], stage=w["stage"], round=w["round"], phase=phase, exit_code=code,
                         report=w["report"], log_tail=tail, error=w["record"].get("error") or "",
                         reported_at=reported)

    def _execute(self, job, a):
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        if a.kind == ActionKind.START_ROUND:
            state = job.get("state") or {}
            claim = (state.get("claims") or {}).get(str(a.round)) or [0, 0, 0]
            lines = self.store.dataset_lines_range(ns, job["spec"]["dataset"]["name"], claim[0], claim[1])
            train, evals = pool.round_lines(lines, claim, pool.train_prob(job))
            fmt = state.get("data_format") or "txt"
            header = self._header(ns, job["spec"]["dataset"]["name"]) if fmt == "csv" else None
            paths = RoundFiles(job["spec"]["outputDir"], fmt).write(a.round, train, evals, header=header)
            LOG.info("job %s/%s: round %d with %d train / %d eval samples (%s)", ns, name, a.round,
                     len(train), len(evals), paths)
        elif a.kind == ActionKind.START_WORKER:
            self.store.add_worker(ns, a.name, name, a.stage, a.round, {"env": a.env})
            self._launch(job, a.name, a.stage, a.round, a.env)
        elif a.kind == ActionKind.STOP_WORKER:
            self._stop(ns, a.name)
        elif a.kind == ActionKind.PUBLISH_DEPLOYMENT:
            # the source comes from a worker's report: only from inside outputDir, never world-readable
            publish_deployment(a.source, a.target, job["spec"]["outputDir"])

    def _stop(self, ns, wname):
        """Stop a worker. One that already exited by itself keeps its own outcome
        (Succeeded/Failed and exit code); one stopped here is ``Stopped`` with the
        exit code the stop gave it (-15: SIGTERM, -9: SIGKILL)."""
        try:
            w = self.store.worker(ns, wname)
        except NotFound:
            return
        live = w["phase"] in ("Running", "Pending", "Unknown")
        if not w["record"].get("pid"):
            if live:
                self.store.set_worker(ns, wname, phase="Stopped", finished=now_ts())
            return
        rec = _rec(w["record"])
        before = self.launcher.poll(rec) if live else None
        self.launcher.stop(rec)  # idempotent; also removes its temporary folders
        if not live:
            return
        if before is not None and before.phase in ("Succeeded", "Failed"):
            phase, code = before.phase, before.exit_code
        else:
            phase, code = "Stopped", self.launcher.poll(rec).exit_code
        self.store.set_worker(ns, wname, phase=phase, exit_code=code, finished=now_ts())

    def _header(self, ns, dataset):
        """A CSV Dataset's header line, as the index watcher last read it."""
        watch, _, _ = self.store.watch_state(ns, dataset)
        return WatchState.from_dict(watch).header or None

    def _launch(self, job, wname, stage, round_no, env, recorded=False):
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        # the worker's own credential: it may post its own report and nothing else
        contract = worker_contract_env(ns, name, wname, stage, self.lc_server,
                                       self.store.mint_worker_token(ns, wname), env)
        template = job["spec"][TEMPLATE_KEY[stage]]["template"]
        spec = WorkerSpec(name=wname, namespace=ns, job=name, stage=stage, round=round_no, template=template,
                          env=contract, output_dir=str(job["spec"].get("outputDir") or ""))
        try:
            record = self.launcher.start(spec)
        except Exception as e:  # noqa: BLE001 - whatever stops a start fails the worker, with the reason
            why = str(e) if isinstance(e, (WorkerError, OSError)) else f"{type(e).__name__}: {e}"
            why = why[len(f"worker {wname}: "):] if why.startswith(f"worker {wname}: ") else why
            LOG.error("job %s/%s: cannot start worker %s: %s", ns, name, wname, why)
            self.store.set_worker(ns, wname, phase="Failed", record={"env": env, "error": why},
                                  finished=now_ts())
            return None
        rec = _record_dict(record)
        rec["env"] = env
        self.store.set_worker(ns, wname, phase="Running", record=rec)
        LOG.info("job %s/%s: started %s worker %s (pid %s)", ns, name, stage, wname, rec.get("pid"))
        return rec

    # ----------------------------------------------------------------- reports
    def report(self, namespace, worker, body):
        """A worker's report (POST /sedna/workers/{name}/info)."""
        w = self.store.worker(namespace, worker)
        self.store.set_worker(namespace, worker, report=body)
        # when it reported (kept in memory: after a restart a finishing worker is simply stopped)
        self.reported_at[(namespace, worker)] = now_ts()
        self.wake((namespace, w["job"]))


def _record_dict(record):
    if isinstance(record, dict):
        return dict(record)
    if hasattr(record, "to_dict"):
        return record.to_dict()
    if is_dataclass(record):
        return asdict(record)
    return dict(vars(record))


def _rec(d):
    return WorkerRecord.from_dict(d)


def _format(ds):
    """A Dataset's format, lower case (``format: CSV`` is the original's spelling)."""
    return str((ds.get("spec") or {}).get("format") or "txt").lower()


def _is_csv(ds):
    return _format(ds) == "csv"

