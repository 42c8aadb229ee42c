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
  go back to the pool for the next round; after ``max_failed_rounds`` such
  rounds in a row the job is Failed, with the worker's error, and starts no
  round until its spec changes;
* ``status.knowledgeBase.samples.unseenSamples`` is the count the runtime
  observed and passed in;
* a Dataset whose index cannot be read makes the waiting job say why;
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
from sedna.control.observed import DatasetObs, Settings, WorkerObs
from sedna.control.rounds import round_paths
from sedna.control.stages import report_url, stage_env, summarise_round, update_kb_status
from sedna.control.trigger import Trigger

STAGES = ("Train", "Eval", "Deploy")
KIND = {"Train": "train", "Eval": "eval", "Deploy": "deploy"}
#: Condition types of the state machine; the last condition of one of these types is the state.
STATE_TYPES = ("Waiting", "Ready", "Starting", "Running", "Completed", "Failed")
MAX_CONDITIONS = 30


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
        action = Action(**kw)
        if action not in self.actions:  # a later step of the same pass may decide it again
            self.actions.append(action)


# ---------------------------------------------------------------------- reconcile
#: A step of a pass that moved the state on: the pass goes on from the new state.
_AGAIN = object()
#: Steps of one pass at most (a pass moves through a few states: Completed -> next Ready -> Starting).
_MAX_STEPS = 8


def reconcile(job: dict, dataset: Optional[DatasetObs], workers: List[WorkerObs], now: datetime,
              settings: Settings = Settings(), unseen_samples: Optional[int] = None) -> Result:
    """Decide what to do for one LifelongLearningJob. Pure: no I/O, no clock.

    ``unseen_samples``: how many samples the inference worker saved as unseen, as the
    runtime counted them (None: not known; the status keeps what it had)."""
    j = _Job(job, now)
    if unseen_samples is not None:
        kb = j.status["knowledgeBase"] = dict(j.status.get("knowledgeBase") or {})
        kb["samples"] = dict(kb.get("samples") or {}, unseenSamples=unseen_samples)
    if j.meta.get("deletionTimestamp"):
        for w in workers:
            j.act(kind=ActionKind.STOP_WORKER, name=w.name, stage=w.stage, round=w.round)
        return Result(j.actions, j.status, j.state, settings.idle_requeue)
    if not j.status.get("startTime"):
        j.status["startTime"] = _ts(now)
    clear_error(j.status, now)
    if _job_failed(j):
        return _result(j, settings)
    for _ in range(_MAX_STEPS):
        result = _step(j, dataset, workers, settings)
        if result is not _AGAIN:
            return result
    return _result(j, settings)


def _job_failed(j):
    """Whether the job is Failed (rounds failed ``max_failed_rounds`` times in a row) and its
    spec has not changed since; a changed spec starts it again from Train/Waiting."""
    if not j.state.get("job_failed"):
        return False
    if j.state.get("failed_generation") == j.meta.get("generation"):
        return True
    j.state.update(job_failed=False, failed_generation=None, failed_rounds=0)
    j.transition("Train", "Waiting", "JobChanged", "the job changed; waiting for the trigger")
    return False


def _step(j, dataset, workers, settings):
    """One step of a pass from the current state; ``_AGAIN`` when the state moved on."""
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
        return _follow(j, stage, phase, {w.name: w for w in workers}, settings)
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
            summarise_round(j, "Succeeded")
            j.state["failed_rounds"] = 0
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
        _explain_wait(j, trigger, pending, dataset.problem if dataset else "")
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


def _explain_wait(j, trigger, pending, problem=""):
    """Say in the Train/Waiting condition what the trigger waits for (in place: not a transition)."""
    conds = j.status["conditions"]
    i = _last_state(conds)
    if i is not None and (conds[i].get("stage"), conds[i].get("type")) == ("Train", "Waiting"):
        conds[i]["message"], conds[i]["data"] = waiting_message(conds[i], trigger, pending, j.now, problem)


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
    j.act(kind=ActionKind.START_WORKER, name=name, stage=KIND[stage], round=r, env=stage_env(j, stage, r, dataset_url, paths))
    j.transition(stage, "Starting", "WorkerCreated", name)
    j.soon(1.0)
    return _result(j, settings)


def _follow(j, stage, phase, mine, settings):
    """Starting/Running: follow the stage's worker; ``_AGAIN`` when the state moved on."""
    r = j.state["round"]
    paths = paths_for(j, r)
    name = j.state.get("worker")
    w = mine.get(name)
    if w is None or w.round != r or w.stage != KIND[stage]:
        # the runtime lost it (controller restart before it started): start again
        j.transition(stage, "Ready", "WorkerMissing", f"worker {name} not found; starting it again")
        return _AGAIN
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
        return _AGAIN
    if failed:
        return _failed(j, stage, w, settings)
    if succeeded:
        if stage == "Train":
            j.state["trained_index"] = report_url(report, paths["kb_index"])
            j.state["last_trained_index"] = j.state["trained_index"]
        elif stage == "Eval":
            j.state["evaluated_index"] = report_url(report, f"{paths['eval_output']}/index.json")
        update_kb_status(j, stage, report)
        j.state["attempt"] = 0
        j.transition(stage, "Completed", "WorkerSucceeded", name)
        return _AGAIN
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
    summarise_round(j, "Failed", f"{stage} failed: " + (w.error[:200] if w.error else f"exit code {code}"))
    j.status["lastFailure"] = {"round": j.state["round"], "stage": stage, "exitCode": code, "logTail": tail,
                               "time": _ts(j.now)}
    j.state["failed_rounds"] = j.state.get("failed_rounds", 0) + 1
    if j.state["failed_rounds"] >= settings.max_failed_rounds:
        return _fail_job(j, stage, w, tail, settings)
    j.transition("Train", "Waiting", "RoundFailed", f"round {j.state['round']} failed, its samples kept; "
                 "waiting for the trigger")
    j.soon(settings.idle_requeue)
    return Result(j.actions, j.status, j.state, j.requeue)


def _fail_job(j, stage, w, tail, settings):
    """Rounds failed ``max_failed_rounds`` times in a row: the job is Failed, with the worker's
    error, until its spec changes (no new round starts before)."""
    lines = [ln.strip() for ln in (tail or "").splitlines() if ln.strip()]
    error = w.error or (lines[-1] if lines else f"exit code {w.exit_code}")
    n = j.state["failed_rounds"]
    j.state.update(job_failed=True, failed_generation=j.meta.get("generation"))
    j.transition(stage, "Failed", "JobFailed",
                 f"{n} rounds in a row failed; no new round starts until the job's spec changes (fix it and "
                 f"apply it again). The worker's error: {error[:500]}",
                 data={"exitCode": w.exit_code, "logTail": tail})
    j.soon(settings.idle_requeue)
    return Result(j.actions, j.status, j.state, j.requeue)
