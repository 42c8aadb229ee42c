"""A tabular lifelong-learning job in the original's style, through a real
`sedna up`: a CSV Dataset, worker scripts (tests/data/tabularworkers/) that parse
it with ``CSVDataParse(func=<DataFrame callback dropping a column>)``, define
tasks with ``TaskDefinitionByDataAttr`` on the ``Season`` column, train a
scikit-learn estimator, evaluate with ``precision_score`` and
``{"average": "micro"}``, and infer records fed one dict at a time. Round 2
brings a season round 1 never saw.

Depends on the control plane's CSV handling (src/sedna/control/rounds.py:
header not counted, written on every round file): the workers read each
round's file with its header.
"""

import csv
import json
import os

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")
pytest.importorskip("skops")

from support.ctlplane import ControlPlane, last_round, write_yaml  # noqa: E402
from support.paths import DATA  # noqa: E402
from support.waiting import wait_for  # noqa: E402

IMAGE = "sedna-test/tabular-ll:v1"
WORKERS = str(DATA / "tabularworkers")
JOB = "comfort-ll"
LABEL = "Thermal preference"
HEADER = ["Season", "City", "Temperature", "Humidity", LABEL]
OFFSET = {"spring": 0.0, "summer": 4.0, "autumn": -3.0}


def rows(seasons, n, seed):
    """Records whose label depends on the temperature and, differently, on the season."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        s = seasons[i % len(seasons)]
        t = round(float(rng.normal(22, 5)), 2)
        label = int(t + OFFSET[s] > 22) + int(t + OFFSET[s] > 27)
        out.append([s, f"city{i % 4}", f"{t}", f"{rng.uniform(20, 80):.1f}", str(label)])
    return out


def append(path, records):
    with open(path, "a", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(records)


def manifests(index, out, infer, results, threshold):
    def container(name, script, env=()):
        return {"name": name, "image": IMAGE, "imagePullPolicy": "IfNotPresent", "args": [script],
                "env": list(env), "resources": {"limits": {"memory": "2Gi"}}}

    trigger = {"checkPeriodSeconds": 1, "timer": {"start": "00:00", "end": "24:00"},
               "condition": {"operator": ">", "threshold": threshold, "metric": "num_of_samples"}}
    return [
        {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "comfort"},
         "spec": {"url": index, "format": "csv", "nodeName": "localhost"}},
        {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": JOB},
         "spec": {"dataset": {"name": "comfort", "trainProb": 0.8},
                  "trainSpec": {"template": {"spec": {"containers": [container("train-worker", "train.py")]}},
                                "trigger": trigger},
                  "evalSpec": {"template": {"spec": {"containers": [container("eval-worker", "evaluate.py", [
                      {"name": "operator", "value": "<"}, {"name": "model_threshold", "value": "0"}])]}}},
                  "deploySpec": {"template": {"spec": {"containers": [container("infer-worker", "predict.py", [
                      {"name": "infer_dataset_url", "value": infer},
                      {"name": "INFERENCE_RESULT_DIR", "value": results},
                      {"name": "MODEL_POLL_PERIOD_SECONDS", "value": "1"}])]}}},
                  "outputDir": out}},
    ]


def round_done(cp, r):
    def check():
        last = last_round(cp.get("ll", JOB))
        if last.get("round") == r:
            assert last["phase"] == "Succeeded", last
            return last
        return None
    return check


def eval_result(out, r):
    path = os.path.join(out, "eval", str(r), "eval_result.json")
    return wait_for(lambda: os.path.exists(path) and json.load(open(path)), timeout=60,
                    what=f"round {r}'s evaluation result")


@pytest.fixture
def plane(tmp_path):
    cp = ControlPlane(str(tmp_path), extra_args=["--image", f"{IMAGE}={WORKERS}"]).start()
    yield cp
    cp.stop()


def test_a_tabular_job_in_the_original_style_over_two_rounds(plane, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    index, infer = str(data / "comfort.csv"), str(data / "infer.csv")
    out, results = str(tmp_path / "output" / JOB), str(tmp_path / "results")
    append(index, [HEADER])
    docs = manifests(index, out, infer, results, threshold=150)
    plane.cli("apply", "-f", write_yaml(str(tmp_path / "job.yaml"), docs), check=True)

    # round 1: spring and summer only (160 train rows, 40 eval rows)
    append(index, rows(["spring", "summer"], 200, seed=0))
    wait_for(round_done(plane, 1), timeout=240, what="round 1")
    ev1 = eval_result(out, 1)
    # header not counted and written on every round file (the control plane's CSV handling)
    assert ev1["unallocated_samples"] == 0 and set(ev1["tasks"]) == {"spring.model", "summer.model"}
    assert sum(t["n_samples"] for t in ev1["tasks"].values()) == 40
    for task in ev1["tasks"].values():
        assert task["precision_score"] > 0.8 and task["deployed"]

    # round 2: a season round 1 never saw becomes a task of its own
    append(index, rows(["spring", "summer", "autumn"], 200, seed=1))
    wait_for(round_done(plane, 2), timeout=240, what="round 2")
    ev2 = eval_result(out, 2)
    assert set(ev2["tasks"]) == {"spring.model", "summer.model", "autumn.model"}
    assert ev2["unallocated_samples"] == 0 and ev2["tasks"]["autumn.model"]["n_samples"] > 0
    for task in ev2["tasks"].values():
        assert task["precision_score"] > 0.8

    # inference: the round-2 worker follows a CSV file, one record at a time
    deploy = f"{JOB}-deploy-2"
    wait_for(lambda: any(w["name"] == deploy and w["phase"] == "Running" for w in plane.workers()),
             timeout=60, what="the round-2 inference worker")
    probe = rows(["autumn", "summer", "spring"], 30, seed=7)
    append(infer, [HEADER])
    append(infer, probe)
    out_csv = os.path.join(results, f"out-{deploy}.csv")

    def answered():
        with open(out_csv, encoding="utf-8") as f:
            got = list(csv.reader(f))[1:]
        return got if len(got) == len(probe) else None

    got = wait_for(answered, timeout=120, what="30 inference results")
    assert [g[:-1] for g in got] == probe  # one answer per record, in order
    correct = sum(int(float(g[-1])) == int(p[-1]) for g, p in zip(got, probe))
    assert correct >= 0.8 * len(probe), got
