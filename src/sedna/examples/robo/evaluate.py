"""Eval worker: scores every task of the trained knowledge base on the eval
frames of every round so far (this round's eval index, ``TEST_DATASET_URL``,
and the earlier rounds' beside it), drops tasks by the operator/model_threshold
rule and writes the deployable index (with the unseen threshold re-calibrated
on these held-out frames).

Every scene learned so far is a task of this round's knowledge base, so it gets
a score each round, and the job's rounds × tasks matrix (the dashboard's
heatmap, BWT and forgetting) fills in below the diagonal. The earlier rounds'
files are found through the job's round layout
(:class:`sedna.control.rounds.RoundFiles`: ``outputDir/data/eval/<r>/data.txt``)
and only read; one that is missing or unreadable is left out with a log line.

For the tasks that are new in this round's knowledge base (absent from the
version it was trained from), the report also carries what forward transfer
(FWT) needs, inference only: ``before``, the parent version's scores on the
task's eval frames (each frame predicted by the parent task its allocation
picks), and ``untrained``, an untrained :class:`Estimator`'s (seed
:data:`UNTRAINED_SEED`), each a dict of the same metrics as the task's own.
Round 1's tasks have no parent: ``untrained`` only.
"""

import os
import posixpath
from types import SimpleNamespace

import numpy as np
from interface import Estimator
from train import _load_txt_dataset, with_scenes

import sedna.examples.robo.plugins  # noqa: F401  - registers robo_image_stats
from sedna.common.config import BaseConfig, Context
from sedna.common.file_ops import FileOps
from sedna.common.log import LOGGER, setup
from sedna.control.rounds import ROUND_FILE, RoundFiles
from sedna.core.lifelong_learning import LifelongLearning
from sedna.core.lifelong_learning.kb_doc import kb_root_of
from sedna.datasources import TxtDataParse, concat, subset
from sedna.examples.robo.jobspec import TASK_ALLOCATION, TASK_DEFINITION, UNSEEN_RECOGNITION
from sedna.knowledge import KnowledgeBase

#: the untrained model's seed (the demo's untrained baseline uses the same)
UNTRAINED_SEED = 1


def earlier_eval_indexes(url):
    """``[(round, eval index)]`` of the rounds before the one whose eval index is
    ``url``, oldest first; ``[]`` when ``url`` is not a round's eval index of a job
    (a file given by hand)."""
    url = str(url or "")
    remote = "://" in url
    path = posixpath if remote else os.path
    if not remote:
        url = os.path.normpath(url)
    fmt = {name: f for f, name in ROUND_FILE.items()}.get(path.basename(url))
    round_dir = path.dirname(url)
    r = path.basename(round_dir)
    if fmt is None or not (r.isascii() and r.isdigit()):
        return []
    files = RoundFiles(path.dirname(path.dirname(path.dirname(round_dir))), fmt)
    if files.eval_index(int(r)) != url:  # not <outputDir>/data/eval/<r>/<file>
        return []
    return [(k, files.eval_index(k)) for k in range(1, int(r))]


def _parse(url):
    data = TxtDataParse(data_type="eval", func=_load_txt_dataset)
    data.parse(url, use_raw=False)
    return data


def _rows(x):
    return [tuple(str(v) for v in row) if isinstance(row, (list, tuple)) or getattr(row, "ndim", 0) else (str(row),)
            for row in x]


def _unusable(data, width):
    """Why the frames of an earlier round's index cannot be evaluated, or None."""
    rows = _rows(data.x)
    if len(data.y) != len(rows):
        return f"{len(rows)} inputs but {len(data.y)} labels"
    bad = next((row for row in rows if len(row) != width), None)
    if bad is not None:
        return f"a line with {len(bad) + 1} fields, this round's have {width + 1}"
    for row, y in zip(rows, data.y):
        for p in row + (str(y),):
            if "://" not in p and not os.path.exists(p):
                return f"{p} does not exist"
    return None


def eval_data_of_every_round(url):
    """This round's eval frames (``url``) with those of the earlier rounds, each
    frame once. This round's file is read as before (an error in it fails the
    worker); an earlier one that is missing or unusable is skipped, with a log line."""
    current = _parse(url)
    width = len(_rows(current.x)[0]) if len(current.x) else None
    parts, counts = [], []
    for r, index in earlier_eval_indexes(url):
        try:
            if not FileOps.exists(index):
                LOGGER.warning("eval: round %d's eval index %s is missing; its frames are left out", r, index)
                continue
            data = _parse(index)
            if not len(data.x):
                continue
            width = width or len(_rows(data.x)[0])
            why = _unusable(data, width)
        except Exception as e:  # noqa: BLE001 - an earlier round's file never fails this round
            why = f"{type(e).__name__}: {e}"
        if why:
            LOGGER.warning("eval: round %d's eval index %s is left out: %s", r, index, why)
            continue
        parts.append(data)
        counts.append(f"{len(data.x)} of round {r}")
    if not parts:
        return current
    merged = concat(parts + [current], data_type="eval")
    seen, keep = set(), []
    for i, key in enumerate(zip(_rows(merged.x), (str(y) for y in merged.y))):
        if key not in seen:
            seen.add(key)
            keep.append(i)
    if len(keep) < len(merged.x):
        merged = subset(merged, keep)
        merged.index = None
    print(f"eval frames: {len(current.x)} of this round, " + ", ".join(counts), flush=True)
    return merged


def parent_version(version):
    """The knowledge-base version ``version`` was trained from, or None (round 1,
    or a parent that cannot be read: logged)."""

    number = version.doc.get("parent_version")
    if number is None:
        return None
    index = (version.doc.get("update") or {}).get("parent_index")
    try:
        parent = KnowledgeBase.open_index(index) if index else None
        if parent is None or parent.number != number:  # none named, or a root pointer that has moved on
            parent = KnowledgeBase(kb_root_of(version)).load(number)
        return parent
    except Exception as e:  # noqa: BLE001 - without it the report only lacks "before"
        LOGGER.warning("eval: parent version %s of version %s cannot be read (%s); no scores before learning",
                       number, version.number, e)
        return None


def version_scores(loaded, data, num_class):
    """:meth:`Estimator.evaluate`'s scores of a loaded knowledge-base version on
    ``data``, each frame predicted by the task model its allocation picks (frames
    it allocates to none are left out); None when it allocates none."""
    groups = np.asarray(loaded.allocate(data))
    keep = np.flatnonzero(groups >= 0)
    if not len(keep):
        return None
    data, groups = subset(data, keep), groups[keep]
    preds = [None] * len(keep)
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        for i, pred in zip(rows, loaded.models[int(g)].predict(subset(data, rows).x)):
            preds[i] = pred
    fixed = SimpleNamespace(num_class=num_class, predict=lambda x, **kw: preds)
    return Estimator.evaluate(fixed, data)


def fwt_scores(num_class):
    """The ``task_metrics`` hook of :meth:`LifelongLearning.evaluate`: ``before``
    and ``untrained`` scores of the tasks absent from the parent version."""

    def hook(version, samples, load):
        parent = parent_version(version)
        known = {g["entry"] for g in parent.doc["task_groups"]} if parent is not None else set()
        new = {task: data for task, data in samples.items() if task not in known}
        if not new:
            return {}
        untrained = Estimator(num_class=num_class, seed=UNTRAINED_SEED)
        before = load(parent) if parent is not None else None
        out = {}
        for task, data in new.items():
            out[task] = {"untrained": untrained.evaluate(data)}
            scores = version_scores(before, data, num_class) if before is not None else None
            if scores is not None:
                out[task]["before"] = scores
        return out

    return hook


def _fmt(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={_fmt(x)}" for k, x in v.items()) + "}"
    return f"{v:.3f}" if isinstance(v, float) else f"{v}"


def run():
    setup()
    num_class = int(Context.get_parameters("num_class", 24))
    estimator = Estimator(num_class=num_class)
    eval_data = eval_data_of_every_round(BaseConfig.test_dataset_url)
    ll_job = LifelongLearning(estimator, task_definition=TASK_DEFINITION, task_allocation=TASK_ALLOCATION,
                              unseen_sample_recognition=UNSEEN_RECOGNITION)
    res = ll_job.evaluate(with_scenes(eval_data), task_metrics=fwt_scores(num_class))
    for task, m in res["tasks"].items():
        print(f"eval {task}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in m.items()), flush=True)


if __name__ == '__main__':
    run()
