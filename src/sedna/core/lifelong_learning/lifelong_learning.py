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
:mod:`.update` (the update round), :mod:`.strategies` (transfer, replay,
distillation, refresh, serving choice: pieces called at the round's hooks),
:mod:`.evaluation` (scores, the deployable index, the report),
:mod:`.kb_doc` (the index document), :mod:`.serving` (loaded KB, inference,
hot reload) and :mod:`.settings` (every environment read); this module
is the job's face and writes each first version all-or-nothing.
"""

from sedna.algorithms.registry import SLOTS
from sedna.common.exceptions import EstimatorError, KnowledgeBaseError, UnknownPluginError
from sedna.common.log import LOGGER
from sedna.core.lifelong_learning import evaluation, kb_doc, replay, settings, update
from sedna.core.lifelong_learning.original_names import explain, slot_keywords
from sedna.core.lifelong_learning.serving import Serving
from sedna.core.lifelong_learning.slots import parse_slot
from sedna.core.lifelong_learning.strategies import Round, call, combine, from_flags
from sedna.core.lifelong_learning.training import Trainer
from sedna.datasources.ops import concat, subset
from sedna.knowledge import KnowledgeBase

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
        already (the first round, and a new task of an update whose base has
        learned its samples; estimators with an integer ``epochs``). Retrained
        tasks learn new samples: full epochs.
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
        0 (the default) disables it: with the base learning in every update
        (``update_base``) it bought next to nothing on the random scenarios'
        development half (robot job mean mIoU 0.431 with 0.5 against 0.426
        without, the scikit-learn path the same to three decimals) for about
        twice the training time.
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
        (:mod:`.serve_choice`; recorded as ``serve`` in the index). None: for
        numeric samples, and for others when rows are held out anyway (a
        recognizer that calibrates on model outputs); False: every group serves
        its own model.
    update_base : bool
        With transfer, every update trains the shared base again, from the
        previous base, on the round's new samples with rows replayed from every
        task's buffer, so that what all tasks share keeps up and new tasks
        start from it (the default). On the random scenarios' development half
        it lifts the robot job's mean mIoU well above joint retraining, where
        without it the job falls below fine-tuning; in ``sedna demo`` the new
        scene learns a little less (+0.565 against +0.575) and round 2's
        training takes about 20 s longer (docs/benchmarks.md). False: the
        first round's base is kept.
    base_replay : float or None
        Old rows replayed per new row when the base is updated. None (the
        default): every stored row, so the updated base is joint training on
        the knowledge base's memory, continued. A group its own model served
        keeps it unless the new base scores better by the serving margin; a
        numeric group the old base served keeps the old base unless a new
        candidate beats it by that margin; the others are served by whichever
        scores better (:mod:`.serve_choice`).
    strategies : list of :class:`~.strategies.Strategy`, optional
        More learning strategies, called at the hooks of every round after
        the ones the flags above make (:mod:`.strategies`); one with the
        ``name`` of a built-in (``"transfer"``, ``"replay"``, ``"distill"``,
        ``"refresh"``, ``"serve_choice"``) replaces it.
    task_mining, unseen_task_detect : optional
        The original's earlier names of ``task_allocation`` and
        ``unseen_sample_recognition``.
    """

    def __init__(self, estimator=None, unseen_estimator=None, task_definition=None,
                 task_relationship_discovery=None, task_allocation=None, task_remodeling=None,
                 inference_integrate=None, task_update_decision=None, unseen_task_allocation=None,
                 unseen_sample_recognition=None, unseen_sample_re_recognition=None, *,
                 seen_estimator=None, output_url=None, min_train_sample=None, calibration_split=0.1,
                 transfer=True, task_epochs=0.5, replay_size=replay.DEFAULT_SIZE, distill=False,
                 base_epochs=0.8, refresh=0.0, refresh_budget=0.5, serve_choice=None, update_base=True,
                 base_replay=None, strategies=None, task_mining=None, unseen_task_detect=None):
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
        given = slot_keywords(given, task_mining=task_mining, unseen_task_detect=unseen_task_detect)
        self.slots = {name: _parse_slot(name, given[name]) for name in SLOTS}
        self._explicit = {name for name, spec in given.items() if spec is not None}
        self._output_url = output_url
        self._min_train_sample = min_train_sample
        if not 0 <= float(calibration_split) < 0.5:
            raise ValueError("calibration_split must be in [0, 0.5)")
        self.calibration_split = float(calibration_split)
        flagged = from_flags(transfer=transfer, task_epochs=task_epochs, base_epochs=base_epochs,
                             replay_size=replay_size, distill=distill, refresh=refresh,
                             refresh_budget=refresh_budget, serve_choice=serve_choice, update_base=update_base,
                             base_replay=base_replay)
        self.strategies = combine(flagged, strategies)
        self.serving = Serving(estimator, self.slots, self._explicit, unseen_estimator, output_url)
        self.log = LOGGER

    # ------------------------------------------------------------------ config
    @property
    def output_url(self):
        return settings.output_url(self._output_url)

    @property
    def min_train_sample(self):
        return settings.min_train_sample(self._min_train_sample)

    def knowledge_base(self, url=None):
        return KnowledgeBase(url or self.output_url)

    def new_round(self, kind, valid_data, kwargs):
        """A round's state: a trainer the strategies configured, the recognizer to fit."""
        trainer = Trainer(self.estimator, self.min_train_sample, self.calibration_split, serve_choice=False)
        call(self.strategies, "configure", trainer)
        return Round(kind=kind, trainer=trainer, valid_data=valid_data, kwargs=kwargs, serving=self.serving,
                     recognizer=self.slots["unseen_sample_recognition"].build({}))

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
        rnd = self.new_round("train", valid_data, kwargs)
        rnd.writer = self.knowledge_base().begin_version(parent=None)
        try:
            rnd.specs = [(g.entry, g.tasks, g.samples if g.samples is not None else concat(
                [t.samples for t in g.tasks])) for g in groups]
            self._fit_first(rnd)
            rnd.doc = kb_doc.index_doc(self.slots, self.estimator, tasks, task_to_group, extractor, rnd.docs)
            if rnd.base[1] is not None:
                rnd.doc["base_model"] = rnd.base[1]
            rnd.loaded_new = self.serving.build_loaded(None, rnd.doc, rnd.models)
            rnd.doc["unseen_sample_recognition"]["calibration"] = rnd.trainer.fit_recognizer(
                rnd.recognizer, [s for _, _, s in rnd.specs], rnd.loaded_new, valid_data)
            call(self.strategies, "before_commit", rnd)
            version = rnd.writer.commit(rnd.doc, samples=kb_doc.catalog_samples(groups))
        except BaseException:
            rnd.writer.abort()
            raise
        res = self._serve_committed(rnd, version)
        evaluation.report("train", res)
        LOGGER.info("lifelong learning: trained %d task group(s) into KB version %d at %s",
                    len(rnd.docs), version.number, version.url)
        return callback(self.estimator, res) if callback else res

    def _fit_first(self, rnd):
        """The first round's models, one per group, between the strategies' hooks."""
        call(self.strategies, "before_fit", rnd)
        rnd.docs, rnd.models = rnd.trainer.train_groups(
            rnd.writer, rnd.specs, rnd.valid_data, rnd.kwargs, version=rnd.writer.number,
            recognizer=rnd.recognizer, sources=rnd.sources, base=rnd.base)
        for gd, model in zip(rnd.docs, rnd.models):
            call(self.strategies, "after_group", rnd, gd, model)
        call(self.strategies, "after_fit", rnd)

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
        """Fold new labelled samples into the knowledge base as a new version (:mod:`.update`)."""
        callback = settings.callback(post_process)
        _check_data(train_data, "train_data")
        rnd, version = update.run(self, train_data, valid_data, index_url, kwargs)
        res = self._serve_committed(rnd, version)
        decided = rnd.notes["strategies"]
        res["strategies"] = decided
        evaluation.report("train", res)
        LOGGER.info("lifelong learning: updated KB to version %d (%s)", version.number,
                    ", ".join(f"{k}: {v}" for k, v in decided.items()) or "no change")
        return callback(self.estimator, res) if callback else res

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
        callback = settings.callback(post_process)
        _check_data(data, "data")
        url = index_url or settings.first_model_url()
        version = KnowledgeBase.open_index(settings.resolve_index_url(url)) if url \
            else self.knowledge_base().current()
        if version is None:
            raise KnowledgeBaseError("evaluate: no knowledge base given (MODEL_URLS) and none under OUTPUT_URL")
        loaded = self.serving.load(version)
        rule = settings.drop_rule(operator, model_threshold)
        scores = evaluation.score_tasks(version, loaded, data, settings.metric_fns(metrics, metrics_param), rule,
                                        **kwargs)
        if task_metrics is not None:
            evaluation.add_task_metrics(scores, version, data, task_metrics, self.serving.load)
        cal = Serving.calibrate(loaded, subset(data, (scores.groups >= 0).nonzero()[0]))
        deploy_doc = kb_doc.deploy_doc(version, scores.scores_of, scores.dropped, cal, rule, scores.unallocated)
        res = {"tasks": scores.per_task, "dropped": scores.dropped,
               "index_url": evaluation.write_deploy_index(version, deploy_doc), "version": version.number,
               "unallocated_samples": scores.unallocated}
        evaluation.report("eval", res)
        LOGGER.info("lifelong learning: evaluated KB version %d: %s", version.number,
                    "; ".join(f"{k}: {v}" for k, v in scores.per_task.items()))
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
        result, is_unseen, tasks = self.serving.infer(
            data, unseen_sample_postprocess=unseen_sample_postprocess, recognize_unseen=recognize_unseen, **kwargs)
        callback = settings.callback(post_process)
        if callback:
            result = callback(result)
        return result, is_unseen, tasks

    def _serving(self):
        """The loaded knowledge base inference answers from."""
        return self.serving.current()

    def serving_version(self):
        """The knowledge-base version inference serves now (the trained version a
        deployed index comes from), or None before anything is loaded."""
        return self.serving.version_served()

    def last_unseen_decision(self):
        """What the unseen-sample recognizer decided the last :meth:`inference` on:
        ``{"score": [per sample], "threshold": t}`` (higher: more unseen), or None
        when it keeps no scores or nothing was recognized yet."""
        return getattr(getattr(self.serving.served(), "recognizer", None), "last_decision", None)

    def close(self):
        """Stop the hot-reload thread (it is a daemon thread; this is optional)."""
        self.serving.close()

    # ----------------------------------------------------------------- helpers
    def _serve_committed(self, rnd, version):
        self.serving.serve_committed(rnd.loaded_new, version)
        call(self.strategies, "after_commit", rnd, version)
        return kb_doc.result(version)
