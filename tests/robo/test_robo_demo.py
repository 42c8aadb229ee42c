"""The robot-dog job through the real control plane, at toy size: a few
frames, one epoch, small images. It checks the loop, not the accuracy (the
full-size run is `sedna demo`, measured in the README)."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("PIL")


def test_demo_runs_two_rounds_through_the_control_plane(tmp_path):
    work = tmp_path / "demo"
    p = subprocess.run([sys.executable, "-m", "sedna.cli", "demo", "--workdir", str(work), "--frames", "12",
                        "--epochs", "1", "--size", "32x64"], capture_output=True, text=True, timeout=600,
                       env={k: v for k, v in os.environ.items() if not k.startswith("LC_")})
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    out = p.stdout
    for needle in ("round 1: Train Running", "round 1: Deploy Completed", "camera:", "labelled",
                   "round 2: Train Running", "round 2: Deploy Completed", "BWT (GEM)", "unseen detection"):
        assert needle in out, needle
    s = json.load(open(work / "summary.json"))
    assert len(s["matrix"]) == 2 and len(s["matrix"][0]) == 4
    assert s["domains"][-1] == s["heldout"] == "real/garden"
    assert s["unseen"]["tp"] > 0  # the held-out scene was flagged and labelled
    # two knowledge-base versions, the second with a task for the held-out scene
    kb = work / "output" / "robo-demo" / "kb"  # one knowledge base for the job, one version per round
    kb2 = json.load(open(kb / "versions" / "0002" / "index.json"))
    assert kb2["version"] == 2
    assert "real/garden.model" in [g["entry"] for g in kb2["task_groups"]]
    # knowledge transfer through the control plane: round 1 trained a shared base the scene
    # models started from; the garden's model started from an existing model, not from scratch
    kb1 = json.load(open(kb / "versions" / "0001" / "index.json"))
    assert kb1["base_model"]["strategy"] == "base"
    for g in kb1["task_groups"]:  # started from the base, or (too few frames) served by it
        assert g["model"].get("init_from") == "__base__" or g["model"]["url"] == kb1["base_model"]["url"]
    garden = next(g for g in kb2["task_groups"] if g["entry"] == "real/garden.model")
    started = garden["model"].get("init_from") in [g["entry"] for g in kb1["task_groups"]] + ["__base__"]
    assert started or garden["model"].get("shared")  # (too few frames: served by the base)
    # inference results as the tutorial describes them: label, colour and overlay PNGs
    for sub in ("label", "color", "merge"):
        assert os.listdir(work / "infer_results" / sub)
    # the new inference worker of round 2 continued the stream: every frame handled once
    frames = [json.loads(ln)["frame"] for ln in open(work / "infer_results" / "results.jsonl")]
    assert len(frames) == len(set(frames))
    lines = open(work / "segmentation_data" / "data.txt").read().splitlines()
    assert any("garden" in ln for ln in lines)  # labelled frames were appended to the index
    assert not open(work / "unseen_samples" / "labelled.txt").read().strip() == ""
    # the folder the demo prints is the knowledge base: `sedna kb list` shows both rounds' versions
    assert f"the job's knowledge base, one version per round: {kb}" in out
    listing = subprocess.run([sys.executable, "-m", "sedna.cli", "kb", "list", str(kb)], capture_output=True,
                             text=True, timeout=60)
    assert listing.returncode == 0 and [ln.split()[0] for ln in listing.stdout.splitlines()[1:]] == ["1", "2"]
    assert list(s["stages"])[:3] == ["round 1 Train", "round 1 Eval", "round 1 Deploy"]


def test_label_command_with_real_label_pngs(tmp_path):
    """`sedna label --labels DIR` attaches the user's label PNGs (named by the job's
    suffixes, here the robot's) and appends lines."""
    import numpy as np

    from sedna.examples.robo import imageio

    unseen = tmp_path / "unseen"
    unseen.mkdir()
    rgb = np.zeros((8, 16, 3), np.uint8)
    imageio.write_rgb(str(unseen / "street_000001_leftImg8bit.png"), rgb)
    imageio.write_depth(str(unseen / "street_000001_disparity.png"), np.ones((8, 16), np.float32))
    (unseen / "unseen.txt").write_text("street_000001_leftImg8bit.png street_000001_disparity.png\n"
                                       "street_000002_leftImg8bit.png street_000002_disparity.png\n")
    labels = tmp_path / "labels"
    labels.mkdir()
    imageio.write_label(str(labels / "street_000001_gtFine_labelTrainIds.png"), np.full((8, 16), 19, np.uint8))
    index = tmp_path / "data" / "data.txt"
    index.parent.mkdir()
    index.write_text("")
    cmd = [sys.executable, "-m", "sedna.cli", "label", "--unseen", str(unseen), "--index", str(index),
           "--frame-suffix", "_leftImg8bit.png", "--label-suffix", "_gtFine_labelTrainIds.png", "--labels", str(labels)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "labelled 1 sample" in p.stdout  # frame 2 has no label yet: left for later
    line = index.read_text().split()
    assert line == ["labelled/street_000001_leftImg8bit.png", "labelled/street_000001_disparity.png",
                    "labelled/street_000001_gtFine_labelTrainIds.png"]
    assert (index.parent / line[2]).exists()
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert "labelled 0 sample" in again.stdout  # nothing twice
    bad = subprocess.run(cmd[:-2], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "exactly one of --truth" in bad.stderr
