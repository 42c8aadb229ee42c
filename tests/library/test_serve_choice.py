"""Per task group, the knowledge base serves its own model or the shared base,
whichever scores better on the held-out rows as the allocation routes them
(sedna.core.lifelong_learning.serve_choice).

Real estimators (scikit-learn), real digits, real knowledge-base versions on disk.
"""

import json

import numpy as np
import pytest

from sedna.core.lifelong_learning import LifelongLearning
from sedna.core.lifelong_learning.serve_choice import SWITCH_MARGIN, decide
from sedna.core.lifelong_learning.training import Trainer, stored_samples
from sedna.datasources import BaseDataSource
from sedna.datasources.ops import concat

pytest.importorskip("sklearn")


def _sgd():
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=30, tol=None, warm_start=True, random_state=0)


def _logreg():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def _src(digits, domains, split="train", scale=16.0, with_attr=True):
    src = digits.source(domains, split, with_attr=with_attr, data_type="train" if split == "train" else "test")
    src.x = src.x / scale
    return src


def _ll(tmp_path, est, name="kb", **kw):
    return LifelongLearning(est, task_definition={"method": "TaskDefinitionByDataAttr"},
                            task_allocation={"method": "TaskAllocationByClassifier"},
                            output_url=str(tmp_path / name), **kw)


def _held_out(version):
    """Every group's held-out rows, as stored in the version (x, y; no task attribute)."""
    parts = [stored_samples(version, {"entry": g["entry"], "samples_url": g["holdout_url"],
                                      "prefix": g.get("holdout_key")})
             for g in version.doc["task_groups"]]
    out = BaseDataSource(data_type="test")
    pooled = concat(parts, data_type="test")
    out.x, out.y = pooled.x, pooled.y
    return out


def _accuracy(ll, data):
    pred = ll.inference(data, recognize_unseen=False)[0]
    return float(np.mean(np.asarray(pred) == data.y))


def _own_model_accuracy(loaded, data):
    """What the knowledge base scored before serve_choice: each row predicted by the model it is allocated to."""
    ids = loaded.allocate(data)
    pred = np.empty(len(data.x), dtype=data.y.dtype)
    for g in np.unique(ids):
        rows = ids == g
        pred[rows] = loaded.models[g].predict(data.x[rows])
    return float(np.mean(pred == data.y))


# --------------------------------------------------------------- the rule
def test_decide_picks_the_better_scorer_and_needs_a_margin_to_change_a_previous_choice():
    assert decide(own=0.85, base=0.95, n=120) == "base"
    assert decide(own=0.95, base=0.85, n=120) == "own"
    assert decide(own=0.90, base=0.90, n=120) == "own"  # a tie keeps the task's own model
    assert decide(own=0.5, base=0.9, n=5) == "own"  # too few rows to judge
    assert decide(own=None, base=0.9, n=100, previous="base") == "base"  # nothing to judge: unchanged
    small = SWITCH_MARGIN / 2
    assert decide(own=0.90 + small, base=0.90, n=120, previous="base") == "base"
    assert decide(own=0.90 + 2 * SWITCH_MARGIN, base=0.90, n=120, previous="base") == "own"
    assert decide(own=0.90, base=0.90 + small, n=120, previous="own") == "own"
    assert decide(own=0.90, base=0.90 + 2 * SWITCH_MARGIN, n=120, previous="own") == "base"


# --------------------------------------------------------------- poor allocation: the base serves
@pytest.fixture
def mirrored(tmp_path, digits):
    """Plain and left-right mirrored digits: hard to tell apart, so the allocation errs."""
    ll = _ll(tmp_path, _sgd())
    ll.train(_src(digits, ["plain", "flipped"]))
    return ll


def test_poor_allocation_serves_the_base_and_is_not_worse_on_held_out_rows(mirrored):
    loaded = mirrored._serving()
    groups = loaded.doc["task_groups"]
    assert any(g["serve"] == "base" for g in groups)
    for g in groups:
        s = g["serve_scores"]
        assert s["n"] >= 10
        assert g["serve"] == ("base" if s["base"] > s["own"] else "own")
    held = _held_out(loaded.version)
    assert len(held.x) == sum(int(0.1 * g["n_samples"]) for g in groups)
    assert all(g["holdout_url"] == g["samples_url"] for g in groups)  # one file per group: buffer + held-out rows
    assert _accuracy(mirrored, held) >= _own_model_accuracy(loaded, held)


def test_the_base_predicts_the_samples_allocated_to_a_group_it_serves(mirrored, digits):
    loaded = mirrored._serving()
    test = _src(digits, ["plain", "flipped"], "test", with_attr=False)
    pred = np.asarray(mirrored.inference(test, recognize_unseen=False)[0])
    ids = loaded.allocate(test)
    for gi, g in enumerate(loaded.doc["task_groups"]):
        rows = ids == gi
        model = loaded.base if g["serve"] == "base" else loaded.models[gi]
        assert rows.any() and (pred[rows] == model.predict(test.x[rows])).all()


def test_the_decision_is_in_the_index_and_survives_a_reload(mirrored, digits, tmp_path, monkeypatch):
    version = mirrored._serving().version
    on_disk = json.load(open(version.url))
    assert [g["serve"] for g in on_disk["task_groups"]] == [g["serve"] for g in version.doc["task_groups"]]
    test = _src(digits, ["plain", "flipped"], "test", with_attr=False)
    before = np.asarray(mirrored.inference(test, recognize_unseen=False)[0])
    # a fresh job reading the knowledge base from disk serves the same way
    again = _ll(tmp_path, _sgd())
    assert (np.asarray(again.inference(test, recognize_unseen=False)[0]) == before).all()
    # and so does an inference worker on the index evaluate deploys (written elsewhere)
    deployed = mirrored.evaluate(_src(digits, ["plain", "flipped"], "test"))["index_url"]
    monkeypatch.setenv("MODEL_URLS", deployed)
    worker = _ll(tmp_path, _sgd(), name="worker-output")
    try:
        assert (np.asarray(worker.inference(test, recognize_unseen=False)[0]) == before).all()
    finally:
        worker.close()


def test_an_update_keeps_the_choice_of_kept_groups_and_judges_the_new_one(mirrored, digits, tmp_path):
    # without update_base the base is the first round's: a kept group's choice stands unless beaten by a margin
    r1 = {g["entry"]: g["serve"] for g in mirrored._serving().doc["task_groups"]}
    up = _ll(tmp_path, _sgd(), update_base=False)
    up.update(_src(digits, ["rotated"]))
    doc = up._serving().doc
    by_entry = {g["entry"]: g for g in doc["task_groups"]}
    assert by_entry["rotated.model"]["serve"] == "own"  # the base never learned rotated digits
    for entry, choice in r1.items():
        s = by_entry[entry]["serve_scores"]
        lead = s["own"] - s["base"] if choice == "base" else s["base"] - s["own"]
        assert by_entry[entry]["serve"] == (choice if lead < SWITCH_MARGIN else ("own" if choice == "base"
                                                                                else "base"))
    held = _held_out(up._serving().version)  # kept groups' held-out rows come from version 1
    assert len(held.x) == sum(int(0.1 * g["n_samples"]) for g in doc["task_groups"])
    assert _accuracy(up, held) >= _own_model_accuracy(up._serving(), held)


@pytest.mark.parametrize("base_replay", [1.0, None], ids=["part-of-memory", "all-memory"])
def test_an_update_that_retrains_the_base_keeps_own_models_unless_beaten(mirrored, digits, tmp_path, base_replay):
    # the retrained base is a new candidate for every group: a group its own model served keeps it
    # unless the new base scores better by the margin; the others take the better scorer
    r1 = {g["entry"]: g["serve"] for g in mirrored._serving().doc["task_groups"]}
    up = _ll(tmp_path, _sgd(), update_base=True, base_replay=base_replay)
    up.update(_src(digits, ["rotated"]))
    doc = up._serving().doc
    assert doc["base_model"]["trained_version"] == 2  # the base learned the rotated digits too
    for g in doc["task_groups"]:
        s, before = g["serve_scores"], r1.get(g["entry"])
        if before == "base" and "previous_base" in s:  # the old base kept: neither new candidate beat it
            assert g["serve"] == "own" and g["model"]["strategy"] == "previous_base"
            assert max(s["own"], s["base"]) < s["previous_base"] + SWITCH_MARGIN
        elif before != "own":  # a new group, or one the old base served and both new candidates beat
            assert g["serve"] == ("base" if s["base"] > s["own"] else "own"), g["entry"]
        else:
            lead = s["own"] - s["base"] if before == "base" else s["base"] - s["own"]
            assert g["serve"] == (before if lead < SWITCH_MARGIN else ("own" if before == "base" else "base"))
    held = _held_out(up._serving().version)
    assert _accuracy(up, held) >= _own_model_accuracy(up._serving(), held) - SWITCH_MARGIN


def test_frames_that_disagree_raise_the_bar_to_change_a_choice():
    # three frames: base ahead by 0.03 on average; with a spread of 0.02 that is not enough to switch
    assert decide(own=0.48, base=0.51, n=3, previous="own", min_rows=1) == "base"
    assert decide(own=0.48, base=0.51, n=3, previous="own", min_rows=1, spread=0.02) == "own"
    assert decide(own=0.48, base=0.51, n=3, previous=None, min_rows=1, spread=0.02) == "base"  # nothing to keep


# --------------------------------------------------------------- own model better: kept
def test_a_task_whose_own_model_is_better_keeps_it(tmp_path, digits):
    # a linear base cannot fit digits and their inversion at once: the task models win
    ll = _ll(tmp_path, _logreg())
    ll.train(digits.source(["plain", "inverted"]))
    loaded = ll._serving()
    assert [g["serve"] for g in loaded.doc["task_groups"]] == ["own", "own"]
    assert all(p is m for p, m in zip(loaded.predictors, loaded.models))
    test = digits.source(["plain", "inverted"], "test", with_attr=False, data_type="test")
    assert _accuracy(ll, test) > 0.9


# --------------------------------------------------------------- when nothing is decided
def test_serve_choice_off_trains_on_every_row_and_records_nothing(tmp_path, digits):
    ll = _ll(tmp_path, _sgd(), serve_choice=False)
    ll.train(_src(digits, ["plain", "flipped"]))
    doc = ll._serving().doc
    assert all("serve" not in g and "holdout_url" not in g for g in doc["task_groups"])
    assert doc["base_model"]["n_samples"] == sum(g["n_samples"] for g in doc["task_groups"])


def test_by_default_only_numeric_samples_are_held_out_for_the_choice():
    trainer = Trainer(_sgd(), 10, 0.1, transfer=True)
    numeric, paths = BaseDataSource(), BaseDataSource()
    numeric.x = np.zeros((20, 4))
    paths.x = np.array([f"img{i}.png" for i in range(20)])
    assert trainer.choosing(numeric) and not trainer.choosing(paths)
    assert Trainer(_sgd(), 10, 0.1, transfer=True, serve_choice=True).choosing(paths)
    assert not Trainer(_sgd(), 10, 0.1, transfer=False).choosing(numeric)  # no base to choose
    assert not Trainer(_sgd(), 10, 0.0, transfer=True).choosing(numeric)  # no rows to judge on
    with pytest.raises(ValueError, match="serve_choice"):
        LifelongLearning(_sgd(), serve_choice="base")


def test_a_retrained_base_never_learns_a_kept_groups_held_out_rows(digits, tmp_path, monkeypatch):
    # the held-out rows judge the serving choice: a base that learned them (a small replay buffer
    # keeps them at shuffled positions) would look better than it is on them
    ll = _ll(tmp_path, _sgd(), replay_size=100)
    ll.train(_src(digits, ["plain", "flipped"]))
    held = _held_out(ll._serving().version)
    seen = []
    fit = Trainer.fit

    def recording(self, samples, valid_data, kwargs, strategy, previous, source=None):
        if strategy == "base":
            seen.append(np.asarray(samples.x))
        return fit(self, samples, valid_data, kwargs, strategy, previous, source)

    monkeypatch.setattr(Trainer, "fit", recording)
    up = _ll(tmp_path, _sgd(), update_base=True, replay_size=100)
    up.update(_src(digits, ["rotated"]))
    (base_rows,) = seen
    learned = {r.tobytes() for r in base_rows}
    assert len(base_rows) > 100 and not any(r.tobytes() in learned for r in np.asarray(held.x))


def test_a_group_the_old_base_served_is_not_served_worse_when_the_new_base_forgets(mirrored, digits, tmp_path):
    """The base continues mostly on a new domain's rows (inverted digits, which a linear model
    cannot share with plain ones) and forgets the seen ones; the groups the old base served keep
    it, so on their held-out rows the update scores as well as the version before."""
    loaded1 = mirrored._serving()
    assert "base" in {g["serve"] for g in loaded1.doc["task_groups"]}
    held = _held_out(loaded1.version)
    before = _accuracy(mirrored, held)
    up = _ll(tmp_path, _sgd(), update_base=True)
    up.update(_src(digits, ["inverted"]))
    doc = up._serving().doc
    kept = [g for g in doc["task_groups"] if g["model"].get("strategy") == "previous_base"]
    assert kept and all(g["model"]["url"] == up._serving().version.resolve(g["model"]["url"]) for g in kept)
    assert _accuracy(up, held) >= before - SWITCH_MARGIN
