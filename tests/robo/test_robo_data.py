"""The robot-dog data: generator layout, image I/O and the tutorial's loader."""

import filecmp
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from sedna.common.config import Context
from sedna.common.exceptions import DataFileNotFoundError
from sedna.datasources import TxtDataParse
from sedna.examples.robo import datagen
from sedna.examples.robo.classes import ID, IGNORE, NUM_CLASSES
from sedna.examples.robo.imageio import (load_sample, overlay, read_depth, read_label, read_rgb,
                                         write_color, write_depth, write_label)

SIZE = (40, 80)
VALID = set(range(NUM_CLASSES)) | {IGNORE}


def _load_txt_dataset(dataset_url):
    # use original dataset url
    original_dataset_url = Context.get_parameters('original_dataset_url', "")
    dataset_urls = dataset_url.split()
    dataset_urls = [
        os.path.join(
            os.path.dirname(original_dataset_url),
            dataset_url) for dataset_url in dataset_urls]
    return dataset_urls[:-1], dataset_urls[-1]


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    root = tmp_path_factory.mktemp("robo") / "data"
    info = datagen.generate(root, frames_per_domain=5, size=SIZE, seed=3)
    return root, info


def _lines(path):
    with open(path, encoding="utf-8") as fin:
        return [line.split() for line in fin if line.strip()]


def test_layout_and_index_files(gen):
    root, info = gen
    assert info["frames"] == 20
    assert info["counts"]["real/aachen"] == {"train": 3, "val": 1, "test": 1}
    data = _lines(root / "data.txt")
    # data.txt: train frames of the seen domains only
    assert len(data) == 9
    assert {datagen.domain_of(r[0]) for r in data} == set(datagen.SEEN)
    assert data[0] == ["leftImg8bit/train/real/aachen/aachen_000000_leftImg8bit.png",
                       "depth/train/real/aachen/aachen_000000_disparity.png",
                       "gtFine/train/real/aachen/aachen_000000_gtFine_labelTrainIds.png"]
    assert _lines(root / "test_garden.txt")[0][0] == \
        "leftImg8bit/test/real/garden/garden_000004_leftImg8bit.png"
    assert _lines(root / "train_synthia.txt")[0][0].startswith("leftImg8bit/train/sim/synthia/")
    assert len(_lines(root / "test_all.txt")) == 4
    assert len(_lines(root / "val_seen.txt")) == 3
    for name, path in info["index"].items():
        assert os.path.isabs(path) and os.path.isfile(path), name
        for rgb, depth, label in _lines(path):
            assert not os.path.isabs(rgb)
            a = read_rgb(root / rgb)
            d = read_depth(root / depth)
            lab = read_label(root / label)
            assert a.shape == SIZE + (3,) and a.dtype == np.uint8
            assert d.shape == SIZE and d.dtype == np.float32
            assert lab.shape == SIZE and lab.dtype == np.uint8
            assert set(np.unique(lab).tolist()) <= VALID
            assert (d[lab == ID["sky"]] == 0).all() and d.max() > 0


def test_png_formats(gen):
    root, _ = gen
    rgb, depth, label = _lines(root / "data.txt")[0]
    assert Image.open(root / label).mode == "L"
    assert Image.open(root / rgb).mode == "RGB"
    raw = np.asarray(Image.open(root / depth))
    assert raw.dtype in (np.uint16, np.int32) and raw.max() > 256  # d*256+1 encoding
    d = read_depth(root / depth)
    valid = raw > 0
    np.testing.assert_allclose(d[valid], (raw[valid].astype(np.float32) - 1) / 256)
    assert (d[~valid] == 0).all()


def test_heldout_has_robot_classes_and_seen_do_not():
    robot = {ID["stair"], ID["curb"], ID["ramp"]}
    for seed in range(4):
        _, _, lab = datagen.render_frame("real/garden", seed, SIZE)
        assert robot <= set(np.unique(lab).tolist())
        assert ID["car"] not in lab
        for dom in datagen.SEEN:
            _, _, lab = datagen.render_frame(dom, seed, SIZE)
            vals = set(np.unique(lab).tolist())
            assert ID["stair"] not in vals and ID["ramp"] not in vals
            assert {ID["road"], ID["sidewalk"], ID["building"], ID["sky"]} <= vals
    assert datagen.HELDOUT == "real/garden" and datagen.HELDOUT not in datagen.SEEN
    assert len(datagen.SEEN) == 3


def test_domains_look_different():
    means = {}
    for dom in datagen.DOMAINS:
        rgbs = [datagen.render_frame(dom, s, SIZE)[0].astype(float) for s in range(3)]
        means[dom] = np.mean([r.reshape(-1, 3).mean(0) for r in rgbs], axis=0)
    garden = means["real/garden"]
    for dom in datagen.SEEN:
        assert garden.sum() < 0.75 * means[dom].sum()  # dusk: darker than every seen domain
    # the simulator has no texture noise: flat regions are exactly flat
    rgb, _, lab = datagen.render_frame("sim/synthia", 0, SIZE)
    road = rgb[lab == ID["road"]]
    assert len(np.unique(road, axis=0)) < 0.2 * len(road)


def test_determinism(tmp_path):
    a = datagen.generate(tmp_path / "a", frames_per_domain=2, size=(24, 48), seed=7,
                         splits=("train", "test"))
    b = datagen.generate(tmp_path / "b", frames_per_domain=2, size=(24, 48), seed=7,
                         splits=("train", "test"), workers=2)
    files = []
    for dirpath, _, names in os.walk(tmp_path / "a"):
        files += [os.path.relpath(os.path.join(dirpath, n), tmp_path / "a") for n in names]
    assert len(files) == 8 * 3 + 1 + 1 + 2 * (4 + 2)  # frames, data.txt, dataset.json, indexes
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", files, shallow=False)
    assert not mismatch and not errors
    assert a["counts"] == b["counts"]
    c = datagen.render_frame("real/bremen", 11, (24, 48))
    d = datagen.render_frame("real/bremen", 11, (24, 48))
    e = datagen.render_frame("real/bremen", 12, (24, 48))
    assert all(np.array_equal(x, y) for x, y in zip(c, d))
    assert not np.array_equal(c[0], e[0])


def test_split_counts_and_domains(tmp_path):
    info = datagen.generate(tmp_path, split_counts={"train": 2, "test": 1}, splits=("train", "test"),
                            domains=["real/aachen", "real/garden"], size=(16, 32))
    assert info["counts"] == {"real/aachen": {"train": 2, "test": 1}, "real/garden": {"train": 2, "test": 1}}
    assert len(_lines(tmp_path / "data.txt")) == 2  # garden held out
    assert len(_lines(tmp_path / "train_all.txt")) == 4
    with pytest.raises(ValueError):
        datagen.generate(tmp_path, domains=["real/paris"])
    with pytest.raises(ValueError):
        datagen.render_frame("sim/unknown", 0)


def test_resize_never_interpolates_labels(gen):
    root, _ = gen
    for rgb, depth, label in _lines(root / "test_all.txt"):
        truth = set(np.unique(read_label(root / label)).tolist())
        for size in ((17, 33), (80, 160), (40, 80)):
            x, d, y = load_sample([root / rgb, root / depth, root / label], size=size)
            assert x.shape == (3,) + size and x.dtype == np.float32
            assert 0.0 <= x.min() and x.max() <= 1.0
            assert d.shape == (1,) + size and d.dtype == np.float32
            assert 0.0 <= d.min() and d.max() <= 1.0
            assert y.shape == size and y.dtype == np.int64
            assert set(np.unique(y).tolist()) <= truth


def test_domain_of():
    assert datagen.domain_of("leftImg8bit/train/real/aachen/aachen_000001_leftImg8bit.png") == "real/aachen"
    assert datagen.domain_of("/x/gtFine/test/sim/synthia/synthia_000003_gtFine_labelTrainIds.png") \
        == "sim/synthia"
    assert datagen.domain_of("C:\\d\\depth\\val\\real\\garden\\garden_000002_disparity.png") == "real/garden"
    assert datagen.domain_of("garden_000002_leftImg8bit.png") == "real/garden"  # a saved copy
    assert datagen.domain_of("leftImg8bit/train/zurich/zurich_000000_000019_leftImg8bit.png") == "real/zurich"
    with pytest.raises(ValueError):
        datagen.domain_of("images/0001.png")


def test_frame_truth(gen, tmp_path):
    root, info = gen
    rgb = info["files"]["real/garden"]["test"][0]
    label = rgb.replace("leftImg8bit/", "gtFine/", 1).replace("_leftImg8bit.png", "_gtFine_labelTrainIds.png")
    assert datagen.frame_truth(root, rgb) == label
    assert datagen.frame_truth(root, str(root / rgb)) == label
    saved = tmp_path / "unseen" / os.path.basename(rgb)  # a copy saved by the inference worker
    saved.parent.mkdir()
    shutil.copy(root / rgb, saved)
    assert datagen.frame_truth(root, saved) == label
    assert datagen.frame_paths(root, saved)[1].startswith("depth/test/real/garden/")
    with pytest.raises(DataFileNotFoundError):
        datagen.frame_truth(root, "garden_999999_leftImg8bit.png")


def _check_parsed(index, monkeypatch):
    monkeypatch.setenv("ORIGINAL_DATASET_URL", str(index))
    parsed = TxtDataParse(data_type="train", func=_load_txt_dataset)
    parsed.parse(str(index), use_raw=False)
    assert len(parsed.x) == len(parsed.y) == len(_lines(index))
    for x, y in zip(parsed.x, parsed.y):
        assert len(x) == 2 and all(os.path.isabs(p) and os.path.isfile(p) for p in x)
        assert os.path.isfile(y)
        rgb, depth, label = load_sample(list(x) + [y], size=(32, 64))
        assert rgb.shape == (3, 32, 64) and depth.shape == (1, 32, 64) and label.shape == (32, 64)
        rgb2, depth2, none = load_sample(x)
        assert none is None and rgb2.shape[0] == 3
    return parsed


def test_tutorial_loader_on_generated_data(gen, monkeypatch):
    root, _ = gen
    parsed = _check_parsed(root / "data.txt", monkeypatch)
    assert str(parsed.x[0][0]).endswith("leftImg8bit/train/real/aachen/aachen_000000_leftImg8bit.png")
    assert str(parsed.y[0]).endswith("gtFine/train/real/aachen/aachen_000000_gtFine_labelTrainIds.png")


def test_loader_on_other_layout(gen, tmp_path, monkeypatch):
    """A segmentation_data-like folder with its own names: nothing assumes our folder names."""
    root, _ = gen
    seg = tmp_path / "segmentation_data"
    lines = []
    for i, (rgb, depth, label) in enumerate(_lines(root / "data.txt")[:4]):
        names = (f"train/images/{i:04d}.png", f"train/depths/{i:04d}.png", f"train/labels/{i:04d}_ids.png")
        for src, dst in zip((rgb, depth, label), names):
            (seg / dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / src, seg / dst)
        lines.append(" ".join(names))
    (seg / "data.txt").write_text("\n".join(lines) + "\n")
    parsed = _check_parsed(seg / "data.txt", monkeypatch)
    assert str(parsed.y[0]).endswith("train/labels/0000_ids.png")


def test_bad_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    for reader in (read_rgb, read_label, read_depth):
        with pytest.raises(ValueError, match="broken.png"):
            reader(bad)
    missing = tmp_path / "nope.png"
    with pytest.raises(DataFileNotFoundError, match="nope.png"):
        read_rgb(missing)
    ok_rgb, ok_depth = tmp_path / "a.png", tmp_path / "d.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(ok_rgb)
    write_depth(ok_depth, np.ones((8, 8)))
    with pytest.raises(ValueError, match="broken.png"):
        load_sample([ok_rgb, ok_depth, bad])
    with pytest.raises(DataFileNotFoundError, match="nope.png"):
        load_sample([ok_rgb, missing])
    # a truncated PNG
    good = tmp_path / "good.png"
    write_label(good, np.zeros((30, 30), np.uint8))
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(good.read_bytes()[:40])
    with pytest.raises(ValueError, match="trunc.png"):
        read_label(trunc)
    # a colour image is not a label; sizes must agree
    with pytest.raises(ValueError, match="a.png"):
        read_label(ok_rgb)
    small = tmp_path / "small.png"
    write_label(small, np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="small.png"):
        load_sample([ok_rgb, ok_depth, small])


def test_writers_roundtrip(tmp_path):
    lab = np.array([[0, 1, 23], [255, 19, 21]], np.uint8)
    write_label(tmp_path / "l.png", lab)
    assert np.array_equal(read_label(tmp_path / "l.png"), lab)
    with pytest.raises(ValueError):
        write_label(tmp_path / "bad.png", np.array([[24]]))
    disp = np.array([[0.0, 1.5], [100.25, np.nan]], np.float32)
    write_depth(tmp_path / "d.png", disp)
    np.testing.assert_allclose(read_depth(tmp_path / "d.png"), [[0, 1.5], [100.25, 0]])
    write_color(tmp_path / "c.png", lab)
    c = read_rgb(tmp_path / "c.png")
    assert tuple(c[0, 0]) == (128, 64, 128) and tuple(c[1, 0]) == (0, 0, 0)
    rgb = np.full((2, 3, 3), 100, np.uint8)
    ov = overlay(rgb, lab, alpha=0.5)
    assert ov.shape == rgb.shape and tuple(ov[1, 0]) == (100, 100, 100)  # ignore keeps the image
    assert tuple(ov[0, 0]) == (114, 82, 114)
    # palette-mode labels read as their indices
    p = Image.fromarray(lab, "P")
    p.putpalette(list(range(256)) * 3)
    p.save(tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    assert np.array_equal(read_label(tmp_path / "p.png"), lab)


def test_cli(tmp_path, capsys):
    assert datagen.main([str(tmp_path), "--frames", "2", "--size", "16", "32"]) == 0
    out = capsys.readouterr().out
    assert "8 frames" in out and "real/garden" in out and "held out" in out
    assert (tmp_path / "data.txt").is_file()
