"""The labelling loop of the core on real files: a job's declared naming, the
unseen store read as untrusted input, label ingestion into the Dataset's index,
and the default sample renderer."""

import os

import numpy as np
import pytest

from sedna.common.class_factory import ClassFactory, ClassType
from sedna.common.exceptions import LabelError
from sedna.core.labelling import LabelNaming, label
from sedna.core.unseen_store import count_unseen, discard, pending, save_unseen
from sedna.datasources import BaseDataSource

MASKS = LabelNaming.parse(label_suffix="_mask.png")


def _job(tmp_path, frames=("img_0001.png", "img_0002.png", "img_0003.png")):
    """A Dataset folder with its index, a camera folder, and ``frames`` saved as unseen by save_unseen."""
    data, camera, unseen = tmp_path / "data", tmp_path / "camera", tmp_path / "unseen"
    for d in (data, camera):
        d.mkdir()
    (data / "index.txt").write_text("old.png old_mask.png\n")
    for i, name in enumerate(frames):
        (camera / name).write_bytes(b"picture %d" % i)
    samples = BaseDataSource(data_type="test")
    samples.x = np.array([str(camera / n) for n in frames])
    save_unseen(samples, str(unseen))
    return data, camera, unseen


def test_naming_is_the_jobs_declaration_with_a_default():
    assert LabelNaming().label_names("img_0001.png") == ["img_0001_label.png"]
    assert MASKS.label_names("img_0001.png") == ["img_0001_mask.png"]
    robot = LabelNaming.from_env({"FRAME_SUFFIX": "_leftImg8bit.png", "LABEL_SUFFIX": "_gt.png, _label.png"})
    assert robot.label_names("aachen_000001_leftImg8bit.png") == ["aachen_000001_gt.png", "aachen_000001_label.png"]
    for bad in ("../x.png", "a/b.png", "x png"):
        with pytest.raises(LabelError, match="LABEL_SUFFIX"):
            LabelNaming.parse(label_suffix=bad)


def test_labels_from_a_folder_are_copied_beside_the_index_with_the_jobs_names(tmp_path):
    data, _, unseen = _job(tmp_path)
    masks = tmp_path / "masks"
    masks.mkdir()
    (masks / "img_0002_mask.png").write_bytes(b"mask 2")
    assert [n for n, _ in pending(str(unseen))] == ["img_0001.png", "img_0002.png", "img_0003.png"]
    added = label(str(unseen), str(data / "index.txt"), naming=MASKS, labels=str(masks))
    assert added == ["labelled/img_0002.png labelled/img_0002_mask.png"]
    assert (data / "index.txt").read_text() == "old.png old_mask.png\n" + added[0] + "\n"
    assert (data / "labelled" / "img_0002.png").read_bytes() == b"picture 1"
    assert [n for n, _ in pending(str(unseen))] == ["img_0001.png", "img_0003.png"]  # no mask yet: later
    assert label(str(unseen), str(data / "index.txt"), naming=MASKS, labels=str(masks)) == []  # nothing twice
    assert count_unseen(str(unseen)) == 3


def test_labels_under_the_dataset_folder_are_used_in_place(tmp_path):
    data, _, unseen = _job(tmp_path)
    (data / "annotations" / "b").mkdir(parents=True)
    (data / "annotations" / "b" / "img_0003_mask.png").write_bytes(b"mask 3")
    added = label(str(unseen), str(data / "index.txt"), naming=MASKS, tree=str(data), names=["img_0003.png"])
    assert added == ["labelled/img_0003.png annotations/b/img_0003_mask.png"]


def test_what_a_worker_writes_in_its_unseen_list_stays_in_the_unseen_folder(tmp_path):
    """A worker controls its unseen folder: a path in its list, or a saved file that is a
    link, must not bring a file of the control plane (its token) into the Dataset."""
    data, _, unseen = _job(tmp_path, frames=("img_0001.png",))
    token = tmp_path / "state" / "token"
    token.parent.mkdir()
    token.write_text("secret-token")
    masks = tmp_path / "masks"
    masks.mkdir()
    for stem in ("tok", "img_0001", "link"):
        (masks / f"{stem}_mask.png").write_bytes(b"mask")
    with open(unseen / "unseen.txt", "a") as f:
        f.write(f"tok.png {token}\n../state/token x\n")
    assert [n for n, _ in pending(str(unseen))] == ["img_0001.png"]  # paths are not saved samples
    os.symlink(token, unseen / "link.png")
    with open(unseen / "unseen.txt", "a") as f:
        f.write("link.png\n")
    with pytest.raises(LabelError, match="link.png"):
        label(str(unseen), str(data / "index.txt"), naming=MASKS, labels=str(masks))
    copied = [p.read_bytes() for p in (data / "labelled").iterdir()] if (data / "labelled").exists() else []
    assert b"secret-token" not in b"".join(copied) and "secret" not in (data / "index.txt").read_text()
    assert discard(str(unseen), ["link.png"]) == ["link.png"]
    assert token.read_text() == "secret-token"  # the link went, not what it points at
    assert label(str(unseen), str(data / "index.txt"), naming=MASKS, labels=str(masks)) == [
        "labelled/img_0001.png labelled/img_0001_mask.png"]


def test_an_unseen_list_that_is_a_fifo_is_an_error_not_a_hang(tmp_path):
    data, _, unseen = _job(tmp_path)
    os.unlink(unseen / "unseen.txt")
    os.mkfifo(unseen / "unseen.txt")
    with pytest.raises(LabelError, match="unseen.txt"):
        pending(str(unseen))
    with pytest.raises(LabelError, match="unseen.txt"):
        label(str(unseen), str(data / "index.txt"), naming=MASKS, labels=str(tmp_path))


def test_the_default_renderer_draws_pictures_and_integer_masks(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    from sedna.core.labelling.render import renderer

    assert "image" in ClassFactory.list(ClassType.SAMPLE_RENDERER)
    draw = renderer()
    pic = np.zeros((20, 40, 3), np.uint8)
    Image.fromarray(pic).save(tmp_path / "img.png")
    mask = np.zeros((10, 20), np.uint8)
    mask[:, 10:] = 255  # no class: the picture shows through
    over = draw.overlay([str(tmp_path / "img.png"), "ignored.png"], mask)
    assert over.shape == (10, 20, 3) and over[:, :10].any() and not over[:, 10:].any()
    assert draw.overlay(str(tmp_path / "img.png"), np.array([0.2, 0.8])) is None  # class scores: no picture
    assert draw.image(np.ones((5, 6), np.float32)).shape == (5, 6, 3)
