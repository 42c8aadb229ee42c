"""`sedna demo --manifests DIR` writes manifests whose Dataset points at frames
that exist: it renders them under --workdir, leaves the index empty, and says
which lines to append; appended, they start round 1 on a real `sedna up`."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("PIL")

from support.ctlplane import ControlPlane  # noqa: E402
from sedna.examples.robo import demo  # noqa: E402


def test_the_manifests_point_at_rendered_frames_that_start_a_round(tmp_path, wait_for):
    target, work = tmp_path / "m", tmp_path / "work"
    p = subprocess.run([sys.executable, "-m", "sedna.cli", "demo", "--manifests", str(target), "--workdir", str(work),
                        "--frames", "12", "--size", "32x64"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    data = work / "segmentation_data"
    index, round1 = data / "data.txt", data / "train_seen.txt"
    assert index.read_text() == ""
    assert f"cat {round1} >> {index}" in p.stdout
    lines = round1.read_text().splitlines()
    assert len(lines) == 3 * 12
    for line in lines:
        for rel in line.split():  # rgb, depth, label: every file the index names is there
            assert (data / rel).is_file(), rel
    for line in (data / "val_all.txt").read_text().splitlines():
        assert all((data / rel).is_file() for rel in line.split())
    assert "IMAGE_SIZE" in (target / "job.yaml").read_text() and '"32x64"' in (target / "job.yaml").read_text()

    cp = ControlPlane(str(tmp_path), ["--image", f"{demo.IMAGE}={demo.HERE}"]).start()
    try:
        cp.cli("apply", "-f", str(target / "dataset.yaml"), "-f", str(target / "job.yaml"), check=True)
        with open(index, "a") as f:
            f.write(round1.read_text())
        wait_for(lambda: cp.get("ds", "lifelong-robo-dataset").get("status", {}).get("numberOfSamples") == 36,
                 timeout=60, what="the Dataset to count the appended frames")
        wait_for(lambda: any(w["name"] == "robo-demo-train-1" for w in cp.workers()), timeout=60,
                 what="round 1's train worker")
    finally:
        cp.stop()
