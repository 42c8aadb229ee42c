"""Contract tests over every registered plugin, slot by slot.

The parameter lists are computed from the registry at import time: every name
registered under a slot's :class:`ClassType` whose class subclasses the slot's
base class is checked against the slot's interface (CONTRACTS §3, the base
classes' docstrings), on real data (scikit-learn's digits, and path-like
samples for origin-based plugins). A plugin registered by a user, like the one
this module registers below, is tested by the same checks with no extra code.
"""

import copy
import json
from collections import Counter
from inspect import isclass, signature

import numpy as np
import pytest

from sedna.algorithms.registry import BUILTINS, SLOTS, slot_plugins
from sedna.algorithms.seen_task_learning.artifact import Model, Task, TaskGroup
from sedna.algorithms.seen_task_learning.task_allocation import (TaskAllocationByClustering, TaskAllocationByOrigin)
from sedna.algorithms.seen_task_learning.task_definition import (BaseTaskDefinition, TaskDefinitionByClustering,
                                                                  TaskDefinitionByDataAttr, TaskDefinitionByOrigin)
from sedna.common.class_factory import ClassFactory, ClassType
from sedna.datasources import BaseDataSource

SEEN = ["plain", "inverted"]
N_TRAIN = 150  # rows per domain: enough for the contracts, fast on two cores


# ------------------------------------------------------- a user's own plugin
USER_PLUGIN = "ContractTestTaskDefinitionByLabelParity"


@ClassFactory.register(ClassType.STP, alias=USER_PLUGIN)
class UserTaskDefinitionByLabelParity(BaseTaskDefinition):
    """What a user writes: two tasks, even and odd labels, built by hand."""

    def __call__(self, samples, **kwargs):
        y = np.asarray(samples.y).astype(int)
        tasks, extractor = [], {}
        for name, mask in (("even", y % 2 == 0), ("odd", y % 2 == 1)):
            rows = np.flatnonzero(mask)
            if not len(rows):
                continue
            part = BaseDataSource(data_type=samples.data_type)
            part.x, part.y = samples.x[rows], samples.y[rows]
            extractor[name] = len(tasks)
            tasks.append(Task(entry=f"{name}.model", samples=part, meta_attr=name))
        return tasks, extractor, samples


# --------------------------------------------------- parameters from the registry
def _registered(slot):
    """The slot's plugins, each class once (the original's spellings are aliases of the same classes)."""
    info = SLOTS[slot]
    return [n for n in slot_plugins(slot, aliases=False) if isclass(ClassFactory.get_cls(info.type, n))]


PLUGINS = {slot: _registered(slot) for slot in SLOTS}
CHECKED_SLOTS = set()


def over(slot):
    """Parametrize a contract test over the slot's registered plugins."""
    CHECKED_SLOTS.add(slot)
    return pytest.mark.parametrize("name", PLUGINS[slot], ids=[f"{slot}-{n}" for n in PLUGINS[slot]])


def plugin(slot, name):
    return ClassFactory.get_cls(SLOTS[slot].type, name)


# --------------------------------------------------------------------- inputs
def path_source(with_unknown=False):
    """Path-like samples as the tutorial's txt index gives them: real/<city>/..., sim/<style>/..."""
    xs = [f"real/{city}/img{i}.png" for city in ("berlin", "zurich") for i in range(4)]
    xs += [f"sim/{style}/img{i}.png" for style in ("style1", "style2") for i in range(3)]
    if with_unknown:
        xs += ["other/place/img0.png"]
    src = BaseDataSource(data_type="train")
    src.x = np.array(xs)
    src.y = np.array([x.replace("img", "label") for x in xs])
    return src


def row_keys(src):
    """A multiset of rows (features and label), to check that rows are covered exactly once."""
    x = np.asarray(src.x)
    y = getattr(src, "y", None)
    keys = []
    for i in range(len(x)):
        label = repr(np.asarray(y[i]).tolist()) if y is not None and len(y) == len(x) else None
        keys.append((repr(np.asarray(x[i]).tolist()), label))
    return Counter(keys)


def merged_keys(sources):
    total = Counter()
    for s in sources:
        total.update(row_keys(s))
    return total


def definition_input(cls, digits):
    if issubclass(cls, TaskDefinitionByOrigin):
        return path_source()
    return digits.source(SEEN, rows=digits.train_rows[:N_TRAIN])


def allocation_setup(cls, digits):
    """(definition class, train samples, test samples) an allocation is used with."""
    if issubclass(cls, TaskAllocationByOrigin):
        return TaskDefinitionByOrigin, path_source(), path_source(with_unknown=True)
    train = digits.source(SEEN, rows=digits.train_rows[:N_TRAIN])
    # test samples include a domain no task was defined for
    test = digits.source(SEEN + ["rotated"], "test", rows=digits.test_rows[:60])
    if issubclass(cls, TaskAllocationByClustering):
        return TaskDefinitionByClustering, train, test
    return TaskDefinitionByDataAttr, train, test


def shuffled(src, seed=0):
    order = np.random.default_rng(seed).permutation(len(src.x))
    out = BaseDataSource(data_type=src.data_type)
    out.x = src.x[order]
    out.y = src.y[order]
    if getattr(src, "meta_attr", None) is not None:
        out.meta_attr = np.asarray(src.meta_attr)[order]
    return out


def assert_partition(src, parts):
    """The parts' ``.index`` values cover every row of ``src`` exactly once, with its data."""
    idx = np.concatenate([np.asarray(p.index, dtype=np.int64).ravel() for p in parts])
    assert sorted(idx.tolist()) == list(range(len(src.x)))
    for p in parts:
        assert len(p.x) == len(p.index)
        if len(p.x):
            np.testing.assert_array_equal(np.asarray(p.x), np.asarray(src.x)[np.asarray(p.index, dtype=np.int64)])


def call_integrate(integ, tasks, n):
    try:
        accepts_n = "n" in signature(integ.__call__).parameters
    except (TypeError, ValueError):
        accepts_n = False
    return integ(tasks, n=n) if accepts_n else integ(tasks)


# ------------------------------------------------------------- a real KB to use
_ENV = ("OUTPUT_URL", "MODEL_URLS", "MODEL_URL", "CLOUD_KB_INDEX", "HAS_COMPLETED_INITIAL_TRAINING",
        "LC_SERVER", "KB_SERVER", "MIN_TRAIN_SAMPLE", "unseen_save_url")


@pytest.fixture(scope="module")
def kb(digits, tmp_path_factory):
    """A knowledge base trained by the job on two digit domains, with its loaded models."""
    from sedna.backend import Estimator
    from sedna.core.lifelong_learning import LifelongLearning
    from sedna.examples.digits import make_estimator
    from sedna.knowledge import KnowledgeBase

    root = tmp_path_factory.mktemp("contract") / "kb"
    with pytest.MonkeyPatch.context() as mp:
        for k in _ENV:
            mp.delenv(k, raising=False)
        ll = LifelongLearning(make_estimator(), output_url=str(root))
        ll.train(digits.source(SEEN, rows=digits.train_rows[:N_TRAIN]))
    version = KnowledgeBase(str(root)).current()
    doc = version.doc
    models = []
    for g in doc["task_groups"]:
        est = Estimator.create(make_estimator())
        est.load(version.local_path(g["model"]["url"]))
        models.append(est)
    spec = doc["task_allocation"]
    alloc = ClassFactory.get_cls(ClassType.STP, spec["method"])(doc["extractor"], **(spec.get("param") or {}))
    task_to_group = np.array([t["group"] for t in doc["tasks"]])

    def allocate(samples):
        _, ids = alloc(samples)
        ids = np.asarray(ids, dtype=int)
        out = np.full(len(ids), -1)
        ok = (ids >= 0) & (ids < len(task_to_group))
        out[ok] = task_to_group[ids[ok]]
        return out

    return {"doc": doc, "models": models, "allocate": allocate}


# ================================================================== the registry
def test_every_slot_has_a_contract_test():
    assert CHECKED_SLOTS == set(SLOTS)


@pytest.mark.parametrize("slot", list(SLOTS))
def test_default_plugin_of_each_slot_is_registered_and_fits_the_slot(slot):
    info = SLOTS[slot]
    assert ClassFactory.is_exists(info.type, info.default)
    cls = ClassFactory.get_cls(info.type, info.default)
    assert issubclass(cls, info.base)
    assert info.default in PLUGINS[slot]


@pytest.mark.parametrize("type_name,name,cls", BUILTINS, ids=[f"{t}-{n}" for t, n, _ in BUILTINS])
def test_every_built_in_belongs_to_a_slot_of_its_type(type_name, name, cls):
    slots = [s for s, info in SLOTS.items() if info.type == type_name and issubclass(cls, info.base)]
    assert slots, f"{type_name}:{name} ({cls.__qualname__}) fits no slot of its type"
    assert ClassFactory.get_cls(type_name, name) is cls
    assert all(name in PLUGINS[s] for s in slots)


def test_a_user_plugin_is_picked_up_by_the_contract_tests():
    assert USER_PLUGIN in PLUGINS["task_definition"]
    # and only where it fits: it is not offered to the other STP slots
    for slot in ("task_relationship_discovery", "task_allocation", "task_remodeling", "inference_integrate"):
        assert USER_PLUGIN not in PLUGINS[slot]


def test_plugins_of_another_slot_are_filtered_out():
    # allocations are registered under STP, as are definitions, but are not definitions
    assert "TaskAllocationByOrigin" in ClassFactory.list(ClassType.STP)
    assert "TaskAllocationByOrigin" not in PLUGINS["task_definition"]
    assert "TaskAllocationByOrigin" in PLUGINS["task_allocation"]
    assert "SampleReRecognitionDefault" not in PLUGINS["unseen_sample_recognition"]
    assert "SampleRecognitionDefault" not in PLUGINS["unseen_sample_re_recognition"]


# ============================================================== seen-task slots
@over("task_definition")
def test_task_definition_contract(name, digits):
    cls = plugin("task_definition", name)
    samples = definition_input(cls, digits)
    n = len(samples.x)
    tasks, extractor, out = cls()(samples)
    assert isinstance(tasks, list) and tasks
    assert all(isinstance(t, Task) for t in tasks)
    assert all(t.samples is not None and len(t.samples.x) > 0 for t in tasks)
    assert merged_keys(t.samples for t in tasks) == row_keys(samples)  # every row in exactly one task
    assert sum(len(t.samples.x) for t in tasks) == n
    json.loads(json.dumps(extractor))  # stored in the knowledge base as JSON
    assert out is not None and len(out.x) == n


@over("task_relationship_discovery")
def test_task_relationship_discovery_contract(name, digits):
    cls = plugin("task_relationship_discovery", name)
    samples = digits.source(SEEN + ["rotated"], rows=digits.train_rows[:50])
    tasks, _, _ = TaskDefinitionByDataAttr()(samples)
    assert len(tasks) == 3
    groups = cls()(tasks)
    assert isinstance(groups, list) and groups
    assert all(isinstance(g, TaskGroup) for g in groups)
    seen = Counter(id(t) for g in groups for t in g.tasks)
    assert seen == Counter(id(t) for t in tasks)  # each task in exactly one group, nothing else


@over("task_allocation")
def test_task_allocation_contract(name, digits):
    cls = plugin("task_allocation", name)
    definition, train, test = allocation_setup(cls, digits)
    tasks, extractor, _ = definition()(train)
    alloc = cls(extractor)
    if hasattr(alloc, "fit"):  # what the job does at training time
        extractor = alloc.fit(tasks, extractor)
        json.loads(json.dumps(extractor))
        alloc = cls(extractor)
    for data in (test, train):
        out, ids = alloc(data)
        ids = list(ids)
        assert len(ids) == len(data.x) and len(out.x) == len(data.x)
        for v in ids:
            assert isinstance(v, (int, np.integer)) and not isinstance(v, bool)
            assert v == -1 or 0 <= v < len(tasks), v
    # the training rows go back to the task they were defined in
    truth = np.empty(len(train.x), dtype=int)
    for ti, t in enumerate(tasks):
        truth[np.asarray(t.samples.index)] = ti
    _, ids = alloc(train)
    assert (np.asarray(ids) == truth).mean() >= 0.95


@over("task_remodeling")
def test_task_remodeling_contract(name, digits):
    cls = plugin("task_remodeling", name)
    samples = digits.source("plain", "test", rows=digits.test_rows[:200])
    n = len(samples.x)
    models = [Model(i, f"m{i}.model", None) for i in range(3)]
    rng = np.random.default_rng(3)
    for mapping in (rng.choice([0, 2], size=n),        # model 1 gets nothing
                    rng.integers(0, 3, size=n),
                    np.zeros(n, dtype=int)):            # one model takes all
        parts, part_models = cls(models)(samples, mapping.tolist())
        assert len(parts) == len(part_models)
        assert_partition(samples, parts)
        for part, m in zip(parts, part_models):
            assert isinstance(m, Model)
            assert (mapping[np.asarray(part.index)] == m.index).all()
        assert sorted(m.index for m in part_models) == sorted(set(mapping.tolist()))


@over("inference_integrate")
def test_inference_integrate_puts_results_back_in_input_order(name, digits):
    cls = plugin("inference_integrate", name)
    samples = digits.source(["plain", "rotated"], "test", rows=digits.test_rows[:100])
    n = len(samples.x)
    models = [Model(i, f"m{i}.model", None) for i in range(3)]
    mapping = np.random.default_rng(5).integers(0, 3, size=n)
    remodel = plugin("task_remodeling", SLOTS["task_remodeling"].default)(models)
    parts, part_models = remodel(samples, mapping.tolist())
    # array results (what predict returns)
    tasks = []
    for part, m in zip(parts, part_models):
        t = Task(entry=m.entry, samples=part, meta_attr=m.entry)
        t.model, t.result = m, np.asarray(part.y) * 10 + m.index
        tasks.append(t)
    out = call_integrate(cls(models), tasks, n)
    assert len(out) == n
    np.testing.assert_array_equal(np.asarray(out), samples.y * 10 + mapping)
    # list results from batches whose rows are out of order
    order = np.random.default_rng(6).permutation(n)
    tasks = []
    for k, rows in enumerate(np.array_split(order, 3)):
        part = BaseDataSource(data_type="test")
        part.x, part.y, part.index = samples.x[rows], samples.y[rows], rows
        t = Task(entry=f"m{k}.model", samples=part, meta_attr=None)
        t.result = [f"digit-{v}" for v in part.y]
        tasks.append(t)
    out = call_integrate(cls(models), tasks, n)
    assert list(out) == [f"digit-{v}" for v in samples.y]


@over("task_update_decision")
def test_task_update_decision_contract(name, digits, kb):
    cls = plugin("task_update_decision", name)
    known = {t["entry"] for t in kb["doc"]["tasks"]}
    new = digits.source(["plain", "rotated"], rows=digits.train_rows[N_TRAIN:N_TRAIN + 80])
    for task_type in ("seen_task", "unseen_task"):
        decision = cls(copy.deepcopy(kb["doc"]))
        tasks, strategies = decision(new, task_type=task_type)
        assert all(isinstance(t, Task) for t in tasks)
        assert set(strategies.values()) <= {"retrain", "finetune", "new", "absorb"}
        assert {t.entry for t in tasks} == set(strategies)
        assert merged_keys(t.samples for t in tasks) == row_keys(new)  # every new sample in one task
        for entry, strategy in strategies.items():
            assert (strategy == "new") == (entry not in known), (entry, strategy)
        json.dumps(decision.task_extractor)
    # nothing new, nothing to do
    empty = BaseDataSource(data_type="train")
    empty.x, empty.y = np.zeros((0, 64)), np.zeros(0)
    tasks, strategies = cls(copy.deepcopy(kb["doc"]))(empty, task_type="seen_task")
    assert list(tasks) == [] and dict(strategies) == {}


# ============================================================ unseen-task slots
@over("unseen_sample_recognition")
def test_unseen_sample_recognition_contract(name, digits, kb):
    cls = plugin("unseen_sample_recognition", name)
    doc = copy.deepcopy(kb["doc"])
    rec = cls({})  # as at training time, before the index exists
    if hasattr(rec, "fit"):
        rec.fit([digits.source(d, rows=digits.train_rows[:N_TRAIN]) for d in SEEN])
    if hasattr(rec, "calibrate"):
        held_out = digits.source(SEEN, rows=digits.train_rows[N_TRAIN:N_TRAIN + 60], data_type="eval")
        cal = rec.calibrate(held_out, kb["models"], kb["allocate"])
        assert isinstance(cal, dict)
        doc["unseen_sample_recognition"]["calibration"] = json.loads(json.dumps(cal))
    rec = cls(doc)
    for with_attr in (False, True):
        mixed = shuffled(digits.source(["plain", "rotated"], "test", rows=digits.test_rows[:80],
                                       with_attr=with_attr, data_type="test"))
        for allocate in (kb["allocate"], None):
            seen, unseen = rec(mixed, models=kb["models"], allocate=allocate)
            assert_partition(mixed, [seen, unseen])


@over("unseen_sample_re_recognition")
def test_unseen_sample_re_recognition_contract(name, digits, kb):
    cls = plugin("unseen_sample_re_recognition", name)
    rerec = cls(copy.deepcopy(kb["doc"]))
    new = shuffled(digits.source(["plain", "rotated"], rows=digits.train_rows[N_TRAIN:N_TRAIN + 80]))
    for allocate in (kb["allocate"], None):
        seen, unseen = rerec(new, models=kb["models"], allocate=allocate)
        assert_partition(new, [seen, unseen])
        np.testing.assert_array_equal(seen.y, new.y[np.asarray(seen.index, dtype=np.int64)])


@over("unseen_task_allocation")
def test_unseen_task_allocation_contract(name, digits, kb):
    cls = plugin("unseen_task_allocation", name)
    alloc = cls(copy.deepcopy(kb["doc"]["extractor"]))
    samples = digits.source("rotated", "test", rows=digits.test_rows[:40], with_attr=False, data_type="test")
    out, ids = alloc(samples)
    assert len(list(ids)) == len(samples.x) == len(out.x)
    assert all(isinstance(v, (int, np.integer)) and v >= -1 for v in ids)


# ============================================================ defects found here
def test_origin_extractor_names_real_tasks_when_the_first_origin_has_no_samples():
    # a first round with simulation data only
    src = path_source()
    keep = np.flatnonzero([x.startswith("sim/") for x in src.x])
    src.x, src.y = src.x[keep], src.y[keep]
    tasks, extractor, _ = TaskDefinitionByOrigin()(src)
    assert [t.meta_attr for t in tasks] == ["sim"]
    _, ids = TaskAllocationByOrigin(extractor)(src)
    assert all(0 <= v < len(tasks) for v in ids), (extractor, ids)


def test_update_decision_after_a_sim_only_origin_round_routes_the_samples():
    src = path_source()
    keep = np.flatnonzero([x.startswith("sim/") for x in src.x])
    src.x, src.y = src.x[keep], src.y[keep]
    tasks, extractor, _ = TaskDefinitionByOrigin()(src)
    # the parts of the index document the decision reads, as the job writes them
    doc = {"tasks": [{"entry": t.entry, "meta_attr": t.meta_attr, "group": i} for i, t in enumerate(tasks)],
           "extractor": extractor,
           "task_definition": {"method": "TaskDefinitionByOrigin", "param": {}},
           "task_allocation": {"method": "TaskAllocationByOrigin", "param": {}}}
    decision = ClassFactory.get_cls(ClassType.KM, "UpdateStrategyDefault")(doc)
    new_tasks, strategies = decision(src, task_type="seen_task")
    assert strategies == {"sim.model": "retrain"}
