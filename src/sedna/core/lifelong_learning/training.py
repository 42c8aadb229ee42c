"""Training the knowledge base: grouping, fitting, holdout, recognizer fit,
sample storage.

:class:`Trainer` turns task groups into models inside a version being written
(:class:`~sedna.knowledge.base.VersionWriter`): one model per group, groups
under ``min_train_sample`` share one model, each group's samples are stored
beside its model so a later update can retrain on them.
"""

import copy
import io
import os

import numpy as np

from sedna.algorithms._util import is_numeric, safe_name
from sedna.algorithms.seen_task_learning.artifact import Task
from sedna.backend import Estimator, call_with_accepted
from sedna.backend.transfer import transfer_mode
from sedna.common.exceptions import CorruptKnowledgeBaseError, PluginParamError
from sedna.common.log import LOGGER
from sedna.core.lifelong_learning import kb_doc, replay
from sedna.datasources import BaseDataSource, frames
from sedna.datasources.ops import concat, is_pandas, subset

__all__ = ("Trainer", "holdout_mask", "stored_samples")

SAMPLES_DIR = "samples"
SCORE_KEYS = ("mIoU", "accuracy", "score")  # what compares two models of a task, first found
MODELS_DIR = "models"
IN_MEMORY_BYTES = 64 << 20  # a buffer file up to this size is built in memory, then written once
HOLDOUT_PREFIX = "holdout."  # a group's held-out rows, in its buffer's file


def _storable(a):
    """Stored without pickle: pandas data (see :mod:`sedna.datasources.frames`),
    or an array of numbers, booleans or strings (a list is taken as an array)."""
    if a is None:
        return False
    if is_pandas(a):
        return True
    try:
        return np.asarray(a).dtype.kind in "biufUSb"
    except ValueError:  # ragged
        return False


def _n(samples):
    return len(samples.x) if samples is not None and samples.x is not None else 0


def holdout_mask(n, split):
    """Every ``1/split``-th row (the last of each block) is held out; none under 10 rows."""
    if split <= 0 or n < 10:
        return np.zeros(n, dtype=bool)
    k = max(2, int(round(1 / split)))
    return (np.arange(n) % k) == (k - 1)


def stored_samples(version, group_doc):
    """The samples a group's model was trained on, as stored in ``version`` (with
    ``prefix``: the rows stored under that prefix in the same file)."""
    url = group_doc.get("samples_url")
    src = BaseDataSource(data_type="train")
    if not url:
        LOGGER.warning("task %s: no stored samples; retraining on the new samples only", group_doc["entry"])
        src.x = np.array([])
        return src
    prefix = group_doc.get("prefix") or ""
    with np.load(version.local_path(url), allow_pickle=False) as z:
        src.x = frames.unpack(z, f"{prefix}x")
        y = frames.unpack(z, f"{prefix}y")
        src.y = y if y is not None else np.array([])
        if f"{prefix}meta_attr" in z.files:
            src.meta_attr = z[f"{prefix}meta_attr"]
    if src.x is None:
        raise CorruptKnowledgeBaseError(f"task {group_doc['entry']}: {url} holds no {prefix}x")
    return src


def _arrays(samples, prefix=""):
    """``{npz key: array}`` of storable ``samples`` (x; y and meta_attr when aligned), or None."""
    if samples is None or not _storable(samples.x):
        return None
    arrays = frames.pack(f"{prefix}x", samples.x)
    y = getattr(samples, "y", None)
    if y is not None and len(y) == len(samples.x) and _storable(y):
        arrays.update(frames.pack(f"{prefix}y", y))
    meta = getattr(samples, "meta_attr", None)
    if meta is not None and len(meta) == len(samples.x) and _storable(meta):
        arrays[f"{prefix}meta_attr"] = np.asarray(meta)
    return arrays


def _row_keys(x):
    x = np.asarray(x)
    return [r.tobytes() for r in np.ascontiguousarray(x.reshape(len(x), -1))]


def without_rows(samples, held):
    """``samples`` without the rows whose ``x`` equals a row of ``held`` (its held-out
    rows, found by content: a replay buffer keeps them, at positions it has shuffled).
    Pandas data is returned as it is."""
    if held is None or not _n(held) or not _n(samples) or is_pandas(samples.x) or is_pandas(held.x):
        return samples
    try:
        drop = set(_row_keys(held.x))
        keep = np.array([k not in drop for k in _row_keys(samples.x)], dtype=bool)
    except (TypeError, ValueError):  # rows of another shape or ragged: nothing matches
        return samples
    return samples if keep.all() else subset(samples, np.flatnonzero(keep))


def _needs_model_holdout(rec, samples):
    need = getattr(rec, "needs_model_holdout", False) if rec is not None else False
    return bool(need(samples) if callable(need) else need)


class Trainer:
    """Fits task models and stores them, with their replay buffers, in a version being written.

    ``transfer``: task models start from a related trained model (the shared
    base, the closest task's, or their own previous one) where the estimator
    can (:mod:`sedna.backend.transfer`); the base trains for ``base_epochs`` and
    a task model specialised from it in the first round for ``task_epochs`` of
    the estimator's ``epochs`` (together 1.3 times one model per task);
    groups too small for their own model are served by the base.
    ``replay_size``: samples kept per task (None: all). ``distill``: a retrained
    task's previous model is passed as ``teacher`` where ``train`` takes one.
    ``refresh``: the share of the epochs an old task trains for when a related new
    task refreshes it, ``refresh_budget``: what the refreshes of one update may
    cost together, in units of the new tasks' training (:mod:`.backward_transfer`).
    ``serve_choice``: hold rows out of every group's training so that
    :mod:`.serve_choice` can decide whether the group or the shared base serves it
    (True; None: for numeric samples only; False: never); see :meth:`choosing`.
    """

    def __init__(self, estimator, min_train_sample, calibration_split, transfer=False, task_epochs=0.5,
                 replay_size=None, distill=False, base_epochs=0.8, refresh=0.0, refresh_budget=None,
                 serve_choice=None, base_replay=None):
        self.estimator = estimator
        self.base_replay = base_replay
        self.serve_choice = serve_choice
        self.holdouts = {}  # {entry: held-out rows} of the groups trained by this trainer
        self._splits = {}  # {id(samples): (samples, training rows, held-out rows)}, see _split
        self.refresh = float(refresh)
        self.refresh_budget = None if refresh_budget is None else float(refresh_budget)
        self.min_train_sample = min_train_sample
        self.calibration_split = calibration_split
        self.shared = bool(transfer)  # a shared base model is trained (from scratch where it cannot transfer)
        self.base_learned = False  # this round's base has learned the round's new rows
        self.base_updates = False  # every update trains the base again (Transfer's update_base)
        self.transfer = self.shared and transfer_mode(estimator) is not None
        self.task_epochs = float(task_epochs)
        self.base_epochs = float(base_epochs)
        self.replay_size = replay_size
        self.distill = bool(distill)

    # ------------------------------------------------------------- storage
    @staticmethod
    def save_samples(writer, entry, samples, held=None):
        """Write ``samples`` to the version (and ``held``, a group's held-out rows, in the
        same file under :data:`HOLDOUT_PREFIX`); its relative URL, or None when not storable."""
        arrays = _arrays(samples)
        if arrays is None:
            return None
        arrays.update(_arrays(held, HOLDOUT_PREFIX) or {})
        rel = f"{SAMPLES_DIR}/{safe_name(entry)}.npz"
        if sum(a.nbytes for a in arrays.values()) > IN_MEMORY_BYTES:
            np.savez(writer.path(rel), **arrays)
            return rel
        buf = io.BytesIO()  # built in memory, written once: zipfile's seeks on a file cost more
        np.savez(buf, **arrays)
        with open(writer.path(rel), "wb") as f:
            f.write(buf.getbuffer())
        return rel

    def store_buffer(self, writer, doc, old, n_seen, new, held=None):
        """Bound ``old`` (standing for ``n_seen``) + ``new`` to the replay size and store it in ``doc``
        (with ``held``, the group's held-out rows, in the same file)."""
        buf, seen = replay.reservoir(old, n_seen, new, self.replay_size, f"{doc['entry']}@{writer.number}")
        doc["samples_url"] = self.save_samples(writer, doc["entry"], buf, held)
        doc["n_samples"] = int(seen)  # every sample the task has learned from
        doc["n_buffer"] = int(_n(buf))  # the ones kept for replay
        return buf

    @staticmethod
    def save_model(writer, est, entry, metrics, version, strategy):
        folder = writer.artifact_dir(f"{MODELS_DIR}/{safe_name(entry)}")
        path = est.save(folder)
        rel = os.path.relpath(path, writer.staging)  # the local folder that becomes the version
        return {"url": rel.replace(os.sep, "/"), "format": type(est.est).__name__, "estimator": est.name,
                "metrics": metrics, "trained_version": version, "strategy": strategy}

    # ------------------------------------------------------------- fitting
    def _scaled(self, kwargs, share):
        """``kwargs`` with ``epochs`` scaled by ``share`` (estimators with an integer ``epochs``)."""
        epochs = kwargs.get("epochs", getattr(self.estimator, "epochs", None))
        if share != 1 and isinstance(epochs, (int, np.integer)) and not isinstance(epochs, bool) and epochs > 0:
            return dict(kwargs, epochs=max(1, int(round(epochs * share))))
        return kwargs

    def fit(self, samples, valid_data, kwargs, strategy, previous, source=None):
        if strategy == "finetune" and previous is not None:
            est = Estimator(copy.deepcopy(previous.est))
            metrics = est.finetune(samples, valid_data, **kwargs)
        elif source is not None and self.transfer:
            est = Estimator.create(self.estimator)
            teacher = previous if self.distill else None
            # specialising the base on samples it has learned already needs fewer epochs; a
            # new or retrained task learns samples no model has seen: full epochs
            share = {"train": self.task_epochs, "refresh": self.refresh}.get(strategy, 1)
            if strategy == "new" and self.base_learned:  # the base it starts from has learned its rows
                share = self.task_epochs
            fit_kwargs = self._scaled(kwargs, share)
            metrics = est.train_from(source, samples, valid_data, teacher=teacher, **fit_kwargs)
        else:
            est = Estimator.create(self.estimator)
            metrics = est.train(samples, valid_data, **kwargs)
        return est, {k: float(v) for k, v in (metrics or {}).items() if np.isscalar(v) and not isinstance(v, str)}

    def choosing(self, samples, recognizer=None):
        """Whether the rows held out of ``samples`` decide between the group's model
        and the shared base (:mod:`.serve_choice`): with transfer (a base exists)
        and ``serve_choice`` True, or None and either numeric samples (cheap to
        score) or, when updates train the base (``base_updates``), rows held out
        anyway for a recognizer that calibrates on model outputs (so no training
        rows are given up for the choice)."""
        if not self.shared or self.calibration_split <= 0 or self.serve_choice is False:
            return False
        if self.serve_choice is True:
            return True
        return is_numeric(samples) or (self.base_updates and _needs_model_holdout(recognizer, samples))

    def _holdout(self, samples, valid_data, recognizer):
        """Rows no model of this group trains on (see :meth:`train_rows`), or None:
        held out for a recognizer that calibrates on model outputs, or to choose
        the model that serves the group (:meth:`choosing`); they also judge a
        task's refreshed model (:mod:`.backward_transfer`)."""
        if valid_data is None and (_needs_model_holdout(recognizer, samples) or self.choosing(samples)):
            mask = holdout_mask(_n(samples), self.calibration_split)
            if mask.any():
                return mask
        return None

    def _split(self, samples, valid_data, recognizer):
        """``(rows trained on, rows held out or None)`` of ``samples``, cut once per
        round: the base, the group's model, the serving choice and the recognizer
        all ask for them."""
        hit = self._splits.get(id(samples))
        if hit is None or hit[0] is not samples:
            mask = self._holdout(samples, valid_data, recognizer)
            hit = (samples, samples, None) if mask is None else \
                (samples, subset(samples, np.flatnonzero(~mask)), subset(samples, np.flatnonzero(mask)))
            self._splits[id(samples)] = hit
        return hit[1], hit[2]

    def train_rows(self, samples, valid_data, recognizer):
        return self._split(samples, valid_data, recognizer)[0]

    def held_out(self, samples, valid_data, recognizer):
        """The group's rows its models never trained on, or None."""
        return self._split(samples, valid_data, recognizer)[1]

    @staticmethod
    def score(est, data):
        """The estimator's main score on ``data`` (higher is better), or None."""
        try:
            metrics = est.evaluate(data)
        except (TypeError, ValueError) as e:
            LOGGER.warning("cannot score a model on held-out samples: %s", e)
            return None
        key = next((k for k in SCORE_KEYS if k in metrics), None)
        return None if key is None else float(metrics[key])

    def train_base(self, writer, specs, valid_data, kwargs, recognizer=None):
        """The shared base: one model on every group's training rows, that task
        models start from. ``(Estimator, model doc)``, or ``(None, None)`` without
        transfer or with a single group."""
        parts = [self.train_rows(s, valid_data, recognizer) for _, _, s in specs if _n(s)]
        if not self.shared or len(parts) < 2:
            return None, None
        pooled = concat(parts, data_type="train")
        LOGGER.info("shared base model: train on %d samples of %d task groups", len(pooled.x), len(parts))
        est, metrics = self.fit(pooled, valid_data, self._scaled(kwargs, self.base_epochs), "base", None)
        mdoc = self.save_model(writer, est, kb_doc.BASE_ENTRY, metrics, writer.number, "base")
        mdoc["n_samples"] = int(len(pooled.x))
        return est, mdoc

    def update_base(self, writer, parts, new, valid_data, kwargs, recognizer=None, previous=None):
        """The shared base of an update: the previous base (or a fresh model) trained
        on this round's new rows together with rows replayed from every group's
        buffer, ``base_replay`` times as many as the new ones (None: all of them),
        for ``base_epochs`` of the epochs. ``parts``: every group's rows (buffers
        and new samples); ``new``: the round's new samples. ``(Estimator, model doc)``,
        or ``(None, None)`` without transfer or with fewer than two groups."""
        parts = [self.train_rows(p, valid_data, recognizer) for p in parts if _n(p)]
        if not self.shared or len(parts) < 2:
            return None, None
        pooled = concat(parts, data_type="train")
        n_new = sum(_n(p) for p in new if p is not None)
        if self.base_replay is not None and len(pooled.x) > n_new * (1 + self.base_replay):
            rng = np.random.default_rng(len(pooled.x) * 7919 + writer.number)
            keep = np.sort(rng.choice(len(pooled.x), int(n_new * (1 + self.base_replay)), replace=False))
            pooled = subset(pooled, keep)
        source = previous[0] if previous is not None else None
        LOGGER.info("shared base model: %s on %d samples of %d task groups (%d new in this round)",
                    "continue" if source is not None else "train", len(pooled.x), len(parts), n_new)
        est, metrics = self.fit(pooled, valid_data, self._scaled(kwargs, self.base_epochs), "base", None, source)
        mdoc = self.save_model(writer, est, kb_doc.BASE_ENTRY, metrics, writer.number, "base")
        mdoc["n_samples"] = int(len(pooled.x))
        if source is not None:
            mdoc["init_from"] = kb_doc.BASE_ENTRY
        return est, mdoc

    def train_groups(self, writer, specs, valid_data, kwargs, version, strategies=None, recognizer=None,
                     sources=None, base=None, buffers=None, mix=None):
        """Train one model per (entry, tasks, samples); small groups are served by
        ``base`` (an ``(Estimator, doc)`` pair) or share a global model.

        ``sources``: ``{entry: (Estimator, name)}`` a group's model starts from;
        ``mix``: ``{entry: own training rows -> the rows it trains on}``;
        ``buffers``: ``{entry: (old buffer, n_seen, new samples)}`` for groups whose
        replay buffer is not simply their samples. When the unseen-sample
        recognizer calibrates on model outputs (``needs_model_holdout``), the
        models are trained without the rows :meth:`fit_recognizer` holds out.
        """
        group_docs, models, small = [], [], []
        for entry, members, samples in specs:
            n = _n(samples)
            doc = {"entry": entry, "n_samples": int(n), "deployed": True,
                   "tasks": [kb_doc.task_doc(m) for m in members]}
            group_docs.append(doc)
            models.append(None)
            if n == 0:
                continue
            self._store_rows(writer, doc, (buffers or {}).get(entry, (None, 0, samples)), samples, valid_data,
                             recognizer)
            if n < self.min_train_sample:
                small.append(len(group_docs) - 1)
                continue
            train = self.train_rows(samples, valid_data, recognizer)
            if entry in (mix or {}):  # trained on, not stored as the task's own
                train = mix[entry](train)
            strategy, previous = (strategies or {}).get(entry, ("new" if strategies else "train", None))
            source, source_name = (sources or {}).get(entry, (None, None))
            LOGGER.info("task %s: %s on %d samples%s", entry, strategy, len(train.x),
                        f", starting from {source_name}" if source is not None and self.transfer else "")
            est, metrics = self.fit(train, valid_data, kwargs, strategy, previous, source)
            models[-1] = est
            doc["model"] = self.save_model(writer, est, entry, metrics, version, strategy)
            if source is not None and self.transfer:
                doc["model"]["init_from"] = source_name
        if small:
            self._serve_small(writer, specs, small, group_docs, models, valid_data, kwargs, version, base)
        for i, doc in enumerate(group_docs):
            if models[i] is None:  # empty group: nothing to learn from
                raise PluginParamError(f"task group {doc['entry']!r} has no samples")
        return group_docs, models

    def _store_rows(self, writer, doc, buffer, samples, valid_data, recognizer):
        """Store the group's replay buffer (``buffer``: old buffer, samples it stands for,
        new samples) and, when they choose its serving model, its held-out rows, in one
        file (``holdout_url`` names it, ``holdout_key`` their prefix); they are kept in
        memory too: a later update judges kept groups on them."""
        held = self.held_out(samples, valid_data, recognizer) if self.choosing(samples, recognizer) else None
        self.store_buffer(writer, doc, *buffer, held)
        if held is None:
            return
        self.holdouts[doc["entry"]] = held
        if doc["samples_url"]:
            doc["holdout_url"], doc["holdout_key"] = doc["samples_url"], HOLDOUT_PREFIX
        else:  # a buffer that cannot be stored (not numbers or strings): nor can its held-out rows
            doc["holdout_url"] = self.save_samples(writer, f"{doc['entry']}@holdout", held)

    def _serve_small(self, writer, specs, small, group_docs, models, valid_data, kwargs, version, base):
        names = ", ".join(group_docs[i]["entry"] for i in small)
        if base is not None and base[0] is not None:
            LOGGER.info("tasks %s: fewer than %d samples each: served by the shared base model",
                        names, self.min_train_sample)
            est, mdoc = base[0], dict(base[1], shared=True)
        else:
            pooled = concat([specs[i][2] for i in small], data_type="train")
            LOGGER.info("tasks %s: fewer than %d samples each: one shared model on %d samples",
                        names, self.min_train_sample, len(pooled.x))
            est, metrics = self.fit(pooled, valid_data, kwargs, "train", None)
            mdoc = self.save_model(writer, est, kb_doc.GLOBAL_ENTRY, metrics, version, "train")
            mdoc["shared"] = True
        for i in small:
            group_docs[i]["model"] = dict(mdoc)
            models[i] = est

    def fit_recognizer(self, rec, parts, loaded, valid_data):
        """Fit the unseen-sample recognizer on the groups' samples minus a held-out
        share, and calibrate it on that share (or on ``valid_data``). ``parts[i]``
        are group ``i``'s samples; a ``fit`` that accepts ``models``/``allocate``
        gets the loaded models too."""
        if rec is None or not (hasattr(rec, "fit") or hasattr(rec, "calibrate")):
            return {}
        fit_parts, holds = [], []
        for p in parts:
            if p is None or p.x is None or not len(p.x):
                continue
            hit = self._splits.get(id(p))
            if hit is not None and hit[0] is p and hit[2] is not None:  # cut already (the same rule)
                fit, held = hit[1], hit[2]
            else:
                mask = holdout_mask(len(p.x), self.calibration_split) if valid_data is None \
                    else np.zeros(len(p.x), dtype=bool)
                fit = subset(p, np.flatnonzero(~mask)) if mask.any() else p
                held = subset(p, np.flatnonzero(mask)) if mask.any() else None
            fit_parts.append(fit)
            if held is not None:
                holds.append(held)
        try:
            if hasattr(rec, "fit"):
                call_with_accepted(rec.fit, fit_parts, models=loaded.models, allocate=loaded.allocate)
            data = valid_data if valid_data is not None else (concat(holds, "eval") if holds else None)
            if data is None or not hasattr(rec, "calibrate"):
                # too few samples to hold some out: keep what was fitted; evaluate() calibrates
                return rec.state() if hasattr(rec, "state") else {}
            return rec.calibrate(data, loaded.models, loaded.allocate) or {}
        except (TypeError, ValueError) as e:
            LOGGER.warning("unseen-sample recognition not calibrated: %s", e)
            return {}

    # ------------------------------------------------------------- update
    @staticmethod
    def tasks_with_samples(prev, tasks_doc, groups_doc, new_samples):
        """Every task with its stored (single-task groups) and new samples, for refitting the allocation."""
        out = []
        for t in tasks_doc:
            parts = [s.samples for s in new_samples.get(t["entry"], [])]
            gi = t.get("group", -1)
            if gi >= 0 and len(groups_doc[gi].get("tasks", [])) == 1:
                parts = [stored_samples(prev, groups_doc[gi])] + parts
            out.append(Task(entry=t["entry"], samples=concat(parts), meta_attr=t.get("meta_attr")))
        return out

    def keep_groups(self, writer, prev, kept, loaded):
        """Groups not retrained: same model artifact (by absolute URL: versions are
        immutable); samples absorbed this round are stored with the old ones.
        The parts returned leave out each group's held-out rows: they judge the
        serving choice, so a base retrained on the parts must not learn them."""
        groups_doc = prev.doc["task_groups"]
        group_docs, models, parts = [], [], []
        for entry, (gi, incoming) in kept.items():
            gd = copy.deepcopy(groups_doc[gi])
            gd["model"]["url"] = prev.resolve(gd["model"]["url"])
            stored = stored_samples(prev, groups_doc[gi])
            if incoming:
                stored = self.store_buffer(writer, gd, stored, gd.get("n_samples", _n(stored)),
                                           concat(list(incoming), data_type="train"))
            elif gd.get("samples_url"):
                gd["samples_url"] = prev.resolve(gd["samples_url"])
            held = None
            if gd.get("holdout_url"):
                held = stored_samples(prev, {"entry": entry, "samples_url": gd["holdout_url"],
                                             "prefix": gd.get("holdout_key")})
                gd["holdout_url"] = prev.resolve(gd["holdout_url"])
            parts.append(without_rows(stored, held))  # what a retrained base may learn from
            group_docs.append(gd)
            models.append(loaded.models[gi])
        return group_docs, models, parts
