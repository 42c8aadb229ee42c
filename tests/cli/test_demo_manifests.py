"""The demo's shipped manifests and its output: `sedna demo --manifests DIR`
writes filled-in copies that a real `sedna up` accepts; the demo prints a
stage's last log lines before its "Completed" and its stage table in the order
Train, Eval, Deploy."""

import json
import os
import subprocess
import sys

from sedna.examples.robo import demo, demo_table

from support.ctlplane import ControlPlane


def test_the_shipped_templates_say_they_are_templates():
    for name in ("dataset.yaml", "job.yaml"):
        text = open(os.path.join(demo.HERE, "manifests", name), encoding="utf-8").read()
        assert text.startswith("# A template") and "sedna demo --manifests" in text


def test_demo_manifests_are_ready_to_apply(tmp_path):
    target, work = tmp_path / "m", tmp_path / "work"
    p = subprocess.run([sys.executable, "-m", "sedna.cli", "demo", "--manifests", str(target), "--workdir", str(work)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert f"sedna up --image {demo.IMAGE}={demo.HERE}" in p.stdout
    for name in ("dataset.yaml", "job.yaml"):
        text = (target / name).read_text()
        assert "$" not in text and "A template" not in text
    assert f"outputDir: {work}/output/robo-demo" in (target / "job.yaml").read_text()
    cp = ControlPlane(str(tmp_path), ["--image", f"{demo.IMAGE}={demo.HERE}"]).start()
    try:
        out = cp.cli("apply", "-f", str(target / "dataset.yaml"), "-f", str(target / "job.yaml"), check=True).stdout
        assert out.splitlines()[:2] == ["dataset.sedna.io/lifelong-robo-dataset created",
                                        "lifelonglearningjob.sedna.io/robo-demo created"]
        ds = cp.get("ds", "lifelong-robo-dataset")
        assert ds["spec"]["url"] == str(work / "segmentation_data" / "data.txt")
        job = cp.get("ll", "robo-demo")
        assert job["spec"]["trainSpec"]["trigger"]["condition"]["threshold"] == 20
    finally:
        cp.stop()


class FakePlane:
    """The job and workers as the control plane would answer, with a real log file."""

    def __init__(self, log):
        self.log = log

    def job(self):
        return {"status": {"conditions": [
            {"round": 1, "stage": "Train", "type": "Running", "reason": "WorkerRunning", "message": "w"},
            {"round": 1, "stage": "Train", "type": "Completed", "reason": "WorkerSucceeded", "message": "w"}],
            "rounds": [{"round": 1, "phase": "Succeeded"}]}}

    def workers(self):
        return [{"name": "robo-demo-train-1", "round": 1, "logPath": self.log}]


def test_the_last_epoch_is_printed_before_train_completed(tmp_path):
    log = tmp_path / "w.log"
    log.write_text("[x]: epoch 1/2 loss 0.9\n[x]: epoch 2/2 loss 0.5\n")
    lines = []
    demo._follow(FakePlane(str(log)), lines.append, 1, timeout=10)
    epoch = next(i for i, ln in enumerate(lines) if "epoch 2/2" in ln)
    done = next(i for i, ln in enumerate(lines) if "Train Completed" in ln)
    assert epoch < done, lines


def test_the_stage_table_runs_train_eval_deploy():
    stages = {(1, "Deploy"): 1.0, (1, "Eval"): 2.0, (1, "Train"): 3.0, (2, "Deploy"): 4.0, (2, "Train"): 5.0}
    assert list(demo.ordered_stages(stages)) == ["round 1 Train", "round 1 Eval", "round 1 Deploy",
                                                 "round 2 Train", "round 2 Deploy"]
    out = []
    summary = {"domains": ["a", "b"], "heldout": "b", "matrix": [[0.1, 0.2], [0.3, 0.4]],
               "baseline": {"a": 0.0, "b": 0.0}, "measures": {"BWT": 0, "BWT_ianvs": 0, "FWT": 0, "FWT_ianvs": 0,
                                                              "forgetting": 0},
               "unseen": {"precision": 1.0, "recall": 1.0}, "stages": demo.ordered_stages(stages),
               "total_seconds": 9, "workdir": "/w", "knowledge_base": "/w/output/robo-demo/kb"}
    demo_table.print_table(out.append, json.loads(json.dumps(summary)))
    text = "\n".join(out)
    assert text.index("round 1 Train") < text.index("round 1 Eval") < text.index("round 1 Deploy")
    assert "eval split" in text and "held-out test frames" in text  # what each mIoU measures
    assert "sedna kb list /w/output/robo-demo/kb" in text
