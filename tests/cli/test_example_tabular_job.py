"""The example job folder (examples/tabular-job/) as the README runs it: a real
`sedna up` with its image mapped to the folder, `make_data.py`, then
`sedna apply -f examples/tabular-job/`, through train → eval → deploy to an
inference worker that answers the rows appended to its input.

The folder is copied with one change: its data folder (/tmp/sedna-tabular-job
in every manifest) moves into the test's temporary folder, so that runs side by
side do not share it."""

import csv
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("pandas")
pytest.importorskip("sklearn")
pytest.importorskip("skops")

from support.ctlplane import ControlPlane, last_round  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "tabular-job")
DATA = "/tmp/sedna-tabular-job"
IMAGE = "sedna-example/tabular-job:v1"


def copy_example(tmp_path):
    folder, data = tmp_path / "tabular-job", tmp_path / "data"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dataset.yaml", "job.yaml"):
        text = (folder / name).read_text()
        assert DATA in text  # the shipped manifests keep their data under one folder
        (folder / name).write_text(text.replace(DATA, str(data)))
    return folder, data


def test_the_readme_command_lines_name_the_example_as_shipped():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert f"--image {IMAGE}=examples/tabular-job" in readme
    assert "sedna apply -f examples/tabular-job/" in readme
    assert "python examples/tabular-job/make_data.py" in readme


def test_the_example_job_runs_train_eval_deploy_and_answers(tmp_path, wait_for):
    folder, data = copy_example(tmp_path)
    cp = ControlPlane(str(tmp_path), ["--image", f"{IMAGE}={folder}"]).start()
    try:
        made = subprocess.run([sys.executable, str(folder / "make_data.py")], capture_output=True, text=True,
                              timeout=120)
        assert made.returncode == 0, made.stderr
        out = cp.cli("apply", "-f", str(folder), check=True).stdout
        assert out.splitlines() == ["dataset.sedna.io/rooms created", "lifelonglearningjob.sedna.io/rooms-ll created"]

        def round_one():
            last = last_round(cp.get("ll", "rooms-ll"))
            if last.get("round") == 1:
                assert last["phase"] == "Succeeded", cp.get("ll", "rooms-ll")["status"].get("lastFailure")
                return last
            return None

        wait_for(round_one, timeout=420, what="round 1 (train, eval, deploy)")
        kb = cp.get("ll", "rooms-ll")["status"]["knowledgeBase"]
        assert {m["name"] for m in kb["AIModels"]} >= {"north.model", "south.model"}, kb
        wait_for(lambda: any(w["name"] == "rooms-ll-deploy-1" and w["phase"] == "Running" for w in cp.workers()),
                 timeout=60, what="the inference worker")

        predictions = data / "results" / "predictions.csv"

        def answered():
            with open(predictions, encoding="utf-8") as f:
                got = list(csv.reader(f))
            return got if len(got) == 20 else None

        got = wait_for(answered, timeout=120, what="20 predictions")
        truth = [r[3] for r in got]
        assert sum(r[4] == t for r, t in zip(got, truth)) >= 16, got  # a model per site, mostly right
        assert {r[5] for r in got} == {"north.model", "south.model"} and {r[6] for r in got} == {"False"}
    finally:
        cp.stop()
