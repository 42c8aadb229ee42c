"""What a user of LifelongLearning notices beyond the happy path: per-task
estimators, models kept loaded, hot reload of a deployed index, rollback,
no pickle in the knowledge base, small tasks sharing a model."""

import json
import os
import time

import numpy as np
import pytest

from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import BaseDataSource
from sedna.knowledge import KnowledgeBase


class CountingEstimator:
    """A nearest-class-mean classifier that counts loads and keeps per-instance state."""

    loads = 0
    instances = []

    def __init__(self):
        self.means = None
        self.classes = None
        self.seen_rows = 0

    def train(self, train_data, valid_data=None, **kwargs):
        x, y = np.asarray(train_data.x, dtype=float), np.asarray(train_data.y)
        self.classes = np.unique(y)
        self.means = np.stack([x[y == c].mean(0) for c in self.classes])
        self.seen_rows += len(x)
        CountingEstimator.instances.append(self)
        return {"rows": float(len(x))}

    def predict(self, x, **kwargs):
        x = np.asarray(x, dtype=float)
        d = ((x[:, None, :] - self.means[None]) ** 2).sum(-1)
        return self.classes[d.argmin(1)]

    def save(self, model_path):
        with open(model_path + ".json", "w") as f:
            json.dump({"means": self.means.tolist(), "classes": self.classes.tolist()}, f)
        return model_path + ".json"

    def load(self, model_url):
        CountingEstimator.loads += 1
        with open(model_url) as f:
            d = json.load(f)
        self.means, self.classes = np.array(d["means"]), np.array(d["classes"])


@pytest.fixture
def counting():
    CountingEstimator.loads = 0
    CountingEstimator.instances = []
    return CountingEstimator


def test_every_task_gets_its_own_estimator(tmp_path, digits, counting):
    template = counting()
    ll = LifelongLearning(template, output_url=str(tmp_path / "kb"))
    ll.train(digits.source(["plain", "inverted", "flipped"]))
    trained = counting.instances
    # three task models and the shared base, each its own instance
    assert len(trained) == 4 and len({id(e) for e in trained}) == 4 and template not in trained
    assert template.means is None  # the user's instance is a template, never trained
    rows = sorted(e.seen_rows for e in trained)
    n = len(digits.train_rows)
    # no rows leak between tasks: each task model at most its own rows (some held out to judge it
    # against the base), the base those of all three
    assert all(0.8 * n <= r <= n for r in rows[:3]) and rows[3] == sum(rows[:3])


def test_models_stay_loaded_between_inference_calls(tmp_path, digits, counting, monkeypatch):
    ll = LifelongLearning(counting(), output_url=str(tmp_path / "kb"))
    ll.train(digits.source(["plain", "inverted"]))
    ev = ll.evaluate(digits.source(["plain", "inverted"], "test"))
    monkeypatch.setenv("MODEL_URLS", ev["index_url"])
    worker = LifelongLearning(counting())  # a fresh inference worker
    counting.loads = 0
    data = digits.source(["plain", "inverted"], "test", data_type="test")
    worker.inference(data)
    loaded = worker._serving()
    assert counting.loads == len(loaded.models) + (loaded.base is not None) == 3  # two tasks and the shared base
    for _ in range(4):
        worker.inference(data)
    assert counting.loads == 3  # each model read once, not per call
    worker.close()


def test_a_deployed_index_is_hot_reloaded(tmp_path, digits, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    out = tmp_path / "kb"
    trainer = LifelongLearning(LogisticRegression(max_iter=500), output_url=str(out))
    trainer.train(digits.source(["plain"]))
    kb = KnowledgeBase(str(out))
    monkeypatch.setenv("MODEL_URLS", kb.index_url)
    monkeypatch.setenv("MODEL_POLL_PERIOD_SECONDS", "0.05")
    worker = LifelongLearning(LogisticRegression(max_iter=500))
    inverted = digits.source("inverted", "test", with_attr=False, data_type="test")
    _, unseen, _ = worker.inference(inverted)
    assert unseen.mean() > 0.9  # only "plain" is known
    trainer.update(digits.source("inverted"))  # round 2 published to the same index
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, unseen, tasks = worker.inference(inverted)
        if unseen.mean() < 0.2:
            break
        time.sleep(0.05)
    assert unseen.mean() < 0.2
    assert {t.entry for t in tasks} == {"inverted.model"}
    worker.close()


def test_rollback_is_one_call_and_inference_follows(tmp_path, digits):
    from sklearn.linear_model import LogisticRegression

    out = tmp_path / "kb"
    ll = LifelongLearning(LogisticRegression(max_iter=500), output_url=str(out))
    ll.train(digits.source(["plain"]))
    ll.update(digits.source(["inverted"]))
    kb = KnowledgeBase(str(out))
    assert kb.current().number == 2
    kb.rollback(1)
    assert kb.current().number == 1 and kb.latest().number == 2
    fresh = LifelongLearning(LogisticRegression(max_iter=500), output_url=str(out))
    _, unseen, _ = fresh.inference(digits.source("inverted", "test", with_attr=False, data_type="test"))
    assert unseen.mean() > 0.9  # version 1 knows nothing of inverted digits


def test_no_pickle_anywhere_in_the_knowledge_base(tmp_path, digits):
    from sklearn.linear_model import LogisticRegression

    out = tmp_path / "kb"
    ll = LifelongLearning(LogisticRegression(max_iter=500), output_url=str(out))
    ll.train(digits.source(["plain", "inverted"]))
    ll.update(digits.source(["rotated"]))
    files = [os.path.join(r, f) for r, _, fs in os.walk(out) for f in fs]
    assert files
    for path in files:
        with open(path, "rb") as f:
            head = f.read(2)
        assert head[:1] != b"\x80", f"{path} looks like a pickle"
        if path.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:  # raises if an object array hides inside
                [z[k] for k in z.files]


def test_small_tasks_share_one_global_model(tmp_path, digits, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("MIN_TRAIN_SAMPLE", "50")
    src = digits.source(["plain", "inverted"])
    small = digits.source(["flipped", "rotated"], rows=digits.train_rows[:20])
    both = BaseDataSource(data_type="train")
    both.x = np.concatenate([src.x, small.x])
    both.y = np.concatenate([src.y, small.y])
    both.meta_attr = np.concatenate([src.meta_attr, small.meta_attr])
    ll = LifelongLearning(LogisticRegression(max_iter=500), output_url=str(tmp_path / "kb"))
    ll.train(both)
    groups = {g["entry"]: g for g in KnowledgeBase(str(tmp_path / "kb")).current().doc["task_groups"]}
    assert groups["flipped.model"]["model"]["url"] == groups["rotated.model"]["model"]["url"]
    assert groups["flipped.model"]["model"]["shared"] is True
    assert groups["plain.model"]["model"]["url"] != groups["inverted.model"]["model"]["url"]


def test_results_keep_input_order_for_string_results(tmp_path):
    """Per-task results of any type come back at their samples' positions."""

    class Echo:
        def train(self, train_data, valid_data=None):
            self.tag = str(train_data.meta_attr[0])

        def predict(self, x):
            return [f"{self.tag}:{v[0]:g}" for v in x]

        def save(self, model_path):
            open(model_path, "w").write(self.tag)
            return model_path

        def load(self, model_url):
            self.tag = open(model_url).read()

    data = BaseDataSource(data_type="train")
    data.x = np.arange(40, dtype=float).reshape(20, 2)
    data.y = np.zeros(20)
    data.meta_attr = np.array(["a", "b"] * 10)
    ll = LifelongLearning(Echo(), output_url=str(tmp_path / "kb"), min_train_sample=1)
    ll.train(data)
    res, unseen, _ = ll.inference(data)
    assert not unseen.any()
    assert list(res) == [f"{'ab'[i % 2]}:{2 * i:g}" for i in range(20)]
