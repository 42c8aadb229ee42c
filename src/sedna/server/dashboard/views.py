"""What the dashboard shows of a job, computed from the stored objects: pure
functions (no I/O, the time passed in), so each is tested with plain data and
the pages (:mod:`.jobs`) only format them.

* :func:`job_summary`: a job's row in the job list (state, round, the trigger's
  progress and why the job waits or failed);
* :func:`timeline`: the rounds, with each stage's duration and retries;
* :func:`eval_matrix`: the rounds × tasks matrix of one eval metric, from the
  eval workers' reports, with BWT, FWT and forgetting
  (:func:`sedna.core.lifelong_learning.measures.all_measures`, the demo's);
  FWT from the ``before`` and ``untrained`` scores an eval worker reports for
  the tasks new in its round (the robot job's does).
"""

import math
from datetime import timedelta

from sedna.control.columns import _last_state as last_state
from sedna.control.conditions import parse_ts
from sedna.control.resources import minutes_to_time
from sedna.control.trigger import Trigger
from sedna.core.lifelong_learning.measures import all_measures

STAGES = ("Train", "Eval", "Deploy")
_ORDER = {s: i for i, s in enumerate(STAGES)}
PREFERRED_METRICS = ("mIoU", "accuracy", "acc", "f1_score", "f1", "pixel_accuracy")
NOT_METRICS = ("n_samples", "deployed")
#: what an eval report may carry in a new task's metrics for FWT: the previous
#: version's scores on the task's eval samples, and an untrained model's
BEFORE, UNTRAINED = "before", "untrained"


# ------------------------------------------------------------------ job list
def trigger_progress(job, state, now):
    """The trigger's progress: new training samples against its condition, the
    timer window (open now or not), the check period and the next check."""
    spec = ((job.get("spec") or {}).get("trainSpec") or {}).get("trigger") or {}
    try:
        trig = Trigger.from_spec(spec)
    except ValueError as e:
        return {"error": str(e)}
    conds = (job.get("status") or {}).get("conditions") or []
    waiting = next((c for c in reversed(conds) if (c.get("stage"), c.get("type")) == ("Train", "Waiting")), {})
    pending = (waiting.get("data") or {}).get("pendingTrainSamples")
    last = parse_ts((state or {}).get("last_check"))
    set_window = bool(spec.get("timer")) or not trig.always_open  # a window the manifest sets, all day too
    window = f"{minutes_to_time(trig.start)}–{minutes_to_time(trig.end)}" if set_window else None
    return {"pending": pending, "operator": trig.operator, "threshold": trig.threshold,
            "met": None if pending is None else trig.condition_met(pending),
            "window": window, "all_day": trig.always_open, "in_window": trig.in_window(now),
            "period": trig.check_period,
            "next_check": None if last is None else max(last + timedelta(seconds=trig.check_period), now)}


def job_summary(job, state, now):
    """One job as the list shows it (``state``: the runtime's private state, or None)."""
    st = job.get("status") or {}
    conds = st.get("conditions") or []
    cur = last_state(conds)
    rounds = st.get("rounds") or []
    finished = rounds[-1] if rounds else {}
    failure = st.get("lastFailure")
    failed_last = finished.get("phase") == "Failed" or cur.get("type") == "Failed"
    return {"namespace": job["metadata"]["namespace"], "name": job["metadata"]["name"],
            "stage": cur.get("stage", "Train"), "type": cur.get("type", "Waiting"),
            "reason": cur.get("reason") or "", "message": cur.get("message") or "",
            "round": max([r.get("round", 0) for r in rounds] + [cur.get("round", 0) or 0]),
            "last_round": finished, "trigger": trigger_progress(job, state, now),
            "failure": failure if failed_last and failure else None,
            "kb_version": (st.get("knowledgeBase") or {}).get("version")}


# ------------------------------------------------------------------ timeline
def _seconds(start, end):
    a, b = parse_ts(start), parse_ts(end)
    return None if a is None or b is None else max(0.0, (b - a).total_seconds())


def _stage_rows(conds, r):
    """Round ``r``'s stages from its conditions: started, ended, seconds, retries, outcome."""
    rows = {}
    for c in conds:
        if c.get("round") != r or c.get("stage") not in STAGES:
            continue
        row = rows.setdefault(c["stage"], {"stage": c["stage"], "start": None, "end": None, "retries": 0,
                                           "outcome": "Waiting", "message": ""})
        t = c.get("lastTransitionTime")
        kind = c.get("type")
        if kind == "Starting" and row["start"] is None:
            row["start"] = t
        if kind == "Failed" and c.get("reason") == "Retrying":
            row["retries"] += 1
        if kind in ("Completed", "Failed") and c.get("reason") != "Retrying":
            row["end"] = t
        if kind != "Waiting" or row["outcome"] == "Waiting":
            row["outcome"] = "Retrying" if c.get("reason") == "Retrying" else kind
            row["message"] = c.get("message") or ""
    for row in rows.values():
        row["seconds"] = _seconds(row["start"], row["end"])
    return [rows[s] for s in sorted(rows, key=_ORDER.get)]


def timeline(status):
    """Every round, newest last: ``{round, phase, start, end, seconds, train/eval samples,
    stages}``; ``stages`` is empty for rounds older than the conditions the
    controller keeps (the current and the previous round)."""
    status = status or {}
    conds = status.get("conditions") or []
    out = {}
    for r in status.get("rounds") or []:
        out[r.get("round")] = {"round": r.get("round"), "phase": r.get("phase", "?"), "start": r.get("startTime"),
                               "end": r.get("completionTime"), "train": r.get("trainSamples"),
                               "eval": r.get("evalSamples"), "reason": r.get("reason") or ""}
    for c in conds:
        r = c.get("round")
        if r and r not in out and c.get("stage") in STAGES and c.get("type") != "Waiting":
            out[r] = {"round": r, "phase": "Running", "start": None, "end": None, "train": None, "eval": None,
                      "reason": ""}
    rows = [out[r] for r in sorted(out)]
    for row in rows:
        row["stages"] = _stage_rows(conds, row["round"])
        if row["start"] is None and row["stages"]:
            row["start"] = row["stages"][0]["start"]
        row["seconds"] = _seconds(row["start"], row["end"])
    return rows


# ------------------------------------------------------------------ heatmap
def eval_metrics_of(report):
    """``{task: {metric: value}}`` of an eval worker's report (its first result)."""
    for res in (report or {}).get("results") or []:
        if isinstance(res, dict) and isinstance(res.get("metrics"), dict):
            return {t: m for t, m in res["metrics"].items() if isinstance(m, dict)}
    return {}


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def metric_names(per_round):
    """The metrics the eval reports carry, the preferred first."""
    names = []
    for tasks in per_round.values():
        for m in tasks.values():
            names += [k for k, v in m.items() if k not in NOT_METRICS and _is_number(v) and k not in names]
    return sorted(names, key=lambda k: (PREFERRED_METRICS.index(k) if k in PREFERRED_METRICS else 99, k))


def eval_matrix(eval_reports, train_reports, metric=None):
    """The rounds × tasks matrix of ``metric`` (default: the first of
    :data:`PREFERRED_METRICS` present) from ``{round: eval report}``, and the
    measures over it. A task is learned in the first round whose train report
    (``{round: report}``) names it (else the first round that evaluated it).
    A cell no eval measured (no eval sample of that task that round) is None,
    and the measures leave it out. FWT takes a task's score before it was
    learned (``R[learned - 1][task]``) from the ``before`` scores and its
    baseline from the ``untrained`` scores (sub-dicts of the task's metrics) of
    the first report that carries them (the round that learned it): ``before``
    and ``untrained`` in the result; a task without both is left out of FWT, and
    without any FWT is None."""
    per_round = {r: eval_metrics_of(rep) for r, rep in sorted(eval_reports.items())}
    names = metric_names(per_round)
    metric = metric if metric in names else (names[0] if names else None)
    rounds = sorted(per_round)
    learned = {}
    for r in sorted(set(rounds) | set(train_reports)):
        for t in list(eval_metrics_of(train_reports.get(r))) + list(per_round.get(r, {})):
            learned.setdefault(t, r)
    tasks = sorted(learned, key=lambda t: (learned[t], t))
    cells = [[_cell(per_round[r].get(t), metric) for t in tasks] for r in rounds]
    before, untrained = {}, {}
    for r in rounds:
        for t, m in per_round[r].items():
            for key, found in ((BEFORE, before), (UNTRAINED, untrained)):
                v = _cell(m.get(key) if isinstance(m.get(key), dict) else None, metric)
                if v is not None:
                    found.setdefault(t, v)
    measures = {"BWT": None, "FWT": None, "forgetting": None}
    if rounds and tasks and metric:
        grid = [[math.nan if v is None else v for v in row] for row in cells]
        index = {r: i for i, r in enumerate(rounds)}
        rows = [index.get(learned[t], 0) for t in tasks]
        for j, t in enumerate(tasks):  # the score before learning: the row above the round that learned it
            if rows[j] >= 1 and t in before and math.isnan(grid[rows[j] - 1][j]):
                grid[rows[j] - 1][j] = before[t]
        got = all_measures(grid, rows, [untrained.get(t, math.nan) for t in tasks])
        measures = {k: (None if not _is_number(got[k]) else got[k]) for k in measures}
    return {"metric": metric, "metrics": names, "rounds": rounds, "tasks": tasks, "cells": cells,
            "learned": learned, "measures": measures, "before": before, "untrained": untrained}


def _cell(task_metrics, metric):
    v = (task_metrics or {}).get(metric)
    return v if _is_number(v) else None


def heat_class(value, lo=0.0, hi=1.0):
    """The CSS class of a heatmap cell: ``h0`` … ``h9`` over [lo, hi], ``hna`` for none."""
    if value is None:
        return "hna"
    if hi <= lo:  # one score (or all equal): the middle of the scale
        return "h5"
    return f"h{min(9, max(0, int((value - lo) / (hi - lo) * 10)))}"
