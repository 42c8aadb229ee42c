"""Evaluating a knowledge-base version, in three separate steps:

* :func:`score_tasks`: every task group's scores on the samples the
  allocation sends it, and which groups the drop rule leaves out (pure: no
  file, no network);
* :func:`write_deploy_index`: the deployable index, written atomically;
* :func:`report`: the worker report to the control plane (also used by
  train and update).
"""

import json
import os
from dataclasses import dataclass

import numpy as np

from sedna.common.file_ops import FileOps
from sedna.core.lifelong_learning import kb_doc, settings
from sedna.datasources.ops import subset
from sedna.worker import report_task_info

__all__ = ("Scores", "score_tasks", "add_task_metrics", "write_deploy_index", "report")


@dataclass
class Scores:
    """What :func:`score_tasks` found: ``per_task`` metrics by entry, ``dropped``
    entries, ``scores_of`` by group index, ``groups`` (the group of every sample)."""

    per_task: dict
    dropped: list
    scores_of: dict
    groups: object

    @property
    def unallocated(self):
        return int((self.groups == -1).sum())


def score_tasks(version, loaded, data, metric_fns, rule, **kwargs):
    """Score each group of ``version`` (``loaded``) on the rows of ``data`` allocated
    to it; ``rule`` is :func:`settings.drop_rule`'s ``(name, compare, threshold)``."""
    groups = loaded.allocate(data)
    per_task, dropped, scores_of = {}, [], {}
    for gi, gd in enumerate(version.doc["task_groups"]):
        rows = np.flatnonzero(groups == gi)
        if not len(rows):
            per_task[gd["entry"]] = {"n_samples": 0}
            continue
        scores = loaded.predictors[gi].evaluate(subset(data, rows), metrics=metric_fns, **kwargs)
        name = next(iter(scores)) if scores else None
        score = scores.get(name) if name else None
        drop = score is not None and rule[1](score, rule[2])
        per_task[gd["entry"]] = dict(scores, n_samples=int(len(rows)), deployed=not drop)
        scores_of[gi] = scores
        if drop:
            dropped.append(gd["entry"])
    return Scores(per_task, dropped, scores_of, groups)


def add_task_metrics(scores, version, data, task_metrics, load):
    """Add the user's ``task_metrics(version, {task: its samples}, load)`` to the
    tasks' metrics (a name the scores already have keeps its score)."""
    groups = scores.groups
    samples = {gd["entry"]: subset(data, np.flatnonzero(groups == gi))
               for gi, gd in enumerate(version.doc["task_groups"]) if (groups == gi).any()}
    for entry, extra in (task_metrics(version, samples, load) or {}).items():
        if entry in scores.per_task:
            scores.per_task[entry].update({k: v for k, v in extra.items() if k not in scores.per_task[entry]})


def write_deploy_index(version, deploy_doc):
    """Write the deployable index beside the job's output (see
    :func:`settings.eval_output_dir`); returns its URL."""
    out_dir = settings.eval_output_dir(kb_doc.kb_root_of(version), version.number)
    out_url = FileOps.join_path(out_dir, "index.json")
    if FileOps.is_local(out_url):
        os.makedirs(out_dir, exist_ok=True)
        FileOps.write_atomic(out_url, json.dumps(deploy_doc, indent=1))
    else:
        FileOps.dump(deploy_doc, out_url)
    return out_url


def report(kind, res):
    """Report a round's result (``train`` or ``eval``) to the control plane."""
    metrics = dict(res.get("tasks", {}))
    owner = {"version": res.get("version"), "tasks": len(metrics),
             "samples": int(sum(v.get("n_samples", 0) for v in metrics.values()))}
    report_task_info(kind, "completed", [{"format": "index", "url": res["index_url"], "metrics": metrics}],
                     owner_info=owner)
