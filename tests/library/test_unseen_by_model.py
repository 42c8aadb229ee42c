"""SampleRegonitionByModel: unseen samples from the task models' own features.

Cheap estimators only: scikit-learn logistic regressions on synthetic
Gaussian tasks (the ``predict_proba`` fallback) and an untrained toy-size
RFNet-lite (``embed``).
"""

import json

import numpy as np
import pytest

from sedna.algorithms.unseen_task_detection.unseen_sample_recognition import SampleRegonitionByModel
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.by_model import model_embedding, window_pool
from sedna.backend import Estimator
from sedna.common.class_factory import ClassFactory, ClassType
from sedna.datasources import BaseDataSource

DIM = 8
CENTRES = {"a": np.zeros(DIM), "b": np.r_[6.0, np.zeros(DIM - 1)]}
SHIFT = np.r_[3.0, 5.0, np.zeros(DIM - 2)]


def gaussian(centre, n, seed):
    """Samples of one task: a Gaussian blob, labels by the sign of the 2nd coordinate around the centre."""
    rng = np.random.default_rng(seed)
    src = BaseDataSource(data_type="train")
    src.x = centre + rng.normal(size=(n, DIM))
    src.y = (src.x[:, 1] > centre[1]).astype(int)
    return src


def mixed(n, seed, centres=("a", "b")):
    rng = np.random.default_rng(seed)
    parts = [gaussian(CENTRES[c], n, int(rng.integers(1 << 30))) for c in centres]
    src = BaseDataSource(data_type="eval")
    src.x = np.concatenate([p.x for p in parts])
    src.y = np.concatenate([p.y for p in parts])
    return src


def shifted(n, seed):
    src = gaussian(SHIFT, n, seed)
    src.data_type = "test"
    return src


def allocate_nearest(samples):
    x = np.asarray(samples.x)
    d = np.stack([((x - c) ** 2).sum(1) for c in CENTRES.values()])
    return d.argmin(0)


@pytest.fixture(scope="module")
def tasks():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    parts = [gaussian(CENTRES[c], 400, seed) for seed, c in enumerate(CENTRES)]
    models = []
    for p in parts:
        m = Estimator(LogisticRegression(max_iter=500))
        m.train(p)
        models.append(m)
    return parts, models


def fitted(tasks, **kw):
    parts, models = tasks
    rec = SampleRegonitionByModel(**kw).fit(parts, models=models, allocate=allocate_nearest)
    cal = rec.calibrate(mixed(1000, 10), models, allocate_nearest)
    return rec, cal


# -------------------------------------------------------------- calibration
@pytest.mark.parametrize("combine", ["model", "appearance", "sum", "max"])
@pytest.mark.parametrize("target", [0.05, 0.2])
def test_false_alarm_rate_on_held_out_seen_samples_is_near_the_target(tasks, combine, target):
    _, models = tasks
    rec, cal = fitted(tasks, combine=combine, target_fpr=target)
    assert cal["kind"] == "by_model" and cal["n_calibration"] == 2000
    assert abs(cal["observed_fpr"] - target) < 0.01
    fresh = mixed(2000, 99)  # seen tasks, never used to fit or calibrate
    seen, unseen = rec(fresh, models=models, allocate=allocate_nearest)
    fpr = len(unseen.x) / len(fresh.x)
    assert abs(fpr - target) < 0.025, fpr


def test_shifted_samples_are_flagged(tasks):
    _, models = tasks
    rec, _ = fitted(tasks, combine="sum")
    shift = shifted(300, 7)
    _, unseen = rec(shift, models=models, allocate=allocate_nearest)
    assert len(unseen.x) / len(shift.x) > 0.9
    # the model component alone, on class probabilities (the predict_proba fallback), flags
    # samples its model is unsure of: task a's samples squeezed onto its decision boundary
    unsure = gaussian(CENTRES["a"], 300, 9)
    unsure.x[:, 1] *= 0.02
    s_seen = rec.component_scores(mixed(300, 8), models, allocate_nearest)["model"]
    s_unsure = rec.component_scores(unsure, models, allocate_nearest)["model"]
    assert np.median(s_unsure) > np.quantile(s_seen, 0.95)


def test_scores_are_higher_for_shifted_samples_and_keep_positions(tasks):
    _, models = tasks
    rec, _ = fitted(tasks)
    data = mixed(50, 3)
    shift = shifted(50, 4)
    both = BaseDataSource(data_type="test")
    both.x = np.concatenate([data.x, shift.x])
    s = rec.scores(both, models, allocate_nearest)
    assert s.shape == (150,) and s[100:].mean() > s[:100].mean()
    seen, unseen = rec(both, models=models, allocate=allocate_nearest)
    assert sorted(np.concatenate([seen.index, unseen.index]).tolist()) == list(range(150))
    flagged = np.asarray(unseen.index)
    assert (flagged >= 100).sum() >= 40 and (flagged < 100).sum() <= 12


# --------------------------------------------------- what the KB document keeps
def test_state_round_trip_through_the_constructor(tasks):
    _, models = tasks
    rec, cal = fitted(tasks, combine="sum", window=3)
    doc = {"unseen_sample_recognition": {"method": "SampleRegonitionByModel",
                                         "calibration": json.loads(json.dumps(cal))}}
    again = SampleRegonitionByModel(doc, combine="sum", window=3)
    assert again.threshold == rec.threshold and again.window_threshold == rec.window_threshold
    data = mixed(100, 5)
    np.testing.assert_array_equal(again.scores(data, models, allocate_nearest),
                                  rec.scores(data, models, allocate_nearest))
    for r in (rec, again):
        r.reset()
    a = rec(data, models=models, allocate=allocate_nearest)[1].index
    b = again(data, models=models, allocate=allocate_nearest)[1].index
    np.testing.assert_array_equal(a, b)
    assert len(json.dumps(cal)) < 20000  # small enough for the index document
    assert SampleRegonitionByModel(doc).window_threshold is None  # pooled over another window


def test_an_uncalibrated_or_empty_recogniser_calls_everything_seen(tasks):
    parts, models = tasks
    data = mixed(20, 1)
    for rec in (SampleRegonitionByModel(), SampleRegonitionByModel().fit(parts, models=models)):
        seen, unseen = rec(data, models=models, allocate=allocate_nearest)
        assert len(unseen.x) == 0 and len(seen.x) == 40
    assert SampleRegonitionByModel().state() == {}


def test_fit_without_models_defers_the_model_statistics_to_calibrate(tasks):
    parts, models = tasks
    rec = SampleRegonitionByModel(combine="model").fit(parts)  # what today's engine calls
    assert rec.state() == {}
    cal = rec.calibrate(mixed(200, 2), models, allocate_nearest)
    assert cal["components"] == ["model"] and len(cal["model_stats"]) == 2


def test_needs_model_holdout_when_the_models_are_used():
    assert SampleRegonitionByModel().needs_model_holdout
    assert SampleRegonitionByModel(combine="model").needs_model_holdout
    assert not SampleRegonitionByModel(combine="appearance").needs_model_holdout


def test_a_component_missing_at_inference_falls_back_to_the_other(tasks):
    _, models = tasks
    rec, _ = fitted(tasks, combine="sum")
    shift = shifted(100, 11)
    _, unseen = rec(shift, models=None)  # no models: the appearance component alone decides
    assert len(unseen.x) > 90
    _, unseen = rec(mixed(500, 12), models=None)
    assert len(unseen.x) / 1000 < 0.1


def test_bad_parameters_are_refused():
    for kw in ({"combine": "avg"}, {"mode": "all"}, {"target_fpr": 1.0}, {"shrinkage": 0}, {"window": 0},
               {"gate": 0}, {"gate": 1.0}):
        with pytest.raises(ValueError):
            SampleRegonitionByModel(**kw)


def test_registered_as_a_built_in():
    assert ClassFactory.get_cls(ClassType.UTD, "SampleRegonitionByModel") is SampleRegonitionByModel
    assert ClassFactory.is_builtin(ClassType.UTD, "SampleRegonitionByModel")


# ------------------------------------------------------------ window pooling
def test_window_pool_means_over_the_previous_scores():
    np.testing.assert_allclose(window_pool([1, 2, 3, 4, 5], 3), [1, 1.5, 2, 3, 4])
    np.testing.assert_allclose(window_pool([4, 5], 3, history=[1, 2, 3]), [3, 4])
    np.testing.assert_allclose(window_pool([7, 8], 1, history=[1]), [7, 8])


def test_window_pooling_carries_over_calls_and_resets(tasks):
    _, models = tasks
    rec, _ = fitted(tasks, combine="sum", window=5)
    assert rec.window_threshold is not None
    stream = BaseDataSource(data_type="test")
    stream.x = np.concatenate([mixed(10, 21).x, shifted(20, 22).x])
    per_frame = rec.scores(stream, models, allocate_nearest)
    expected = window_pool(per_frame, 5) > rec.window_threshold
    rec.reset()
    flags = []
    for i in range(0, len(stream.x), 3):  # a worker's batches
        batch = BaseDataSource(data_type="test")
        batch.x = stream.x[i:i + 3]
        _, unseen = rec(batch, models=models, allocate=allocate_nearest)
        mask = np.zeros(len(batch.x), dtype=bool)
        mask[np.asarray(unseen.index, dtype=int)] = True
        flags.append(mask)
    np.testing.assert_array_equal(np.concatenate(flags), expected)
    assert expected[-15:].all()  # a run of shifted samples is caught once the window fills
    rec.reset()
    assert len(rec._history) == 0


def _flags(rec, models, stream, batch=4):
    rec.reset()
    out = []
    for i in range(0, len(stream.x), batch):  # a worker's batches
        part = BaseDataSource(data_type="test")
        part.x = stream.x[i:i + batch]
        mask = np.zeros(len(part.x), dtype=bool)
        mask[np.asarray(rec(part, models=models, allocate=allocate_nearest)[1].index, dtype=int)] = True
        out.append(mask)
    return np.concatenate(out)


def test_the_gate_stops_seen_frames_being_flagged_for_the_unseen_frames_before_them(tasks):
    """A robot walks from a new place back into a known one: a pooled score lags,
    the gate keeps the known place's frames from inheriting the new place's evidence."""
    _, models = tasks
    plain, _ = fitted(tasks, combine="sum", window=5)
    gated, cal = fitted(tasks, combine="sum", window=5, gate=0.9)
    assert cal["gate"] == 0.9 and cal["gate_threshold"] is not None
    stream = BaseDataSource(data_type="test")
    runs = []
    for k in range(12):  # 12 visits: 8 frames of a new place, then 8 of a known one
        runs += [shifted(8, 100 + k).x, mixed(4, 200 + k).x]
    stream.x = np.concatenate(runs)
    is_new = np.tile(np.r_[np.ones(8, bool), np.zeros(8, bool)], 12)
    f_plain, f_gated = _flags(plain, models, stream), _flags(gated, models, stream)
    lag_plain = f_plain[~is_new].mean()
    assert lag_plain > 0.15  # without the gate: the first known frames after each new run are flagged
    assert f_gated[~is_new].mean() <= 0.1 < lag_plain
    assert f_gated[is_new].mean() >= 0.8  # and the new place is still caught
    # the gate only removes flags: every gated flag is a pooled flag whose own score passes the gate
    assert not (f_gated & ~f_plain).any()


def test_the_gate_is_kept_in_the_kb_document_and_dropped_for_another_quantile(tasks):
    _, models = tasks
    rec, cal = fitted(tasks, combine="sum", window=3, gate=0.8)
    doc = {"unseen_sample_recognition": {"method": "SampleRegonitionByModel",
                                         "calibration": json.loads(json.dumps(cal))}}
    again = SampleRegonitionByModel(doc, combine="sum", window=3, gate=0.8)
    assert again.gate_threshold == rec.gate_threshold is not None
    stream = BaseDataSource(data_type="test")
    stream.x = np.concatenate([shifted(10, 31).x, mixed(10, 32).x])
    np.testing.assert_array_equal(_flags(again, models, stream), _flags(rec, models, stream))
    assert SampleRegonitionByModel(doc, combine="sum", window=3, gate=0.5).gate_threshold is None
    assert SampleRegonitionByModel(doc, combine="sum", window=3).gate_threshold is None


# ------------------------------------------------------------ RFNet-lite embed
@pytest.fixture(scope="module")
def toy_rfnet():
    pytest.importorskip("torch")
    from sedna.examples.robo.interface import Estimator as RoboEstimator

    return RoboEstimator(size=(16, 32), width=8, batch_size=8, seed=0, device="cpu")


def frames(n, seed, tint):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 120, size=(n, 16, 32, 3))
    return np.clip(base + np.asarray(tint), 0, 255).astype(np.uint8)


def test_rfnet_embed_is_one_forward_pass_and_leaves_forward_alone(toy_rfnet, tmp_path):
    import torch

    est = toy_rfnet
    calls = []
    orig = est.model.forward_features
    est.model.forward_features = lambda *a: calls.append(1) or orig(*a)
    try:
        z = est.embed(frames(5, 0, (100, 0, 0)))
    finally:
        del est.model.forward_features
    w = est.width
    assert z.dtype == np.float32 and z.shape == (5, 2 * 4 * w + len(est.EMBED_TAIL))  # decoder: 4 x width channels
    assert len(calls) == 1
    tail = z[:, -3:]
    assert ((tail >= 0) & (tail <= 1)).all()
    np.testing.assert_allclose(1 - tail[:, 2], est.frame_confidence(frames(5, 0, (100, 0, 0))), atol=1e-6)
    rgb = torch.rand(2, 3, 16, 32)
    with torch.no_grad():
        assert torch.equal(est.model(rgb), est.model.forward_features(rgb)[0])
    # checkpoints keep their parameter set: a saved model loads and embeds alike
    from sedna.examples.robo.interface import Estimator as RoboEstimator

    path = est.save(str(tmp_path / "m"))
    again = RoboEstimator(size=(16, 32), width=8, device="cpu").load(path)
    np.testing.assert_allclose(again.embed(frames(3, 1, (0, 0, 0))), est.embed(frames(3, 1, (0, 0, 0))), rtol=1e-5)
    assert model_embedding(Estimator(est), frames(2, 2, (0, 0, 0))).shape == (2, z.shape[1])


def test_rfnet_embedding_flags_frames_unlike_the_training_frames(toy_rfnet):
    est = Estimator(toy_rfnet)

    def src(x, kind="train"):
        s = BaseDataSource(data_type=kind)
        s.x = x
        return s

    rec = SampleRegonitionByModel(combine="model", target_fpr=0.05)
    rec.fit([src(frames(40, 1, (100, 30, 0)))], models=[est])
    rec.calibrate(src(frames(40, 2, (100, 30, 0)), "eval"), [est], None)
    _, unseen = rec(src(frames(20, 3, (0, 30, 120)), "test"), models=[est])
    assert len(unseen.x) >= 18
    _, unseen = rec(src(frames(40, 4, (100, 30, 0)), "test"), models=[est])
    assert len(unseen.x) <= 6


def test_scores_need_every_calibrated_component(tasks):
    _, models = tasks
    rec, _ = fitted(tasks, combine="sum")
    with pytest.raises(ValueError, match="pass the models"):
        rec.scores(mixed(10, 1))
    assert rec.scores(mixed(10, 1), models, allocate_nearest).shape == (20,)
    assert SampleRegonitionByModel().scores(mixed(10, 1)) is None


def test_calibrated_threshold_keeps_the_false_alarm_rate_from_few_samples():
    from statistics import NormalDist

    from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.by_model import calibrated_threshold

    rng = np.random.default_rng(0)
    normal = NormalDist()
    for n in (12, 48, 400):  # 12: what a job with 40 frames per scene holds out for three scenes
        fpr = np.mean([1 - normal.cdf(calibrated_threshold(rng.normal(size=n), 0.05)) for _ in range(1500)])
        assert 0.035 < fpr < 0.06, (n, fpr)
    assert calibrated_threshold(np.arange(100.0), 0.05) == 95.0  # rank ceil(101 * 0.95) = 96
    assert calibrated_threshold([1.0, 2.0], 0.05) == 2.0
    assert calibrated_threshold([np.inf, 3.0, 1.0, 2.0], 0.0) == 3.0
    assert calibrated_threshold([], 0.05) is None


def test_pooled_calibration_adds_the_training_holdout_kept_in_the_state(tasks):
    """The job's evaluate calibrates on its eval split pooled with the frames training held out:
    the held-out scores travel in the index (no samples), and pooling never snowballs."""
    parts, models = tasks
    rec = SampleRegonitionByModel(combine="sum").fit(parts, models=models, allocate=allocate_nearest)
    first = rec.calibrate(mixed(6, 10), models, allocate_nearest)          # 12 held-out samples
    assert first["n_calibration"] == 12 and len(first["calibration_scores"]["model"]) > 0
    restored = SampleRegonitionByModel(task_index={"unseen_sample_recognition": {"calibration": first}})
    pooled = restored.calibrate(mixed(15, 11), models, allocate_nearest, pool=True)
    assert pooled["n_calibration"] == 12 + 30
    again = restored.calibrate(mixed(15, 11), models, allocate_nearest, pool=True)
    assert again["n_calibration"] == 42 and again["threshold"] == pytest.approx(pooled["threshold"])
    alone = restored.calibrate(mixed(15, 11), models, allocate_nearest)
    assert alone["n_calibration"] == 30
    # more calibration samples, a false-alarm rate closer to the target on fresh seen samples
    fresh = mixed(2000, 99)
    _, unseen = restored(fresh, models=models, allocate=allocate_nearest)
    assert len(unseen.x) / len(fresh.x) < 0.2
