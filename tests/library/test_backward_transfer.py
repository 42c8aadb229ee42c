"""Backward transfer (issue 7): when an update creates a task, old tasks it is
related to train again on their replay buffer plus its samples, and keep the
result only if it does at least as well on their held-out rows.

Real estimators (tiny torch networks), real knowledge-base versions on disk.
"""

import numpy as np
import pytest
import torch

from sedna.core.lifelong_learning import LifelongLearning
from sedna.core.lifelong_learning.backward_transfer import budgeted
from sedna.datasources.ops import concat
from test_transfer_replay import InitFromNet, _data, _sha


class ProbaNet(InitFromNet):
    """InitFromNet with class probabilities, so a confidence recognizer (which
    calibrates on held-out rows) can serve it."""

    def predict_proba(self, x):
        with torch.no_grad():
            return torch.softmax(self.model(torch.tensor(np.asarray(x, dtype=np.float32))), 1).numpy()


class RuinedByRefresh(ProbaNet):
    """Learns normally, but a training that starts from another model and sees
    several tasks' samples leaves the opposite of what it learned (it then
    predicts the least likely class): the refresh the engine must refuse."""

    def train(self, train_data, valid_data=None, epochs=None, init_from=None, teacher=None):
        res = super().train(train_data, valid_data, epochs, init_from, teacher)
        meta = getattr(train_data, "meta_attr", None)
        metas = set(np.asarray(meta).tolist()) if meta is not None else set()
        if init_from is not None and len(metas) > 1:
            with torch.no_grad():
                self.model.weight.mul_(-1)
                self.model.bias.mul_(-1)
        return res


def _ll(tmp_path, est, **kw):
    return LifelongLearning(est, task_definition={"method": "TaskDefinitionByDataAttr"},
                            task_allocation={"method": "TaskAllocationByDataAttr"},
                            unseen_sample_recognition={"method": "SampleRegonitionByConfidence"},
                            output_url=str(tmp_path / "kb"), min_train_sample=10, **dict({"refresh": 0.5}, **kw))


def _tasks(*specs):
    return concat([_data(n, shift=s, seed=i, meta=m) for i, (m, n, s) in enumerate(specs)], data_type="train")


def _groups(ll):
    return {g["entry"].split(".")[0]: g for g in ll._serving().doc["task_groups"]}


def _round1(tmp_path, est_cls, **kw):
    ll = _ll(tmp_path, est_cls(epochs=4), **kw)
    res = ll.train(_tasks(("a", 40, 0.0), ("b", 40, 0.3)))
    shas = {k: _sha(ll._serving().version.local_path(g["model"]["url"])) for k, g in _groups(ll).items()}
    return res["index_url"], shas


@pytest.fixture(autouse=True)
def _no_lc(monkeypatch):
    monkeypatch.delenv("LC_SERVER", raising=False)


def test_a_related_new_task_refreshes_old_tasks_on_their_buffer_plus_its_samples(tmp_path):
    # no budget: every related task is refreshed, whole
    index, _ = _round1(tmp_path, ProbaNet)
    ll2 = _ll(tmp_path, ProbaNet(epochs=4), refresh_budget=None)
    ll2.update(_tasks(("c", 40, 0.15)), index_url=index)
    doc = ll2._serving().doc
    refreshed = doc["update"]["refreshed"]
    assert set(refreshed) == {"a.model", "b.model"}  # c's look is close to a's and b's
    served = ll2._serving()
    epochs = {e.split(".")[0]: m.est.epochs_used for e, m in zip(served.entries, served.models)}
    g = _groups(ll2)
    for task in ("a", "b"):
        assert g[task]["n_samples"] == 40 and g[task]["n_buffer"] == 40  # c's samples stay c's
        if refreshed[f"{task}.model"] == "kept":
            assert g[task]["model"]["strategy"] == "refresh" and g[task]["model"]["init_from"] == f"{task}.model"
            assert epochs[task] == 2  # refresh (0.5) of the estimator's 4 epochs
    assert "kept" in refreshed.values()
    with np.load(served.version.local_path(g["a"]["samples_url"]), allow_pickle=False) as z:
        assert sorted(set(z["meta_attr"].tolist())) == ["a"]


def test_a_refresh_that_does_worse_on_held_out_rows_is_dropped_and_the_old_model_stays(tmp_path):
    # no budget: every related task is refreshed, whole
    index, shas = _round1(tmp_path, RuinedByRefresh)
    ll2 = _ll(tmp_path, RuinedByRefresh(epochs=4), refresh_budget=None)
    ll2.update(_tasks(("c", 40, 0.15)), index_url=index)
    doc = ll2._serving().doc
    assert doc["update"]["refreshed"] == {"a.model": "dropped", "b.model": "dropped"}
    g = _groups(ll2)
    for task in ("a", "b"):
        assert g[task]["model"]["strategy"] != "refresh"
        assert _sha(ll2._serving().version.local_path(g[task]["model"]["url"])) == shas[task]  # byte-identical
    # and the old tasks still predict as before: a's test rows are served by a's model
    test = _data(30, shift=0.0, seed=7, meta="a")
    pred = ll2.inference(test, recognize_unseen=False)[0]
    assert np.mean(np.asarray(pred) == test.y) > 0.8


def test_an_unrelated_new_task_refreshes_nothing(tmp_path):
    index, shas = _round1(tmp_path, ProbaNet)
    unrelated = _data(40, shift=0.0, seed=5, meta="z")
    unrelated.y = (unrelated.y + 1) % 3  # same inputs, other labels: the old models score ~0 on it
    ll2 = _ll(tmp_path, ProbaNet(epochs=4))
    ll2.update(unrelated, index_url=index)
    doc = ll2._serving().doc
    assert doc["update"]["refreshed"] == {}
    for task, g in _groups(ll2).items():
        if task in shas:
            assert _sha(ll2._serving().version.local_path(g["model"]["url"])) == shas[task]


def test_refresh_zero_turns_it_off_and_bad_values_are_refused(tmp_path):
    index, shas = _round1(tmp_path, ProbaNet, refresh=0)
    ll2 = _ll(tmp_path, ProbaNet(epochs=4), refresh=0)
    ll2.update(_tasks(("c", 40, 0.15)), index_url=index)
    assert ll2._serving().doc["update"]["refreshed"] == {}
    assert all(_sha(ll2._serving().version.local_path(g["model"]["url"])) == shas[t]
               for t, g in _groups(ll2).items() if t in shas)
    with pytest.raises(ValueError, match="refresh"):
        _ll(tmp_path, ProbaNet(), refresh=1.5)


class CountingNet(ProbaNet):
    """ProbaNet that records each training: the tasks it saw and its rows."""
    trainings = []

    def train(self, train_data, valid_data=None, epochs=None, init_from=None, teacher=None):
        metas = tuple(sorted(set(np.asarray(train_data.meta_attr).tolist())))
        CountingNet.trainings.append((metas, len(train_data.x), init_from is not None))
        return super().train(train_data, valid_data, epochs, init_from, teacher)


def test_the_budget_refreshes_the_most_related_tasks_first_and_cuts_the_last():
    # three related tasks of 36 training rows; the new task trains on 36 rows; refresh 0.5 of the epochs:
    # a whole refresh costs (36 + 36) * 0.5 = 36, one unit of the new task's training
    cands = [("a", 0.6, 36), ("b", 0.9, 36), ("c", 0.7, 36)]
    assert budgeted(cands, 36, 0.5, None) == {"a": None, "b": None, "c": None}
    assert budgeted(cands, 36, 0.5, 1.0) == {"b": None}  # the most related whole; nothing left
    assert budgeted(cands, 36, 0.5, 1.5) == {"b": None, "c": 36}  # then half of c's 72 rows
    assert budgeted(cands, 36, 0.5, 0.5) == {"b": 36}
    assert budgeted(cands, 36, 0.5, 0.0) == {}
    assert budgeted(cands, 36, 0.5, 0.05) == {}  # 3 rows: not worth a refresh


def test_a_budgeted_update_refreshes_within_it_and_says_which_tasks_it_left_out(tmp_path):
    index, shas = _round1(tmp_path, CountingNet, refresh_budget=0.5)
    # the shared base's own update is left out here: the budget bounds the refreshes
    ll2 = _ll(tmp_path, CountingNet(epochs=4), refresh_budget=0.5, update_base=False)
    CountingNet.trainings.clear()
    ll2.update(_tasks(("c", 40, 0.15)), index_url=index)
    refreshed = ll2._serving().doc["update"]["refreshed"]
    assert sorted(refreshed.values())[-1] == "over budget" and len(refreshed) == 2
    (done,) = [e for e, v in refreshed.items() if v != "over budget"]
    left = next(e for e in refreshed if e != done)
    rows = dict((m, n) for m, n, _ in CountingNet.trainings)
    own = done.split(".")[0]
    assert set(rows) == {("c",), tuple(sorted((own, "c")))}  # the new task and one refresh: nothing else trained
    # half the new task's cost: its rows, for half the epochs, are at most half the new task's rows
    assert rows[tuple(sorted((own, "c")))] * 0.5 <= 0.5 * rows[("c",)]
    served = ll2._serving()
    g = _groups(ll2)
    task = left.split(".")[0]
    assert _sha(served.version.local_path(g[task]["model"]["url"])) == shas[task]  # untouched
    with pytest.raises(ValueError, match="refresh_budget"):
        _ll(tmp_path, ProbaNet(), refresh_budget=-1)
