"""``reconcile``: a pure function from observed state to actions.

Given a LifelongLearningJob (spec, status and the controller's private
``state``), what is known about its Dataset, the workers it owns and the
clock, :func:`reconcile` returns the actions to take, the new status and
state, and when to look again. It reads no clock, file or process: both
runtimes call it and tests drive it with plain data.

The state machine (CONTRACTS §4; the last condition is the state)::

    Train/Waiting --trigger fires--> Train/Ready -> Starting -> Running -> Completed
    Eval/Waiting  --train output-->  Eval/Ready  -> Starting -> Running -> Completed
    Deploy/Waiting --eval output-->  Deploy/Ready -> Starting -> Running -> Completed
    -> Train/Waiting (next round)

What the original lacks, and this adds:

* a failed stage is retried with exponential backoff up to ``max_attempts``;
  then the round is recorded as Failed (exit code, log tail) and its samples
  go back to the pool for the next round;
* only workers of the current (stage, round) move the state; a worker of an
  earlier round can never complete a later one (it is stopped instead);
* conditions stay bounded: one entry per transition for the current and the
  previous round, older rounds summarised in ``status.rounds``;
* ``status.knowledgeBase`` is filled from the workers' reports;
* a job being deleted stops all its workers;
* a worker the runtime could not start fails like one that exited, with the
  reason in the condition's message (never a silent Pending);
* the deployed index is published before every start of an inference worker,
  and a refused copy fails that start;
* conditions that are not states (a runtime's ``ReconcileError``, see
  :mod:`sedna.control.conditions`) never change the state; a standing one is
  marked over when the job is handled again.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import List, Optional

from sedna.control.conditions import clear_error, error_backoff, parse_ts, waiting_message
from sedna.control.conditions import ts as _ts
from sedna.control.rounds import round_paths
from sedna.control.trigger import Trigger

STAGES = ("Train", "Eval", "Deploy")
KIND = {"Train": "train", "Eval": "eval", "Deploy": "deploy"}
#: Condition types of the state machine; the last condition of one of these types is the state.
STATE_TYPES = ("Waiting", "Ready", "Starting", "Running", "Completed", "Failed")
MAX_CONDITIONS = 30
MAX_ROUNDS_KEPT = 100


# ------------------------------------------------------------------ observations
@dataclass
class WorkerObs:
    """A worker as the runtime sees it."""

    name: str
    stage: str                      # "train" | "eval" | "deploy"
    round: int
    phase: str                      # Pending | Running | Succeeded | Failed | Unknown
    exit_code: Optional[int] = None
    report: Optional[dict] = None   # the worker's last report (status, results)
    log_tail: str = ""
    error: str = ""                 # why the runtime could not start it (then phase is Failed)
    reported_at: Optional[str] = None  # when its last report came (UTC "...Z"), if any


@dataclass
class DatasetObs:
    """What the runtime knows about the job's Dataset."""

    exists: bool = True
    url: str = ""                   # the Dataset's index file (ORIGINAL_DATASET_URL)
    format: str = "txt"             # the Dataset's format: names the round files (data.txt | data.csv)
    number_of_samples: int = 0
    pending_train: int = 0          # train samples not yet given to a round
    pending_eval: int = 0


@dataclass
class Settings:
    """Controller settings (seconds)."""

    max_attempts: int = 3           # tries of one stage in one round
    backoff_base: float = 2.0       # first retry after this, doubled each time
    backoff_max: float = 300.0
    idle_requeue: float = 30.0      # when nothing else asks to look sooner
    exit_grace: float = 30.0        # a train/eval worker that reported its result may exit by
                                    # itself for this long (then: Succeeded, exit 0) before it is stopped


# ----------------------------------------------------------------------- actions
class ActionKind(str, Enum):
    """What an :class:`Action` asks of the runtime (a ``str``: compares equal to its value)."""

    START_ROUND = "start_round"
    RELEASE_ROUND = "release_round"
    START_WORKER = "start_worker"
    STOP_WORKER = "stop_worker"
    PUBLISH_DEPLOYMENT = "publish_deployment"


@dataclass
class Action:
    """One thing for the runtime to do. ``kind``:

    * ``start_round``: claim the pending samples for round ``round`` and write
      its round files (idempotent for the same round);
    * ``release_round``: give round ``round``'s samples back to the pool;
    * ``start_worker``: start worker ``name`` (``stage``, ``round``) with ``env``;
    * ``stop_worker``: stop worker ``name``;
    * ``publish_deployment``: copy ``source`` to the deployed index ``target``
      for the inference worker ``name`` started next; if the copy is refused
      the runtime must not start that worker but record it as Failed with the
      reason (``WorkerObs.error``).
    """

    kind: ActionKind
    round: int = 0
    name: str = ""
    stage: str = ""
    env: dict = field(default_factory=dict)
    source: str = ""
    target: str = ""

    def __post_init__(self):
        self.kind = ActionKind(self.kind)  # an unknown kind is a ValueError here, not a silent no-op later


@dataclass
class Result:
    actions: List[Action]
    status: dict
    state: dict
    requeue_after: float


# ---------------------------------------------------------------------- helpers


_parse_ts = parse_ts  # one parser of status times, in conditions.py


def worker_name(job_name, stage, round_no):
    return f"{job_name}-{KIND[stage]}-{round_no}"


def _last_state(conds):
    """Index of the last condition that is a state (not e.g. a ReconcileError), or None."""
    for i in range(len(conds) - 1, -1, -1):
        if conds[i].get("type", "Waiting") in STATE_TYPES:
            return i
    return None


def _current(status):
    conds = status.get("conditions") or []
    i = _last_state(conds)
    if i is None:
        return "Train", "Waiting"
    last = conds[i]
    return last.get("stage", "Train"), last.get("type", "Waiting")


class _Job:
    """Mutable working copy of one job's status and state during a reconcile."""

    def __init__(self, job, now):
        self.job = job
        self.now = now
        self.meta = job.get("metadata", {})
        self.spec = job.get("spec", {})
        self.status = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                       for k, v in (job.get("status") or {}).items()}
        self.status.setdefault("conditions", [])
        self.state = dict(job.get("state") or {})
        self.state.setdefault("round", 0)
        self.state.setdefault("attempt", 0)
        self.actions = []
        self.requeue = None

    @property
    def name(self):
        return self.meta.get("name", "")

    def transition(self, stage, type_, reason="", message="", data=None):
        """Append one condition (only when the state changes)."""
        cur = _current(self.status)
        conds = self.status["conditions"]
        last = _last_state(conds)
        if last is not None and cur == (stage, type_) and conds[last].get("reason") == reason:
            conds[last]["lastHeartbeatTime"] = _ts(self.now)
            return
        cond = {"type": type_, "status": "True", "stage": stage, "lastHeartbeatTime": _ts(self.now),
                "lastTransitionTime": _ts(self.now), "reason": reason, "message": message}
        if data is not None:
            cond["data"] = data
        cond["round"] = self.state["round"]
        conds.append(cond)
        self._bound_conditions()

    def _bound_conditions(self):
        conds = self.status["conditions"]
        r = self.state["round"]
        keep = [c for c in conds if c.get("round", r) >= r - 1]
        if len(keep) > MAX_CONDITIONS:
            keep = keep[-MAX_CONDITIONS:]
        self.status["conditions"] = keep

    def soon(self, seconds):
        self.requeue = seconds if self.requeue is None else min(self.requeue, seconds)

    def act(self, **kw):
        self.actions.append(Action(**kw))


def _summarise_round(j, phase, reason=""):
    r = j.state["round"]
    rounds = [x for x in (j.status.get("rounds") or []) if x.get("round") != r]
    entry = {"round": r, "phase": phase, "startTime": j.state.get("round_started"),
             "completionTime": _ts(j.now), "trainSamples": j.state.get("round_train", 0),
             "evalSamples": j.state.get("round_eval", 0)}
    if reason:
        entry["reason"] = reason
    rounds.append(entry)
    j.status["rounds"] = rounds[-MAX_ROUNDS_KEPT:]


def _env(j, stage, r, dataset_url, paths):
    env = {"DATA_PATH_PREFIX": "/home/data"}
    if stage == "Train":
        env.update(TRAIN_DATASET_URL=paths["train_index"], ORIGINAL_DATASET_URL=dataset_url,
                   OUTPUT_URL=paths["kb"])
        prev = j.state.get("last_trained_index")
        if prev:
            env.update(HAS_COMPLETED_INITIAL_TRAINING="true", CLOUD_KB_INDEX=prev)
        else:
            env["HAS_COMPLETED_INITIAL_TRAINING"] = "false"
    elif stage == "Eval":
        env.update(TEST_DATASET_URL=paths["eval_index"], ORIGINAL_DATASET_URL=dataset_url,
                   MODEL_URLS=j.state.get("trained_index") or paths["kb_index"],
                   OUTPUT_URL=paths["eval_output"])
    else:
        env.update(MODEL_URLS=paths["deploy_index"], OUTPUT_URL=paths["deploy_output"],
                   ORIGINAL_DATASET_URL=dataset_url)
    return env


def _report_url(report, default):
    for res in (report or {}).get("results") or []:
        if isinstance(res, dict) and res.get("url"):
            return res["url"]
    return default


def _update_kb_status(j, stage, report):
    kb = dict(j.status.get("knowledgeBase") or {})
    results = (report or {}).get("results") or []
    models = []
    for res in results:
        if not isinstance(res, dict):
            continue
        metrics = res.get("metrics") or {}
        if isinstance(metrics, dict):
            for entry, m in metrics.items():
                models.append({"name": entry, "url": res.get("url", ""), "format": res.get("format", ""),
                               "metrics": m if isinstance(m, dict) else {"value": m}})
    if stage == "Train":
        kb["AIModels"] = models
        kb["AIClasses"] = [m["name"] for m in models]
        kb["version"] = ((report or {}).get("ownerInfo") or {}).get("version")
    elif stage == "Eval":
        evals = {m["name"]: m["metrics"] for m in models}
        for m in kb.get("AIModels", []):
            if m["name"] in evals:
                m["evalMetrics"] = evals[m["name"]]
    samples = dict(kb.get("samples") or {})
    samples["trainSamples"] = j.state.get("total_train", 0)
    samples["evalSamples"] = j.state.get("total_eval", 0)
    kb["samples"] = samples
    j.status["knowledgeBase"] = kb


# ---------------------------------------------------------------------- reconcile
def reconcile(job: dict, dataset: Optional[DatasetObs], workers: List[WorkerObs], now: datetime,
              settings: Settings = Settings()) -> Result:
    """Decide what to do for one LifelongLearningJob. Pure: no I/O, no clock."""
    j = _Job(job, now)
    if j.meta.get("deletionTimestamp"):
        for w in workers:
            j.act(kind=ActionKind.STOP_WORKER, name=w.name, stage=w.stage, round=w.round)
        return Result(j.actions, j.status, j.state, settings.idle_requeue)
    if not j.status.get("startTime"):
        j.status["startTime"] = _ts(now)
    clear_error(j.status, now)
    if _last_state(j.status["conditions"]) is None:
        j.transition("Train", "Waiting", "Created", "waiting for the trigger")
    stage, phase = _current(j.status)
    _stop_stale(j, workers, stage, settings)

    if (dataset is None or not dataset.exists) and (stage, phase) == ("Train", "Waiting"):
        j.transition("Train", "Waiting", "DatasetMissing",
                     f"dataset {j.spec.get('dataset', {}).get('name')!r} not found")
        j.soon(settings.idle_requeue)
        return _result(j, settings)

    trigger = Trigger.from_spec(j.spec.get("trainSpec", {}).get("trigger") or {})
    if phase in ("Waiting", "Completed"):
        stage, phase = _leave_waiting(j, stage, phase, dataset, trigger)
    if phase == "Ready" or (phase == "Failed" and j.state.get("retry_at")):
        return _start(j, stage, dataset.url if dataset is not None else "", settings)
    if phase in ("Starting", "Running"):
        def again():  # the state moved on: decide again from there, keeping what was decided so far
            return reconcile(dict(job, status=j.status, state=j.state), dataset, workers, now, settings)._merge(j)
        return _follow(j, stage, phase, {w.name: w for w in workers}, again, settings)
    return _result(j, settings)


def _result(j, settings):
    return Result(j.actions, j.status, j.state, j.requeue or settings.idle_requeue)


def _stop_stale(j, workers, stage, settings):
    """Stop train/eval workers of other rounds and deploy workers other than the live one.

    A train/eval worker that has reported its result is left to exit by itself
    for ``settings.exit_grace`` seconds, so it ends Succeeded (exit 0) rather
    than stopped on its way out."""
    r = j.state["round"]
    live_deploy = j.state.get("deploy_worker")
    for w in workers:
        current = (w.stage == KIND[stage] and w.round == r)
        if w.stage == "deploy" and w.name == live_deploy:
            continue
        if current or w.phase not in ("Running", "Pending", "Unknown"):
            continue
        left = _exit_grace_left(j, w, settings)
        if left > 0:
            j.soon(min(left, 1.0))
            continue
        j.act(kind=ActionKind.STOP_WORKER, name=w.name, stage=w.stage, round=w.round)


def _exit_grace_left(j, w, settings):
    """Seconds a worker that reported its result still has to exit by itself (0: none)."""
    if w.stage == "deploy" or w.phase != "Running" or (w.report or {}).get("status") not in ("completed", "failed"):
        return 0.0
    reported = _parse_ts(w.reported_at)
    if reported is None:
        return 0.0
    return max(0.0, (reported + timedelta(seconds=settings.exit_grace) - j.now).total_seconds())


def _leave_waiting(j, stage, phase, dataset, trigger):
    """Completed -> the next stage's Waiting; Waiting -> Ready when the stage's inputs exist."""
    if phase == "Completed":
        nxt = {"Train": "Eval", "Eval": "Deploy", "Deploy": "Train"}[stage]
        if nxt == "Train":
            _summarise_round(j, "Succeeded")
        if nxt == "Train":
            j.transition("Train", "Waiting", "RoundSucceeded",
                         f"round {j.state['round']} succeeded; waiting for the trigger")
        else:
            j.transition(nxt, "Waiting", "", "")
        stage, phase = nxt, "Waiting"
    if stage == "Train":
        if _trigger_fires(j, dataset, trigger):
            phase = "Ready"
    elif stage == "Eval":
        j.transition("Eval", "Ready", "TrainOutputReady", j.state.get("trained_index") or "")
        phase = "Ready"
    elif stage == "Deploy":
        j.transition("Deploy", "Ready", "EvalOutputReady", _deploy_source(j, j.state["round"]))
        phase = "Ready"
    return stage, phase


def _trigger_fires(j, dataset, trigger):
    """Check the trigger when its period is due; if it fires, open the next round (Train/Ready)."""
    now = j.now
    last = _parse_ts(j.state.get("last_check"))
    if last is not None and now < last + timedelta(seconds=trigger.check_period):
        j.soon((last + timedelta(seconds=trigger.check_period) - now).total_seconds())
        return False
    j.state["last_check"] = _ts(now)
    pending = dataset.pending_train if dataset else 0
    if not trigger.fires(now, pending):
        _explain_wait(j, trigger, pending)
        j.soon(trigger.check_period)
        return False
    pending_eval = dataset.pending_eval if dataset else 0
    r = j.state["round"] = j.state["round"] + 1
    j.state.update(attempt=0, round_started=_ts(now), round_train=pending, round_eval=pending_eval,
                   trained_index=None, evaluated_index=None,
                   data_format=str((dataset.format if dataset else "") or "txt").lower())
    j.state["total_train"] = j.state.get("total_train", 0) + pending
    j.state["total_eval"] = j.state.get("total_eval", 0) + pending_eval
    j.act(kind=ActionKind.START_ROUND, round=r)
    j.transition("Train", "Ready", "TriggerFired",
                 f"{pending} new training samples (condition {trigger.operator} {trigger.threshold})")
    return True


def _explain_wait(j, trigger, pending):
    """Say in the Train/Waiting condition what the trigger waits for (in place: not a transition)."""
    conds = j.status["conditions"]
    i = _last_state(conds)
    if i is not None and (conds[i].get("stage"), conds[i].get("type")) == ("Train", "Waiting"):
        conds[i]["message"], conds[i]["data"] = waiting_message(conds[i], trigger, pending, j.now)


def _start(j, stage, dataset_url, settings):
    """Ready (or a failed try whose backoff is over): start the stage's worker."""
    now, r = j.now, j.state["round"]
    paths = paths_for(j, r)
    retry_at = _parse_ts(j.state.get("retry_at"))
    if retry_at and now < retry_at:
        j.soon((retry_at - now).total_seconds())
        return _result(j, settings)
    j.state["retry_at"] = None
    name = worker_name(j.name, stage, r)
    if j.state["attempt"]:
        name = f"{name}-{j.state['attempt']}"
    if stage == "Deploy":
        # every start (retries too) publishes the eval output first: the copy is idempotent
        j.act(kind=ActionKind.PUBLISH_DEPLOYMENT, round=r, name=name, source=_deploy_source(j, r),
              target=paths["deploy_index"])
        j.state["previous_deploy_worker"] = j.state.get("deploy_worker")
        j.state["deploy_worker"] = name
    j.state["worker"] = name
    j.act(kind=ActionKind.START_WORKER, name=name, stage=KIND[stage], round=r, env=_env(j, stage, r, dataset_url, paths))
    j.transition(stage, "Starting", "WorkerCreated", name)
    j.soon(1.0)
    return _result(j, settings)


def _follow(j, stage, phase, mine, again, settings):
    """Starting/Running: follow the stage's worker; ``again()`` reconciles the new state."""
    r = j.state["round"]
    paths = paths_for(j, r)
    name = j.state.get("worker")
    w = mine.get(name)
    if w is None or w.round != r or w.stage != KIND[stage]:
        # the runtime lost it (controller restart before it started): start again
        j.transition(stage, "Ready", "WorkerMissing", f"worker {name} not found; starting it again")
        return again()
    report = w.report or {}
    failed = w.phase == "Failed" or report.get("status") == "failed"
    succeeded = (w.phase == "Succeeded" and report.get("status") != "failed") or (
        stage != "Deploy" and report.get("status") == "completed" and w.phase != "Failed")
    if stage == "Deploy" and w.phase == "Running":
        prev = j.state.get("previous_deploy_worker")
        if prev and prev != name:
            j.act(kind=ActionKind.STOP_WORKER, name=prev, stage="deploy")
        j.state["previous_deploy_worker"] = None
        j.state["deployed_round"] = r
        j.transition("Deploy", "Completed", "InferenceWorkerRunning", name)
        return again()
    if failed:
        return _failed(j, stage, w, settings)
    if succeeded:
        if stage == "Train":
            j.state["trained_index"] = _report_url(report, paths["kb_index"])
            j.state["last_trained_index"] = j.state["trained_index"]
        elif stage == "Eval":
            j.state["evaluated_index"] = _report_url(report, f"{paths['eval_output']}/index.json")
        _update_kb_status(j, stage, report)
        j.state["attempt"] = 0
        j.transition(stage, "Completed", "WorkerSucceeded", name)
        return again()
    if w.phase == "Running" and phase == "Starting":
        j.transition(stage, "Running", "WorkerRunning", name)
    if w.phase == "Unknown":
        # the process is gone and its exit is unknown (controller restart, no exit file)
        return _failed(j, stage, w, settings, reason="WorkerLost")
    j.soon(1.0)
    return _result(j, settings)


def paths_for(j, r):
    return round_paths(j.spec.get("outputDir", ""), r, j.state.get("data_format") or "txt")


def _deploy_source(j, r):
    return j.state.get("evaluated_index") or f"{paths_for(j, r)['eval_output']}/index.json"


def _failed(j, stage, w, settings, reason="WorkerFailed"):
    j.state["attempt"] = attempt = j.state.get("attempt", 0) + 1
    code = w.exit_code
    tail = (w.log_tail or "")[-2000:]
    why = f"could not start: {w.error}" if w.error else f"exited with code {code}"
    if attempt < settings.max_attempts:
        delay = error_backoff(attempt, settings.backoff_base, settings.backoff_max)
        j.state["retry_at"] = _ts(j.now + timedelta(seconds=delay))
        j.transition(stage, "Failed", "Retrying",
                     f"worker {w.name} {why}; retry {attempt}/{settings.max_attempts - 1} "
                     f"in {delay:g}s", data={"exitCode": code, "logTail": tail})
        j.soon(delay)
        return Result(j.actions, j.status, j.state, j.requeue)
    # give up on this round: record why, keep its samples for the next one
    j.state["retry_at"] = None
    j.state["attempt"] = 0
    last = f"last: {w.error}" if w.error else f"last exit code {code}"
    j.transition(stage, "Failed", reason if reason != "WorkerFailed" else "BackoffLimitExceeded",
                 f"worker {w.name} failed {attempt} times; {last}",
                 data={"exitCode": code, "logTail": tail})
    if stage in ("Train", "Eval"):
        j.act(kind=ActionKind.RELEASE_ROUND, round=j.state["round"])
        j.state["total_train"] = j.state.get("total_train", 0) - j.state.get("round_train", 0)
        j.state["total_eval"] = j.state.get("total_eval", 0) - j.state.get("round_eval", 0)
    _summarise_round(j, "Failed", f"{stage} failed: " + (w.error[:200] if w.error else f"exit code {code}"))
    j.status["lastFailure"] = {"round": j.state["round"], "stage": stage, "exitCode": code, "logTail": tail,
                               "time": _ts(j.now)}
    j.transition("Train", "Waiting", "RoundFailed", f"round {j.state['round']} failed, its samples kept; "
                 "waiting for the trigger")
    j.soon(settings.idle_requeue)
    return Result(j.actions, j.status, j.state, j.requeue)


def _merge(self, outer):
    """Combine a nested reconcile pass with the actions already decided."""
    self.actions = outer.actions + [a for a in self.actions if a not in outer.actions]
    return self


Result._merge = _merge
