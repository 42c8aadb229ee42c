"""Resources of ``apiVersion: sedna.io/v1alpha1``: Dataset and LifelongLearningJob.

``validate`` checks a manifest the way a Kubernetes API server with strict field
validation would and reports *every* problem by its field path
(``spec.trainSpec.trigger.condition.operator: must be one of > >= = == != <= <``).
It returns a normalised deep copy: metadata defaults filled in, trigger times as
``"HH:MM"`` strings, ``status`` dropped. Everything else keeps the user's spelling
(quantities stay strings such as ``"12Gi"``; use :func:`parse_cpu` and
:func:`parse_memory` to read them).

Field paths are dotted, with list indices in brackets; a mapping key that is not
a plain identifier is written as a JSON string in brackets
(``metadata.labels["app.kubernetes.io/name"]``). Problems with the manifest as a
whole use the path ``(root)``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import yaml

from sedna.common.comparison import COMPARISONS
from sedna.common.exceptions import ManifestError

API_VERSION = "sedna.io/v1alpha1"
ROOT = "(root)"

KINDS = {
    "Dataset": {"plural": "datasets", "singular": "dataset", "short": ["ds"]},
    "LifelongLearningJob": {
        "plural": "lifelonglearningjobs",
        "singular": "lifelonglearningjob",
        "short": ["ll", "lljob"],
    },
}

OPERATORS = tuple(COMPARISONS)
METRICS = ("num_of_samples",)
DATASET_FORMATS = ("txt", "csv")
DEFAULT_TRAIN_PROB = 0.8  # filled in when spec.dataset.trainProb is absent (the tutorial's value)

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SUBDOMAIN_MSG = "must be a DNS-1123 subdomain (lowercase letters, digits, '-', '.'; at most 253 characters)"
LABEL_MSG = "must be a DNS-1123 label (lowercase letters, digits, '-'; at most 63 characters)"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


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


# --------------------------------------------------------------------------- quantities

_QUANTITY = re.compile(r"^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$")
_SUFFIX = {
    None: Decimal(1), "m": Decimal("0.001"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}
_MAX_BYTES = 2 ** 63 - 1
_MAX_CORES = Decimal(10) ** 9


def _quantity(q) -> tuple[Decimal, str | None]:
    """A Kubernetes quantity as a Decimal and its suffix; ValueError if malformed."""
    if isinstance(q, bool) or not isinstance(q, (int, float, str)):
        raise ValueError(f"invalid quantity {q!r}: must be a number or a string such as '500m' or '12Gi'")
    if isinstance(q, float):
        if not math.isfinite(q):
            raise ValueError(f"invalid quantity {q!r}: must be finite")
        value = Decimal(repr(q))
        suffix = None
    elif isinstance(q, int):
        value, suffix = Decimal(q), None
    else:
        m = _QUANTITY.match(q)
        if not m:
            raise ValueError(f"invalid quantity {q!r}: expected a number with an optional suffix "
                             f"(m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei), e.g. '500m', '1.5', '12Gi'")
        sign, digits, suffix, exp = m.groups()
        value = Decimal(digits)
        if exp is not None:
            if abs(int(exp)) > 30:
                raise ValueError(f"invalid quantity {q!r}: exponent out of range")
            value = value.scaleb(int(exp))
        value *= _SUFFIX[suffix]
        if sign == "-":
            value = -value
    if value < 0:
        raise ValueError(f"invalid quantity {q!r}: must not be negative")
    return value, suffix


def parse_cpu(q) -> float:
    """CPU quantity -> cores: ``6`` -> 6.0, ``"500m"`` -> 0.5, ``"1.5"`` -> 1.5."""
    value, _ = _quantity(q)
    if value > _MAX_CORES:
        raise ValueError(f"invalid cpu quantity {q!r}: too large")
    return float(value)


def parse_memory(q) -> int:
    """Memory quantity -> bytes (rounded up): ``"12Gi"``, ``"256Mi"``, ``"1G"``, ``1048576``."""
    value, suffix = _quantity(q)
    if suffix == "m":
        raise ValueError(f"invalid memory quantity {q!r}: 'm' means milli-bytes; did you mean "
                         f"'{str(q)[:-1]}Mi' or '{str(q)[:-1]}M'?")
    if value > _MAX_BYTES:
        raise ValueError(f"invalid memory quantity {q!r}: too large")
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


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
        raise ValueError(f"must be a time \"HH:MM\" (got {_typename(value)})")
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
                raise ManifestError([(f"{name}:{line}", f"a manifest must be a mapping, not {_typename(data)}")],
                                    source=name)
            out.append(data)
    finally:
        loader.dispose()
    return out


# --------------------------------------------------------------------------- validation helpers

def _typename(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, dict):
        return "mapping"
    return type(v).__name__


def key_path(parent: str, key) -> str:
    """The path of mapping key ``key`` under ``parent``."""
    part = key if isinstance(key, str) and _IDENT.match(key) else None
    if part is None:
        part = "[" + json.dumps(str(key)) + "]"
        return (parent if parent != ROOT else "") + part
    return part if parent in ("", ROOT) else f"{parent}.{part}"


def index_path(parent: str, i: int) -> str:
    return f"{parent}[{i}]"


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Checker:
    def __init__(self):
        self.errors: list[tuple[str, str]] = []

    def err(self, path, msg):
        self.errors.append((path, msg))

    # -- structure
    def mapping(self, value, path, allowed=None, required=()):
        """``value`` if it is a mapping (unknown and missing keys reported), else None."""
        if not isinstance(value, dict):
            self.err(path, f"must be a mapping (got {_typename(value)})")
            return None
        for k in value:
            if not isinstance(k, str):
                self.err(path, f"field names must be strings (got {_typename(k)} {k!r})")
            elif allowed is not None and k not in allowed:
                self.err(key_path(path, k), "unknown field" + _suggest(k, allowed))
        for k in required:
            if k not in value:
                self.err(key_path(path, k), "required")
        return value

    def list(self, value, path, non_empty=False):
        if not isinstance(value, list):
            self.err(path, f"must be a list (got {_typename(value)})")
            return None
        if non_empty and not value:
            self.err(path, "must not be empty")
        return value

    def string(self, value, path, non_empty=False, choices=None):
        if not isinstance(value, str):
            self.err(path, f"must be a string (got {_typename(value)})")
            return None
        if non_empty and not value.strip():
            self.err(path, "must not be empty")
            return None
        if choices is not None and value not in choices:
            self.err(path, "must be one of " + " ".join(ch or '""' for ch in choices))
            return None
        return value

    def dns(self, value, path, label=False):
        if self.string(value, path) is None:
            return
        if label:
            if len(value) > 63 or not _DNS1123_LABEL.match(value):
                self.err(path, LABEL_MSG)
        elif len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
            self.err(path, SUBDOMAIN_MSG)

    def str_map(self, value, path):
        if not isinstance(value, dict):
            self.err(path, f"must be a mapping of strings to strings (got {_typename(value)})")
            return
        for k, v in value.items():
            if not isinstance(k, str):
                self.err(path, f"keys must be strings (got {_typename(k)} {k!r})")
            elif not isinstance(v, str):
                self.err(key_path(path, k), f"must be a string (got {_typename(v)}){_quote_hint(v)}")

    def loose(self, value, path, kind):
        """Loose type check of a field the local runtime does not interpret."""
        ok = {
            "str": lambda v: isinstance(v, str),
            "bool": lambda v: isinstance(v, bool),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "map": lambda v: isinstance(v, dict),
            "list": lambda v: isinstance(v, list),
            "any": lambda v: True,
        }[kind](value)
        if not ok:
            name = {"str": "a string", "bool": "a boolean", "int": "an integer",
                    "map": "a mapping", "list": "a list"}[kind]
            self.err(path, f"must be {name} (got {_typename(value)})")


def _quote_hint(v) -> str:
    if isinstance(v, bool):
        return f"; quote it: \"{str(v).lower()}\""
    if isinstance(v, (int, float)):
        return f"; quote it: \"{v}\""
    return ""


def _suggest(name, allowed) -> str:
    low = name.lower()
    for a in allowed:
        if a.lower() == low or a.lower().rstrip("s") == low.rstrip("s"):
            return f"; did you mean {a!r}?"
    return ""


# --------------------------------------------------------------------------- pod templates

_POD_FIELDS = {
    # field -> loose type; the ones checked specially are listed with "special"
    "containers": "special", "volumes": "special",
    "nodeName": "str", "dnsPolicy": "special", "hostNetwork": "bool", "restartPolicy": "special",
    "activeDeadlineSeconds": "int", "affinity": "map", "automountServiceAccountToken": "bool",
    "dnsConfig": "map", "enableServiceLinks": "bool", "ephemeralContainers": "list",
    "hostAliases": "list", "hostIPC": "bool", "hostPID": "bool", "hostUsers": "bool", "hostname": "str",
    "imagePullSecrets": "list", "initContainers": "list", "nodeSelector": "strmap", "os": "map",
    "overhead": "map", "preemptionPolicy": "str", "priority": "int", "priorityClassName": "str",
    "readinessGates": "list", "resourceClaims": "list", "runtimeClassName": "str", "schedulerName": "str",
    "schedulingGates": "list", "securityContext": "map", "serviceAccount": "str",
    "serviceAccountName": "str", "setHostnameAsFQDN": "bool", "shareProcessNamespace": "bool",
    "subdomain": "str", "terminationGracePeriodSeconds": "int", "tolerations": "list",
    "topologySpreadConstraints": "list",
}
_CONTAINER_FIELDS = {
    "name": "special", "image": "special", "command": "special", "args": "special", "env": "special",
    "resources": "special", "volumeMounts": "special", "workingDir": "str",
    "imagePullPolicy": "special", "ports": "list", "envFrom": "list", "resizePolicy": "list",
    "restartPolicy": "str", "volumeDevices": "list", "livenessProbe": "map", "readinessProbe": "map",
    "startupProbe": "map", "lifecycle": "map", "terminationMessagePath": "str",
    "terminationMessagePolicy": "str", "securityContext": "map", "stdin": "bool", "stdinOnce": "bool",
    "tty": "bool",
}
_DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_EMPTYDIR_MEDIA = ("", "Memory")
_HOSTPATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                   "CharDevice", "BlockDevice")
_VOLUME_SOURCES = ("hostPath", "emptyDir")


def _check_template(c: _Checker, template, path):
    t = c.mapping(template, path, allowed=("metadata", "spec"), required=("spec",))
    if t is None:
        return
    if "metadata" in t:
        md = c.mapping(t["metadata"], key_path(path, "metadata"),
                       allowed=("name", "namespace", "labels", "annotations"))
        if md is not None:
            for k in ("labels", "annotations"):
                if k in md:
                    c.str_map(md[k], key_path(key_path(path, "metadata"), k))
            for k in ("name", "namespace"):
                if k in md:
                    c.string(md[k], key_path(key_path(path, "metadata"), k))
    if "spec" in t:
        _check_pod_spec(c, t["spec"], key_path(path, "spec"))


def _check_pod_spec(c: _Checker, spec, path):
    s = c.mapping(spec, path, allowed=_POD_FIELDS, required=("containers",))
    if s is None:
        return
    for k, kind in _POD_FIELDS.items():
        if k not in s or kind == "special":
            continue
        if kind == "strmap":
            c.str_map(s[k], key_path(path, k))
        else:
            c.loose(s[k], key_path(path, k), kind)
    if "dnsPolicy" in s:
        c.string(s["dnsPolicy"], key_path(path, "dnsPolicy"), choices=_DNS_POLICIES)
    if "restartPolicy" in s:
        c.string(s["restartPolicy"], key_path(path, "restartPolicy"), choices=_RESTART_POLICIES)

    volumes_path = key_path(path, "volumes")
    volume_names: set[str] | None = set()
    if "volumes" in s:
        vols = c.list(s["volumes"], volumes_path)
        if vols is None:
            volume_names = None  # unknown: do not report mounts against them
        else:
            for i, vol in enumerate(vols):
                name = _check_volume(c, vol, index_path(volumes_path, i))
                if name is not None:
                    if name in volume_names:
                        c.err(key_path(index_path(volumes_path, i), "name"), f"duplicate volume name {name!r}")
                    volume_names.add(name)

    cpath = key_path(path, "containers")
    if "containers" in s:
        containers = c.list(s["containers"], cpath, non_empty=True)
        if containers is not None:
            seen = set()
            for i, ctr in enumerate(containers):
                name = _check_container(c, ctr, index_path(cpath, i), volume_names, volumes_path)
                if name is not None:
                    if name in seen:
                        c.err(key_path(index_path(cpath, i), "name"), f"duplicate container name {name!r}")
                    seen.add(name)


def _check_volume(c: _Checker, vol, path):
    v = c.mapping(vol, path, required=("name",))
    if v is None:
        return None
    for k in v:
        if isinstance(k, str) and k not in ("name", *_VOLUME_SOURCES):
            c.err(key_path(path, k), "unknown field or unsupported volume source" + _suggest(k, _VOLUME_SOURCES)
                  + " (supported: hostPath, emptyDir)")
    name = None
    if "name" in v:
        c.dns(v["name"], key_path(path, "name"), label=True)
        if isinstance(v["name"], str):
            name = v["name"]  # mounts may still refer to it; a malformed name is reported once, here
    sources = [k for k in _VOLUME_SOURCES if k in v]
    unknown_sources = [k for k in v if isinstance(k, str) and k not in ("name", *_VOLUME_SOURCES)]
    if len(sources) + len(unknown_sources) == 0:
        c.err(path, "must have exactly one volume source: hostPath or emptyDir")
    elif len(sources) > 1:
        c.err(path, "must have exactly one volume source, not both hostPath and emptyDir")
    if "hostPath" in v:
        hp_path = key_path(path, "hostPath")
        hp = c.mapping(v["hostPath"], hp_path, allowed=("path", "type"), required=("path",))
        if hp is not None:
            if "path" in hp:
                p = c.string(hp["path"], key_path(hp_path, "path"), non_empty=True)
                if p is not None and not p.startswith("/"):
                    c.err(key_path(hp_path, "path"), "must be an absolute path")
            if "type" in hp and hp["type"] != "":
                c.string(hp["type"], key_path(hp_path, "type"), choices=_HOSTPATH_TYPES)
    if "emptyDir" in v and v["emptyDir"] is not None:
        ed_path = key_path(path, "emptyDir")
        ed = c.mapping(v["emptyDir"], ed_path, allowed=("medium", "sizeLimit"))
        if ed is not None:
            if "medium" in ed and ed["medium"] != "":
                c.string(ed["medium"], key_path(ed_path, "medium"), choices=_EMPTYDIR_MEDIA)
            if "sizeLimit" in ed:
                _check_memory(c, ed["sizeLimit"], key_path(ed_path, "sizeLimit"))
    return name


def _check_memory(c, q, path):
    try:
        return parse_memory(q)
    except ValueError as e:
        c.err(path, str(e))
        return None


def _check_cpu(c, q, path):
    try:
        return parse_cpu(q)
    except ValueError as e:
        c.err(path, str(e))
        return None


def _check_container(c: _Checker, ctr, path, volume_names, volumes_path):
    k = c.mapping(ctr, path, allowed=_CONTAINER_FIELDS, required=("name", "image"))
    if k is None:
        return None
    for f, kind in _CONTAINER_FIELDS.items():
        if f in k and kind != "special":
            c.loose(k[f], key_path(path, f), kind)
    name = None
    if "name" in k:
        before = len(c.errors)
        c.dns(k["name"], key_path(path, "name"), label=True)
        if len(c.errors) == before:
            name = k["name"]
    if "image" in k:
        c.string(k["image"], key_path(path, "image"), non_empty=True)
    if "imagePullPolicy" in k:
        c.string(k["imagePullPolicy"], key_path(path, "imagePullPolicy"), choices=_PULL_POLICIES)
    for f in ("command", "args"):
        if f in k:
            items = c.list(k[f], key_path(path, f))
            if items is not None:
                for i, a in enumerate(items):
                    if not isinstance(a, str):
                        c.err(index_path(key_path(path, f), i),
                              f"must be a string (got {_typename(a)}){_quote_hint(a)}")
    if "env" in k:
        _check_env(c, k["env"], key_path(path, "env"))
    if "resources" in k:
        _check_resources(c, k["resources"], key_path(path, "resources"))
    if "volumeMounts" in k:
        _check_mounts(c, k["volumeMounts"], key_path(path, "volumeMounts"), volume_names, volumes_path)
    return name


def _check_env(c: _Checker, env, path):
    items = c.list(env, path)
    if items is None:
        return
    for i, e in enumerate(items):
        ep = index_path(path, i)
        m = c.mapping(e, ep, allowed=("name", "value", "valueFrom"), required=("name",))
        if m is None:
            continue
        if "name" in m:
            n = c.string(m["name"], key_path(ep, "name"), non_empty=True)
            if n is not None and "=" in n:
                c.err(key_path(ep, "name"), "must not contain '='")
        if "value" in m:
            v = m["value"]
            if not isinstance(v, str):
                c.err(key_path(ep, "value"), f"must be a string (got {_typename(v)}){_quote_hint(v)}")
        if "valueFrom" in m:
            c.mapping(m["valueFrom"], key_path(ep, "valueFrom"))
            if "value" in m:
                c.err(key_path(ep, "valueFrom"), "may not be given together with value")


def _check_resources(c: _Checker, res, path):
    r = c.mapping(res, path, allowed=("limits", "requests", "claims"))
    if r is None:
        return
    parsed = {}
    for part in ("limits", "requests"):
        if part not in r:
            continue
        pp = key_path(path, part)
        m = c.mapping(r[part], pp)
        if m is None:
            continue
        for name, q in m.items():
            if not isinstance(name, str):
                continue  # reported by mapping()
            qp = key_path(pp, name)
            if name == "cpu":
                parsed[(part, name)] = _check_cpu(c, q, qp)
            elif name in ("memory", "ephemeral-storage"):
                parsed[(part, name)] = _check_memory(c, q, qp)
            else:
                try:
                    _quantity(q)
                except ValueError as e:
                    c.err(qp, str(e))
    if "claims" in r:
        c.list(r["claims"], key_path(path, "claims"))
    for name in ("cpu", "memory", "ephemeral-storage"):
        lim, req = parsed.get(("limits", name)), parsed.get(("requests", name))
        if lim is not None and req is not None and req > lim:
            c.err(key_path(key_path(path, "requests"), name),
                  f"must be less than or equal to the {name} limit ({r['limits'][name]})")


def _check_mounts(c: _Checker, mounts, path, volume_names, volumes_path):
    items = c.list(mounts, path)
    if items is None:
        return
    for i, mnt in enumerate(items):
        mp = index_path(path, i)
        m = c.mapping(mnt, mp, allowed=("name", "mountPath", "readOnly", "subPath", "subPathExpr",
                                        "mountPropagation", "recursiveReadOnly"),
                      required=("name", "mountPath"))
        if m is None:
            continue
        if "name" in m:
            n = c.string(m["name"], key_path(mp, "name"), non_empty=True)
            if n is not None and volume_names is not None and n not in volume_names:
                c.err(key_path(mp, "name"), f"no volume named {json.dumps(n)} in {volumes_path}")
        if "mountPath" in m:
            p = c.string(m["mountPath"], key_path(mp, "mountPath"), non_empty=True)
            if p is not None and not p.startswith("/"):
                c.err(key_path(mp, "mountPath"), "must be an absolute path")
        if "readOnly" in m:
            c.loose(m["readOnly"], key_path(mp, "readOnly"), "bool")
        for f in ("subPath", "subPathExpr", "mountPropagation", "recursiveReadOnly"):
            if f in m:
                c.loose(m[f], key_path(mp, f), "str")


# --------------------------------------------------------------------------- kinds' specs

def _check_dataset_spec(c: _Checker, spec, path):
    s = c.mapping(spec, path, allowed=("url", "format", "nodeName", "credentialName"),
                  required=("url", "format", "nodeName"))
    if s is None:
        return
    if "url" in s:
        c.string(s["url"], key_path(path, "url"), non_empty=True)
    if "format" in s:
        c.string(s["format"], key_path(path, "format"), choices=DATASET_FORMATS)
    if "nodeName" in s:
        c.string(s["nodeName"], key_path(path, "nodeName"), non_empty=True)
    if "credentialName" in s:
        c.string(s["credentialName"], key_path(path, "credentialName"))


def _check_job_spec(c: _Checker, spec, path, out_spec):
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
                if not _is_number(p) or not 0 < p <= 1:
                    c.err(key_path(dp, "trainProb"), f"must be a number with 0 < trainProb <= 1 (got {p!r})")
            else:
                out_spec["dataset"]["trainProb"] = DEFAULT_TRAIN_PROB
    if "trainSpec" in s:
        tp = key_path(path, "trainSpec")
        t = c.mapping(s["trainSpec"], tp, allowed=("template", "trigger"), required=("template", "trigger"))
        if t is not None:
            if "template" in t:
                _check_template(c, t["template"], key_path(tp, "template"))
            if "trigger" in t:
                norm = _check_trigger(c, t["trigger"], key_path(tp, "trigger"))
                if norm is not None:
                    out_spec["trainSpec"]["trigger"] = norm
    for part in ("evalSpec", "deploySpec"):
        if part in s:
            pp = key_path(path, part)
            t = c.mapping(s[part], pp, allowed=("template",), required=("template",))
            if t is not None and "template" in t:
                _check_template(c, t["template"], key_path(pp, "template"))
    if "outputDir" in s:
        c.string(s["outputDir"], key_path(path, "outputDir"), non_empty=True)
    if "credentialName" in s:
        c.string(s["credentialName"], key_path(path, "credentialName"))


def _check_trigger(c: _Checker, trigger, path):
    """Checks a trigger; returns its normalised form (or None if it has errors)."""
    before = len(c.errors)
    t = c.mapping(trigger, path, allowed=("checkPeriodSeconds", "timer", "condition"), required=("condition",))
    if t is None:
        return None
    out = {"checkPeriodSeconds": None, "timer": None, "condition": None}
    if "checkPeriodSeconds" in t and t["checkPeriodSeconds"] is not None:
        v = t["checkPeriodSeconds"]
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            c.err(key_path(path, "checkPeriodSeconds"), f"must be a positive integer (got {v!r})")
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
            if "operator" in cond:
                c.string(cond["operator"], key_path(cp, "operator"), choices=OPERATORS)
            if "threshold" in cond:
                v = cond["threshold"]
                if not _is_number(v) or v < 0:
                    c.err(key_path(cp, "threshold"), f"must be a number >= 0 (got {v!r})")
            if "metric" in cond:
                c.string(cond["metric"], key_path(cp, "metric"), choices=METRICS)
            out["condition"] = {"operator": cond.get("operator"), "threshold": cond.get("threshold"),
                                "metric": cond.get("metric", "num_of_samples")}
    return out if len(c.errors) == before else None


# --------------------------------------------------------------------------- validate

_TOP = ("apiVersion", "kind", "metadata", "spec", "status")
_META = ("name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
         "creationTimestamp")


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
    c = _Checker()
    if c.mapping(manifest, ROOT) is None:
        raise ManifestError(c.errors, source=source)
    out = copy.deepcopy(manifest)
    out.pop("status", None)
    for k in manifest:
        if isinstance(k, str) and k not in _TOP:
            c.err(key_path(ROOT, k), "unknown field" + _suggest(k, _TOP))
        elif not isinstance(k, str):
            c.err(ROOT, f"field names must be strings (got {_typename(k)} {k!r})")
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
        md = c.mapping(manifest["metadata"], "metadata", allowed=_META, required=("name",))
        if md is not None:
            if "name" in md:
                c.dns(md["name"], "metadata.name")
            if md.get("namespace") is not None:
                c.dns(md["namespace"], "metadata.namespace", label=True)
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
                c.err("metadata.creationTimestamp", f"must be a timestamp (got {_typename(md['creationTimestamp'])})")
            om = out["metadata"]
            if om.get("namespace") is None:
                om["namespace"] = "default"
            for k in ("labels", "annotations"):
                if om.get(k) is None:
                    om[k] = {}
            if isinstance(om.get("creationTimestamp"), (datetime, date)):
                om["creationTimestamp"] = _rfc3339(om["creationTimestamp"])

    if "spec" in manifest:
        if kind == "Dataset":
            _check_dataset_spec(c, manifest["spec"], "spec")
        elif kind == "LifelongLearningJob":
            _check_job_spec(c, manifest["spec"], "spec", out["spec"])
        else:
            c.mapping(manifest["spec"], "spec")

    if c.errors:
        raise ManifestError(c.errors, source=source)
    return out


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
