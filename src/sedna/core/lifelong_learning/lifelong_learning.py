"""The lifelong-learning job object (CONTRACTS §3).

::

    train:     samples -> task definition -> relationship discovery -> one model
               per task group -> knowledge-base version (index + artifacts)
    evaluate:  KB version + eval samples -> per-task scores -> drop rule ->
               deployable index
    inference: samples -> unseen-sample recognition -> (unseen: saved for
               labelling) / (seen: allocation -> remodeling -> per-task predict
               -> integration), results in input order
    update:    KB version + new samples -> re-recognition -> update decision ->
               retrain/fine-tune affected tasks, add new ones -> version r+1
"""

import copy
import json
import operator as _op
import os
import threading
import time

import numpy as np

from sedna.algorithms._util import concat, safe_name, subset
from sedna.algorithms.seen_task_learning.artifact import Model, Task, TaskGroup
from sedna.backend import Estimator
from sedna.common.class_factory import ClassFactory, ClassType
from sedna.common.config import BaseConfig, Context
from sedna.common.exceptions import EstimatorError, KnowledgeBaseError, PluginParamError
from sedna.common.log import LOGGER
from sedna.core.lifelong_learning.slots import parse_slot
from sedna.algorithms.registry import SLOTS

__all__ = ("LifelongLearning",)

OPERATORS = {">": _op.gt, ">=": _op.ge, "=": _op.eq, "==": _op.eq, "!=": _op.ne, "<=": _op.le, "<": _op.lt}
SAMPLES_DIR = "samples"
MODELS_DIR = "models"
GLOBAL_ENTRY = "__global__"


def _as_source(data, data_type="test"):
    from sedna.datasources import BaseDataSource

    if hasattr(data, "x") and hasattr(data, "num_examples"):
        return data
    src = BaseDataSource(data_type=data_type)
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (str, np.str_)):
        src.x = np.asarray(data)
    else:
        src.x = data if isinstance(data, np.ndarray) else np.asarray(data)
    return src


def _json_ready(obj, what):
    try:
        json.dumps(obj)
    except (TypeError, ValueError) as e:
        raise PluginParamError(f"{what} must be JSON-serialisable to be stored in the knowledge base ({e})") from None
    return obj


def _storable(a):
    return a is not None and np.asarray(a).dtype.kind in "biufUSb"


def _callback(post_process):
    if post_process is None or callable(post_process):
        return post_process
    cls = ClassFactory.get_cls(ClassType.CALLBACK, post_process)
    try:
        return cls()
    except TypeError:
        return cls


class LoadedKB:
    """A knowledge-base version with its models in memory, ready to serve."""

    def __init__(self, version, doc, models, allocation, task_to_group, recognizer,
                 remodeling, integrate, deployed):
        self.version = version
        self.doc = doc
        self.models = models              # [Estimator] per group
        self.allocation = allocation
        self.task_to_group = np.asarray(task_to_group, dtype=np.int64)
        self._identity = bool((self.task_to_group == np.arange(len(self.task_to_group))).all())
        self.recognizer = recognizer
        self.remodeling = remodeling
        self.integrate = integrate
        self.deployed = np.asarray(deployed, dtype=bool)
        self.entries = [g["entry"] for g in doc["task_groups"]]
        sizes = [g.get("n_samples", 0) for g in doc["task_groups"]]
        self.fallback = int(np.argmax(sizes)) if sizes else 0

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


class LifelongLearning:
    """A lifelong-learning job: ``train``, ``update``, ``evaluate``, ``inference``.

    Parameters
    ----------
    estimator : class or instance
        The base model (tutorial §2.1.2); every task gets its own copy.
        ``seen_estimator=`` is accepted as the original's name.
    unseen_estimator : optional
        A trained model that serves samples recognised as unseen.
    task_definition, task_relationship_discovery, task_allocation,
    task_remodeling, inference_integrate, task_update_decision,
    unseen_task_allocation, unseen_sample_recognition,
    unseen_sample_re_recognition : dict, JSON string or None
        ``{"method": registered_name, "param": {...}}``; ``None`` takes the
        slot's default (see :data:`sedna.algorithms.registry.SLOTS`).
    output_url : str, optional
        Where knowledge-base versions go; default: ``OUTPUT_URL``.
    min_train_sample : int, optional
        Task groups with fewer samples share one global model; default:
        ``MIN_TRAIN_SAMPLE`` or 10.
    calibration_split : float
        Share of each task's training samples held out to calibrate the
        unseen-sample threshold when no ``valid_data`` is given (0 disables).
    """

    def __init__(self, estimator=None, unseen_estimator=None, task_definition=None,
                 task_relationship_discovery=None, task_allocation=None, task_remodeling=None,
                 inference_integrate=None, task_update_decision=None, unseen_task_allocation=None,
                 unseen_sample_recognition=None, unseen_sample_re_recognition=None, *,
                 seen_estimator=None, output_url=None, min_train_sample=None, calibration_split=0.1):
        if estimator is None:
            estimator = seen_estimator
        if estimator is None:
            raise EstimatorError("LifelongLearning needs an estimator (estimator= or seen_estimator=)")
        for need in ("predict",):
            if not hasattr(estimator, need):
                raise EstimatorError(f"estimator {estimator!r} has no {need}()")
        if not (hasattr(estimator, "train") or hasattr(estimator, "fit")):
            raise EstimatorError(f"estimator {estimator!r} has neither train() nor fit()")
        self.estimator = estimator
        self.unseen_estimator = unseen_estimator
        given = dict(task_definition=task_definition, task_relationship_discovery=task_relationship_discovery,
                     task_allocation=task_allocation, task_remodeling=task_remodeling,
                     inference_integrate=inference_integrate, task_update_decision=task_update_decision,
                     unseen_task_allocation=unseen_task_allocation,
                     unseen_sample_recognition=unseen_sample_recognition,
                     unseen_sample_re_recognition=unseen_sample_re_recognition)
        self.slots = {name: parse_slot(name, given[name]) for name in SLOTS}
        self._explicit = {name for name, spec in given.items() if spec is not None}
        self._output_url = output_url
        self._min_train_sample = min_train_sample
        if not 0 <= float(calibration_split) < 0.5:
            raise ValueError("calibration_split must be in [0, 0.5)")
        self.calibration_split = float(calibration_split)
        self._loaded = None          # LoadedKB served by inference
        self._cache = None           # EdgeKBCache when serving a deployed index
        self._lock = threading.RLock()
        self.log = LOGGER

    # ------------------------------------------------------------------ config
    @property
    def output_url(self):
        url = self._output_url or BaseConfig.output_url
        if not url:
            url = os.path.abspath("sedna-kb")
            LOGGER.info("OUTPUT_URL is not set; the knowledge base goes to %s", url)
        return url

    @property
    def min_train_sample(self):
        if self._min_train_sample is not None:
            return int(self._min_train_sample)
        return Context.get_int("MIN_TRAIN_SAMPLE", 10)

    def knowledge_base(self, url=None):
        from sedna.knowledge import KnowledgeBase

        return KnowledgeBase(url or self.output_url)

    # ------------------------------------------------------------------- train
    def train(self, train_data, valid_data=None, post_process=None, **kwargs):
        """Learn a new knowledge base from ``train_data``.

        Returns a dict with ``index_url``, ``version`` and per-task ``tasks``
        (samples, train metrics). When ``HAS_COMPLETED_INITIAL_TRAINING`` is
        true it runs :meth:`update` instead.
        """
        if Context.get_bool("HAS_COMPLETED_INITIAL_TRAINING", False):
            return self.update(train_data, valid_data=valid_data, post_process=post_process, **kwargs)
        callback = _callback(post_process)
        self._check_train_data(train_data, "train_data")
        tasks, extractor, _ = self.slots["task_definition"].build()(train_data)
        self._check_tasks(tasks)
        groups = self.slots["task_relationship_discovery"].build()(tasks)
        task_to_group = self._task_to_group(tasks, groups)
        # a group without samples gets no model; its tasks point nowhere (-1) until
        # an update brings them samples
        sizes = [sum(len(t.samples.x) if t.samples is not None and t.samples.x is not None else 0
                     for t in g.tasks) for g in groups]
        if not any(sizes):
            raise ValueError("train_data: the task definition put no sample in any task")
        keep = [i for i, n in enumerate(sizes) if n]
        renum = {old: new for new, old in enumerate(keep)}
        for g in (groups[i] for i, n in enumerate(sizes) if not n):
            LOGGER.warning("task group %r has no samples: no model this round", g.entry)
        groups = [groups[i] for i in keep]
        task_to_group = [renum.get(g, -1) for g in task_to_group]
        alloc = self.slots["task_allocation"].build(extractor)
        if hasattr(alloc, "fit"):
            extractor = alloc.fit(tasks, extractor)
            alloc = self.slots["task_allocation"].build(extractor)
        _json_ready(extractor, "the task extractor returned by task_definition/task_allocation")

        kb = self.knowledge_base()
        writer = kb.begin_version(parent=None)
        try:
            specs = [(g.entry, g.tasks, g.samples if g.samples is not None else concat(
                [t.samples for t in g.tasks])) for g in groups]
            rec = self.slots["unseen_sample_recognition"].build({})
            group_docs, models = self._train_groups(writer, specs, valid_data, kwargs, version=writer.number,
                                                    recognizer=rec)
            doc = self._index_doc(tasks, task_to_group, extractor, group_docs)
            loaded = self._build_loaded(None, doc, models)
            doc["unseen_sample_recognition"]["calibration"] = self._fit_recognizer(
                rec, [s for _, _, s in specs], loaded, valid_data)
            version = writer.commit(doc, samples=self._catalog_samples(groups))
        except BaseException:
            writer.abort()
            raise
        res = self._serve_committed(loaded, version)
        self._report("train", res)
        LOGGER.info("lifelong learning: trained %d task group(s) into KB version %d at %s",
                    len(group_docs), version.number, version.url)
        return callback(self.estimator, res) if callback else res

    # ------------------------------------------------------------------ update
    def update(self, train_data, valid_data=None, post_process=None, index_url=None, **kwargs):
        """Fold new labelled samples into the knowledge base as a new version."""
        from sedna.knowledge import KnowledgeBase

        callback = _callback(post_process)
        self._check_train_data(train_data, "train_data")
        index_url = index_url or Context.get_parameters("CLOUD_KB_INDEX")
        if index_url:
            prev = KnowledgeBase.open_index(self._resolve_url(index_url))
        else:
            prev = self.knowledge_base().current()
            if prev is None:
                raise KnowledgeBaseError(f"update: no knowledge base at {self.output_url} and CLOUD_KB_INDEX is unset; "
                                         "run train first")
        loaded = self._load(prev)
        rerec = self.slots["unseen_sample_re_recognition"].build(prev.doc)
        seen, unseen = rerec(train_data, models=loaded.models, allocate=loaded.allocate)
        decision = self.slots["task_update_decision"].build(copy.deepcopy(prev.doc))
        t1, s1 = decision(seen, task_type="seen_task")
        t2, s2 = decision(unseen, task_type="unseen_task")
        new_samples, strategies = {}, {}
        for t in list(t1) + list(t2):
            new_samples.setdefault(t.entry, []).append(t)
        strategies.update(s1)
        for k, v in s2.items():  # a task that gets enough samples from either side is retrained
            if k not in strategies or strategies[k] == "absorb":
                strategies[k] = v

        old_tasks = prev.doc.get("tasks", [])
        known = [t["entry"] for t in old_tasks]
        tasks_doc = [dict(t) for t in old_tasks]
        for entry in getattr(decision, "known", known):
            if entry not in known:
                meta = new_samples[entry][0].meta_attr if entry in new_samples else None
                tasks_doc.append({"entry": entry, "meta_attr": None if meta is None else str(meta), "group": -1})
                known.append(entry)
        groups_doc = prev.doc["task_groups"]

        kb = self.knowledge_base()
        writer = kb.begin_version(parent=prev)
        try:
            plan, kept = [], {}
            for gi, g in enumerate(groups_doc):
                if g["entry"] == GLOBAL_ENTRY:
                    continue
                members = [t for t in tasks_doc if t.get("group") == gi]
                incoming = [s for m in members for s in (t.samples for t in new_samples.get(m["entry"], []))]
                if not incoming:
                    kept[g["entry"]] = (gi, None)
                    continue
                strategy = next((strategies.get(m["entry"]) for m in members if m["entry"] in strategies), "retrain")
                if strategy == "absorb":  # too few to retrain for: keep the model, store the samples
                    kept[g["entry"]] = (gi, incoming)
                    continue
                plan.append((g["entry"], members, incoming, strategy, gi))
            for t in tasks_doc:
                if t.get("group", -1) == -1 and t["entry"] in new_samples:
                    plan.append((t["entry"], [t], [s.samples for s in new_samples[t["entry"]]], "new", None))
            group_docs, models = [], []
            # kept groups: same artifacts, referenced by absolute URL (versions are immutable)
            kept_parts = []
            for entry, (gi, incoming) in kept.items():
                gd = copy.deepcopy(groups_doc[gi])
                gd["model"]["url"] = prev.resolve(gd["model"]["url"])
                stored = self._stored_samples(prev, groups_doc[gi])
                if incoming:
                    stored = concat([stored] + list(incoming), data_type="train")
                    gd["samples_url"] = self._save_samples(writer, entry, stored)
                    gd["n_samples"] = int(len(stored.x))
                elif gd.get("samples_url"):
                    gd["samples_url"] = prev.resolve(gd["samples_url"])
                kept_parts.append(stored)
                group_docs.append(gd)
                models.append(loaded.models[gi])
            specs = []
            for entry, members, incoming, strategy, gi in plan:
                parts = list(incoming)
                if strategy == "retrain" and gi is not None:
                    parts = [self._stored_samples(prev, groups_doc[gi])] + parts
                samples = concat(parts, data_type="train")
                specs.append((entry, members, samples, strategy, gi))
            rec = self.slots["unseen_sample_recognition"].build({})
            trained_docs, trained_models = self._train_groups(
                writer, [(e, m, s) for e, m, s, _, _ in specs], valid_data, kwargs, version=writer.number,
                strategies={e: (st, loaded.models[gi] if gi is not None else None)
                            for e, _, _, st, gi in specs}, recognizer=rec)
            group_docs += trained_docs
            models += trained_models
            entry_to_new = {gd["entry"]: i for i, gd in enumerate(group_docs)}
            task_to_group = []
            for t in tasks_doc:
                old_gi = t.get("group", -1)
                ge = groups_doc[old_gi]["entry"] if old_gi >= 0 else t["entry"]
                task_to_group.append(entry_to_new.get(ge, -1))
            extractor = decision.task_extractor
            alloc = self.slots["task_allocation"].build(extractor)
            if hasattr(alloc, "fit"):
                all_tasks = self._tasks_with_samples(prev, tasks_doc, groups_doc, new_samples, group_docs, writer)
                extractor = alloc.fit(all_tasks, extractor.get("base") if isinstance(extractor, dict)
                                      and extractor.get("kind") == "classifier" else extractor)
            _json_ready(extractor, "the task extractor")
            tasks_objs = [Task(entry=t["entry"], samples=None, meta_attr=t.get("meta_attr")) for t in tasks_doc]
            doc = self._index_doc(tasks_objs, task_to_group, extractor, group_docs)
            for t, src in zip(doc["tasks"], tasks_doc):
                t["n_samples"] = src.get("n_samples", 0) + sum(len(s.samples.x) for s in new_samples.get(t["entry"], []))
            doc["update"] = {"parent_index": prev.url, "strategies": strategies,
                             "seen": int(len(seen.x)), "unseen": int(len(unseen.x))}
            loaded_new = self._build_loaded(None, doc, models)
            parts = kept_parts + [s for _, _, s, _, _ in specs]
            doc["unseen_sample_recognition"]["calibration"] = self._fit_recognizer(
                rec, parts, loaded_new, valid_data)
            version = writer.commit(doc)
        except BaseException:
            writer.abort()
            raise
        res = self._serve_committed(loaded_new, version)
        res["strategies"] = strategies
        self._report("train", res)
        LOGGER.info("lifelong learning: updated KB to version %d (%s)", version.number,
                    ", ".join(f"{k}: {v}" for k, v in strategies.items()) or "no change")
        return callback(self.estimator, res) if callback else res

    # ---------------------------------------------------------------- evaluate
    def evaluate(self, data, metrics=None, metrics_param=None, post_process=None, index_url=None,
                 operator=None, model_threshold=None, **kwargs):
        """Score every task on ``data`` and write the deployable index.

        A task whose score satisfies ``score <operator> model_threshold``
        (``operator``/``model_threshold`` env by default; the tutorial's ``<``
        with ``0`` drops nothing) is left out of deployment. Returns a dict
        with per-task ``tasks`` metrics, ``dropped`` entries and ``index_url``.
        """
        from sedna.common.file_ops import FileOps
        from sedna.knowledge import KnowledgeBase

        callback = _callback(post_process)
        self._check_train_data(data, "data")
        url = index_url or self._first_model_url()
        version = KnowledgeBase.open_index(self._resolve_url(url)) if url else self.knowledge_base().current()
        if version is None:
            raise KnowledgeBaseError("evaluate: no knowledge base given (MODEL_URLS) and none under OUTPUT_URL")
        loaded = self._load(version)
        metric_fns = self._metric_fns(metrics, metrics_param)
        op_name = operator or Context.get_parameters("operator", "<")
        if op_name not in OPERATORS:
            raise PluginParamError(f"operator: must be one of {' '.join(OPERATORS)}, got {op_name!r}")
        thr = model_threshold if model_threshold is not None else Context.get_parameters("model_threshold", 0)
        try:
            thr = float(thr)
        except (TypeError, ValueError):
            raise PluginParamError(f"model_threshold: expected a number, got {thr!r}") from None
        groups = loaded.allocate(data)
        per_task, dropped = {}, []
        deploy_doc = copy.deepcopy(version.doc)
        for gi, gd in enumerate(deploy_doc["task_groups"]):
            gd["model"]["url"] = version.resolve(gd["model"]["url"])
            if gd.get("samples_url"):
                gd["samples_url"] = version.resolve(gd["samples_url"])
            rows = np.flatnonzero(groups == gi)
            if not len(rows):
                per_task[gd["entry"]] = {"n_samples": 0}
                gd["deployed"] = bool(gd.get("deployed", True))
                continue
            scores = loaded.models[gi].evaluate(subset(data, rows), metrics=metric_fns, **kwargs)
            name = next(iter(scores)) if scores else None
            score = scores.get(name) if name else None
            drop = score is not None and OPERATORS[op_name](score, thr)
            per_task[gd["entry"]] = dict(scores, n_samples=int(len(rows)), deployed=not drop)
            gd["eval_metrics"] = scores
            gd["deployed"] = not drop
            if drop:
                dropped.append(gd["entry"])
        unallocated = int((groups == -1).sum())
        cal = self._calibrate(loaded, subset(data, np.flatnonzero(groups >= 0)))
        if cal:
            deploy_doc["unseen_sample_recognition"]["calibration"] = cal
        deploy_doc["evaluation"] = {"source_index": version.url, "source_version": version.number,
                                    "operator": op_name, "model_threshold": thr, "dropped": dropped,
                                    "unallocated_samples": unallocated,
                                    "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        kb_root = self._kb_root_of(version)
        out_dir = Context.get_parameters("OUTPUT_URL")
        if not out_dir or out_dir.rstrip("/") == kb_root.rstrip("/") or (
                FileOps.is_local(out_dir) and os.path.abspath(out_dir) == os.path.abspath(kb_root)):
            # never overwrite the knowledge base's own pointer
            out_dir = FileOps.join_path(kb_root, "evaluations", f"{version.number:04d}")
        out_url = FileOps.join_path(out_dir, "index.json")
        if FileOps.is_local(out_url):
            os.makedirs(out_dir, exist_ok=True)
            FileOps.write_atomic(out_url, json.dumps(deploy_doc, indent=1))
        else:
            FileOps.dump(deploy_doc, out_url)
        res = {"tasks": per_task, "dropped": dropped, "index_url": out_url, "version": version.number,
               "unallocated_samples": unallocated}
        self._report("eval", res)
        LOGGER.info("lifelong learning: evaluated KB version %d: %s", version.number,
                    "; ".join(f"{k}: {v}" for k, v in per_task.items()))
        return callback(res) if callback else res

    # --------------------------------------------------------------- inference
    def inference(self, data, post_process=None, unseen_sample_postprocess=None, recognize_unseen=True, **kwargs):
        """Predict ``data``; returns ``(result, is_unseen_task, tasks)``.

        ``result`` is in input order (``None`` / the unseen estimator's output
        for unseen samples), ``is_unseen_task`` a boolean array, ``tasks`` the
        per-task batches with their results. Unseen samples are saved to
        ``unseen_save_url`` for labelling. ``recognize_unseen=False`` sends
        every sample to its allocated task (for measuring a knowledge base on
        data it may not know).
        """
        kb = self._serving()
        samples = _as_source(data)
        if getattr(samples, "index", None) is not None:  # rows are positions in *this* batch
            samples = subset(samples, np.arange(len(samples.x)))
            samples.index = None
        n = len(samples.x)
        models = kb.models
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
            seen, unseen = kb.recognizer(samples, models=models, allocate=allocate)
        else:
            seen, unseen = subset(samples, np.arange(n)), subset(samples, np.zeros(0, dtype=np.int64))
        is_unseen = np.zeros(n, dtype=bool)
        seen_pos = np.asarray(seen.index)
        tasks = []
        seen_result = None
        if len(seen_pos):
            if memo and len(seen_pos) == n and not len(unseen.x):
                groups = memo[0].copy()  # every row seen: the recognizer's allocation is the one
            else:
                groups = allocate(seen).copy()
            groups[groups < 0] = kb.fallback
            if not kb.deployed.all():
                dropped = ~kb.deployed[groups]
                if dropped.any():
                    is_unseen[seen_pos[dropped]] = True
                    keep = np.flatnonzero(~dropped)
                    seen, groups, seen_pos = subset(seen, keep), groups[keep], seen_pos[keep]
            if len(seen_pos):
                seen.index = np.arange(len(seen_pos))
                mapped = [Model(i, kb.entries[i], m) for i, m in enumerate(models)]
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
        unseen_pos = np.asarray(unseen.index)
        is_unseen[unseen_pos] = True
        if is_unseen.any():
            useen = subset(samples, np.flatnonzero(is_unseen))
            self._handle_unseen(useen, unseen_sample_postprocess, kwargs)
        if not is_unseen.any() and seen_result is not None and len(seen_pos) == n \
                and (seen_pos == np.arange(n)).all():
            result = seen_result
        else:
            result = self._assemble(n, seen_pos, seen_result, is_unseen, samples)
        callback = _callback(post_process)
        if callback:
            result = callback(result)
        return result, is_unseen, tasks

    # ----------------------------------------------------------------- helpers
    def _serve_committed(self, loaded, version):
        """Serve the version just written with the models still in memory."""
        loaded.version, loaded.doc = version, version.doc
        loaded.recognizer = self._recognizer_slot(version.doc).build(version.doc)
        with self._lock:
            self._loaded = loaded
        return self._result(version)

    @staticmethod
    def _check_train_data(data, what):
        if data is None or not hasattr(data, "x") or data.x is None:
            raise ValueError(f"{what}: expected a sedna.datasources data source with x (and y), got {type(data).__name__}")
        if not len(data.x):
            raise ValueError(f"{what}: no samples")

    @staticmethod
    def _check_tasks(tasks):
        if not isinstance(tasks, (list, tuple)) or not tasks:
            raise PluginParamError("task_definition returned no tasks")
        for t in tasks:
            if not isinstance(t, Task):
                raise PluginParamError(f"task_definition returned a {type(t).__name__}, expected Task objects")

    @staticmethod
    def _task_to_group(tasks, groups):
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

    def _holdout(self, n):
        if self.calibration_split <= 0 or n < 10:
            return np.zeros(n, dtype=bool)
        k = max(2, int(round(1 / self.calibration_split)))
        return (np.arange(n) % k) == (k - 1)

    def _train_groups(self, writer, specs, valid_data, kwargs, version, strategies=None, recognizer=None):
        """Train one model per (entry, tasks, samples); small groups share a global one.

        When the unseen-sample recognizer calibrates on model outputs
        (``needs_model_holdout``), the models are trained without the rows
        :meth:`_fit_recognizer` holds out for calibration.
        """
        min_n = self.min_train_sample
        group_docs, models, small = [], [], []
        for entry, members, samples in specs:
            n = len(samples.x) if samples is not None and samples.x is not None else 0
            doc = {"entry": entry, "n_samples": int(n), "deployed": True,
                   "tasks": [self._task_doc(m) for m in members]}
            group_docs.append(doc)
            models.append(None)
            if n == 0:
                continue
            doc["samples_url"] = self._save_samples(writer, entry, samples)
            if n < min_n:
                small.append(len(group_docs) - 1)
                continue
            train = samples
            if valid_data is None and self._needs_model_holdout(recognizer, samples):
                mask = self._holdout(n)
                if mask.any():
                    train = subset(samples, np.flatnonzero(~mask))
            strategy, previous = (strategies or {}).get(entry, ("new" if strategies else "train", None))
            LOGGER.info("task %s: %s on %d samples", entry, strategy, len(train.x))
            est, metrics = self._fit(train, valid_data, kwargs, strategy, previous)
            models[-1] = est
            doc["model"] = self._save_model(writer, est, entry, metrics, version, strategy)
        if small:
            pooled = concat([specs[i][2] for i in small], data_type="train")
            LOGGER.info("tasks %s: fewer than %d samples each: one shared model on %d samples",
                        ", ".join(group_docs[i]["entry"] for i in small), min_n, len(pooled.x))
            est, metrics = self._fit(pooled, valid_data, kwargs, "train", None)
            mdoc = self._save_model(writer, est, GLOBAL_ENTRY, metrics, version, "train")
            mdoc["shared"] = True
            for i in small:
                group_docs[i]["model"] = dict(mdoc)
                models[i] = est
        for i, doc in enumerate(group_docs):
            if models[i] is None:  # empty group: nothing to learn from
                raise PluginParamError(f"task group {doc['entry']!r} has no samples")
        return group_docs, models

    @staticmethod
    def _needs_model_holdout(rec, samples):
        need = getattr(rec, "needs_model_holdout", False) if rec is not None else False
        return bool(need(samples) if callable(need) else need)

    def _fit_recognizer(self, rec, parts, loaded, valid_data):
        """Fit the unseen-sample recognizer on the tasks' samples minus a
        held-out share, and calibrate it on that share (or on ``valid_data``)."""
        if rec is None or not (hasattr(rec, "fit") or hasattr(rec, "calibrate")):
            return {}
        fit_parts, holds = [], []
        for p in parts:
            if p is None or p.x is None or not len(p.x):
                continue
            mask = self._holdout(len(p.x)) if valid_data is None else np.zeros(len(p.x), dtype=bool)
            fit_parts.append(subset(p, np.flatnonzero(~mask)) if mask.any() else p)
            if mask.any():
                holds.append(subset(p, np.flatnonzero(mask)))
        try:
            if hasattr(rec, "fit"):
                rec.fit(fit_parts)
            data = valid_data if valid_data is not None else (concat(holds, "eval") if holds else None)
            if data is None or not hasattr(rec, "calibrate"):
                # too few samples to hold some out: keep what was fitted; evaluate() calibrates
                return rec.state() if hasattr(rec, "state") else {}
            return rec.calibrate(data, loaded.models, loaded.allocate) or {}
        except (TypeError, ValueError) as e:
            LOGGER.warning("unseen-sample recognition not calibrated: %s", e)
            return {}

    def _fit(self, samples, valid_data, kwargs, strategy, previous):
        if strategy == "finetune" and previous is not None:
            est = Estimator(copy.deepcopy(previous.est))
            metrics = est.finetune(samples, valid_data, **kwargs)
        else:
            est = Estimator.create(self.estimator)
            metrics = est.train(samples, valid_data, **kwargs)
        return est, {k: float(v) for k, v in (metrics or {}).items() if np.isscalar(v) and not isinstance(v, str)}

    def _save_model(self, writer, est, entry, metrics, version, strategy):
        folder = writer.artifact_dir(f"{MODELS_DIR}/{safe_name(entry)}")
        path = est.save(folder)
        rel = os.path.relpath(path, self._staging_root(writer))
        return {"url": rel.replace(os.sep, "/"), "format": type(est.est).__name__, "estimator": est.name,
                "metrics": metrics, "trained_version": version, "strategy": strategy}

    @staticmethod
    def _staging_root(writer):
        # the local folder that becomes the version folder on commit
        return writer.staging

    def _save_samples(self, writer, entry, samples):
        if samples is None or not _storable(samples.x):
            return None
        y = getattr(samples, "y", None)
        arrays = {"x": np.asarray(samples.x)}
        if y is not None and len(y) == len(samples.x) and _storable(y):
            arrays["y"] = np.asarray(y)
        meta = getattr(samples, "meta_attr", None)
        if meta is not None and len(meta) == len(samples.x) and _storable(meta):
            arrays["meta_attr"] = np.asarray(meta)
        rel = f"{SAMPLES_DIR}/{safe_name(entry)}.npz"
        np.savez(writer.path(rel), **arrays)
        return rel

    @staticmethod
    def _stored_samples(version, group_doc):
        from sedna.datasources import BaseDataSource

        url = group_doc.get("samples_url")
        src = BaseDataSource(data_type="train")
        if not url:
            LOGGER.warning("task %s: no stored samples; retraining on the new samples only", group_doc["entry"])
            src.x = np.array([])
            return src
        with np.load(version.local_path(url), allow_pickle=False) as z:
            src.x = z["x"]
            src.y = z["y"] if "y" in z.files else np.array([])
            if "meta_attr" in z.files:
                src.meta_attr = z["meta_attr"]
        return src

    def _tasks_with_samples(self, prev, tasks_doc, groups_doc, new_samples, group_docs, writer):
        out = []
        for t in tasks_doc:
            parts = [s.samples for s in new_samples.get(t["entry"], [])]
            gi = t.get("group", -1)
            if gi >= 0 and len(groups_doc[gi].get("tasks", [])) == 1:
                parts = [self._stored_samples(prev, groups_doc[gi])] + parts
            out.append(Task(entry=t["entry"], samples=concat(parts), meta_attr=t.get("meta_attr")))
        return out

    @staticmethod
    def _task_doc(task):
        if isinstance(task, dict):
            return {"entry": task["entry"], "meta_attr": task.get("meta_attr"), "n_samples": task.get("n_samples", 0)}
        n = len(task.samples.x) if task.samples is not None and task.samples.x is not None else 0
        meta = task.meta_attr
        return {"entry": task.entry, "meta_attr": None if meta is None else str(meta), "n_samples": int(n)}

    def _index_doc(self, tasks, task_to_group, extractor, group_docs):
        s = self.slots
        return {
            "kind": "sedna.lifelong-learning.kb",
            "job": BaseConfig.job_name,
            "estimator": f"{type(self.estimator).__module__}.{getattr(self.estimator, '__qualname__', type(self.estimator).__qualname__)}",
            "task_definition": s["task_definition"].to_json(),
            "task_relationship_discovery": s["task_relationship_discovery"].to_json(),
            "task_allocation": s["task_allocation"].to_json(),
            "task_remodeling": s["task_remodeling"].to_json(),
            "inference_integrate": s["inference_integrate"].to_json(),
            "unseen_sample_recognition": dict(s["unseen_sample_recognition"].to_json(), calibration={}),
            "extractor": extractor,
            "tasks": [dict(self._task_doc(t), group=int(g)) for t, g in zip(tasks, task_to_group)],
            "task_groups": group_docs,
        }

    def _catalog_samples(self, groups):
        out = {}
        for g in groups:
            for t in g.tasks:
                x = t.samples.x if t.samples is not None else None
                if x is None or np.asarray(x).dtype.kind not in "US":
                    continue  # only path-like samples are listed in the catalog
                y = t.samples.y if t.samples.y is not None and len(t.samples.y) == len(x) else [None] * len(x)
                out[t.entry] = ([v.tolist() if isinstance(v, np.ndarray) else str(v) for v in x],
                                [None if v is None else str(v) for v in y])
        return out

    def _build_loaded(self, version, doc, models):
        s = self.slots
        alloc_spec = doc.get("task_allocation") or s["task_allocation"].to_json()
        alloc_slot = parse_slot("task_allocation", alloc_spec)
        return LoadedKB(
            version, doc, models, alloc_slot.build(doc.get("extractor")),
            [t.get("group", -1) for t in doc.get("tasks", [])],
            self._recognizer_slot(doc).build(doc),
            s["task_remodeling"].build([]), s["inference_integrate"].build([]),
            [g.get("deployed", True) for g in doc["task_groups"]])

    def _recognizer_slot(self, doc):
        """The worker's own recognizer if it named one, else the one the KB was calibrated with."""
        name = "unseen_sample_recognition"
        stored = doc.get(name) if isinstance(doc.get(name), dict) else None
        if name in self._explicit or not stored or not stored.get("method"):
            return self.slots[name]
        try:
            return parse_slot(name, {"method": stored["method"], "param": stored.get("param") or {}})
        except (PluginParamError, KeyError, ValueError):
            return self.slots[name]

    @staticmethod
    def _model_path(version, url):
        """Local path of a model artifact. From a remote knowledge base the model's
        whole folder is fetched: an estimator's save() may write several files
        beside the one it names (a weights file, a side array file...)."""
        from sedna.common.file_ops import FileOps

        if FileOps.is_local(version.resolve(url)) or "/" not in url:
            return version.local_path(url)
        folder, name = url.rsplit("/", 1)
        return os.path.join(version.local_path(folder), name)

    def _load(self, version):
        """Load every model of a KB version (one estimator instance per group)."""
        with self._lock:
            cur = self._loaded
        if cur is not None and cur.version is not None and cur.version.url == version.url \
                and cur.version.number == version.number and cur.doc == version.doc:
            return cur
        models, by_url = [], {}
        for gd in version.doc["task_groups"]:
            url = version.resolve(gd["model"]["url"])
            if url not in by_url:
                est = Estimator.create(self.estimator)
                try:
                    est.load(self._model_path(version, gd["model"]["url"]))
                except (OSError, ValueError) as e:
                    from sedna.common.exceptions import CorruptKnowledgeBaseError

                    raise CorruptKnowledgeBaseError(f"{version.url}: model of task {gd['entry']!r} "
                                                    f"({url}) cannot be loaded: {e}") from e
                by_url[url] = est
            models.append(by_url[url])
        return self._build_loaded(version, version.doc, models)

    def _calibrate(self, loaded, samples):
        """Re-calibrate the deployed recognizer on held-out seen samples."""
        rec = loaded.recognizer
        if samples is None or not hasattr(rec, "calibrate") or not len(samples.x):
            return {}
        try:
            return rec.calibrate(samples, loaded.models, loaded.allocate) or {}
        except (TypeError, ValueError) as e:
            LOGGER.warning("unseen-sample calibration skipped: %s", e)
            return {}

    def _serving(self):
        """The KB inference uses: the deployed index (hot-reloaded) or the one just trained."""
        url = self._first_model_url()
        if url:
            if self._cache is None:
                from sedna.knowledge import EdgeKBCache

                with self._lock:
                    if self._cache is None:
                        cache = EdgeKBCache(self._resolve_url(url), loader=self._load,
                                            poll_period=Context.get_float("MODEL_POLL_PERIOD_SECONDS", 60.0))
                        cache.load()
                        cache.start()
                        self._cache = cache
            return self._cache.current[1]
        with self._lock:
            loaded = self._loaded
        if loaded is not None:
            return loaded
        version = self.knowledge_base().current()
        if version is None:
            raise KnowledgeBaseError("inference: no knowledge base (MODEL_URLS unset and nothing under OUTPUT_URL)")
        loaded = self._load(version)
        with self._lock:
            self._loaded = loaded
        return loaded

    def serving_version(self):
        """The knowledge-base version inference serves now (the trained version a
        deployed index comes from), or None before anything is loaded."""
        if self._cache is not None and self._cache.current:
            loaded = self._cache.current[1]
        else:
            loaded = self._loaded
        if loaded is None or loaded.doc is None:
            return None
        ev = loaded.doc.get("evaluation") or {}
        return ev.get("source_version") or loaded.doc.get("version")

    def close(self):
        """Stop the hot-reload thread (it is a daemon thread; this is optional)."""
        if self._cache is not None:
            self._cache.stop()
            self._cache = None

    @staticmethod
    def _first_model_url():
        urls = Context.get_parameters("MODEL_URLS") or Context.get_parameters("MODEL_URL")
        if not urls:
            return None
        parts = [u.strip() for u in str(urls).split(";") if u.strip()]
        for u in parts:
            if u.endswith(".json"):
                return u
        return parts[0] if parts else None

    @staticmethod
    def _resolve_url(url):
        from sedna.common.file_ops import FileOps

        if FileOps.is_local(url) and os.path.isdir(url):
            return os.path.join(url, "index.json")
        return url

    @staticmethod
    def _kb_root_of(version):
        base = version.base_url.rstrip("/")
        parent = os.path.dirname(base)
        return os.path.dirname(parent) if os.path.basename(parent) == "versions" else base

    @staticmethod
    def _metric_fns(metrics, metrics_param):
        if metrics is None:
            return None
        if callable(metrics):
            return {getattr(metrics, "__name__", "metric"): metrics}
        if isinstance(metrics, str):
            metrics = [metrics]
        if isinstance(metrics, dict):
            return dict(metrics)
        out = {}
        for m in metrics:
            if callable(m):
                out[getattr(m, "__name__", "metric")] = m
            elif m == "accuracy":
                out[m] = lambda y, p: float((np.asarray(y) == np.asarray(p)).mean())
            else:
                fn = ClassFactory.get_cls(ClassType.GENERAL, m)
                out[m] = fn
        return out

    def _handle_unseen(self, useen, postprocess, kwargs):
        save_url = kwargs.get("unseen_save_url") or Context.get_parameters("unseen_save_url")
        if postprocess is not None:
            fn = _callback(postprocess)
            fn(useen, save_url)
            return
        if not save_url:
            return
        from sedna.core.lifelong_learning.unseen_store import save_unseen

        save_unseen(useen, save_url)

    def _assemble(self, n, seen_pos, seen_result, is_unseen, samples):
        unseen_out = None
        if is_unseen.any() and self.unseen_estimator is not None:
            useen = subset(samples, np.flatnonzero(is_unseen))
            ests = self.unseen_estimator if isinstance(self.unseen_estimator, (list, tuple)) else [self.unseen_estimator]
            alloc = self.slots["unseen_task_allocation"].build((self._serving().doc or {}).get("unseen_extractor"))
            _, ids = alloc(useen)
            ids = np.asarray(ids, dtype=np.int64)
            if len(ids) and (ids.min() < 0 or ids.max() >= len(ests)):
                raise IndexError(f"unseen_task_allocation sent samples to unseen model {int(ids.max())}, "
                                 f"but {len(ests)} unseen estimator(s) were given")
            unseen_out = [None] * len(useen.x)
            for k in np.unique(ids).tolist():
                rows = np.flatnonzero(ids == k)
                for r, v in zip(rows.tolist(), list(ests[k].predict(useen.x[rows]))):
                    unseen_out[r] = v
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

    @staticmethod
    def _result(version):
        tasks = {}
        for gd in version.doc["task_groups"]:
            tasks[gd["entry"]] = {"n_samples": gd.get("n_samples", 0),
                                  "metrics": gd.get("model", {}).get("metrics", {}),
                                  "strategy": gd.get("model", {}).get("strategy")}
        return {"index_url": version.url, "version": version.number, "tasks": tasks}

    def _report(self, kind, res):
        try:
            from sedna.worker import report_task_info
        except ImportError:  # pragma: no cover - worker package is part of sedna
            return
        metrics = {k: v for k, v in res.get("tasks", {}).items()}
        owner = {"version": res.get("version"), "tasks": len(metrics),
                 "samples": int(sum(v.get("n_samples", 0) for v in metrics.values()))}
        report_task_info(kind, "completed", [{"format": "index", "url": res["index_url"], "metrics": metrics}],
                         owner_info=owner)


_PARAMS = {}


def _integrate_params(integ):
    import inspect

    key = type(integ)
    if key not in _PARAMS:
        try:
            _PARAMS[key] = set(inspect.signature(integ.__call__).parameters)
        except (TypeError, ValueError):
            _PARAMS[key] = set()
    return _PARAMS[key]
