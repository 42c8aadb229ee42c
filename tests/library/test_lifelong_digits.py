"""End to end on real data: scikit-learn's digits, one task per domain.

Round 1 learns ``plain`` and ``inverted``; ``rotated`` is never trained on.
Inference must flag rotated digits unseen (and save them), rarely flag seen
ones; the update with rotated digits labelled adds a task without hurting the
old ones.
"""

import json
import os

import numpy as np
import pytest

from sedna.core.lifelong_learning import LifelongLearning
from sedna.examples.digits import accuracy, make_estimator
from sedna.knowledge import KnowledgeBase

SEEN = ["plain", "inverted"]


@pytest.fixture
def job(tmp_path, monkeypatch, digits):
    monkeypatch.setenv("OUTPUT_URL", str(tmp_path / "kb"))
    monkeypatch.setenv("unseen_save_url", str(tmp_path / "unseen"))
    ll = LifelongLearning(make_estimator(), task_definition={"method": "TaskDefinitionByDataAttr"},
                          task_allocation={"method": "TaskAllocationByClassifier"})
    res = ll.train(digits.source(SEEN))
    return ll, res, tmp_path


def test_train_writes_one_version_with_a_model_per_domain(job):
    ll, res, tmp = job
    assert res["version"] == 1
    assert set(res["tasks"]) == {"plain.model", "inverted.model"}
    kb = KnowledgeBase(str(tmp / "kb"))
    assert kb.versions() == [1]
    doc = kb.current().doc
    assert [g["entry"] for g in doc["task_groups"]] == ["plain.model", "inverted.model"]
    urls = {g["model"]["url"] for g in doc["task_groups"]}
    assert len(urls) == 2  # one estimator per task
    cal = doc["unseen_sample_recognition"]["calibration"]
    assert cal["threshold"] > 0 and 0 < cal["observed_fpr"] <= 0.1


def test_evaluate_drop_rule_both_ways(job, digits, monkeypatch, tmp_path):
    ll, _, _ = job
    data = digits.source(SEEN, "test")
    monkeypatch.setenv("operator", "<")
    monkeypatch.setenv("model_threshold", "0")  # the tutorial's rule: drops nothing
    keep = ll.evaluate(data)
    assert keep["dropped"] == []
    assert all(t["accuracy"] > 0.9 and t["deployed"] for t in keep["tasks"].values())
    monkeypatch.setenv("model_threshold", "0.999")  # every task scores below: all dropped
    drop = ll.evaluate(data)
    assert sorted(drop["dropped"]) == ["inverted.model", "plain.model"]
    deployed = json.load(open(drop["index_url"]))
    assert [g["deployed"] for g in deployed["task_groups"]] == [False, False]
    monkeypatch.setenv("operator", ">")  # the other direction: scores above the bar are dropped
    monkeypatch.setenv("model_threshold", "0.5")
    assert sorted(ll.evaluate(data)["dropped"]) == ["inverted.model", "plain.model"]
    monkeypatch.setenv("model_threshold", "1.5")
    assert ll.evaluate(data)["dropped"] == []


def test_inference_order_unseen_flagging_and_saving(job, digits, tmp_path):
    ll, _, _ = job
    plain = digits.source("plain", "test", with_attr=False, data_type="test")
    rotated = digits.source("rotated", "test", with_attr=False, data_type="test")
    # interleave seen and unseen samples; results must come back in input order
    mixed = digits.source(["plain", "rotated"], "test", with_attr=False, data_type="test")
    order = np.random.default_rng(1).permutation(len(mixed.x))
    mixed.x, mixed.y = mixed.x[order], mixed.y[order]
    res, unseen, tasks = ll.inference(mixed)
    assert len(res) == len(mixed.x)
    is_rot = order >= len(plain.x)
    recall = unseen[is_rot].mean()
    false_alarm = unseen[~is_rot].mean()
    assert recall >= 0.9
    assert false_alarm <= 0.1
    seen_rows = ~unseen
    pred = np.array([r for r, u in zip(res, unseen) if not u])
    assert (pred == mixed.y[seen_rows]).mean() > 0.9  # right answers at the right positions
    assert all(res[i] is not None for i in np.flatnonzero(unseen))  # flagged, still predicted
    saved = [f for f in os.listdir(tmp_path / "unseen") if f.endswith(".npz")]
    assert saved
    n_saved = sum(len(np.load(tmp_path / "unseen" / f, allow_pickle=False)["x"]) for f in saved)
    assert n_saved == int(unseen.sum())
    # single samples give the same answers as the batch
    for i in range(5):
        one = digits.source("plain", "test", with_attr=False, data_type="test", rows=digits.test_rows[i:i + 1])
        r1, u1, _ = ll.inference(one)
        rb, ub, _ = ll.inference(plain)
        assert u1[0] == ub[i] and (u1[0] or r1[0] == rb[i])
    _, unseen_rot, _ = ll.inference(rotated)
    assert unseen_rot.mean() >= 0.9


def test_update_learns_the_new_domain_without_forgetting(job, digits, tmp_path):
    ll, _, _ = job
    test = {d: digits.source(d, "test", with_attr=False, data_type="test") for d in SEEN + ["rotated"]}
    before = {d: accuracy(ll, test[d]) for d in test}
    assert before["rotated"][1] >= 0.9  # nearly all flagged unseen before the update
    res = ll.update(digits.source("rotated"))
    assert res["version"] == 2
    assert res["strategies"] == {"rotated.model": "new"}
    kb = KnowledgeBase(str(tmp_path / "kb"))
    assert kb.versions() == [1, 2]
    v2 = kb.current().doc
    assert [g["entry"] for g in v2["task_groups"]] == ["plain.model", "inverted.model", "rotated.model"]
    v1 = kb.load(1).doc
    # untouched tasks keep the very same model artifacts
    for g1, g2 in zip(v1["task_groups"], v2["task_groups"]):
        assert kb.load(1).resolve(g1["model"]["url"]) == kb.current().resolve(g2["model"]["url"])
    after = {d: accuracy(ll, test[d]) for d in test}
    assert after["rotated"][0] >= 0.9 and after["rotated"][1] <= 0.1
    for d in SEEN:
        assert after[d][0] >= before[d][0] - 0.01, (d, before[d], after[d])
    ev = ll.evaluate(digits.source(SEEN + ["rotated"], "test"))
    assert ev["tasks"]["rotated.model"]["accuracy"] >= 0.9


def test_second_update_routes_samples_to_their_existing_task(job, digits):
    ll, _, _ = job
    ll.update(digits.source("rotated", rows=digits.train_rows[:300]))
    res = ll.update(digits.source(["rotated", "plain"], rows=digits.train_rows[300:600]))
    assert res["version"] == 3
    assert res["strategies"] == {"plain.model": "retrain", "rotated.model": "retrain"}
    # allocation is by a fitted classifier (no domain label at run time): nearly every
    # sample reaches its own task, and none is lost
    rot, plain = res["tasks"]["rotated.model"]["n_samples"], res["tasks"]["plain.model"]["n_samples"]
    assert rot >= 590
    assert rot + plain == 600 + len(digits.train_rows) + 300


def test_finetune_strategy_continues_from_the_current_model(tmp_path, digits):
    from sklearn.linear_model import SGDClassifier

    ll = LifelongLearning(SGDClassifier(loss="log_loss", random_state=0),
                          task_update_decision={"method": "UpdateStrategyByFinetune"},
                          output_url=str(tmp_path / "kb"))
    ll.train(digits.source(SEEN, rows=digits.train_rows[:400]))
    res = ll.update(digits.source("plain", rows=digits.train_rows[400:800]))
    assert res["strategies"] == {"plain.model": "finetune"}
    assert res["tasks"]["plain.model"]["n_samples"] == 400  # new samples only
    assert res["tasks"]["plain.model"]["strategy"] == "finetune"


def test_a_few_samples_for_an_existing_task_are_stored_not_retrained(job, digits):
    _, _, tmp = job
    ll = LifelongLearning(make_estimator(), task_definition={"method": "TaskDefinitionByDataAttr"},
                          task_allocation={"method": "TaskAllocationByClassifier"},
                          task_update_decision={"method": "UpdateStrategyDefault", "param": {"min_samples": 10}})
    before = KnowledgeBase(str(tmp / "kb")).current()
    res = ll.update(digits.source("plain", rows=digits.train_rows[:5]))
    assert res["strategies"] == {"plain.model": "absorb"}
    after = KnowledgeBase(str(tmp / "kb")).current()
    g1 = {g["entry"]: g for g in before.doc["task_groups"]}["plain.model"]
    g2 = {g["entry"]: g for g in after.doc["task_groups"]}["plain.model"]
    assert after.resolve(g2["model"]["url"]) == before.resolve(g1["model"]["url"])  # same model
    assert g2["n_samples"] == g1["n_samples"] + 5                                 # samples kept
