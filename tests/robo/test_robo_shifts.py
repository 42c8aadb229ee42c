"""The generator's shift scenarios (issue 7): new domains of graded severity beside the demo's four."""

import json
import os

import numpy as np
import pytest

from sedna.examples.robo import datagen
from sedna.examples.robo.classes import ID, IGNORE, NUM_CLASSES

SIZE = (40, 80)
VALID = set(range(NUM_CLASSES)) | {IGNORE}
NEW = [d for d in datagen.SHIFTS if d not in datagen.DOMAINS]


def _stats(domain, n=6, size=SIZE):
    frames = [datagen.render_frame(domain, s, size) for s in range(n)]
    mean = np.mean([f[0].reshape(-1, 3).mean(0) for f in frames], axis=0)
    building = np.mean([f[0][f[2] == ID["building"]].mean(0) for f in frames], axis=0)
    disp = np.mean([f[1][f[2] == ID["road"]].mean() for f in frames])
    return mean, building, disp


def test_lists_unchanged_and_shifts_listed():
    assert datagen.DOMAINS == ["real/aachen", "real/bremen", "sim/synthia", "real/garden"]
    assert datagen.SEEN == ["real/aachen", "real/bremen", "sim/synthia"]
    assert datagen.HELDOUT == "real/garden"
    assert len(datagen.SHIFTS) >= 4 and datagen.SHIFTS[-1] == "real/garden"
    assert len(NEW) >= 3
    assert datagen.ALL_DOMAINS[:4] == datagen.DOMAINS and set(NEW) <= set(datagen.ALL_DOMAINS)
    for d in datagen.ALL_DOMAINS:
        origin, name = d.split("/")
        assert origin in datagen.ORIGINS and name.isalnum()


@pytest.mark.parametrize("domain", NEW)
def test_deterministic_and_labels_in_range(domain):
    a = datagen.render_frame(domain, 5, SIZE)
    b = datagen.render_frame(domain, 5, SIZE)
    c = datagen.render_frame(domain, 6, SIZE)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    rgb, disp, lab = a
    assert rgb.shape == SIZE + (3,) and rgb.dtype == np.uint8
    assert disp.shape == SIZE and disp.dtype == np.float32
    assert lab.shape == SIZE and lab.dtype == np.uint8
    vals = set(np.unique(lab).tolist())
    assert vals <= VALID
    # street scenes: the street classes, none of the garden's robot classes
    assert {ID["road"], ID["sidewalk"], ID["building"]} <= vals
    assert ID["stair"] not in vals and ID["ramp"] not in vals
    assert (disp[lab == ID["sky"]] == 0).all() and disp.max() > 0


def test_shifts_differ_from_their_sources():
    aachen, bremen = _stats("real/aachen"), _stats("real/bremen")
    zurich, low, night = _stats("real/zurich"), _stats("real/aachenlow"), _stats("real/bremennight")
    # a new city's look: other facades (aachen's are warm: red > blue by far; zurich's are not)
    assert np.abs(zurich[1] - aachen[1]).max() > 15
    assert zurich[1][0] - zurich[1][2] < 0.5 * (aachen[1][0] - aachen[1][2])
    # the low viewpoint keeps aachen's colours but not its geometry: the road is nearer, so more disparity
    assert np.abs(low[1] - aachen[1]).max() < 0.08 * aachen[1].mean()
    assert np.abs(low[0] - aachen[0]).max() < 0.08 * aachen[0].mean()
    assert low[2] > 1.2 * aachen[2]
    # night: darker and bluer than bremen, same geometry
    assert night[0].sum() < 0.6 * bremen[0].sum()
    assert night[0][2] / night[0][0] > 1.1 * bremen[0][2] / bremen[0][0]
    assert abs(night[2] - bremen[2]) < 0.1 * bremen[2]


def test_night_rain_streaks(monkeypatch):
    rgb, disp, lab = datagen.render_frame("real/bremennight", 0, (64, 128))
    dry = dict(datagen._STYLES["real/bremennight"])
    del dry["rain"]
    monkeypatch.setitem(datagen._STYLES, "real/bremennight", dry)
    rgb2, disp2, lab2 = datagen.render_frame("real/bremennight", 0, (64, 128))
    # rain is drawn last: same labels and geometry, a few percent of the pixels brighter
    assert np.array_equal(lab, lab2) and np.array_equal(disp, disp2)
    changed = (rgb != rgb2).any(axis=-1)
    assert 0.005 < changed.mean() < 0.2
    assert rgb[changed].astype(int).sum() > rgb2[changed].astype(int).sum()


def test_domain_of_and_frame_paths(tmp_path):
    counts = {d: {"train": 2, "test": 1} for d in NEW}
    info = datagen.generate(tmp_path, split_counts=counts, splits=("train", "test"), size=(16, 32),
                            domains=NEW, heldout=None)
    assert info["domains"] == NEW and info["counts"] == counts
    for d in NEW:
        name = datagen.domain_name(d)
        for s in ("train", "test"):
            idx = tmp_path / f"{s}_{name}.txt"
            assert idx.is_file()
            lines = [ln.split() for ln in idx.read_text().splitlines() if ln.strip()]
            assert len(lines) == counts[d][s]
            for rgb, depth, label in lines:
                assert datagen.domain_of(rgb) == d and datagen.domain_of(label) == d
                assert all((tmp_path / p).is_file() for p in (rgb, depth, label))
                assert datagen.frame_paths(tmp_path, os.path.basename(rgb)) == (rgb, depth, label)
        assert datagen.domain_of(f"{name}_000001_leftImg8bit.png") == d
    data = (tmp_path / "data.txt").read_text().split("\n")
    assert len([ln for ln in data if ln]) == 2 * len(NEW)  # nothing held out
    stored = json.loads((tmp_path / "dataset.json").read_text())
    assert stored["domains"] == NEW


def test_generate_with_seen_and_shifts(tmp_path):
    doms = datagen.DOMAINS + ["real/zurich"]
    info = datagen.generate(tmp_path, frames_per_domain={d: 2 for d in doms}, splits=("train", "test"),
                            split_counts={"train": 1, "test": 1}, size=(16, 32))
    assert info["domains"] == doms  # ALL_DOMAINS order
    assert info["heldout"] == "real/garden"
    assert (tmp_path / "test_zurich.txt").is_file()
    seen = [ln.split()[0] for ln in (tmp_path / "train_seen.txt").read_text().splitlines() if ln]
    assert {datagen.domain_of(p) for p in seen} == set(datagen.SEEN) | {"real/zurich"}
    # the default still renders the demo's four domains only
    plan = datagen._plan_counts(datagen.ALL_DOMAINS, {"real/aachenlow": 5}, ("train", "test"), None)
    assert plan["real/aachenlow"]["train"] + plan["real/aachenlow"]["test"] == 5
    with pytest.raises(ValueError):
        datagen._plan_counts(["real/paris"], {"real/paris": 3}, ("train",), None)
    with pytest.raises(ValueError):
        datagen.render_frame("real/nowhere", 0, SIZE)


def test_cli_accepts_shift_domains(tmp_path, capsys):
    assert datagen.main([str(tmp_path), "--frames", "2", "--size", "16", "32", "--workers", "1",
                         "--domains", "real/aachenlow", "real/bremennight"]) == 0
    out = capsys.readouterr().out
    assert "real/aachenlow" in out and "real/bremennight" in out
    assert (tmp_path / "train_aachenlow.txt").is_file() and (tmp_path / "train_bremennight.txt").is_file()


def test_existing_domains_unchanged_by_the_new_styles():
    # the shift styles are derived from aachen/bremen by copy: the sources' styles are untouched
    assert "rain" not in datagen._STYLES["real/bremen"]
    assert datagen._STYLES["real/aachen"]["cam_height"] == 1.35
    assert datagen._STYLES["real/aachenlow"]["facades"] == datagen._STYLES["real/aachen"]["facades"]
