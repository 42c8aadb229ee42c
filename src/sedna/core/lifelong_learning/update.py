"""The update round: new labelled samples folded into a knowledge base as version r+1.

::

    previous version + new samples -> re-recognition -> update decision
    -> plan (groups to retrain, to create, to keep) -> training sets
    -> strategies (before_fit...) -> fit -> index -> commit

:func:`run` orders the steps; the decisions are the functions above it, each
on plain documents and data sources. The strategies of the job
(:mod:`.strategies`) are called at their hooks.
"""

import copy

from sedna.algorithms.seen_task_learning.artifact import Task
from sedna.common.exceptions import KnowledgeBaseError
from sedna.core.lifelong_learning import kb_doc, settings
from sedna.core.lifelong_learning.strategies import call
from sedna.core.lifelong_learning.training import stored_samples
from sedna.datasources.ops import concat
from sedna.knowledge import KnowledgeBase

__all__ = ("run", "route", "extend_tasks", "plan_groups", "training_sets", "update_doc", "previous_version")


def previous_version(knowledge_base, index_url):
    """The version an update starts from: ``index_url``, else ``CLOUD_KB_INDEX``,
    else the knowledge base's current one."""
    index_url = index_url or settings.cloud_kb_index()
    if index_url:
        return KnowledgeBase.open_index(settings.resolve_index_url(index_url))
    prev = knowledge_base.current()
    if prev is None:
        raise KnowledgeBaseError(f"update: no knowledge base at {knowledge_base.root_url} and CLOUD_KB_INDEX is "
                                 "unset; run train first")
    return prev


def route(slots, prev, loaded, train_data):
    """Re-recognise the new samples and let the update decision route them to tasks:
    ``(seen, unseen, decision, {entry: [tasks with samples]}, {entry: strategy})``."""
    rerec = slots["unseen_sample_re_recognition"].build(prev.doc)
    seen, unseen = rerec(train_data, models=loaded.models, allocate=loaded.allocate)
    decision = slots["task_update_decision"].build(copy.deepcopy(prev.doc))
    t1, s1 = decision(seen, task_type="seen_task")
    t2, s2 = decision(unseen, task_type="unseen_task")
    new_samples, strategies = {}, dict(s1)
    for t in list(t1) + list(t2):
        new_samples.setdefault(t.entry, []).append(t)
    for k, v in s2.items():  # a task that gets enough samples from either side is retrained
        if k not in strategies or strategies[k] == "absorb":
            strategies[k] = v
    return seen, unseen, decision, new_samples, strategies


def extend_tasks(old_tasks, decision, new_samples):
    """The previous version's tasks plus the ones the update decision created (no group yet)."""
    known = [t["entry"] for t in old_tasks]
    tasks_doc = [dict(t) for t in old_tasks]
    for entry in getattr(decision, "known", known):
        if entry not in known:
            meta = new_samples[entry][0].meta_attr if entry in new_samples else None
            tasks_doc.append({"entry": entry, "meta_attr": None if meta is None else str(meta), "group": -1})
            known.append(entry)
    return tasks_doc


def plan_groups(prev, tasks_doc, new_samples, strategies):
    """``(plan, kept)``: groups to (re)train as ``(entry, members, incoming, strategy,
    old group)``, and groups kept as ``{entry: (old group, absorbed samples or None)}``."""
    plan, kept = [], {}
    for gi, g in enumerate(prev.doc["task_groups"]):
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


def training_sets(prev, plan):
    """``(specs, buffers)``: each planned group's training set as ``(entry, members,
    samples, strategy, old group)``, and the replay buffers that are not simply
    those samples, ``{entry: (old buffer, n_seen, new samples)}``. A retrained
    group trains on its buffer plus the new samples; a refreshed one on its
    buffer (plus what a strategy mixes in)."""
    specs, buffers = [], {}
    for entry, members, incoming, strategy, gi in plan:
        new = concat(list(incoming), data_type="train")
        if strategy == "refresh":  # its own samples stay its buffer; trained with the new task's
            gd = prev.doc["task_groups"][gi]
            old = stored_samples(prev, gd)
            buffers[entry] = (old, gd.get("n_samples", len(old.x)), None)
            new = old
        elif strategy == "retrain" and gi is not None:
            gd = prev.doc["task_groups"][gi]
            old = stored_samples(prev, gd)
            buffers[entry] = (old, gd.get("n_samples", len(old.x)), new)
            new = concat([old, new], data_type="train")
        specs.append((entry, members, new, strategy, gi))
    return specs, buffers


def update_doc(slots, estimator, prev, trainer, decision, tasks_doc, new_samples, group_docs):
    """The new version's index: tasks mapped to the new groups, the allocation refitted."""
    groups_doc = prev.doc["task_groups"]
    entry_to_new = {gd["entry"]: i for i, gd in enumerate(group_docs)}
    task_to_group = []
    for t in tasks_doc:
        old_gi = t.get("group", -1)
        ge = groups_doc[old_gi]["entry"] if old_gi >= 0 else t["entry"]
        task_to_group.append(entry_to_new.get(ge, -1))
    extractor = decision.task_extractor
    alloc = slots["task_allocation"].build(extractor)
    if hasattr(alloc, "fit"):
        all_tasks = trainer.tasks_with_samples(prev, tasks_doc, groups_doc, new_samples)
        extractor = alloc.fit(all_tasks, extractor.get("base") if isinstance(extractor, dict)
                              and extractor.get("kind") == "classifier" else extractor)
    kb_doc.json_ready(extractor, "the task extractor")
    tasks_objs = [Task(entry=t["entry"], samples=None, meta_attr=t.get("meta_attr")) for t in tasks_doc]
    doc = kb_doc.index_doc(slots, estimator, tasks_objs, task_to_group, extractor, group_docs)
    for t, src in zip(doc["tasks"], tasks_doc):
        t["n_samples"] = src.get("n_samples", 0) + sum(len(s.samples.x) for s in new_samples.get(t["entry"], []))
    return doc


def _fit(job, rnd):
    """Plan, fit and index the round inside its version being written."""
    rnd.plan, rnd.kept = plan_groups(rnd.prev, rnd.tasks_doc, rnd.notes["new_samples"], rnd.notes["strategies"])
    call(job.strategies, "after_plan", rnd)
    docs, models, kept_parts = rnd.trainer.keep_groups(rnd.writer, rnd.prev, rnd.kept, rnd.loaded)
    rnd.kept_parts = kept_parts
    rnd.specs, buffers = training_sets(rnd.prev, rnd.plan)
    call(job.strategies, "before_fit", rnd)
    rnd.docs, rnd.models = rnd.trainer.train_groups(
        rnd.writer, [(e, m, s) for e, m, s, _, _ in rnd.specs], rnd.valid_data, rnd.kwargs,
        version=rnd.writer.number, recognizer=rnd.recognizer, sources=rnd.sources, base=rnd.base,
        strategies={e: (st, rnd.loaded.models[gi] if gi is not None else None) for e, _, _, st, gi in rnd.specs},
        buffers=buffers, mix=rnd.mix)
    for gd, model in zip(rnd.docs, rnd.models):
        call(job.strategies, "after_group", rnd, gd, model)
    call(job.strategies, "after_fit", rnd)
    doc = update_doc(job.slots, job.estimator, rnd.prev, rnd.trainer, rnd.notes["decision"], rnd.tasks_doc,
                     rnd.notes["new_samples"], docs + rnd.docs)
    if rnd.base[1] is not None:
        doc["base_model"] = rnd.base[1]
    seen, unseen = rnd.notes["seen"], rnd.notes["unseen"]
    doc["update"] = {"parent_index": rnd.prev.url, "strategies": rnd.notes["strategies"],
                     "seen": int(len(seen.x)), "unseen": int(len(unseen.x))}
    rnd.doc, rnd.loaded_new = doc, job.serving.build_loaded(None, doc, models + rnd.models)
    doc["unseen_sample_recognition"]["calibration"] = rnd.trainer.fit_recognizer(
        rnd.recognizer, kept_parts + [s for _, _, s, _, _ in rnd.specs], rnd.loaded_new, rnd.valid_data)
    call(job.strategies, "before_commit", rnd)


def run(job, train_data, valid_data, index_url, kwargs):
    """One update of ``job`` (the facade: ``slots``, ``estimator``, ``strategies``,
    ``serving``, ``knowledge_base()``, ``new_round()``); returns ``(rnd, version)``."""
    prev = previous_version(job.knowledge_base(), index_url)
    loaded = job.serving.load(prev)
    seen, unseen, decision, new_samples, strategies = route(job.slots, prev, loaded, train_data)
    rnd = job.new_round("update", valid_data, kwargs)
    rnd.prev, rnd.loaded = prev, loaded
    rnd.tasks_doc = extend_tasks(prev.doc.get("tasks", []), decision, new_samples)
    rnd.notes.update(seen=seen, unseen=unseen, decision=decision, new_samples=new_samples, strategies=strategies)
    rnd.writer = job.knowledge_base().begin_version(parent=prev)
    try:
        _fit(job, rnd)
        version = rnd.writer.commit(rnd.doc)
    except BaseException:
        rnd.writer.abort()
        raise
    return rnd, version
