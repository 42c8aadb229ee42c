"""The lifelong-learning job object (CONTRACTS §3): a facade.

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

The work is done by :mod:`.training` (fitting and storing models),
:mod:`.kb_doc` (the index document), :mod:`.serving` (loaded KB, inference,
hot reload) and :mod:`.settings` (every environment read); this module
orders the steps and writes each version all-or-nothing.
"""

import copy
import json
import os

import numpy as np

from sedna.algorithms.registry import SLOTS
from sedna.algorithms.seen_task_learning.artifact import Task
from sedna.common.exceptions import EstimatorError, KnowledgeBaseError, UnknownPluginError
from sedna.common.log import LOGGER
from sedna.core.lifelong_learning import backward_transfer, kb_doc, replay, serve_choice, settings
from sedna.core.lifelong_learning.original_names import explain
from sedna.core.lifelong_learning.serving import Serving
from sedna.core.lifelong_learning.slots import parse_slot
from sedna.core.lifelong_learning.training import Trainer, stored_samples
from sedna.datasources.ops import concat, subset

__all__ = ("LifelongLearning",)


def _check_data(data, what):
    if data is None or not hasattr(data, "x") or data.x is None:
        raise ValueError(f"{what}: expected a sedna.datasources data source with x (and y), got {type(data).__name__}")
    if not len(data.x):
        raise ValueError(f"{what}: no samples")


def _check_estimator(estimator):
    if estimator is None:
        raise EstimatorError("LifelongLearning needs an estimator (estimator= or seen_estimator=)")
    if not hasattr(estimator, "predict"):
        raise EstimatorError(f"estimator {estimator!r} has no predict()")
    if not (hasattr(estimator, "train") or hasattr(estimator, "fit")):
        raise EstimatorError(f"estimator {estimator!r} has neither train() nor fit()")


def _parse_slot(name, spec):
    """:func:`parse_slot`, pointing at the closest built-in for the original's own plugin names."""
    try:
        return parse_slot(name, spec)
    except UnknownPluginError as e:
        method = spec.get("method") if isinstance(spec, dict) else spec
        hint = explain(name, method) if isinstance(method, str) else None
        if hint is None:
            raise
        raise UnknownPluginError(hint) from e


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
    transfer : bool
        Task models start from a related trained model instead of from
        scratch: in the first round a shared base trained on every task's
        samples, later the closest task's model (new tasks) or the task's own
        previous model (retrained tasks); tasks too small for their own model
        are served by the base. Only for estimators that can start from
        another (:mod:`sedna.backend.transfer`); others train as without it.
    task_epochs : float
        Share of the estimator's ``epochs`` a task model trains for when it
        is specialised from the shared base on samples the base learned
        already (first round; estimators with an integer ``epochs``). New and
        retrained tasks learn new samples: full epochs.
    base_epochs : float
        Share of the estimator's ``epochs`` the shared base trains for.
    replay_size : int or None
        Samples kept per task in the knowledge base (a uniform reservoir of
        all it has seen) and replayed when the task is retrained; None keeps all.
    distill : bool
        When a known task is retrained, its previous model is passed as
        ``teacher=`` to estimators whose ``train`` takes one.
    refresh : float
        Backward transfer (:mod:`.backward_transfer`): when an update creates a
        task, old tasks it is related to train again from their own model on
        their buffer plus its samples, for this share of the epochs, and keep
        the result only if it scores at least as well on their held-out rows.
        0 disables it.
    refresh_budget : float or None
        What the refreshes of one update may cost together, as a multiple of
        the new tasks' own training (rows times epochs): 0.5 (the default)
        keeps an update's training near 1.5 times that of the new tasks alone.
        The most related tasks are refreshed first. None: no bound (every
        related task, whole: about the cost of joint retraining).
    serve_choice : bool or None
        With transfer, each version decides per task group whether its own
        model or the shared base serves the samples allocated to it, by which
        scores better on the held-out rows (``calibration_split`` of every
        task's samples, then not trained on) as the allocation routes them
        (:mod:`.serve_choice`; recorded as ``serve`` in the index). None: only
        for numeric samples; False: every group serves its own model.
    """

    def __init__(self, estimator=None, unseen_estimator=None, task_definition=None,
                 task_relationship_discovery=None, task_allocation=None, task_remodeling=None,
                 inference_integrate=None, task_update_decision=None, unseen_task_allocation=None,
                 unseen_sample_recognition=None, unseen_sample_re_recognition=None, *,
                 seen_estimator=None, output_url=None, min_train_sample=None, calibration_split=0.1,
                 transfer=True, task_epochs=0.5, replay_size=replay.DEFAULT_SIZE, distill=False,
                 base_epochs=0.8, refresh=0.5, refresh_budget=0.5, serve_choice=None):
        estimator = seen_estimator if estimator is None else estimator
        _check_estimator(estimator)
        self.estimator = estimator
        self.unseen_estimator = unseen_estimator
        given = dict(task_definition=task_definition, task_relationship_discovery=task_relationship_discovery,
                     task_allocation=task_allocation, task_remodeling=task_remodeling,
                     inference_integrate=inference_integrate, task_update_decision=task_update_decision,
                     unseen_task_allocation=unseen_task_allocation,
                     unseen_sample_recognition=unseen_sample_recognition,
                     unseen_sample_re_recognition=unseen_sample_re_recognition)
        self.slots = {name: _parse_slot(name, given[name]) for name in SLOTS}
        self._explicit = {name for name, spec in given.items() if spec is not None}
        self._output_url = output_url
        self._min_train_sample = min_train_sample
        if not 0 <= float(calibration_split) < 0.5:
            raise ValueError("calibration_split must be in [0, 0.5)")
        self.calibration_split = float(calibration_split)
        for name, share in (("task_epochs", task_epochs), ("base_epochs", base_epochs)):
            if not 0 < float(share) <= 1:
                raise ValueError(f"{name} must be in (0, 1]")
        if not 0 <= float(refresh) <= 1:
            raise ValueError("refresh must be in [0, 1] (0: old tasks are never refreshed)")
        if refresh_budget is not None and not float(refresh_budget) >= 0:
            raise ValueError("refresh_budget must be a number >= 0, or None for no bound")
        if serve_choice not in (None, True, False):
            raise ValueError("serve_choice must be True, False or None (numeric samples only)")
        if replay_size is not None and int(replay_size) < 1:
            raise ValueError("replay_size must be a positive number of samples or None")
        self.options = dict(transfer=bool(transfer), task_epochs=float(task_epochs),
                            replay_size=None if replay_size is None else int(replay_size), distill=bool(distill),
                            base_epochs=float(base_epochs), refresh=float(refresh),
                            refresh_budget=None if refresh_budget is None else float(refresh_budget),
                            serve_choice=serve_choice)
        self._serving_kb = Serving(estimator, self.slots, self._explicit, unseen_estimator, output_url)
        self.log = LOGGER

    # ------------------------------------------------------------------ config
    @property
    def output_url(self):
        return settings.output_url(self._output_url)

    @property
    def min_train_sample(self):
        return settings.min_train_sample(self._min_train_sample)

    def knowledge_base(self, url=None):
        from sedna.knowledge import KnowledgeBase

        return KnowledgeBase(url or self.output_url)

    def _trainer(self):
        return Trainer(self.estimator, self.min_train_sample, self.calibration_split, **self.options)

    # ------------------------------------------------------------------- train
    def train(self, train_data, valid_data=None, post_process=None, **kwargs):
        """Learn a new knowledge base from ``train_data``.

        Returns a dict with ``index_url``, ``version`` and per-task ``tasks``
        (samples, train metrics). When ``HAS_COMPLETED_INITIAL_TRAINING`` is
        true it runs :meth:`update` instead.
        """
        if settings.has_completed_initial_training():
            return self.update(train_data, valid_data=valid_data, post_process=post_process, **kwargs)
        callback = settings.callback(post_process)
        _check_data(train_data, "train_data")
        tasks, groups, task_to_group, extractor = self._define_tasks(train_data)
        trainer = self._trainer()
        writer = self.knowledge_base().begin_version(parent=None)
        try:
            specs = [(g.entry, g.tasks, g.samples if g.samples is not None else concat(
                [t.samples for t in g.tasks])) for g in groups]
            rec = self.slots["unseen_sample_recognition"].build({})
            base = trainer.train_base(writer, specs, valid_data, kwargs, recognizer=rec)
            sources = {e: (base[0], kb_doc.BASE_ENTRY) for e, _, _ in specs} if base[0] is not None else None
            group_docs, models = trainer.train_groups(writer, specs, valid_data, kwargs, version=writer.number,
                                                      recognizer=rec, sources=sources, base=base)
            doc = kb_doc.index_doc(self.slots, self.estimator, tasks, task_to_group, extractor, group_docs)
            if base[1] is not None:
                doc["base_model"] = base[1]
            loaded = self._serving_kb.build_loaded(None, doc, models)
            doc["unseen_sample_recognition"]["calibration"] = trainer.fit_recognizer(
                rec, [s for _, _, s in specs], loaded, valid_data)
            serve_choice.choose(trainer, loaded, base[0])
            version = writer.commit(doc, samples=kb_doc.catalog_samples(groups))
        except BaseException:
            writer.abort()
            raise
        res = self._serve_committed(loaded, version)
        self._report("train", res)
        LOGGER.info("lifelong learning: trained %d task group(s) into KB version %d at %s",
                    len(group_docs), version.number, version.url)
        return callback(self.estimator, res) if callback else res

    def _define_tasks(self, train_data):
        """Tasks, their non-empty groups, the task -> group map and the allocation's extractor."""
        tasks, extractor, _ = self.slots["task_definition"].build()(train_data)
        kb_doc.check_tasks(tasks)
        groups = self.slots["task_relationship_discovery"].build()(tasks)
        task_to_group = kb_doc.task_to_group(tasks, groups)
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
        kb_doc.json_ready(extractor, "the task extractor returned by task_definition/task_allocation")
        return tasks, groups, task_to_group, extractor

    # ------------------------------------------------------------------ update
    def update(self, train_data, valid_data=None, post_process=None, index_url=None, **kwargs):
        """Fold new labelled samples into the knowledge base as a new version."""
        callback = settings.callback(post_process)
        _check_data(train_data, "train_data")
        prev = self._previous_version(index_url)
        loaded = self._serving_kb.load(prev)
        seen, unseen, decision, new_samples, strategies = self._route(prev, loaded, train_data)
        tasks_doc = self._extend_tasks(prev.doc.get("tasks", []), decision, new_samples)
        trainer = self._trainer()
        writer = self.knowledge_base().begin_version(parent=prev)
        try:
            plan, kept = self._plan(prev, tasks_doc, new_samples, strategies)
            rec = self.slots["unseen_sample_recognition"].build({})
            before = backward_transfer.plan(trainer, prev, loaded, tasks_doc, plan, kept, valid_data, rec)
            group_docs, models, kept_parts = trainer.keep_groups(writer, prev, kept, loaded)
            base = self._previous_base(prev) if trainer.transfer else (None, None)
            specs, sources, buffers = self._update_specs(prev, loaded, plan, base)
            trained_docs, trained_models = trainer.train_groups(
                writer, [(e, m, s) for e, m, s, _, _ in specs], valid_data, kwargs, version=writer.number,
                strategies={e: (st, loaded.models[gi] if gi is not None else None)
                            for e, _, _, st, gi in specs}, recognizer=rec,
                sources=sources, base=base, buffers=buffers,
                mix={e: r.training_set for e, r in before.items() if r.outcome == "planned"})
            backward_transfer.keep_better(trainer, prev, loaded, specs, trained_docs, trained_models, before)
            group_docs += trained_docs
            models += trained_models
            doc = self._update_doc(prev, trainer, decision, tasks_doc, new_samples, group_docs)
            if base[1] is not None:
                doc["base_model"] = base[1]
            doc["update"] = {"parent_index": prev.url, "strategies": strategies,
                             "refreshed": {e: r.outcome for e, r in before.items()},
                             "seen": int(len(seen.x)), "unseen": int(len(unseen.x))}
            loaded_new = self._serving_kb.build_loaded(None, doc, models)
            doc["unseen_sample_recognition"]["calibration"] = trainer.fit_recognizer(
                rec, kept_parts + [s for _, _, s, _, _ in specs], loaded_new, valid_data)
            serve_choice.choose(trainer, loaded_new, base[0], prev)
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

    def _previous_version(self, index_url):
        from sedna.knowledge import KnowledgeBase

        index_url = index_url or settings.cloud_kb_index()
        if index_url:
            return KnowledgeBase.open_index(settings.resolve_index_url(index_url))
        prev = self.knowledge_base().current()
        if prev is None:
            raise KnowledgeBaseError(f"update: no knowledge base at {self.output_url} and CLOUD_KB_INDEX is unset; "
                                     "run train first")
        return prev

    def _route(self, prev, loaded, train_data):
        """Re-recognise the new samples and let the update decision route them to tasks."""
        rerec = self.slots["unseen_sample_re_recognition"].build(prev.doc)
        seen, unseen = rerec(train_data, models=loaded.models, allocate=loaded.allocate)
        decision = self.slots["task_update_decision"].build(copy.deepcopy(prev.doc))
        t1, s1 = decision(seen, task_type="seen_task")
        t2, s2 = decision(unseen, task_type="unseen_task")
        new_samples, strategies = {}, dict(s1)
        for t in list(t1) + list(t2):
            new_samples.setdefault(t.entry, []).append(t)
        for k, v in s2.items():  # a task that gets enough samples from either side is retrained
            if k not in strategies or strategies[k] == "absorb":
                strategies[k] = v
        return seen, unseen, decision, new_samples, strategies

    @staticmethod
    def _update_specs(prev, loaded, plan, base):
        """Training sets, transfer sources and replay buffers of the groups an update trains.

        A retrained group trains on its replay buffer plus the new samples and
        starts from its own previous model; a new group starts from the model
        the allocation sends most of its samples to (the closest task), else
        from the shared base."""
        specs, sources, buffers = [], {}, {}
        for entry, members, incoming, strategy, gi in plan:
            new = concat(list(incoming), data_type="train")
            if strategy == "refresh":  # its own samples stay its buffer; trained with the new task's
                gd = prev.doc["task_groups"][gi]
                old = stored_samples(prev, gd)
                buffers[entry] = (old, gd.get("n_samples", len(old.x)), None)
                sources[entry] = (loaded.models[gi], entry)
                new = old
            elif strategy == "retrain" and gi is not None:
                gd = prev.doc["task_groups"][gi]
                old = stored_samples(prev, gd)
                buffers[entry] = (old, gd.get("n_samples", len(old.x)), new)
                sources[entry] = (loaded.models[gi], entry)
                new = concat([old, new], data_type="train")
            elif strategy == "new":
                ids = loaded.allocate(new) if len(new.x) else np.zeros(0, dtype=np.int64)
                ids = ids[ids >= 0]
                if len(ids):
                    closest = int(np.bincount(ids).argmax())
                    sources[entry] = (loaded.models[closest], loaded.entries[closest])
                elif base[0] is not None:
                    sources[entry] = (base[0], kb_doc.BASE_ENTRY)
            specs.append((entry, members, new, strategy, gi))
        return specs, sources, buffers

    def _previous_base(self, prev):
        """The previous version's shared base model, loaded, with its doc (absolute URL)."""
        bd = prev.doc.get("base_model")
        if not bd:
            return None, None
        bd = dict(bd, url=prev.resolve(bd["url"]))
        return self._serving_kb.load_model(prev, prev.doc["base_model"]["url"], kb_doc.BASE_ENTRY), bd

    @staticmethod
    def _extend_tasks(old_tasks, decision, new_samples):
        """The previous version's tasks plus the ones the update decision created (no group yet)."""
        known = [t["entry"] for t in old_tasks]
        tasks_doc = [dict(t) for t in old_tasks]
        for entry in getattr(decision, "known", known):
            if entry not in known:
                meta = new_samples[entry][0].meta_attr if entry in new_samples else None
                tasks_doc.append({"entry": entry, "meta_attr": None if meta is None else str(meta), "group": -1})
                known.append(entry)
        return tasks_doc

    @staticmethod
    def _plan(prev, tasks_doc, new_samples, strategies):
        """``(plan, kept)``: groups to (re)train as ``(entry, members, incoming, strategy,
        old group)``, and groups kept as ``{entry: (old group, absorbed samples or None)}``."""
        groups_doc = prev.doc["task_groups"]
        plan, kept = [], {}
        for gi, g in enumerate(groups_doc):
            if g["entry"] == kb_doc.GLOBAL_ENTRY:
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
        return plan, kept

    def _update_doc(self, prev, trainer, decision, tasks_doc, new_samples, group_docs):
        """The new version's index: tasks mapped to the new groups, the allocation refitted."""
        groups_doc = prev.doc["task_groups"]
        entry_to_new = {gd["entry"]: i for i, gd in enumerate(group_docs)}
        task_to_group = []
        for t in tasks_doc:
            old_gi = t.get("group", -1)
            ge = groups_doc[old_gi]["entry"] if old_gi >= 0 else t["entry"]
            task_to_group.append(entry_to_new.get(ge, -1))
        extractor = decision.task_extractor
        alloc = self.slots["task_allocation"].build(extractor)
        if hasattr(alloc, "fit"):
            all_tasks = trainer.tasks_with_samples(prev, tasks_doc, groups_doc, new_samples)
            extractor = alloc.fit(all_tasks, extractor.get("base") if isinstance(extractor, dict)
                                  and extractor.get("kind") == "classifier" else extractor)
        kb_doc.json_ready(extractor, "the task extractor")
        tasks_objs = [Task(entry=t["entry"], samples=None, meta_attr=t.get("meta_attr")) for t in tasks_doc]
        doc = kb_doc.index_doc(self.slots, self.estimator, tasks_objs, task_to_group, extractor, group_docs)
        for t, src in zip(doc["tasks"], tasks_doc):
            t["n_samples"] = src.get("n_samples", 0) + sum(len(s.samples.x) for s in new_samples.get(t["entry"], []))
        return doc

    # ---------------------------------------------------------------- evaluate
    def evaluate(self, data, metrics=None, metrics_param=None, post_process=None, index_url=None,
                 operator=None, model_threshold=None, task_metrics=None, **kwargs):
        """Score every task on ``data`` and write the deployable index.

        A task whose score satisfies ``score <operator> model_threshold``
        (``operator``/``model_threshold`` env by default; the tutorial's ``<``
        with ``0`` drops nothing) is left out of deployment. Returns a dict
        with per-task ``tasks`` metrics, ``dropped`` entries and ``index_url``.

        ``task_metrics``: an optional ``fn(version, samples, load)`` called
        with the version evaluated, ``{task: its eval samples}`` (the tasks
        that got some) and ``load(version)`` (any version's loaded knowledge
        base: ``.allocate(data)``, ``.models``); the ``{task: {name: value}}``
        it returns is added to those tasks' metrics, in the result and the
        report (a name the scores already have keeps its score).
        """
        from sedna.common.file_ops import FileOps
        from sedna.knowledge import KnowledgeBase

        callback = settings.callback(post_process)
        _check_data(data, "data")
        url = index_url or settings.first_model_url()
        version = KnowledgeBase.open_index(settings.resolve_index_url(url)) if url \
            else self.knowledge_base().current()
        if version is None:
            raise KnowledgeBaseError("evaluate: no knowledge base given (MODEL_URLS) and none under OUTPUT_URL")
        loaded = self._serving_kb.load(version)
        metric_fns = settings.metric_fns(metrics, metrics_param)
        rule = settings.drop_rule(operator, model_threshold)
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
        if task_metrics is not None:
            samples = {gd["entry"]: subset(data, np.flatnonzero(groups == gi))
                       for gi, gd in enumerate(version.doc["task_groups"]) if (groups == gi).any()}
            for entry, extra in (task_metrics(version, samples, self._serving_kb.load) or {}).items():
                if entry in per_task:
                    per_task[entry].update({k: v for k, v in extra.items() if k not in per_task[entry]})
        unallocated = int((groups == -1).sum())
        cal = Serving.calibrate(loaded, subset(data, np.flatnonzero(groups >= 0)))
        deploy_doc = kb_doc.deploy_doc(version, scores_of, dropped, cal, rule, unallocated)
        out_dir = settings.eval_output_dir(kb_doc.kb_root_of(version), version.number)
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

        ``result`` is in input order; unseen samples are still predicted, by
        the unseen estimator when one is given, else by the task model the
        allocation finds closest (flagged in ``is_unseen_task``, a boolean
        array). ``tasks`` are the per-task batches with their results (those
        that served unseen samples have ``unseen = True``). Unseen samples are
        saved to ``unseen_save_url`` for labelling. ``recognize_unseen=False`` sends
        every sample to its allocated task (for measuring a knowledge base on
        data it may not know).
        """
        result, is_unseen, tasks = self._serving_kb.infer(
            data, unseen_sample_postprocess=unseen_sample_postprocess, recognize_unseen=recognize_unseen, **kwargs)
        callback = settings.callback(post_process)
        if callback:
            result = callback(result)
        return result, is_unseen, tasks

    def _serving(self):
        """The loaded knowledge base inference answers from."""
        return self._serving_kb.current()

    def serving_version(self):
        """The knowledge-base version inference serves now (the trained version a
        deployed index comes from), or None before anything is loaded."""
        return self._serving_kb.version_served()

    def last_unseen_decision(self):
        """What the unseen-sample recognizer decided the last :meth:`inference` on:
        ``{"score": [per sample], "threshold": t}`` (higher: more unseen), or None
        when it keeps no scores or nothing was recognized yet."""
        return getattr(getattr(self._serving_kb.served(), "recognizer", None), "last_decision", None)

    def close(self):
        """Stop the hot-reload thread (it is a daemon thread; this is optional)."""
        self._serving_kb.close()

    # ----------------------------------------------------------------- helpers
    def _serve_committed(self, loaded, version):
        self._serving_kb.serve_committed(loaded, version)
        return kb_doc.result(version)

    @staticmethod
    def _report(kind, res):
        from sedna.worker import report_task_info

        metrics = dict(res.get("tasks", {}))
        owner = {"version": res.get("version"), "tasks": len(metrics),
                 "samples": int(sum(v.get("n_samples", 0) for v in metrics.values()))}
        report_task_info(kind, "completed", [{"format": "index", "url": res["index_url"], "metrics": metrics}],
                         owner_info=owner)
