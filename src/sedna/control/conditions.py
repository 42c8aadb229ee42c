"""Conditions that say an object could not be handled, and the retry delay.

Pure (no clock, no I/O), like :mod:`sedna.control.reconcile`, which uses them:
a runtime that fails on one object (an exception while reconciling a job or
reading a dataset) records a ``ReconcileError`` condition on that object with
:func:`record_error`, tries again after :func:`error_backoff`, and goes on
with the other objects; the next pass that handles the object marks the
condition over (:func:`clear_error`). The state machine of a job ignores
these conditions: its state is the last condition of a state type.
"""

from datetime import datetime, timezone

from sedna.control.resources import minutes_to_time

#: The condition a runtime puts on an object it failed to handle.
ERROR_TYPE = "ReconcileError"


def utcnow():
    """Now, aware, in UTC."""
    return datetime.now(timezone.utc)


def wallclock():
    """Now, aware, in the machine's time zone: the runtimes' clock (a trigger's
    window is a wall-clock time of the machine that runs the controller)."""
    return datetime.now(timezone.utc).astimezone()


def ts(dt):
    """An aware datetime as RFC 3339 UTC, the way every status time is written."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text):
    """A status time (``ts``'s format) as an aware UTC datetime; None for none."""
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def error_backoff(attempt, base=2.0, cap=300.0):
    """Seconds before try ``attempt + 1`` after ``attempt`` failures: doubling, capped."""
    return min(base * 2 ** (min(max(attempt, 1), 64) - 1), cap)


def record_error(status, reason, message, now, attempt, retry_in, stage=None):
    """``status`` (a copy) with one ``ReconcileError`` condition saying why the
    runtime could not handle the object and when it tries again.

    Replaces an earlier ReconcileError (one per object, never a growing list);
    keeps its ``lastTransitionTime`` while the error persists. Any other
    content of ``status`` is kept as it is, even where it is the cause.
    """
    status = dict(status) if isinstance(status, dict) else {}
    conds = status.get("conditions")
    conds = list(conds) if isinstance(conds, list) else []
    old = [c for c in conds if isinstance(c, dict) and c.get("type") == ERROR_TYPE]
    since = old[-1].get("lastTransitionTime") if old and old[-1].get("status") == "True" else None
    conds = [c for c in conds if not (isinstance(c, dict) and c.get("type") == ERROR_TYPE)]
    cond = {"type": ERROR_TYPE, "status": "True", "reason": reason,
            "message": f"{message[:2000]} (failed {attempt} time{'s' if attempt != 1 else ''}; "
                       f"next try in {retry_in:g}s)",
            "lastTransitionTime": since or ts(now), "lastHeartbeatTime": ts(now)}
    if stage is not None:
        cond["stage"] = stage
    conds.append(cond)
    status["conditions"] = conds
    return status


def clear_error(status, now):
    """Mark a standing ReconcileError of ``status`` as over: its entry in
    ``status["conditions"]`` (a list the caller owns) is replaced by one with
    status False. True if there was one."""
    conds = status.get("conditions")
    for i, c in enumerate(conds if isinstance(conds, list) else []):
        if isinstance(c, dict) and c.get("type") == ERROR_TYPE and c.get("status") == "True":
            conds[i] = dict(c, status="False", reason="Recovered", lastTransitionTime=ts(now),
                            message="recovered; the last error was: " + str(c.get("message", ""))[:2000])
            return True
    return False


_WAIT_PREFIX = {"RoundSucceeded": "round {r} succeeded", "RoundFailed": "round {r} failed, its samples kept"}


#: Dataset condition types of an index that cannot be read, by the watcher's event reason.
INDEX_CONDITION = {"Missing": "IndexMissing", "NotRegular": "IndexUnreadable", "Unreadable": "IndexUnreadable"}


def _last_index(conds):
    """Position of the last index condition (``Index...``) in ``conds``, or None."""
    for i in range(len(conds) - 1, -1, -1):
        if isinstance(conds[i], dict) and str(conds[i].get("type", "")).startswith("Index"):
            return i
    return None


def record_index_event(status, event, now):
    """Put an index watcher's poll ``event`` (None: read fine) into a Dataset's ``status``
    conditions (in place); True when something changed. One entry per change; an index
    that could not be read and can be read again marks that condition ``False``."""
    conds = status["conditions"] = list(status.get("conditions") or [])
    i = _last_index(conds)
    last = conds[i] if i is not None else {}
    if event is None:
        if last.get("type") in INDEX_CONDITION.values() and last.get("status") == "True":
            conds[i] = dict(last, status="False", lastTransitionTime=ts(now))
            return True
        return False
    reason, message = getattr(event, "reason", str(event)), getattr(event, "message", "") or str(event)
    if last.get("reason") == reason and last.get("message") == message and last.get("status") == "True":
        return False
    conds.append({"type": INDEX_CONDITION.get(reason, "IndexChanged"), "status": "True", "reason": reason,
                  "message": message, "lastTransitionTime": ts(now)})
    status["conditions"] = conds[-10:]
    return True


def index_problem(dataset_status):
    """Why a Dataset's index cannot be read now ("" when it can), from its conditions."""
    conds = (dataset_status or {}).get("conditions")
    i = _last_index(conds if isinstance(conds, list) else [])
    last = conds[i] if i is not None else {}
    if last.get("type") in INDEX_CONDITION.values() and last.get("status") == "True":
        return str(last.get("message") or last.get("reason") or "")
    return ""


def waiting_message(cond, trigger, pending, now, problem=""):
    """``(message, data)`` of a job's Train/Waiting condition ``cond``: how the last
    round ended (from the condition's reason) and what the trigger waits for —
    ``pending`` new training samples against its condition, or its timer window, or why the
    Dataset's index cannot be read (``problem``)."""
    when = f"{trigger.operator} {trigger.threshold:g}"
    if not trigger.in_window(now):
        why = (f"outside the training window {minutes_to_time(trigger.start)}-{minutes_to_time(trigger.end)} "
               f"({pending} new training samples; trains when {when})")
    elif problem:
        why = f"waiting for training samples: the Dataset's {problem}"
    else:
        why = f"waiting for training samples: {pending} new, trains when {when}"
    prefix = _WAIT_PREFIX.get(cond.get("reason"), "").format(r=cond.get("round", "?"))
    return (f"{prefix}; {why}" if prefix else why), {"pendingTrainSamples": pending,
                                                      "trigger": f"num_of_samples {when}"}
