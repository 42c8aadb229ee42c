"""The tutorial's worker scripts, run as real processes with the worker
environment of CONTRACTS §2, on data in the ``segmentation_data`` layout.

``tests/data/tutorial/train.py`` holds the tutorial's snippets verbatim: the
``_load_txt_dataset`` callback, the ``TaskDefinitionByOrigin`` plugin pasted
into the user's module, and ``LifelongLearning(estimator, task_definition=...,
task_allocation=..., <every other slot None>)``.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sedna.knowledge import KnowledgeBase
from support.modules import load_file
from support.paths import DATA

WORKERS = str(DATA / "tutorial")

# origin/scene -> the colour each class has there (the scene's "look")
SCENES = {
    ("real", "berlin"): {0: (200, 50, 50), 1: (50, 200, 50), 2: (50, 50, 200)},
    ("real", "bremen"): {0: (190, 60, 40), 1: (60, 190, 70), 2: (40, 60, 210)},
    ("sim", "style1"): {0: (120, 120, 0), 1: (0, 120, 120), 2: (120, 0, 120)},
}


def make_frames(root, origin, scene, n, seed):
    rng = np.random.default_rng(seed)
    lines = []
    folder = os.path.join(root, origin, scene)
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        lab = rng.integers(0, 3, size=(6, 6))
        lab[0, 0] = 255  # an ignored pixel
        rgb = np.zeros((6, 6, 3), dtype=np.uint8)
        for k, colour in SCENES[(origin, scene)].items():
            rgb[lab == k] = colour
        rgb = np.clip(rgb + rng.integers(-10, 10, size=rgb.shape), 0, 255).astype(np.uint8)
        names = [f"rgb_{i:04d}.npy", f"depth_{i:04d}.npy", f"label_{i:04d}.npy"]
        np.save(os.path.join(folder, names[0]), rgb)
        np.save(os.path.join(folder, names[1]), rgb[..., 0])
        np.save(os.path.join(folder, names[2]), lab.astype(np.int64))
        lines.append(" ".join(f"{origin}/{scene}/{nm}" for nm in names))
    return lines


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "segmentation_data"
    lines = []
    for k, (origin, scene) in enumerate(SCENES):
        lines += make_frames(str(root), origin, scene, 12, seed=k)
    index = root / "data.txt"
    index.write_text("\n".join(lines) + "\n")
    return root, index, lines


def run_worker(script, env, cwd):
    full = dict(os.environ, PYTHONPATH=os.pathsep.join([WORKERS, os.environ.get("PYTHONPATH", "")]), **env)
    for k in ("LC_SERVER",):
        full.pop(k, None)
    proc = subprocess.run([sys.executable, os.path.join(WORKERS, script)], env=full, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_tutorial_train_eval_predict_as_workers(dataset, tmp_path):
    root, index, lines = dataset
    out = tmp_path / "output" / "robo-demo"
    train_idx = tmp_path / "train.txt"
    eval_idx = tmp_path / "eval.txt"
    train_idx.write_text("\n".join(lines[0::2]) + "\n")
    eval_idx.write_text("\n".join(lines[1::2]) + "\n")
    common = {"NAMESPACE": "default", "JOB_NAME": "robo-demo", "ORIGINAL_DATASET_URL": str(index),
              "num_class": "24", "BACKEND_TYPE": "PYTORCH", "DATA_PATH_PREFIX": str(tmp_path)}

    # train worker: the tutorial's env (attribute "real, sim", city berlin)
    run_worker("train.py", dict(common, WORKER_NAME="robo-demo-train-1", TRAIN_DATASET_URL=str(train_idx),
                                OUTPUT_URL=str(out / "train" / "1"), attribute="real, sim", city="berlin",
                                epoches="1"), str(tmp_path))
    kb = KnowledgeBase(str(out / "train" / "1"))
    doc = kb.current().doc
    assert [g["entry"] for g in doc["task_groups"]] == ["real.model", "sim.model"]
    assert doc["extractor"] == {"real": 0, "sim": 1}
    # the tutorial's definition: berlin is "real", everything else "sim"
    n_berlin = sum("berlin" in ln for ln in lines[0::2])
    assert doc["task_groups"][0]["n_samples"] == n_berlin
    assert doc["task_groups"][1]["n_samples"] == len(lines[0::2]) - n_berlin

    # eval worker: the tutorial's drop rule "<" 0 keeps every task
    run_worker("evaluate.py", dict(common, WORKER_NAME="robo-demo-eval-1", TEST_DATASET_URL=str(eval_idx),
                                   MODEL_URLS=kb.current().url, OUTPUT_URL=str(out / "eval" / "1"),
                                   operator="<", model_threshold="0"), str(tmp_path))
    deployed = json.load(open(out / "eval" / "1" / "index.json"))
    assert all(g["deployed"] for g in deployed["task_groups"])
    assert all(g["eval_metrics"]["accuracy"] > 0.9 for g in deployed["task_groups"])

    # inference worker on frames of a test_data folder; results in INFERENCE_RESULT_DIR
    test_data = tmp_path / "test_data"
    make_frames(str(test_data), "real", "berlin", 2, seed=7)
    make_frames(str(test_data), "sim", "style1", 2, seed=8)
    results = tmp_path / "infer_results"
    run_worker("predict.py", dict(common, WORKER_NAME="robo-demo-deploy", MODEL_URLS=str(out / "eval" / "1" / "index.json"),
                                  test_data=str(test_data), INFERENCE_RESULT_DIR=str(results),
                                  unseen_save_url=str(tmp_path / "unseen"), OUTPUT_URL=str(out / "deploy")),
               str(tmp_path))
    routed = dict(line.split() for line in (results / "results.txt").read_text().splitlines())
    assert routed == {"real/berlin/rgb_0000.npy": "real.model", "real/berlin/rgb_0001.npy": "real.model",
                      "sim/style1/rgb_0000.npy": "sim.model", "sim/style1/rgb_0001.npy": "sim.model"}
    for rel in routed:
        origin, scene, name = rel.split("/")
        pred = np.load(results / f"label_{origin}_{scene}_{name}")
        truth = np.load(test_data / origin / scene / name.replace("rgb", "label"))
        ok = truth != 255
        assert (pred[ok] == truth[ok]).mean() > 0.9


def test_second_round_update_through_the_train_worker(dataset, tmp_path):
    root, index, lines = dataset
    out = tmp_path / "output"
    common = {"ORIGINAL_DATASET_URL": str(index), "attribute": "real, sim", "city": "berlin"}
    first = [ln for ln in lines if "bremen" not in ln]
    (tmp_path / "r1.txt").write_text("\n".join(first) + "\n")
    run_worker("train.py", dict(common, TRAIN_DATASET_URL=str(tmp_path / "r1.txt"), OUTPUT_URL=str(out / "1")),
               str(tmp_path))
    second = [ln for ln in lines if "bremen" in ln]
    (tmp_path / "r2.txt").write_text("\n".join(second) + "\n")
    run_worker("train.py", dict(common, TRAIN_DATASET_URL=str(tmp_path / "r2.txt"), OUTPUT_URL=str(out / "2"),
                                HAS_COMPLETED_INITIAL_TRAINING="true",
                                CLOUD_KB_INDEX=str(out / "1" / "index.json")), str(tmp_path))
    v2 = KnowledgeBase(str(out / "2")).current()
    assert v2.number == 2 and v2.parent_version == 1
    groups = {g["entry"]: g for g in v2.doc["task_groups"]}
    # bremen frames sit under real/ in their paths: routed to the existing "real" task
    assert v2.doc["update"]["strategies"] == {"real.model": "retrain"}
    assert groups["real.model"]["n_samples"] == sum("berlin" in ln for ln in lines) + len(second)
    assert groups["sim.model"]["model"]["trained_version"] == 1


def test_tutorial_definition_with_an_empty_origin_trains_the_other(dataset, tmp_path):
    """The tutorial's TaskDefinitionByOrigin always returns two tasks; with only
    berlin frames the "sim" task is empty: it gets no model, and a later round
    that brings sim frames creates it."""
    root, index, lines = dataset
    out = tmp_path / "output"
    common = {"ORIGINAL_DATASET_URL": str(index), "attribute": "real, sim", "city": "berlin"}
    berlin = [ln for ln in lines if "berlin" in ln]
    (tmp_path / "r1.txt").write_text("\n".join(berlin) + "\n")
    run_worker("train.py", dict(common, TRAIN_DATASET_URL=str(tmp_path / "r1.txt"), OUTPUT_URL=str(out / "1")),
               str(tmp_path))
    v1 = KnowledgeBase(str(out / "1")).current()
    assert [g["entry"] for g in v1.doc["task_groups"]] == ["real.model"]
    assert [t["group"] for t in v1.doc["tasks"]] == [0, -1]
    sim = [ln for ln in lines if "sim/" in ln]
    (tmp_path / "r2.txt").write_text("\n".join(sim) + "\n")
    run_worker("train.py", dict(common, TRAIN_DATASET_URL=str(tmp_path / "r2.txt"), OUTPUT_URL=str(out / "2"),
                                HAS_COMPLETED_INITIAL_TRAINING="true",
                                CLOUD_KB_INDEX=str(out / "1" / "index.json")), str(tmp_path))
    v2 = KnowledgeBase(str(out / "2")).current()
    assert [g["entry"] for g in v2.doc["task_groups"]] == ["real.model", "sim.model"]
    assert v2.doc["task_groups"][1]["n_samples"] == len(sim)


def test_unseen_path_samples_are_copied_for_labelling(dataset, tmp_path, monkeypatch):
    """Frames from an origin the KB has no task for are flagged unseen and their
    files copied (names kept) to unseen_save_url, with an index of them."""
    from sedna.core.lifelong_learning import LifelongLearning
    from sedna.datasources import TxtDataParse

    Estimator = load_file(DATA / "tutorial" / "interface.py").Estimator
    root, index, lines = dataset
    monkeypatch.setenv("ORIGINAL_DATASET_URL", str(index))
    monkeypatch.setenv("unseen_save_url", str(tmp_path / "unseen"))

    def load(line):
        parts = [os.path.join(str(root), p) for p in line.split()]
        return parts[:-1], parts[-1]

    train = TxtDataParse(data_type="train", func=load)
    train.parse(str(index))
    ll = LifelongLearning(Estimator(num_class=3), task_definition={"method": "TaskDefinitionByOrigin",
                                                                   "param": {"attribute": "real, sim"}},
                          task_allocation={"method": "TaskAllocationByOrigin"},
                          unseen_sample_recognition={"method": "SampleRegonitionByTaskAttr"},
                          output_url=str(tmp_path / "kb"))
    ll.train(train)
    garden = tmp_path / "new"
    make_frames(str(garden), "real", "berlin", 1, seed=3)  # folder names the real origin
    os.rename(garden / "real", garden / "garden")           # ...now it names none
    frames = sorted(str(p) for p in (garden / "garden" / "berlin").glob("rgb_*.npy"))
    known = os.path.join(str(root), lines[0].split()[0])
    data = BaseDataSource_of([[known, known], [frames[0], frames[0].replace("rgb", "depth")]])
    res, unseen, tasks = ll.inference(data)
    assert unseen.tolist() == [False, True]
    assert res[1] is not None and res[0] is not None  # the unseen frame is flagged and still served
    saved = sorted(os.listdir(tmp_path / "unseen"))
    assert "rgb_0000.npy" in saved and "depth_0000.npy" in saved
    listed = (tmp_path / "unseen" / "unseen.txt").read_text().split()
    assert listed == ["rgb_0000.npy", "depth_0000.npy"]


def BaseDataSource_of(rows):
    from sedna.datasources import BaseDataSource

    d = BaseDataSource(data_type="test")
    d.x = np.array(rows)
    return d
