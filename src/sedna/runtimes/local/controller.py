"""The local controller: watches datasets, observes workers, calls the pure
``reconcile`` for each job and carries out the actions it returns.

Crash safety: every decision is saved (SQLite transaction) before its effect
is carried out where the effect can be repeated safely (round files are
idempotent, a worker is recorded as intended before it is started), and a
restarted controller adopts the workers that are still running.
"""

import os
import threading
import time
from datetime import datetime, timezone

from sedna.common.exceptions import WorkerError
from sedna.common.file_ops import FileOps
from sedna.common.log import LOGGER
from sedna.control.reconcile import DatasetObs, Settings, WorkerObs, reconcile
from sedna.control.rounds import IndexWatcher, RoundFiles, WatchState, split_in_order
from sedna.common.exceptions import NotFound
from sedna.runtimes.local.store import now_ts

LOG = LOGGER.getChild("controller")
JOB = "LifelongLearningJob"
DATASET = "Dataset"
TEMPLATE_KEY = {"train": "trainSpec", "eval": "evalSpec", "deploy": "deploySpec"}


def utcnow():
    """Now, aware, in the machine's local time zone (trigger windows are wall-clock times)."""
    return datetime.now(timezone.utc).astimezone()


class Controller:
    """Runs the control loop of the local runtime (one thread)."""

    def __init__(self, store, launcher, lc_server, token, settings=None, clock=utcnow, min_period=0.2):
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
        self.stats = {"reconciles": 0, "index_checks": 0}

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
            elif w["phase"] == "Pending" and not w["record"]:
                try:
                    job = self.store.get(JOB, w["namespace"], w["job"], with_state=True)
                except NotFound:
                    continue
                LOG.info("worker %s/%s was recorded but not started: starting it", w["namespace"], w["name"])
                self._launch(job, w["name"], w["stage"], w["round"], w["record"].get("env") or {}, recorded=True)

    def tick(self):
        """One pass; returns seconds until something is due."""
        mono = time.monotonic()
        next_in = 5.0
        for ds in self.store.list(DATASET):
            key = (ds["metadata"]["namespace"], ds["metadata"]["name"])
            if self._dataset_due.get(key, 0) <= mono:
                self.check_dataset(ds)
                self._dataset_due[key] = mono + self._dataset_period(ds)
            next_in = min(next_in, self._dataset_due[key] - mono)
        for job in self.store.list(JOB, with_state=True):
            key = (job["metadata"]["namespace"], job["metadata"]["name"])
            with self._lock:
                due = self._due.get(key, 0)
            if due <= mono:
                after = self.reconcile_job(job)
                with self._lock:
                    self._due[key] = time.monotonic() + max(self.min_period, after)
                    due = self._due[key]
            next_in = min(next_in, due - time.monotonic())
        return max(0.0, next_in)

    def _dataset_period(self, ds):
        """Check an index as often as the fastest job on it asks (checkPeriodSeconds)."""
        ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
        periods = [((j.get("spec", {}).get("trainSpec") or {}).get("trigger") or {}).get("checkPeriodSeconds")
                   for j in self.store.list(JOB, ns) if (j.get("spec", {}).get("dataset") or {}).get("name") == name]
        periods = [float(p) for p in periods if p]
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
        lines, new_state, event = self.watcher.poll(url, state)
        status = dict(ds.get("status") or {})
        changed = False
        if lines or watch is None or old_url != url or new_state.to_dict() != state.to_dict():
            total = self.store.add_dataset_lines(ns, name, url, lines, new_state.to_dict())
            changed = bool(lines)
        conds = list(status.get("conditions") or [])
        if event:
            reason = getattr(event, "reason", str(event))
            msg = getattr(event, "message", "") or str(event)
            if not conds or conds[-1].get("reason") != reason or conds[-1].get("message") != msg:
                conds.append({"type": "IndexChanged" if reason != "Missing" else "IndexMissing",
                              "status": "True", "reason": reason, "message": msg,
                              "lastTransitionTime": now_ts()})
                status["conditions"] = conds[-10:]
                changed = True
                LOG.warning("dataset %s/%s: %s %s", ns, name, reason, msg)
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

    def _ingest(self, job, state):
        """Move the dataset's new lines into the job's sample pool, split in order."""
        ns = job["metadata"]["namespace"]
        ds_name = job["spec"]["dataset"]["name"]
        cursor = state.get("cursor", 0)
        new = self.store.dataset_lines_since(ns, ds_name, cursor)
        if not new:
            return state
        # split positions, not lines: identical lines stay distinct samples
        train_pos, _, counter = split_in_order(range(len(new)), float(job["spec"]["dataset"].get("trainProb", 0.8)),
                                               state.get("split_counter", 0))
        train_pos = set(train_pos)
        rows = [(seq, ln, "train" if i in train_pos else "eval") for i, (seq, ln) in enumerate(new)]
        state = dict(state, cursor=new[-1][0] + 1, split_counter=counter)
        self.store.add_job_samples(ns, job["metadata"]["name"], rows, state)
        return state

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
        if ds is not None:
            state = self._ingest(job, state)
            pt, pe = self.store.pending_counts(ns, name)
            obs_ds = DatasetObs(exists=True, url=ds["spec"]["url"],
                                number_of_samples=(ds.get("status") or {}).get("numberOfSamples", 0),
                                pending_train=pt, pending_eval=pe)
        else:
            obs_ds = DatasetObs(exists=False)
        workers = [self._observe(w) for w in self.store.workers(ns, name)]
        result = reconcile(dict(job, state=state), obs_ds, workers, self.clock(), self.settings)
        unseen = count_unseen(_template_env(job, "deploySpec").get("unseen_save_url"))
        if unseen is not None:
            kb = result.status.setdefault("knowledgeBase", {})
            kb.setdefault("samples", {})["unseenSamples"] = unseen
        # save the decision first, then carry it out (each action is safe to repeat)
        self.store.update_status(JOB, ns, name, result.status, result.state)
        job = dict(job, status=result.status, state=result.state)
        for action in result.actions:
            try:
                self._execute(job, action)
            except Exception as e:  # noqa: BLE001 - recorded on the worker; reconcile decides
                LOG.exception("job %s/%s: action %s failed: %s", ns, name, action.kind, e)
        return result.requeue_after if not result.actions else self.min_period

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
        return WorkerObs(name=w["name"], stage=w["stage"], round=w["round"], phase=phase, exit_code=code,
                         report=w["report"], log_tail=tail)

    def _execute(self, job, a):
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        if a.kind == "start_round":
            train, evals = self.store.claim_round(ns, name, a.round)
            paths = RoundFiles(job["spec"]["outputDir"]).write(a.round, train, evals)
            LOG.info("job %s/%s: round %d with %d train / %d eval samples (%s)", ns, name, a.round,
                     len(train), len(evals), paths)
        elif a.kind == "release_round":
            self.store.release_round(ns, name, a.round)
        elif a.kind == "start_worker":
            self.store.add_worker(ns, a.name, name, a.stage, a.round, {"env": a.env})
            self._launch(job, a.name, a.stage, a.round, a.env)
        elif a.kind == "stop_worker":
            try:
                w = self.store.worker(ns, a.name)
            except NotFound:
                return
            if w["record"].get("pid"):
                self.launcher.stop(_rec(w["record"]))
            if w["phase"] in ("Running", "Pending", "Unknown"):
                self.store.set_worker(ns, a.name, phase="Stopped", finished=now_ts())
        elif a.kind == "publish_deployment":
            if not os.path.exists(a.source):
                raise FileNotFoundError(f"eval output {a.source} is missing")
            os.makedirs(os.path.dirname(a.target), exist_ok=True)
            with open(a.source, "rb") as f:
                FileOps.write_atomic(a.target, f.read())

    def _launch(self, job, wname, stage, round_no, env, recorded=False):
        from sedna.runtimes.local.workers import WorkerSpec

        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        contract = {"NAMESPACE": ns, "JOB_NAME": name, "WORKER_NAME": wname, "LC_SERVER": self.lc_server,
                    "LC_TOKEN": self.token}
        if stage != "deploy":
            contract["KB_SERVER"] = self.lc_server
        contract.update(env)
        template = job["spec"][TEMPLATE_KEY[stage]]["template"]
        spec = WorkerSpec(name=wname, namespace=ns, job=name, stage=stage, round=round_no, template=template,
                          env=contract)
        try:
            record = self.launcher.start(spec)
        except (WorkerError, OSError) as e:
            LOG.error("job %s/%s: cannot start worker %s: %s", ns, name, wname, e)
            self.store.set_worker(ns, wname, phase="Failed", record={"env": env, "error": str(e)},
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
        self.wake((namespace, w["job"]))


def _record_dict(record):
    if isinstance(record, dict):
        return dict(record)
    if hasattr(record, "to_dict"):
        return record.to_dict()
    from dataclasses import asdict, is_dataclass

    if is_dataclass(record):
        return asdict(record)
    return dict(vars(record))


def _rec(d):
    from sedna.runtimes.local.workers import WorkerRecord

    return WorkerRecord.from_dict(d)


def _template_env(job, key):
    try:
        containers = job["spec"][key]["template"]["spec"]["containers"]
    except (KeyError, TypeError):
        return {}
    return {e.get("name"): e.get("value") for e in (containers[0].get("env") or []) if isinstance(e, dict)}


def count_unseen(folder):
    """Unseen samples saved by the inference worker (``unseen.txt`` lines and
    ``unseen.jsonl`` batch sizes, as :mod:`sedna` writes them); None if there is no folder."""
    if not folder or not os.path.isdir(folder):
        return None
    n = 0
    txt = os.path.join(folder, "unseen.txt")
    if os.path.exists(txt):
        with open(txt, "rb") as f:
            n += sum(1 for line in f if line.strip())
    jl = os.path.join(folder, "unseen.jsonl")
    if os.path.exists(jl):
        import json

        with open(jl, encoding="utf-8") as f:
            for line in f:
                try:
                    n += int(json.loads(line).get("n", 0))
                except (ValueError, AttributeError):
                    continue
    return n
