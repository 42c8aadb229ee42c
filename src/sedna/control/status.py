"""Status bodies checked like specs: every field the control plane reads back
has a type, so that a status written through the API (``PUT .../status``) or
left by an older version cannot make the controller fail on the object.

:func:`check_status` is what :func:`sedna.control.resources.validate_status`
runs; the controller also runs it on a status it failed on, to say which
field is wrong. The schema is the one the controller writes (CONTRACTS §4):
conditions of ``{type, status, stage, reason, message, lastTransitionTime,
lastHeartbeatTime, data, round}``, and per kind the fields below. Fields whose
content comes from workers' reports (model metrics, the knowledge-base
version) stay free-form, so that no report can make a status invalid.
"""

from __future__ import annotations

import re

from sedna.control.validation import Checker, index_path, is_number, key_path, typename
from sedna.common.constants import DATASET, JOB

STAGES = ("Train", "Eval", "Deploy")
CONDITION_STATUSES = ("True", "False", "Unknown")
MAX_ITEMS = 1000        # entries of a status list (the controller keeps 30 conditions, 100 rounds)
MAX_TEXT = 65536        # characters of one status string (log tails are 2000)
MAX_COUNT = 2 ** 53     # counts stay exact in JSON numbers
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")

# field -> kind of value (see _check_value); "?" after a kind: null allowed
_CONDITION = {"type": "word", "status": "condstatus", "stage": "stage", "reason": "text", "message": "text",
              "lastTransitionTime": "time", "lastHeartbeatTime": "time", "data": "map", "round": "count"}
_ROUND = {"round": "count", "phase": "text", "startTime": "time?", "completionTime": "time?",
          "trainSamples": "count", "evalSamples": "count", "reason": "text"}
_FAILURE = {"round": "count", "stage": "stage", "exitCode": "int?", "logTail": "text", "time": "time"}
_KNOWLEDGE_BASE = {"AIModels": "models", "AIClasses": "words", "version": "any", "samples": "counts"}
_MODEL = {"name": "text", "url": "text", "format": "text", "metrics": "any", "evalMetrics": "any"}
_FIELDS = {
    DATASET: {"conditions": "conditions", "numberOfSamples": "count", "updateTime": "time?"},
    JOB: {"conditions": "conditions", "startTime": "time?", "completionTime": "time?",
                            "rounds": "rounds", "knowledgeBase": "kb", "lastFailure": "failure"},
}


def check_status(kind: str, status, path: str = "status") -> list:
    """Problems of ``status`` for ``kind`` (a kind name as in ``resources.KINDS``), as ``(path, message)``."""
    c = Checker()
    fields = _FIELDS[kind]
    s = c.mapping(status, path, allowed=tuple(fields))
    if s is not None:
        for name, value in s.items():
            if name in fields:
                _check_value(c, value, key_path(path, name), fields[name], kind)
    return c.errors


def _check_value(c: Checker, value, path, what, kind):
    if what.endswith("?"):
        if value is None:
            return
        what = what[:-1]
    simple = _SIMPLE.get(what)
    if simple is not None:
        simple(c, value, path)
    elif what == "conditions":
        _each(c, value, path, lambda v, p: _record(c, v, p, _condition_fields(kind), ("type", "status"), kind))
    elif what == "rounds":
        _each(c, value, path, lambda v, p: _record(c, v, p, _ROUND, ("round",), kind))
    elif what == "failure":
        _record(c, value, path, _FAILURE, (), kind)
    elif what == "kb":
        _record(c, value, path, _KNOWLEDGE_BASE, (), kind, strict=False)
    elif what == "models":
        _each(c, value, path, lambda v, p: _record(c, v, p, _MODEL, ("name",), kind, strict=False))
    elif what == "words":
        _each(c, value, path, lambda v, p: _text(c, v, p))
    elif what == "counts":
        m = c.mapping(value, path)
        for k, v in (m or {}).items():
            if isinstance(k, str):
                _count(c, v, key_path(path, k))
    elif what != "any":
        raise AssertionError(f"unknown status field kind {what!r}")


def _condition_fields(kind):
    if kind == JOB:
        return _CONDITION
    return {k: v for k, v in _CONDITION.items() if k != "stage"}


def _record(c: Checker, value, path, fields, required, kind, strict=True):
    """A mapping whose known ``fields`` are typed; unknown ones refused when ``strict``."""
    m = c.mapping(value, path, allowed=tuple(fields) if strict else None, required=required)
    for name, v in (m or {}).items():
        if name in fields:
            _check_value(c, v, key_path(path, name), fields[name], kind)


def _each(c: Checker, value, path, check):
    items = c.list(value, path)
    if items is None:
        return
    if len(items) > MAX_ITEMS:
        c.err(path, f"must have at most {MAX_ITEMS} entries (got {len(items)})")
        return
    for i, item in enumerate(items):
        check(item, index_path(path, i))


def _text(c: Checker, value, path):
    if c.string(value, path) is not None and len(value) > MAX_TEXT:
        c.err(path, f"must have at most {MAX_TEXT} characters (got {len(value)})")


def _word(c: Checker, value, path):
    if c.string(value, path, non_empty=True) is not None and len(value) > 128:
        c.err(path, f"must have at most 128 characters (got {len(value)})")


def _time(c: Checker, value, path):
    if c.string(value, path) is not None and not _TIME.match(value):
        c.err(path, f"must be an RFC 3339 time such as \"2026-11-27T16:00:00Z\" (got {value[:40]!r})")


def _count(c: Checker, value, path):
    c.integer(value, path, 0, MAX_COUNT, what="a count (an integer)")


def _int(c: Checker, value, path):
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_COUNT:
        c.err(path, f"must be an integer (got {typename(value) if not is_number(value) else value!r})")


_SIMPLE = {
    "text": _text, "word": _word, "time": _time, "count": _count, "int": _int,
    "map": lambda c, v, p: c.mapping(v, p),
    "stage": lambda c, v, p: c.string(v, p, choices=STAGES),
    "condstatus": lambda c, v, p: c.string(v, p, choices=CONDITION_STATUSES),
}
