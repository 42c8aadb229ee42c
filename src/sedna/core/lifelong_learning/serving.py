"""Serving a knowledge base: models in memory, allocation, unseen handling,
hot reload.

:class:`LoadedKB` is one version ready to answer; :class:`Serving` keeps the
one inference uses (the deployed index, hot-reloaded by an
:class:`~sedna.knowledge.EdgeKBCache`, or the version just trained) and runs
the inference pipeline: recognition -> allocation -> remodeling -> per-task
predict -> integration, results in input order.
"""

import inspect
import os
import threading

import numpy as np

from sedna.algorithms.seen_task_learning.artifact import Model, Task
from sedna.backend import Estimator, call_with_accepted
from sedna.common.exceptions import CorruptKnowledgeBaseError, KnowledgeBaseError, PluginParamError
from sedna.common.file_ops import FileOps
from sedna.common.log import LOGGER
from sedna.core.lifelong_learning import kb_doc, settings
from sedna.core.lifelong_learning.serve_choice import serves_base
from sedna.core.lifelong_learning.slots import parse_slot
from sedna.core.unseen_store import save_unseen
from sedna.datasources import BaseDataSource
from sedna.datasources.ops import subset
from sedna.knowledge import EdgeKBCache, KnowledgeBase

__all__ = ("LoadedKB", "Serving", "as_source", "model_path", "unseen_predict")


def as_source(data, data_type="test"):
    """A data source from one (arrays, lists of paths, or a data source already)."""
    if hasattr(data, "x") and hasattr(data, "num_examples"):
        return data
    src = BaseDataSource(data_type=data_type)
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (str, np.str_)):
        src.x = np.asarray(data)
    else:
        src.x = data if isinstance(data, np.ndarray) else np.asarray(data)
    return src


class Deferred:
    """Something built by ``build()`` when first needed."""

    def __init__(self, build):
        self.build = build


class LoadedKB:
    """A knowledge-base version with its models in memory, ready to serve.

    ``models`` are the groups' own models (what updates start from);
    ``predictors`` what predicts the samples allocated to each group: its own
    model, or the shared base where the index doc says so (:mod:`.serve_choice`).
    """

    def __init__(self, version, doc, models, allocation, task_to_group, recognizer,
                 remodeling, integrate, deployed, base=None):
        self.version = version
        self.doc = doc
        self.models = models              # [Estimator] per group
        self.serve_base(base)
        self.allocation = allocation
        self.task_to_group = np.asarray(task_to_group, dtype=np.int64)
        self._identity = bool((self.task_to_group == np.arange(len(self.task_to_group))).all())
        self._recognizer = recognizer     # or a Deferred one, built on first use
        self.remodeling = remodeling
        self.integrate = integrate
        self.deployed = np.asarray(deployed, dtype=bool)
        self.entries = [g["entry"] for g in doc["task_groups"]]
        sizes = [g.get("n_samples", 0) for g in doc["task_groups"]]
        self.fallback = int(np.argmax(sizes)) if sizes else 0

    @property
    def recognizer(self):
        """The unseen-sample recognizer (built when first asked for: a training process never is)."""
        if isinstance(self._recognizer, Deferred):
            self._recognizer = self._recognizer.build()
        return self._recognizer

    @recognizer.setter
    def recognizer(self, value):
        self._recognizer = value

    def serve_base(self, base):
        """Predict with ``base`` for the groups whose index entry says ``serve: base``."""
        self.base = base
        self.predictors = [base if base is not None and serves_base(gd) else m
                           for gd, m in zip(self.doc["task_groups"], self.models)]

    def allocate(self, samples):
        """Group index per sample (``-1``: no task)."""
        if not len(samples.x):
            return np.zeros(0, dtype=np.int64)
        _, ids = self.allocation(samples)
        ids = np.asarray(ids, dtype=np.int64)
        if self._identity and ids.min() >= 0 and ids.max() < len(self.task_to_group):
            return ids
        ok = (ids >= 0) & (ids < len(self.task_to_group))
        out = np.full(len(ids), -1, dtype=np.int64)
        out[ok] = self.task_to_group[ids[ok]]
        return out


def model_path(version, url):
    """Local path of a model artifact. From a remote knowledge base the model's
    whole folder is fetched: an estimator's save() may write several files
    beside the one it names (a weights file, a side array file...)."""
    if FileOps.is_local(version.resolve(url)) or "/" not in url:
        return version.local_path(url)
    folder, name = url.rsplit("/", 1)
    return os.path.join(version.local_path(folder), name)


def _takes_input(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params)


def unseen_predict(est, x):
    """One prediction per row of ``x`` from an unseen estimator: its ``predict``,
    or a plain function called like ``predict``. A function of no arguments
    (the original's examples: ``def unseen_task_processing(): return "Warning..."``)
    answers every row with its return value, as the original does."""
    n = len(x)
    if hasattr(est, "predict"):
        out = est.predict(x)
    elif callable(est):
        if not _takes_input(est):
            return [est()] * n
        out = est(x)
    else:
        raise TypeError(f"unseen_estimator must have predict() or be a function, got {type(est).__name__}")
    if isinstance(out, (str, bytes, dict)) or not hasattr(out, "__len__"):
        return [out] * n
    out = list(out)
    if len(out) != n:
        raise ValueError(f"unseen_estimator returned {len(out)} predictions for {n} samples")
    return out


_PARAMS = {}


def _integrate_params(integ):
    key = type(integ)
    if key not in _PARAMS:
        try:
            _PARAMS[key] = set(inspect.signature(integ.__call__).parameters)
        except (TypeError, ValueError):
            _PARAMS[key] = set()
    return _PARAMS[key]


class Serving:
    """The knowledge base inference answers from, and the inference pipeline.

    ``estimator``: the template each loaded model is created from; ``slots``
    the job's resolved slots; ``explicit`` the slot names the worker gave
    itself (those win over what the KB document names).
    """

    def __init__(self, estimator, slots, explicit, unseen_estimator=None, output_url=None):
        self.estimator = estimator
        self.slots = slots
        self.explicit = explicit
        self.unseen_estimator = unseen_estimator
        self._output_url = output_url
        self.loaded = None          # LoadedKB served by inference when no index is deployed
        self.cache = None           # EdgeKBCache when serving a deployed index
        self.lock = threading.RLock()

    # ------------------------------------------------------------ loading
    def recognizer_slot(self, doc):
        """The worker's own recognizer if it named one, else the one the KB was calibrated with."""
        name = "unseen_sample_recognition"
        stored = doc.get(name) if isinstance(doc.get(name), dict) else None
        if name in self.explicit or not stored or not stored.get("method"):
            return self.slots[name]
        try:
            return parse_slot(name, {"method": stored["method"], "param": stored.get("param") or {}})
        except (PluginParamError, KeyError, ValueError):
            return self.slots[name]

    def allocation_for(self, doc):
        """The allocation inference uses: the worker's own when it named one
        (built on the KB's extractor, or on the extractor a fitted allocation
        wraps), else the one the KB was trained with."""
        extractor = doc.get("extractor")
        if "task_allocation" not in self.explicit:
            spec = doc.get("task_allocation") or self.slots["task_allocation"].to_json()
            return parse_slot("task_allocation", spec).build(extractor)
        own = self.slots["task_allocation"]
        try:
            return own.build(extractor)
        except PluginParamError:
            base = extractor.get("base") if isinstance(extractor, dict) else None
            if base is None:
                raise
            return own.build(base)

    def build_loaded(self, version, doc, models, base=None):
        s = self.slots
        return LoadedKB(
            version, doc, models, self.allocation_for(doc),
            [t.get("group", -1) for t in doc.get("tasks", [])],
            Deferred(lambda: self.recognizer_slot(doc).build(doc)),
            s["task_remodeling"].build([]), s["inference_integrate"].build([]),
            [g.get("deployed", True) for g in doc["task_groups"]], base=base)

    def load(self, version):
        """Load every model of a KB version (one estimator instance per distinct artifact)."""
        with self.lock:
            cur = self.loaded
        if cur is not None and cur.version is not None and cur.version.url == version.url \
                and cur.version.number == version.number and cur.doc == version.doc:
            return cur
        models, by_url = [], {}
        for gd in version.doc["task_groups"]:
            url = version.resolve(gd["model"]["url"])
            if url not in by_url:
                by_url[url] = self.load_model(version, gd["model"]["url"], gd["entry"])
            models.append(by_url[url])
        base, bd = None, version.doc.get("base_model")
        if bd:  # it serves groups the index says it serves, and the samples no task was allocated
            base = self.load_model(version, bd["url"], kb_doc.BASE_ENTRY)
        return self.build_loaded(version, version.doc, models, base=base)

    def load_model(self, version, url, entry):
        """One model artifact of ``version`` as an :class:`Estimator`."""
        est = Estimator.create(self.estimator)
        try:
            est.load(model_path(version, url))
        except (OSError, ValueError) as e:
            raise CorruptKnowledgeBaseError(f"{version.url}: model of task {entry!r} "
                                            f"({version.resolve(url)}) cannot be loaded: {e}") from e
        return est

    def serve_committed(self, loaded, version):
        """Serve the version just written with the models still in memory."""
        loaded.version, loaded.doc = version, version.doc
        doc = version.doc
        loaded.recognizer = Deferred(lambda: self.recognizer_slot(doc).build(doc))
        with self.lock:
            self.loaded = loaded

    def current(self):
        """The KB inference uses: the deployed index (hot-reloaded) or the one just trained."""
        url = settings.first_model_url()
        if url:
            if self.cache is None:
                with self.lock:
                    if self.cache is None:
                        cache = EdgeKBCache(settings.resolve_index_url(url), loader=self.load,
                                            poll_period=settings.model_poll_period())
                        cache.load()
                        cache.start()
                        self.cache = cache
            return self.cache.current[1]
        with self.lock:
            loaded = self.loaded
        if loaded is not None:
            return loaded
        version = KnowledgeBase(settings.output_url(self._output_url)).current()
        if version is None:
            raise KnowledgeBaseError("inference: no knowledge base (MODEL_URLS unset and nothing under OUTPUT_URL)")
        loaded = self.load(version)
        with self.lock:
            self.loaded = loaded
        return loaded

    def served(self):
        """The loaded KB inference serves now, without loading one (None before)."""
        if self.cache is not None and self.cache.current:
            return self.cache.current[1]
        return self.loaded

    def version_served(self):
        """The trained version inference serves now, or None before anything is loaded."""
        loaded = self.served()
        if loaded is None or loaded.doc is None:
            return None
        ev = loaded.doc.get("evaluation") or {}
        return ev.get("source_version") or loaded.doc.get("version")

    def close(self):
        if self.cache is not None:
            self.cache.stop()
            self.cache = None

    @staticmethod
    def calibrate(loaded, samples):
        """Re-calibrate the deployed recognizer on held-out seen samples, pooled
        with the samples the training held out where the recognizer keeps them."""
        rec = loaded.recognizer
        if samples is None or not hasattr(rec, "calibrate") or not len(samples.x):
            return {}
        try:
            return call_with_accepted(rec.calibrate, samples, loaded.models, loaded.allocate, pool=True) or {}
        except (TypeError, ValueError) as e:
            LOGGER.warning("unseen-sample calibration skipped: %s", e)
            return {}

    # ---------------------------------------------------------- inference
    def infer(self, data, unseen_sample_postprocess=None, recognize_unseen=True, **kwargs):
        """``(result, is_unseen, tasks)`` for ``data`` (see ``LifelongLearning.inference``)."""
        kb = self.current()
        samples = as_source(data)
        if getattr(samples, "index", None) is not None:  # rows are positions in *this* batch
            samples = subset(samples, np.arange(len(samples.x)))
            samples.index = None
        n = len(samples.x)
        memo = []

        def allocate(s):
            # one allocation per call: the recognizer and the seen rows share it
            if s is samples:
                if not memo:
                    memo.append(kb.allocate(s))
                return memo[0]
            if memo and getattr(s, "index", None) is not None:
                return memo[0][np.asarray(s.index)]
            return kb.allocate(s)

        if recognize_unseen:
            seen, unseen = kb.recognizer(samples, models=kb.models, allocate=allocate)
        else:
            seen, unseen = subset(samples, np.arange(n)), subset(samples, np.zeros(0, dtype=np.int64))
        is_unseen = np.zeros(n, dtype=bool)
        seen_pos, seen_result, tasks = self._predict_seen(kb, seen, unseen, n, memo, allocate, is_unseen)
        is_unseen[np.asarray(unseen.index)] = True
        if is_unseen.any():
            self._handle_unseen(subset(samples, np.flatnonzero(is_unseen)), unseen_sample_postprocess, kwargs)
        if not is_unseen.any() and seen_result is not None and len(seen_pos) == n \
                and (seen_pos == np.arange(n)).all():
            return seen_result, is_unseen, tasks
        result = self._assemble(kb, n, seen_pos, seen_result, is_unseen, samples, tasks, allocate)
        return result, is_unseen, tasks

    @staticmethod
    def _predict_seen(kb, seen, unseen, n, memo, allocate, is_unseen):
        """Allocate the seen rows, drop those of undeployed tasks (marked unseen), predict the rest."""
        seen_pos = np.asarray(seen.index)
        tasks, seen_result = [], None
        if not len(seen_pos):
            return seen_pos, seen_result, tasks
        if memo and len(seen_pos) == n and not len(unseen.x):
            groups = memo[0].copy()  # every row seen: the recognizer's allocation is the one
        else:
            groups = allocate(seen).copy()
        unallocated = groups < 0  # served by the shared base where there is one, else the largest group
        groups[unallocated] = kb.fallback
        if not kb.deployed.all():
            dropped = ~kb.deployed[groups]
            if dropped.any():
                is_unseen[seen_pos[dropped]] = True
                keep = np.flatnonzero(~dropped)
                seen, groups, seen_pos, unallocated = subset(seen, keep), groups[keep], seen_pos[keep], unallocated[keep]
        if not len(seen_pos):
            return seen_pos, seen_result, tasks
        seen.index = np.arange(len(seen_pos))
        mapped = [Model(i, kb.entries[i], m) for i, m in enumerate(kb.predictors)]
        if kb.base is not None and unallocated.any():
            groups[unallocated] = len(mapped)
            mapped.append(Model(len(mapped), kb_doc.BASE_ENTRY, kb.base))
        remodel = kb.remodeling
        remodel.models = mapped
        parts, part_models = remodel(seen, groups)
        for part, model in zip(parts, part_models):
            t = Task(entry=model.entry, samples=part, meta_attr=model.entry)
            t.model = model
            t.result = model.model.predict(part.x)
            tasks.append(t)
        integ = kb.integrate
        integ.models = mapped
        seen_result = integ(tasks, n=len(seen_pos)) if "n" in _integrate_params(integ) else integ(tasks)
        return seen_pos, seen_result, tasks

    @staticmethod
    def _handle_unseen(useen, postprocess, kwargs):
        save_url = settings.unseen_save_url(kwargs)
        if postprocess is not None:
            # the original's contract: called once per unseen sample, with the save location
            cb = settings.callback(postprocess)
            for sample in useen.x:
                cb(sample, save_url)
            return
        if not save_url:
            return

        save_unseen(useen, save_url)

    def _unseen_predictions(self, kb, useen):
        ests = self.unseen_estimator if isinstance(self.unseen_estimator, (list, tuple)) else [self.unseen_estimator]
        alloc = self.slots["unseen_task_allocation"].build((kb.doc or {}).get("unseen_extractor"))
        _, ids = alloc(useen)
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= len(ests)):
            raise IndexError(f"unseen_task_allocation sent samples to unseen model {int(ids.max())}, "
                             f"but {len(ests)} unseen estimator(s) were given")
        out = [None] * len(useen.x)
        for k in np.unique(ids).tolist():
            rows = np.flatnonzero(ids == k)
            for r, v in zip(rows.tolist(), unseen_predict(ests[k], subset(useen, rows).x)):
                out[r] = v
        return out

    @staticmethod
    def _closest_predictions(kb, useen, tasks, allocate):
        """Unseen samples served by the deployed task model the allocation finds
        closest (else the largest deployed one): flagged, but never left blind."""
        deployed = np.flatnonzero(kb.deployed)
        if not len(deployed):
            return None
        sizes = [kb.doc["task_groups"][i].get("n_samples", 0) for i in deployed]
        fallback = kb.fallback if kb.deployed[kb.fallback] else int(deployed[int(np.argmax(sizes))])
        groups = np.array(allocate(useen), dtype=np.int64)  # the call's one allocation, reused
        bad = (groups < 0) | (groups >= len(kb.deployed))
        groups[bad] = fallback
        groups[~kb.deployed[groups]] = fallback
        out = [None] * len(useen.x)
        for g in np.unique(groups).tolist():
            rows = np.flatnonzero(groups == g)
            part = subset(useen, rows)
            t = Task(entry=kb.entries[g], samples=part, meta_attr=kb.entries[g])
            t.model, t.unseen = Model(g, kb.entries[g], kb.predictors[g]), True
            t.result = kb.predictors[g].predict(part.x)
            tasks.append(t)
            for r, v in zip(rows.tolist(), list(t.result)):
                out[r] = v
        return out

    def _assemble(self, kb, n, seen_pos, seen_result, is_unseen, samples, tasks, allocate):
        unseen_out = None
        if is_unseen.any():
            useen = subset(samples, np.flatnonzero(is_unseen))
            unseen_out = self._unseen_predictions(kb, useen) if self.unseen_estimator is not None \
                else self._closest_predictions(kb, useen, tasks, allocate)
        if isinstance(seen_result, np.ndarray) and unseen_out is None and not is_unseen.any():
            return seen_result
        out = [None] * n
        if seen_result is not None:
            for p, r in zip(seen_pos.tolist(), list(seen_result)):
                out[p] = r
        if unseen_out is not None:
            for p, r in zip(np.flatnonzero(is_unseen).tolist(), unseen_out):
                out[p] = r
        return out
