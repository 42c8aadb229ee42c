"""The lifelong-learning benchmarks (benchmarks/bench_lifelong*.py) end to end at toy size."""

import csv
import os

import numpy as np
import pytest
from PIL import Image

from support.modules import load_benchmark

def _load(name):
    load_benchmark("bench_lifelong")  # the digits benchmark imports bench_lifelong by name
    return load_benchmark(name)


def _check_outputs(res, out, seen, shifts, learners, seeds=(0,)):
    for seed in seeds:
        run = res["runs"][seed]
        assert list(run["shifts"]) == shifts
        for shift in shifts:
            assert list(run["shifts"][shift]) == learners
            for name in learners:
                r = run["shifts"][shift][name]
                m = np.asarray(r["matrix"])
                assert m.shape == (2, len(seen) + 1)
                assert np.isfinite(m).all() and (m >= 0).all() and (m <= 1).all()
                assert len(r["times"]) == 2 and min(r["times"]) >= 0
                assert set(r["measures"]) >= {"BWT", "FWT", "forgetting"}
    with open(os.path.join(out, "matrix.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(seeds) * len(shifts) * len(learners) * 2
    assert {(r["shift"], r["learner"], r["round"]) for r in rows} == \
        {(s, n, k) for s in shifts for n in learners for k in ("1", "2")}
    assert set(seen) <= set(rows[0]) and {"new", "mean", "train_seconds"} <= set(rows[0])
    with Image.open(os.path.join(out, "matrix.png")) as im:
        assert im.size[0] > 100 and im.size[1] > 100


@pytest.fixture
def one_thread():
    # tiny tensors: one thread is faster, and much faster on a CPU shared with other processes
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_robot_benchmark_toy(tmp_path, one_thread):
    bl = _load("bench_lifelong")
    shifts, learners = ["real/zurich", "real/garden"], ["sedna", "finetune"]
    out = str(tmp_path / "out")
    res = bl.run_robo(out, frames=4, test_frames=2, epochs=1, size=(16, 32), seeds=(0,), shifts=shifts,
                      learners=learners, warmup=False)
    seen = ["real/aachen", "real/bremen", "sim/synthia"]
    assert res["seen"] == seen and res["metric"] == "mIoU"
    _check_outputs(res, out, seen, shifts, learners)
    run = res["runs"][0]
    # round 1 is shared by the shifts: the seen scenes' round-1 row is the same in every branch
    for name in learners:
        rows = [run["shifts"][s][name]["matrix"][0][:3] for s in shifts]
        assert rows[0] == rows[1]
    assert set(run["flagged"]) == set(seen + shifts)
    assert all(0.0 <= v <= 1.0 for v in run["flagged"].values())
    text = bl.report(res)
    assert "#### real/zurich" in text and "| real/garden |" in text and "sedna mean r2" in text


def test_digits_benchmark_toy(tmp_path):
    bd = _load("bench_lifelong_digits")
    shifts, learners = ["noisy", "rotated"], list(bd.bl.LEARNERS)
    out = str(tmp_path / "digits")
    res = bd.run_digits(out, seeds=(0, 1), shifts=shifts, learners=learners, epochs=5, train_rows=150)
    _check_outputs(res, out, list(bd.SEEN), shifts, learners, seeds=(0, 1))
    run = res["runs"][0]
    # fine-tuning on rotated digits forgets the plain ones; joint retraining does not
    ft, joint = (np.asarray(run["shifts"]["rotated"][n]["matrix"]) for n in ("finetune", "joint"))
    assert ft[1, 0] < ft[0, 0] - 0.3 and joint[1, 0] > ft[1, 0]
    assert "mean over seeds" in bd.bl.report(res)


def test_cli_rejects_unknown_names():
    bl = _load("bench_lifelong")
    with pytest.raises(SystemExit):
        bl.main(["--learners", "sedna,magic"])
    with pytest.raises(SystemExit):
        bl.main(["--shifts", "real/paris"])
