"""Resources of ``apiVersion: sedna.io/v1alpha1``: Dataset and LifelongLearningJob.

``validate`` checks a manifest the way a Kubernetes API server with strict field
validation would and reports *every* problem by its field path
(``spec.trainSpec.trigger.condition.operator: must be one of > >= = == != <= <``).
It returns a normalised deep copy: metadata defaults filled in, trigger times as
``"HH:MM"`` strings, trigger operators as symbols (the original's ``gt ge lt le eq
ne`` accepted), a Dataset's ``format`` in lower case (the original's ``CSV``),
``status`` dropped. Everything else keeps the user's spelling
(quantities stay strings such as ``"12Gi"``; use :func:`parse_cpu` and
:func:`parse_memory` to read them).

Field paths are dotted, with list indices in brackets; a mapping key that is not
a plain identifier is written as a JSON string in brackets
(``metadata.labels["app.kubernetes.io/name"]``). Problems with the manifest as a
whole use the path ``(root)``. ``validate_status`` does the same for status bodies.

The checks live in smaller modules, re-exported here: :mod:`~sedna.control.validation`
(the checker and paths), :mod:`~sedna.control.names` (name rules and lengths),
:mod:`~sedna.control.podspec` (pod templates), :mod:`~sedna.control.quantities`,
:mod:`~sedna.control.status`.
"""

from __future__ import annotations

import copy
import os
import re
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import yaml

from sedna.common.comparison import SYMBOLS, canonical
from sedna.common.exceptions import ManifestError
from sedna.control.names import LABEL_MSG, SUBDOMAIN_MSG, job_name_problem  # noqa: F401 - re-exported
from sedna.control.podspec import check_template
from sedna.control.quantities import parse_cpu, parse_memory  # noqa: F401 - re-exported
from sedna.control.status import check_status
from sedna.control.validation import (  # noqa: F401 - key_path, index_path re-exported
    MAX_PATH_BYTES, ROOT, Checker, index_path, is_number, key_path, suggest, typename,
)
from sedna.common.constants import DATASET, DATASETS, GROUP_VERSION, JOB, JOBS

API_VERSION = GROUP_VERSION

KINDS = {
    DATASET: {"plural": DATASETS, "singular": "dataset", "short": ["ds"]},
    JOB: {
        "plural": JOBS,
        "singular": "lifelonglearningjob",
        "short": ["ll", "lljob"],
    },
}

OPERATORS = SYMBOLS  # the original's words gt ge lt le eq ne are accepted too (normalised)
METRICS = ("num_of_samples",)
DATASET_FORMATS = ("txt", "csv")
DEFAULT_TRAIN_PROB = 0.8  # filled in when spec.dataset.trainProb is absent (the tutorial's value)

# Bounds of the numeric fields, wide enough for any real use, narrow enough that
# no arithmetic on them overflows (a timedelta holds at most 999999999 days).
MIN_CHECK_PERIOD = 1                # seconds
MAX_CHECK_PERIOD = 365 * 24 * 3600  # one year, in seconds
MAX_THRESHOLD = 10 ** 9             # new training samples


# --------------------------------------------------------------------------- kinds

def _kind_names(kind):
    info = KINDS[kind]
    return [kind, info["plural"], info["singular"], *info["short"]]


def resolve_kind(name) -> str:
    """The kind named by ``name``: a kind, plural, singular or short name, any case."""
    if isinstance(name, str):
        low = name.strip().lower()
        for kind in KINDS:
            if low in (n.lower() for n in _kind_names(kind)):
                return kind
    accepted = ", ".join(n for kind in KINDS for n in _kind_names(kind))
    raise ManifestError([("kind", f"unknown resource type {name!r}; accepted: {accepted}")])


def plural(kind: str) -> str:
    """The plural (URL) name of a kind, e.g. ``lifelonglearningjobs``."""
    return KINDS[resolve_kind(kind)]["plural"]


# --------------------------------------------------------------------------- times of day

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def time_to_minutes(value, *, is_end: bool = False) -> int:
    """``"HH:MM"`` (or an integer count of minutes, which is what YAML 1.1 makes of an
    unquoted ``24:00``) -> minutes since midnight, 0..1440. ``24:00`` only as an end."""
    if isinstance(value, bool):
        raise ValueError("must be a time \"HH:MM\" (got boolean)")
    if isinstance(value, int):
        minutes = value
        if not 0 <= minutes <= 1440:
            raise ValueError(f"must be a time \"HH:MM\" between 00:00 and 24:00; got the number {value} "
                             f"(YAML reads unquoted H:MM:SS as a number; quote the time)")
    elif isinstance(value, str):
        m = _HHMM.match(value.strip())
        if not m:
            raise ValueError(f"must be a time \"HH:MM\" (got {value!r})")
        hh, mm = int(m.group(1)), int(m.group(2))
        if hh > 24 or mm > 59 or (hh == 24 and mm != 0):
            raise ValueError(f"must be a time \"HH:MM\" with 00 <= HH <= 24 and 00 <= MM <= 59, "
                             f"24 only in 24:00 (got {value!r})")
        minutes = hh * 60 + mm
    else:
        raise ValueError(f"must be a time \"HH:MM\" (got {typename(value)})")
    if minutes == 1440 and not is_end:
        raise ValueError("24:00 is allowed only as the end of the window")
    return minutes


def minutes_to_time(minutes: int) -> str:
    """0..1440 -> ``"HH:MM"``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --------------------------------------------------------------------------- YAML loading

class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unhashable key", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_manifests(text_or_path, source: str | None = None) -> list[dict]:
    """All manifests of a multi-document YAML text or file, empty documents skipped.

    ``text_or_path``: a ``pathlib.Path``, a string naming an existing file (one line),
    or YAML text. A syntax error, or a document that is not a mapping, raises
    ManifestError whose path is ``<file>:<line>``.
    """
    if isinstance(text_or_path, Path) or (
            isinstance(text_or_path, str) and "\n" not in text_or_path and text_or_path.strip()
            and os.path.isfile(text_or_path)):
        name = source or str(text_or_path)
        try:
            text = Path(text_or_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ManifestError([(name, f"cannot read: {e}")], source=name) from None
    else:
        text = text_or_path
        name = source or "<input>"
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ManifestError([(name, f"not UTF-8: {e}")], source=name) from None
    out = []
    loader = _StrictLoader(text)
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
                data = loader.construct_document(node) if node is not None else None
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
                line = mark.line + 1 if mark is not None else 1
                problem = getattr(e, "problem", None) or str(e)
                context = getattr(e, "context", None)
                msg = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
                raise ManifestError([(f"{name}:{line}", msg)], source=name) from None
            if data is None:
                continue
            if not isinstance(data, dict):
                line = node.start_mark.line + 1
                raise ManifestError([(f"{name}:{line}", f"a manifest must be a mapping, not {typename(data)}")],
                                    source=name)
            out.append(data)
    finally:
        loader.dispose()
    return out


# --------------------------------------------------------------------------- kinds' specs

def _check_location(c: Checker, value, path):
    """A file or folder the controller and the workers open: an absolute path or a URL."""
    v = c.string(value, path, non_empty=True)
    c.os_string(v, path, MAX_PATH_BYTES, what="path")
    if isinstance(v, str) and v.strip() and "://" not in v and not v.startswith("/"):
        c.err(path, f"must be an absolute path or a URL (got {v!r}): the controller and the workers do not run "
                    "in the folder you apply from, so a relative path would name another file; write it in full, "
                    "starting with /")


def _check_dataset_spec(c: Checker, spec, path, out_spec=None):
    s = c.mapping(spec, path, allowed=("url", "format", "nodeName", "credentialName"),
                  required=("url", "format", "nodeName"))
    if s is None:
        return
    if isinstance(s.get("format"), str) and s["format"].strip().lower() in DATASET_FORMATS:
        s = dict(s, format=s["format"].strip().lower())  # the original accepts CSV, Csv...
        if isinstance(out_spec, dict):
            out_spec["format"] = s["format"]
    if "url" in s:
        _check_location(c, s["url"], key_path(path, "url"))
    if "format" in s:
        c.string(s["format"], key_path(path, "format"), choices=DATASET_FORMATS)
    if "nodeName" in s:
        c.string(s["nodeName"], key_path(path, "nodeName"), non_empty=True)
    if "credentialName" in s:
        c.string(s["credentialName"], key_path(path, "credentialName"))


def _check_job_spec(c: Checker, spec, path, out_spec):
    s = c.mapping(spec, path,
                  allowed=("dataset", "trainSpec", "evalSpec", "deploySpec", "outputDir", "credentialName"),
                  required=("dataset", "trainSpec", "evalSpec", "deploySpec", "outputDir"))
    if s is None:
        return
    if "dataset" in s:
        dp = key_path(path, "dataset")
        d = c.mapping(s["dataset"], dp, allowed=("name", "trainProb"), required=("name",))
        if d is not None:
            if "name" in d:
                c.dns(d["name"], key_path(dp, "name"))
            if "trainProb" in d:
                p = d["trainProb"]
                if not is_number(p) or not 0 < p <= 1:
                    c.err(key_path(dp, "trainProb"), f"must be a number with 0 < trainProb <= 1 (got {p!r})")
            else:
                out_spec["dataset"]["trainProb"] = DEFAULT_TRAIN_PROB
    if "trainSpec" in s:
        tp = key_path(path, "trainSpec")
        t = c.mapping(s["trainSpec"], tp, allowed=("template", "trigger"), required=("template", "trigger"))
        if t is not None:
            if "template" in t:
                check_template(c, t["template"], key_path(tp, "template"))
            if "trigger" in t:
                norm = _check_trigger(c, t["trigger"], key_path(tp, "trigger"))
                if norm is not None:
                    out_spec["trainSpec"]["trigger"] = norm
    for part in ("evalSpec", "deploySpec"):
        if part in s:
            pp = key_path(path, part)
            t = c.mapping(s[part], pp, allowed=("template",), required=("template",))
            if t is not None and "template" in t:
                check_template(c, t["template"], key_path(pp, "template"))
    if "outputDir" in s:
        _check_location(c, s["outputDir"], key_path(path, "outputDir"))
    if "credentialName" in s:
        c.string(s["credentialName"], key_path(path, "credentialName"))


def _check_trigger(c: Checker, trigger, path):
    """Checks a trigger; returns its normalised form (or None if it has errors)."""
    before = len(c.errors)
    t = c.mapping(trigger, path, allowed=("checkPeriodSeconds", "timer", "condition"), required=("condition",))
    if t is None:
        return None
    out = {"checkPeriodSeconds": None, "timer": None, "condition": None}
    if "checkPeriodSeconds" in t and t["checkPeriodSeconds"] is not None:
        v = t["checkPeriodSeconds"]
        if isinstance(v, bool) or not isinstance(v, int) or not MIN_CHECK_PERIOD <= v <= MAX_CHECK_PERIOD:
            c.err(key_path(path, "checkPeriodSeconds"),
                  f"must be a positive integer number of seconds, at most {MAX_CHECK_PERIOD} (one year) "
                  f"(got {v!r})")
        else:
            out["checkPeriodSeconds"] = v
    if "timer" in t and t["timer"] is not None:
        tp = key_path(path, "timer")
        tm = c.mapping(t["timer"], tp, allowed=("start", "end"), required=("start", "end"))
        if tm is not None:
            norm = {}
            for k in ("start", "end"):
                if k in tm:
                    try:
                        norm[k] = minutes_to_time(time_to_minutes(tm[k], is_end=(k == "end")))
                    except ValueError as e:
                        c.err(key_path(tp, k), str(e))
            out["timer"] = norm
    if "condition" in t:
        cp = key_path(path, "condition")
        cond = c.mapping(t["condition"], cp, allowed=("operator", "threshold", "metric"),
                         required=("operator", "threshold"))
        if cond is not None:
            op = cond.get("operator")
            if "operator" in cond and canonical(op) is None:
                if isinstance(op, str):
                    c.err(key_path(cp, "operator"), "must be one of " + " ".join(OPERATORS) + " (or gt ge lt le eq ne)")
                else:
                    c.string(op, key_path(cp, "operator"))
            if "threshold" in cond:
                v = cond["threshold"]
                if not is_number(v) or not 0 <= v <= MAX_THRESHOLD:
                    c.err(key_path(cp, "threshold"),
                          f"must be a number >= 0 and <= {MAX_THRESHOLD} (a count of samples) (got {v!r})")
            if "metric" in cond:
                c.string(cond["metric"], key_path(cp, "metric"), choices=METRICS)
            out["condition"] = {"operator": canonical(op) or op, "threshold": cond.get("threshold"),
                                "metric": cond.get("metric", "num_of_samples")}
    return out if len(c.errors) == before else None


# --------------------------------------------------------------------------- validate

_TOP = ("apiVersion", "kind", "metadata", "spec", "status")
_META = ("name", "generateName", "namespace", "labels", "annotations", "uid", "resourceVersion",
         "generation", "creationTimestamp")


def validate(manifest: dict, source=None) -> dict:
    """Validate ``manifest``; return a normalised deep copy or raise ManifestError
    listing every problem as ``(path, message)``.

    Normalisation: ``status`` dropped; ``metadata.namespace`` defaults to ``"default"``,
    ``labels``/``annotations`` to ``{}``; for a LifelongLearningJob ``spec.dataset.trainProb``
    defaults to 0.8 and the trigger becomes
    ``{"checkPeriodSeconds": int | None, "timer": {"start": "HH:MM", "end": "HH:MM"} | None,
    "condition": {"operator", "threshold", "metric"}}`` (metric defaults to
    ``num_of_samples``). Everything else is copied as given.
    """
    c = Checker()
    if c.mapping(manifest, ROOT) is None:
        raise ManifestError(c.errors, source=source)
    out = copy.deepcopy(manifest)
    out.pop("status", None)
    for k in manifest:
        if isinstance(k, str) and k not in _TOP:
            c.err(key_path(ROOT, k), "unknown field" + suggest(k, _TOP))
        elif not isinstance(k, str):
            c.err(ROOT, f"field names must be strings (got {typename(k)} {k!r})")
    for k in ("apiVersion", "kind", "metadata", "spec"):
        if k not in manifest:
            c.err(k, "required")

    if "apiVersion" in manifest and manifest["apiVersion"] != API_VERSION:
        c.err("apiVersion", f"must be {API_VERSION} (got {manifest['apiVersion']!r})")
    kind = manifest.get("kind")
    if "kind" in manifest:
        if not isinstance(kind, str) or kind not in KINDS:
            hint = ""
            try:
                hint = f"; did you mean {resolve_kind(kind)!r}?"
            except ManifestError:
                pass
            c.err("kind", "must be one of " + " ".join(KINDS) + hint)
            kind = None

    if "metadata" in manifest:
        _check_metadata(c, manifest["metadata"], out, kind)

    if "spec" in manifest:
        if kind == DATASET:
            _check_dataset_spec(c, manifest["spec"], "spec", out["spec"])
        elif kind == JOB:
            _check_job_spec(c, manifest["spec"], "spec", out["spec"])
        else:
            c.mapping(manifest["spec"], "spec")

    if c.errors:
        raise ManifestError(c.errors, source=source)
    return out


def _check_metadata(c: Checker, meta, out, kind):
    generated = isinstance(meta, dict) and "generateName" in meta and "name" not in meta
    md = c.mapping(meta, "metadata", allowed=_META, required=() if generated else ("name",))
    if md is None:
        return
    if generated:
        c.err("metadata.name", "required: generateName is honoured only when creating (POST), as in Kubernetes")
    if "generateName" in md:
        c.string(md["generateName"], "metadata.generateName", non_empty=True)
    before = len(c.errors)
    if "name" in md:
        c.dns(md["name"], "metadata.name")
    if md.get("namespace") is not None:
        c.dns(md["namespace"], "metadata.namespace", label=True)
    if kind == JOB and len(c.errors) == before and isinstance(md.get("name"), str):
        problem = job_name_problem(md["name"], md.get("namespace") or "default")
        if problem:
            c.err("metadata.name", problem)
    for k in ("labels", "annotations"):
        if md.get(k) is not None:
            c.str_map(md[k], f"metadata.{k}")
    if "uid" in md:
        c.loose(md["uid"], "metadata.uid", "str")
    if "resourceVersion" in md:
        c.loose(md["resourceVersion"], "metadata.resourceVersion", "str")
    if "generation" in md:
        c.loose(md["generation"], "metadata.generation", "int")
    if "creationTimestamp" in md and not isinstance(md["creationTimestamp"], (str, datetime, date)):
        c.err("metadata.creationTimestamp", f"must be a timestamp (got {typename(md['creationTimestamp'])})")
    om = out["metadata"]
    if om.get("namespace") is None:
        om["namespace"] = "default"
    for k in ("labels", "annotations"):
        if om.get(k) is None:
            om[k] = {}
    if isinstance(om.get("creationTimestamp"), (datetime, date)):
        om["creationTimestamp"] = _rfc3339(om["creationTimestamp"])


def validate_status(kind: str, status, source=None) -> dict:
    """Validate a status body of ``kind`` (any name :func:`resolve_kind` accepts);
    return a deep copy or raise ManifestError listing every problem as
    ``(path, message)``, paths starting with ``status`` (``status.conditions[0]:
    must be a mapping (got integer)``). The schema: :mod:`sedna.control.status`."""
    kind = resolve_kind(kind)
    errors = check_status(kind, status)
    if errors:
        raise ManifestError(errors, source=source)
    return copy.deepcopy(status)


def _rfc3339(t) -> str:
    if isinstance(t, datetime):
        if t.tzinfo is not None:
            t = t.astimezone(timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{t.isoformat()}T00:00:00Z"


def new_object(manifest: dict, now, uid: str | None = None) -> dict:
    """A stored object made from a validated manifest: a deep copy with
    ``metadata.uid`` (``uid`` or a new uuid4), ``resourceVersion`` "1", ``generation`` 1,
    ``creationTimestamp`` (RFC 3339 UTC, e.g. ``"2026-11-27T16:00:00Z"``) and an empty
    ``status``. ``now``: a datetime (naive means UTC) or a POSIX timestamp."""
    obj = copy.deepcopy(manifest)
    md = obj.setdefault("metadata", {})
    md.setdefault("namespace", "default")
    md.setdefault("labels", {})
    md.setdefault("annotations", {})
    if not isinstance(now, datetime):
        now = datetime.fromtimestamp(float(now), tz=timezone.utc)
    md["uid"] = uid or str(uuid.uuid4())
    md["resourceVersion"] = "1"
    md["generation"] = 1
    md["creationTimestamp"] = _rfc3339(now)
    obj["status"] = {}
    return obj
