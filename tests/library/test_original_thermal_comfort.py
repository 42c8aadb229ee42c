"""The original system's thermal-comfort example, as written against its earlier
API, runs two rounds on this library without a change: the scripts in
``thermal_comfort/`` construct ``LifelongLearning(estimator=Estimator,
task_definition=..., task_relationship_discovery=None, task_mining=...,
task_remodeling=None, inference_integrate=None, unseen_task_detect=...)``, name
the plugins ``TaskMiningByDataAttr`` and ``TaskAttrFilter``, read a CSV with a
task attribute column (``Season``) through ``CSVDataParse(func=<DataFrame
callback>)`` and follow an inference file record by record. No control plane:
each script runs as a plain process with the worker environment set by hand.
"""

import csv
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pandas")
pytest.importorskip("skops")

from support.waiting import wait_for  # noqa: E402

WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "thermal_comfort")
LABEL = "Thermal preference"
HEADER = ["Season", "City", "Temperature", "Humidity", LABEL]
OFFSET = {"spring": 0.0, "summer": 5.0, "autumn": -6.0}  # the same temperature feels different by season
PREFERENCE = ("warmer", "no change", "cooler")


def records(seasons, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        season = seasons[i % len(seasons)]
        t = float(rng.normal(22, 6))
        felt = t + OFFSET[season]
        out.append([season, f"city{i % 3}", f"{t:.2f}", f"{rng.uniform(20, 80):.1f}",
                    PREFERENCE[int(felt > 20) + int(felt > 26)]])
    return out


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([HEADER] + rows)
    return str(path)


def env_of(**values):
    env = {k: v for k, v in os.environ.items() if k not in ("LC_SERVER", "OUTPUT_URL", "MODEL_URLS",
                                                              "CLOUD_KB_INDEX", "HAS_COMPLETED_INITIAL_TRAINING")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.update({k: str(v) for k, v in values.items()})
    return env


def run(script, **values):
    p = subprocess.run([sys.executable, script], cwd=WORKERS, env=env_of(**values), capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, f"{script}: {p.stderr[-3000:]}"
    return p


def infer(tmp_path, name, index, rows):
    """Run inference.py on a file of ``rows`` until every record is answered;
    ``(answers, flagged unseen)``, each a list of output lines."""
    path = write_csv(tmp_path / f"{name}.csv", rows)
    saved = tmp_path / f"{name}-unseen"
    saved.mkdir()
    p = subprocess.Popen([sys.executable, "inference.py"], cwd=WORKERS, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True,
                         env=env_of(MODEL_URLS=index, infer_dataset_url=path, UTD_SAVED_URL=saved))
    try:
        def answered():
            assert p.poll() is None, p.stderr.read()[-3000:]
            with open(f"{path}_out.csv", encoding="utf-8") as f:
                got = [line.rstrip("\n").split("\t") for line in f][1:]
            return got if len(got) == len(rows) else None

        out = wait_for(answered, timeout=180, what=f"{len(rows)} answers of {name}")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    with open(saved / "unseen_sample.csv", encoding="utf-8") as f:
        unseen = [line.rstrip("\n").split("\t") for line in f][1:]
    return out, unseen


def evaluate(tmp_path, r, index, rows):
    out = tmp_path / "eval" / str(r)
    p = run("eval.py", TEST_DATASET_URL=write_csv(tmp_path / f"test{r}.csv", rows), MODEL_URLS=index,
            OUTPUT_URL=out)
    assert os.path.exists(out / "index.json"), p.stdout
    return str(out / "index.json"), p.stdout


def test_the_original_thermal_comfort_example_runs_two_rounds(tmp_path):
    from sedna.knowledge import KnowledgeBase

    kb = tmp_path / "kb"
    # round 1: spring and summer
    run("train.py", TRAIN_DATASET_URL=write_csv(tmp_path / "train1.csv", records(["spring", "summer"], 240, 0)),
        OUTPUT_URL=kb)
    v1 = KnowledgeBase(str(kb)).current()
    assert sorted(t["entry"] for t in v1.doc["tasks"]) == ["spring.model", "summer.model"]
    deploy1, said = evaluate(tmp_path, 1, v1.url, records(["spring", "summer"], 60, 1))
    assert "precision_score" in said and "spring.model" in said
    probe = records(["spring", "summer", "autumn"], 30, 2)
    out, unseen = infer(tmp_path, "infer1", deploy1, probe)
    assert [o[:-1] for o in out] == probe  # one answer per record, in order
    assert sorted(u[0] for u in unseen) == ["autumn"] * 10  # TaskAttrFilter: a season no task knows
    seen = [(o, p) for o, p in zip(out, probe) if p[0] != "autumn"]
    assert sum(o[-1] == p[-1] for o, p in seen) >= 0.8 * len(seen)

    # round 2: the new season arrives with labels; the same train.py updates the knowledge base
    run("train.py", TRAIN_DATASET_URL=write_csv(tmp_path / "train2.csv", records(["spring", "summer", "autumn"],
                                                                                    240, 3)),
        OUTPUT_URL=kb, HAS_COMPLETED_INITIAL_TRAINING="true", CLOUD_KB_INDEX=v1.url)
    v2 = KnowledgeBase(str(kb)).current()
    assert v2.number == 2 and "autumn.model" in [t["entry"] for t in v2.doc["tasks"]]
    deploy2, said = evaluate(tmp_path, 2, v2.url, records(["spring", "summer", "autumn"], 60, 4))
    assert "autumn.model" in said
    out, unseen = infer(tmp_path, "infer2", deploy2, probe)
    assert [o[:-1] for o in out] == probe and unseen == []  # autumn is known now
    autumn = [(o, p) for o, p in zip(out, probe) if p[0] == "autumn"]
    assert sum(o[-1] == p[-1] for o, p in autumn) >= 0.7 * len(autumn)
