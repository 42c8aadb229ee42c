"""Samples the allocation is unsure of go to the shared base model (issue 18's allocation
fallback): ``TaskAllocationByClassifier(min_posterior=...)`` leaves a sample unallocated when
its most likely task's posterior is below the bound, and inference serves every unallocated
sample with the knowledge base's shared base. Real scikit-learn models, real digits, real
knowledge-base versions on disk."""

import numpy as np
import pytest

from sedna.algorithms.seen_task_learning.task_allocation.task_allocation import TaskAllocationByClassifier
from sedna.core.lifelong_learning import LifelongLearning, kb_doc
from sedna.datasources import BaseDataSource

pytest.importorskip("sklearn")


class _Task:
    def __init__(self, x):
        self.samples = BaseDataSource(data_type="train")
        self.samples.x = np.asarray(x, dtype=float)


def _source(x):
    src = BaseDataSource(data_type="test")
    src.x = np.asarray(x, dtype=float)
    return src


def test_a_sample_between_two_tasks_is_left_unallocated_only_with_a_bound():
    rng = np.random.default_rng(0)
    tasks = [_Task(rng.normal(-3, 1, (200, 2))), _Task(rng.normal(3, 1, (200, 2)))]
    extractor = TaskAllocationByClassifier().fit(tasks)
    points = _source([[-3, -3], [0.05, 0.0], [3, 3]])
    assert TaskAllocationByClassifier(extractor)(points)[1] == [0, 1, 1]
    assert TaskAllocationByClassifier(extractor, min_posterior=0.9)(points)[1] == [0, -1, 1]
    with pytest.raises(ValueError, match="min_posterior"):
        TaskAllocationByClassifier(extractor, min_posterior=1.5)


def _ll(tmp_path, bound):
    from sklearn.linear_model import LogisticRegression

    alloc = None if bound == "default" else {"method": "TaskAllocationDefault", "param": {"min_posterior": bound}}
    return LifelongLearning(LogisticRegression(max_iter=1000), task_definition={"method": "TaskDefinitionByDataAttr"},
                            task_allocation=alloc, output_url=str(tmp_path / f"kb-{bound}"))


@pytest.mark.parametrize("bound", [None, 0.999, "default"])
def test_the_shared_base_serves_what_the_allocation_is_unsure_of(tmp_path, digits, bound):
    """Plain and mirrored digits are hard to tell apart: with a bound (by default 0.9) some rows
    stay unallocated and the base predicts exactly those; without one (None) the base serves
    none of them (unless a whole group is served by it)."""
    src = digits.source(["plain", "flipped"], "train", with_attr=True, data_type="train")
    src.x = src.x / 16.0
    ll = _ll(tmp_path, bound)
    ll.train(src)
    test = digits.source(["plain", "flipped"], "test", with_attr=False, data_type="test")
    test.x = test.x / 16.0
    loaded = ll._serving()
    ids = loaded.allocate(test)
    pred, _, tasks = ll.inference(test, recognize_unseen=False)
    pred = np.asarray(pred)
    by_base = [t for t in tasks if t.entry == kb_doc.BASE_ENTRY and t.model.entry == kb_doc.BASE_ENTRY]
    if bound is None:
        assert (ids >= 0).all() and not by_base
        return
    unsure = ids < 0
    assert 0 < unsure.sum() < len(ids)
    assert by_base and sum(len(t.samples.x) for t in by_base) == unsure.sum()
    assert (pred[unsure] == loaded.base.predict(test.x[unsure])).all()
