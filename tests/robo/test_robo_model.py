"""RFNet-lite and the robot-dog Estimator on a tiny synthetic data set."""

import os
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
Image = pytest.importorskip("PIL.Image")

from sedna.examples.robo.classes import NUM_CLASSES  # noqa: E402
from sedna.examples.robo.interface import Estimator, parse_size  # noqa: E402
from sedna.examples.robo.rfnet import RFNetLite, count_parameters  # noqa: E402

H, W = 32, 64
# three colour-coded classes (train IDs road, sky, car), a distinct disparity each
COLOURS = {0: (200, 60, 60), 10: (60, 200, 60), 13: (60, 60, 200)}
DISPARITY = {0: 20.0, 10: 2.0, 13: 40.0}


def _scene(rng):
    label = np.zeros((H, W), dtype=np.uint8)  # class 0 everywhere
    y0, x0 = rng.integers(0, H // 2), rng.integers(0, W // 2)
    label[y0:y0 + rng.integers(6, H // 2), x0:x0 + rng.integers(8, W // 2)] = 10
    y1, x1 = rng.integers(H // 4, H - 6), rng.integers(W // 4, W - 8)
    label[y1:y1 + 6, x1:x1 + 10] = 13
    rgb = np.zeros((H, W, 3), dtype=np.float64)
    disp = np.zeros((H, W), dtype=np.float64)
    for c, col in COLOURS.items():
        rgb[label == c] = col
        disp[label == c] = DISPARITY[c]
    rgb = np.clip(rgb + rng.normal(0, 12, rgb.shape), 0, 255).astype(np.uint8)
    label[0, :] = 255  # an ignored row
    return rgb, disp, label


def _write(folder, i, rgb, disp, label):
    paths = [os.path.join(folder, f"f{i}_{k}.png") for k in ("rgb", "depth", "label")]
    Image.fromarray(rgb, "RGB").save(paths[0])
    raw = np.where(disp > 0, np.rint(disp * 256 + 1), 0).astype(np.uint16)  # value = disparity*256+1
    Image.fromarray(raw).save(paths[1])
    Image.fromarray(label, "L").save(paths[2])
    return paths


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("robo"))
    rng = np.random.default_rng(0)
    rows, labels, frames = [], [], []
    for i in range(8):
        rgb, disp, label = _scene(rng)
        p = _write(folder, i, rgb, disp, label)
        rows.append(p[:2])
        labels.append(p[2])
        frames.append(rgb)
    data = types.SimpleNamespace(x=np.array(rows), y=np.array(labels), num_examples=lambda: len(rows))
    return types.SimpleNamespace(data=data, frames=frames, folder=folder)


def _estimator(**kw):
    args = dict(epochs=30, size=(H, W), batch_size=4, lr=3e-3, seed=0, device="cpu")
    args.update(kw)
    return Estimator(**args)


@pytest.fixture(scope="module")
def trained(dataset):
    est = _estimator()
    seen = []
    res = est.train(dataset.data, progress=seen.append)
    return types.SimpleNamespace(est=est, res=res, progress=seen)


# ------------------------------------------------------------------ the model
def test_forward_shapes_with_and_without_depth():
    torch.manual_seed(0)
    model = RFNetLite(num_classes=NUM_CLASSES, width=16, use_depth=True).eval()
    rgb, depth = torch.rand(2, 3, 64, 128), torch.rand(2, 1, 64, 128)
    with torch.no_grad():
        assert model(rgb, depth).shape == (2, NUM_CLASSES, 64, 128)
        assert model(rgb).shape == (2, NUM_CLASSES, 64, 128)  # depth branch skipped
        rgb_only = RFNetLite(num_classes=5, width=8, use_depth=False).eval()
        assert rgb_only(rgb).shape == (2, 5, 64, 128)
        assert rgb_only(rgb, depth).shape == (2, 5, 64, 128)  # depth ignored
        # sizes that are not multiples of 32 come back at the input size too
        assert model(torch.rand(1, 3, 50, 70), torch.rand(1, 1, 50, 70)).shape == (1, NUM_CLASSES, 50, 70)


def test_parameter_count_small():
    n = count_parameters(RFNetLite(width=16, use_depth=True))
    assert 100_000 < n < 1_500_000, n
    assert count_parameters(RFNetLite(width=16, use_depth=False)) < n


def test_parse_size():
    assert parse_size("128x256") == (128, 256)
    assert parse_size([32, 64]) == (32, 64)
    assert parse_size(None) is None
    with pytest.raises(ValueError):
        parse_size("128")


# -------------------------------------------------------------- the Estimator
def test_trains_to_high_pixel_accuracy(dataset, trained):
    assert trained.res["pixel_accuracy"] > 0.9, trained.est.history
    assert len(trained.progress) == 30
    assert trained.progress[-1]["epoch"] == 30 and trained.progress[-1]["epochs"] == 30
    assert trained.progress[-1]["loss"] < trained.progress[0]["loss"]
    metrics = trained.est.evaluate(dataset.data)
    assert set(metrics) == {"mIoU", "pixel_accuracy", "class_pixel_accuracy", "fwIoU"}
    assert metrics["pixel_accuracy"] > 0.9, metrics
    assert metrics["mIoU"] > 0.6, metrics


def test_predict_at_original_resolution(dataset, trained):
    est = trained.est
    preds = est.predict(dataset.data.x[:3])
    assert len(preds) == 3
    assert all(p.shape == (H, W) and p.dtype == np.uint8 for p in preds)
    # a frame twice as large (as an array, no depth) comes back at its own size
    big = np.asarray(Image.fromarray(dataset.frames[0]).resize((2 * W, 2 * H), Image.NEAREST))
    (lab,) = est.predict([big])
    assert lab.shape == (2 * H, 2 * W)
    # a row without a depth file: [rgb, rgb] (the inference worker's fallback) or [rgb]
    rgb_path = dataset.data.x[0][0]
    assert est.predict([[rgb_path, rgb_path], [rgb_path]])[0].shape == (H, W)
    (conf,) = est.pixel_confidence(dataset.data.x[:1])
    assert conf.shape == (H, W) and conf.dtype == np.float32
    assert np.all((conf > 0) & (conf <= 1 + 1e-6))


def test_frame_confidence_lower_on_unfamiliar_frames(dataset, trained):
    est = trained.est
    depth = dataset.data.x[0][1]
    seen = est.frame_confidence([{"rgb": f, "depth": depth} for f in dataset.frames[:4]])
    inverted = est.frame_confidence([{"rgb": 255 - f, "depth": depth} for f in dataset.frames[:4]])
    assert seen.shape == (4,) and np.all((seen >= 0) & (seen <= 1))
    assert seen.mean() > inverted.mean() + 0.1, (seen, inverted)
    labels, conf = est.predict_and_confidence(dataset.data.x[:2])
    np.testing.assert_allclose(conf, est.frame_confidence(dataset.data.x[:2]))
    assert [lab.shape for lab in labels] == [(H, W)] * 2


def test_save_load_round_trip(dataset, trained, tmp_path):
    path = trained.est.save(str(tmp_path / "sub" / "model"))
    assert path.endswith("model.pth") and os.path.isfile(path)
    fresh = Estimator(num_class=NUM_CLASSES, size=(H, W), seed=123, device="cpu")
    fresh.load(path)
    assert fresh.size == (H, W) and fresh.width == trained.est.width
    a = trained.est.predict(dataset.data.x)
    b = fresh.predict(dataset.data.x)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError):
        fresh.load(None)
    with pytest.raises(FileNotFoundError):
        fresh.load(str(tmp_path / "missing.pth"))


def test_finetune_keeps_weights(dataset, trained, tmp_path):
    est = _estimator(epochs=1)
    est.load(trained.est.save(str(tmp_path / "m.pth")))
    res = est.train(dataset.data)  # one more epoch from the trained state
    assert res["pixel_accuracy"] > 0.8


def test_deterministic_by_seed(dataset):
    sub = types.SimpleNamespace(x=dataset.data.x[:4], y=dataset.data.y[:4])
    a = _estimator(epochs=2).train(sub)["loss"]
    b = _estimator(epochs=2).train(sub)["loss"]
    assert abs(a - b) < 1e-6
    c = _estimator(epochs=2, seed=1).train(sub)["loss"]
    assert c != a


def test_valid_data_returns_miou(dataset):
    sub = types.SimpleNamespace(x=dataset.data.x[:2], y=dataset.data.y[:2])
    res = _estimator(epochs=1).train(sub, valid_data=sub)
    assert "mIoU" in res and 0.0 <= res["mIoU"] <= 1.0


def test_save_results(dataset, trained, tmp_path):
    est = trained.est
    labels = est.predict(dataset.data.x[:2])
    out = est.save_results([dataset.data.x[0][0], dataset.frames[1]], labels, ["a_leftImg8bit.png", "b"],
                           str(tmp_path))
    assert [os.path.basename(p) for p in out["label"]] == ["a_leftImg8bit.png", "b.png"]
    for kind in ("label", "color", "merge"):
        assert all(os.path.isfile(p) for p in out[kind])
        assert all(os.path.dirname(p) == str(tmp_path / kind) for p in out[kind])
    lab = np.asarray(Image.open(out["label"][1]))
    np.testing.assert_array_equal(lab, labels[1])
    assert Image.open(out["color"][0]).mode == "RGB"


def test_environment_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("IMAGE_SIZE", "64x96")
    monkeypatch.setenv("epoches", "3")
    monkeypatch.setenv("INFERENCE_RESULT_DIR", str(tmp_path))
    est = Estimator(width=8)
    assert est.size == (64, 96) and est.epochs == 3 and est.num_class == NUM_CLASSES
    assert est.label_save_path == os.path.join(str(tmp_path), "label")
    assert est.color_label_save_path == os.path.join(str(tmp_path), "color")
    assert est.merge_label_save_path == os.path.join(str(tmp_path), "merge")
    assert Estimator(width=8, epochs=5, size=(32, 32)).epochs == 5


def test_training_with_a_teacher_distils_and_starts_from_state_dict(dataset, trained):
    """LwF: the distillation term is zero for a student that predicts as its teacher,
    and a student trained from the teacher's weights with the teacher keeps to it."""
    import copy

    import torch

    from sedna.backend import Estimator as Adapter
    from sedna.examples.robo.interface import _distillation

    teacher = trained.est
    rgb, depth, _ = next(teacher._input_batches(list(dataset.data.x[:2])))
    with torch.no_grad():
        same = _distillation(teacher.model(rgb, depth), teacher.model, rgb, depth)
    assert abs(float(same)) < 1e-5
    student = Adapter(_estimator())
    assert student.transfer_mode == "state_dict"
    res = student.train_from(Adapter(teacher), dataset.data, teacher=Adapter(copy.deepcopy(teacher)), epochs=1)
    assert np.isfinite(res["loss"])
    agree = np.mean([(a == b).mean() for a, b in zip(student.predict(dataset.data.x), teacher.predict(dataset.data.x))])
    assert agree > 0.5
