"""The knowledge base's index document: building and editing it.

A version's ``index.json`` names the job's slots (so inference rebuilds the
same allocation and recognizer), the tasks and which group serves each, and
per group its model artifact, stored samples, metrics and deploy flag.
Pure: dicts in, dicts out; the training and serving modules do the I/O.
"""

import copy
import json
import os
import time

import numpy as np

from sedna.algorithms.seen_task_learning.artifact import Task, TaskGroup
from sedna.common.config import BaseConfig
from sedna.common.exceptions import PluginParamError

__all__ = ("KIND", "GLOBAL_ENTRY", "BASE_ENTRY", "task_doc", "index_doc", "result", "catalog_samples", "json_ready",
           "task_to_group", "check_tasks", "deploy_doc", "kb_root_of")

KIND = "sedna.lifelong-learning.kb"
GLOBAL_ENTRY = "__global__"  # the model shared by groups too small for their own
BASE_ENTRY = "__base__"  # the shared base model task models start from


def json_ready(obj, what):
    try:
        json.dumps(obj)
    except (TypeError, ValueError) as e:
        raise PluginParamError(f"{what} must be JSON-serialisable to be stored in the knowledge base ({e})") from None
    return obj


def task_doc(task):
    if isinstance(task, dict):
        return {"entry": task["entry"], "meta_attr": task.get("meta_attr"), "n_samples": task.get("n_samples", 0)}
    n = len(task.samples.x) if task.samples is not None and task.samples.x is not None else 0
    meta = task.meta_attr
    return {"entry": task.entry, "meta_attr": None if meta is None else str(meta), "n_samples": int(n)}


def _qualname(estimator):
    return f"{type(estimator).__module__}.{getattr(estimator, '__qualname__', type(estimator).__qualname__)}"


def index_doc(slots, estimator, tasks, task_to_group_, extractor, group_docs):
    """The index document of a new version (calibration filled in later)."""
    return {
        "kind": KIND,
        "job": BaseConfig.job_name,
        "estimator": _qualname(estimator),
        "task_definition": slots["task_definition"].to_json(),
        "task_relationship_discovery": slots["task_relationship_discovery"].to_json(),
        "task_allocation": slots["task_allocation"].to_json(),
        "task_remodeling": slots["task_remodeling"].to_json(),
        "inference_integrate": slots["inference_integrate"].to_json(),
        "unseen_sample_recognition": dict(slots["unseen_sample_recognition"].to_json(), calibration={}),
        "extractor": extractor,
        "tasks": [dict(task_doc(t), group=int(g)) for t, g in zip(tasks, task_to_group_)],
        "task_groups": group_docs,
    }


def result(version):
    """What train/update return and report: the index, its version, per task samples and metrics."""
    tasks = {}
    for gd in version.doc["task_groups"]:
        tasks[gd["entry"]] = {"n_samples": gd.get("n_samples", 0),
                              "metrics": gd.get("model", {}).get("metrics", {}),
                              "strategy": gd.get("model", {}).get("strategy")}
    return {"index_url": version.url, "version": version.number, "tasks": tasks}


def catalog_samples(groups):
    """``{task: (inputs, labels)}`` for the catalog; only path-like samples are listed."""
    out = {}
    for g in groups:
        for t in g.tasks:
            x = t.samples.x if t.samples is not None else None
            if x is None or np.asarray(x).dtype.kind not in "US":
                continue
            y = t.samples.y if t.samples.y is not None and len(t.samples.y) == len(x) else [None] * len(x)
            out[t.entry] = ([v.tolist() if isinstance(v, np.ndarray) else str(v) for v in x],
                            [None if v is None else str(v) for v in y])
    return out


def check_tasks(tasks):
    if not isinstance(tasks, (list, tuple)) or not tasks:
        raise PluginParamError("task_definition returned no tasks")
    for t in tasks:
        if not isinstance(t, Task):
            raise PluginParamError(f"task_definition returned a {type(t).__name__}, expected Task objects")


def task_to_group(tasks, groups):
    """Group index of each task; every task must be in a group."""
    where = {}
    for gi, g in enumerate(groups):
        if not isinstance(g, TaskGroup):
            raise PluginParamError(f"task_relationship_discovery returned a {type(g).__name__}, expected TaskGroup")
        for t in g.tasks:
            where[id(t)] = gi
    missing = [t.entry for t in tasks if id(t) not in where]
    if missing:
        raise PluginParamError(f"task_relationship_discovery left tasks out of every group: {missing}")
    return [where[id(t)] for t in tasks]


def deploy_doc(version, scores, dropped, calibration, rule, unallocated):
    """The deployable index evaluate writes: the version's document with absolute
    artifact URLs, per-group eval metrics and deploy flags, and the evaluation record.
    ``scores``: ``{group index: metrics dict}`` of the evaluated groups."""
    doc = copy.deepcopy(version.doc)
    for gi, gd in enumerate(doc["task_groups"]):
        gd["model"]["url"] = version.resolve(gd["model"]["url"])
        for key in ("samples_url", "holdout_url"):
            if gd.get(key):
                gd[key] = version.resolve(gd[key])
        if gi in scores:
            gd["eval_metrics"] = scores[gi]
            gd["deployed"] = gd["entry"] not in dropped
        else:
            gd["deployed"] = bool(gd.get("deployed", True))
    if doc.get("base_model"):
        doc["base_model"]["url"] = version.resolve(doc["base_model"]["url"])
    if calibration:
        doc["unseen_sample_recognition"]["calibration"] = calibration
    op_name, _, thr = rule
    doc["evaluation"] = {"source_index": version.url, "source_version": version.number,
                         "operator": op_name, "model_threshold": thr, "dropped": list(dropped),
                         "unallocated_samples": unallocated,
                         "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return doc


def kb_root_of(version):
    """The knowledge base's root folder of a version (``<root>/versions/<n>/``)."""
    base = version.base_url.rstrip("/")
    parent = os.path.dirname(base)
    return os.path.dirname(parent) if os.path.basename(parent) == "versions" else base


# ------------------------------------------------------------- describing a group (CLI, dashboard)
def group_change(group, number, refreshed=None):
    """What version ``number`` did to a task group's model: how it trained it
    (``new``, ``retrain``, ``refresh``, ...) or ``kept``; a refresh that was
    dropped or over budget is said. ``refreshed``: the version's ``update.refreshed``."""
    m = group.get("model") or {}
    done = (m.get("strategy") or "trained") if m.get("trained_version") == number else "kept"
    outcome = (refreshed or {}).get(group.get("entry"))
    return done if outcome in (None, "kept") else f"{done} (refresh {outcome})"


def group_served_by(group):
    """Which model predicts a group's samples: its own or the shared base, with
    the held-out scores that chose it (:mod:`.serve_choice`)."""
    if (group.get("model") or {}).get("shared"):
        return "shared base"
    sc = group.get("serve_scores") or {}
    ok = all(isinstance(sc.get(k), (int, float)) for k in ("own", "base"))
    scores = f" ({sc['own']:.3f} own, {sc['base']:.3f} base)" if ok else ""
    return ("shared base" if group.get("serve") == "base" else "own model") + scores
