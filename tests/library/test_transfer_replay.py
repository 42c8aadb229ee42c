"""Knowledge transfer between task models and the bounded replay buffer (issue 7).

The transfer contract (``sedna.backend.transfer``) with real estimators: a
torch estimator that exposes its network, one that takes ``init_from``
itself, scikit-learn models with and without warm starts. Then the knowledge
base: the shared base, new tasks started from the closest task, small tasks
served by the base, replay buffers bounded and stored as npz across versions,
untouched tasks byte-identical.
"""

import hashlib
import os

import numpy as np
import pytest
import torch

from sedna.backend import Estimator
from sedna.backend.transfer import transfer_mode
from sedna.core.lifelong_learning import LifelongLearning
from sedna.core.lifelong_learning.replay import reservoir
from sedna.datasources import BaseDataSource

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402


class TorchNet:
    """A tiny torch estimator that exposes its network as ``.model`` (state-dict transfer)."""

    def __init__(self, seed=0, epochs=4):
        torch.manual_seed(seed)
        self.model = torch.nn.Linear(4, 3)
        self.epochs = epochs
        self.epochs_used = None
        self.start_weight = None

    def train(self, train_data, valid_data=None, epochs=None):
        self.start_weight = self.model.weight.detach().clone()
        self.epochs_used = epochs or self.epochs
        x = torch.tensor(np.asarray(train_data.x, dtype=np.float32))
        y = torch.tensor(np.asarray(train_data.y, dtype=np.int64))
        opt = torch.optim.SGD(self.model.parameters(), lr=0.1)
        for _ in range(self.epochs_used):
            loss = torch.nn.functional.cross_entropy(self.model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return {"loss": float(loss.item())}

    def predict(self, x):
        with torch.no_grad():
            return self.model(torch.tensor(np.asarray(x, dtype=np.float32))).argmax(1).numpy()

    def save(self, model_path):
        torch.save(self.model.state_dict(), model_path + ".pt")
        return model_path + ".pt"

    def load(self, model_url):
        self.model.load_state_dict(torch.load(model_url, weights_only=True))


class InitFromNet(TorchNet):
    """Takes ``init_from`` (and ``teacher``) in ``train`` itself."""

    def train(self, train_data, valid_data=None, epochs=None, init_from=None, teacher=None):
        self.got_init = init_from
        self.got_teacher = teacher
        if init_from is not None:
            self.model.load_state_dict(init_from.model.state_dict())
        return super().train(train_data, valid_data, epochs)


def _data(n, shift=0.0, seed=0, meta=None):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float64)
    x = centres[y] + rng.normal(0, 0.5, (n, 4)) + shift
    src = BaseDataSource(data_type="train")
    src.x, src.y = x, y
    if meta is not None:
        src.meta_attr = np.array([meta] * n)
    return src


def _trained(est_cls, data, **kw):
    est = Estimator(est_cls(**kw))
    est.train(data)
    return est


def test_transfer_modes_of_estimators():
    assert transfer_mode(TorchNet()) == "state_dict"
    assert transfer_mode(InitFromNet()) == "init_from"
    assert transfer_mode(LogisticRegression()) == "warm_start"
    assert transfer_mode(LogisticRegression) == "warm_start"
    assert transfer_mode(KNeighborsClassifier()) is None


def test_torch_state_dict_transfer_starts_from_the_source_weights():
    src = _trained(TorchNet, _data(60), seed=1)
    dst = Estimator(TorchNet(seed=2))
    dst.train_from(src, _data(30, seed=3), epochs=2)
    assert torch.equal(dst.est.start_weight, src.est.model.weight.detach())
    assert dst.est.epochs_used == 2
    fresh = Estimator(TorchNet(seed=2))
    fresh.train(_data(30, seed=3))
    assert not torch.equal(fresh.est.start_weight, src.est.model.weight.detach())


def test_init_from_estimator_receives_the_source_and_teacher():
    src = _trained(InitFromNet, _data(60), seed=1)
    dst = Estimator(InitFromNet(seed=2))
    dst.train_from(src, _data(30, seed=3), teacher=src)
    assert dst.est.got_init is src.est and dst.est.got_teacher is src.est
    assert torch.equal(dst.est.start_weight, src.est.model.weight.detach())


def test_sklearn_warm_start_continues_from_the_source_coefficients():
    src = _trained(LogisticRegression, _data(90), max_iter=200)
    dst = Estimator(LogisticRegression(max_iter=1))  # one iteration: stays near where it started
    dst.train_from(src, _data(30, seed=5))
    assert dst.est is not src.est
    assert np.abs(dst.est.coef_ - src.est.coef_).max() < np.abs(src.est.coef_).max() * 0.5
    # the source model itself is untouched
    assert not getattr(src.est, "warm_start", False)


def test_estimator_without_transfer_trains_from_scratch():
    src = _trained(KNeighborsClassifier, _data(30), n_neighbors=3)
    dst = Estimator(KNeighborsClassifier(n_neighbors=3))
    dst.train_from(src, _data(30, seed=7))
    assert dst.est is not src.est
    assert len(dst.est._fit_X) == 30


def test_warm_start_refused_for_other_classes_falls_back_to_scratch():
    src = _trained(LogisticRegression, _data(60), max_iter=200)
    two = _data(40, seed=2)
    two.y = (two.y > 0).astype(int)  # two classes where the source has three
    dst = Estimator(LogisticRegression(max_iter=200))
    dst.train_from(src, two)
    assert list(dst.est.classes_) == [0, 1]


# ----------------------------------------------------------------- replay buffer
def test_reservoir_is_bounded_and_counts_what_it_has_seen():
    buf, seen = reservoir(None, 0, _data(50), 20, "t@1")
    assert len(buf.x) == 20 and seen == 50
    buf2, seen2 = reservoir(buf, seen, _data(50, seed=1, shift=10.0), 20, "t@2")
    assert len(buf2.x) == 20 and seen2 == 100
    # old rows stand for 50 samples, new rows for 50: about half of each survive
    new_rows = int((buf2.x[:, 3] > 5).sum())
    assert 4 <= new_rows <= 16
    small, n = reservoir(None, 0, _data(5), 20, "t@1")
    assert len(small.x) == 5 and n == 5
    again, _ = reservoir(None, 0, _data(50), 20, "t@1")
    assert np.array_equal(again.x, buf.x)  # deterministic


def _ll(tmp_path, est, **kw):
    return LifelongLearning(est, task_definition={"method": "TaskDefinitionByDataAttr"},
                            task_allocation={"method": "TaskAllocationByDataAttr"},
                            unseen_sample_recognition={"method": "SampleRegonitionByTaskAttr"},
                            output_url=str(tmp_path / "kb"), **kw)


def _tasks(*specs):
    from sedna.datasources.ops import concat

    parts = [_data(n, shift=s, seed=i, meta=m) for i, (m, n, s) in enumerate(specs)]
    return concat(parts, data_type="train")


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_kb_with_transfer_has_a_base_and_task_models_start_from_it(tmp_path, monkeypatch):
    monkeypatch.delenv("LC_SERVER", raising=False)
    ll = _ll(tmp_path, InitFromNet(), transfer=True, replay_size=25, min_train_sample=10)
    res = ll.train(_tasks(("a", 40, 0.0), ("b", 40, 0.5), ("c", 6, 1.0)))
    doc = ll._serving().doc
    # every group's training rows: a's and b's minus the 10 % held out to choose their serving model
    assert doc["base_model"]["strategy"] == "base" and doc["base_model"]["n_samples"] == 36 + 36 + 6
    groups = {g["entry"].split(".")[0]: g for g in doc["task_groups"]}
    assert groups["a"]["model"]["init_from"] == "__base__"
    assert groups["c"]["model"]["url"] == doc["base_model"]["url"]  # too small: served by the base
    assert groups["a"]["n_buffer"] == 25 and groups["a"]["n_samples"] == 40
    # of the estimator's 4 epochs the base takes base_epochs (0.8), specialising it task_epochs (0.5)
    served = ll._serving()
    epochs = {e.split(".")[0]: m.est.epochs_used for e, m in zip(served.entries, served.models)}
    assert epochs == {"a": 2, "b": 2, "c": 3}  # c: served by the base
    with np.load(os.path.join(os.path.dirname(res["index_url"]), groups["a"]["samples_url"]),
                 allow_pickle=False) as z:
        assert len(z["x"]) == 25
    # round 2: the base learns the new rows, a new task starts from it; task a is retrained from its own
    ll2 = _ll(tmp_path, InitFromNet(), transfer=True, replay_size=25, min_train_sample=10, update_base=True)
    before_b = _sha(ll._serving().version.local_path(groups["b"]["model"]["url"]))
    res2 = ll2.update(_tasks(("a", 20, 0.0), ("d", 30, 0.2)), index_url=res["index_url"])
    doc2 = ll2._serving().doc
    g2 = {g["entry"].split(".")[0]: g for g in doc2["task_groups"]}
    assert g2["d"]["model"]["init_from"] == "__base__"
    served2 = ll2._serving()
    epochs2 = {e.split(".")[0]: m.est.epochs_used for e, m in zip(served2.entries, served2.models)}
    assert epochs2["d"] == 2  # specialised from the base, which learned its rows: task_epochs (0.5)
    assert epochs2["a"] == 4  # retrained on new samples: full epochs
    assert g2["a"]["model"]["init_from"] == "a.model" and g2["a"]["n_samples"] == 60 and g2["a"]["n_buffer"] == 25
    assert g2["b"]["model"]["url"].endswith(groups["b"]["model"]["url"])  # kept: same artifact
    assert _sha(ll2._serving().version.local_path(g2["b"]["model"]["url"])) == before_b
    assert doc2["base_model"]["trained_version"] == 2 and doc2["base_model"]["init_from"] == "__base__"
    assert os.path.exists(served2.version.local_path(doc2["base_model"]["url"]))  # written in version 2
    assert res2["version"] == 2


def test_without_transfer_no_base_is_trained(tmp_path, monkeypatch):
    monkeypatch.delenv("LC_SERVER", raising=False)
    ll = _ll(tmp_path, InitFromNet(), transfer=False)
    ll.train(_tasks(("a", 40, 0.0), ("b", 40, 0.5)))
    doc = ll._serving().doc
    assert "base_model" not in doc
    assert all("init_from" not in g["model"] for g in doc["task_groups"])


def test_update_decision_routes_labelled_samples_by_their_attribute():
    """Labelled frames say which scene they are of: a new scene's frames all make
    its new task, whichever side of the re-recognition they fell on, and a known
    scene's frames go to its task even when they looked unseen."""
    from sedna.algorithms.seen_task_learning.task_update_decision.task_update_decision import UpdateStrategyDefault

    index = {"tasks": [{"entry": "a.model", "meta_attr": "a", "group": 0},
                       {"entry": "b.model", "meta_attr": "b", "group": 1}],
             "extractor": {"kind": "classifier", "base": {"a": 0, "b": 1}},
             "task_definition": {"method": "TaskDefinitionByDataAttr", "param": {}}}
    decision = UpdateStrategyDefault(index, min_samples=2)
    seen = _data(5, meta="c")
    seen.meta_attr = np.array(["a", "c", "c", "c", "a"])
    t1, s1 = decision(seen, task_type="seen_task")
    unseen = _data(3, meta="c")
    unseen.meta_attr = np.array(["c", "b", "c"])
    t2, s2 = decision(unseen, task_type="unseen_task")
    sizes = {}
    for t in t1 + t2:
        sizes[t.entry] = sizes.get(t.entry, 0) + len(t.samples.x)
    assert sizes == {"a.model": 2, "c.model": 5, "b.model": 1}
    assert s1 == {"a.model": "retrain", "c.model": "new"}
    assert s2 == {"b.model": "absorb", "c.model": "new"}
    assert [t.meta_attr for t in t2 if t.entry == "c.model"] == ["c"]
