"""A real worker started by a real `sedna up` gets its own credential, not the
admin token: it can report for itself and can read nothing (issue 8)."""

import json
import os

from support.ctlplane import ControlPlane
from support.paths import DATA
from support.waiting import wait_for

IMAGE = "sedna-test/envworker:v1"


def test_a_worker_gets_its_own_token_that_reports_and_reads_nothing(tmp_path):
    cp = ControlPlane(str(tmp_path), extra_args=["--image", f"{IMAGE}={DATA / 'envworker'}"]).start()
    try:
        admin = open(os.path.join(cp.state_dir, "token")).read().strip()
        index = tmp_path / "data.txt"
        index.write_text("".join(f"x{i}.npy {i % 2}\n" for i in range(20)))
        out = tmp_path / "out"
        container = {"name": "w", "image": IMAGE, "args": ["train.py"]}
        tpl = {"template": {"spec": {"containers": [container]}}}
        docs = [{"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "ds"},
                 "spec": {"url": str(index), "format": "txt", "nodeName": "localhost"}},
                {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": "idjob"},
                 "spec": {"dataset": {"name": "ds", "trainProb": 0.8}, "outputDir": str(out),
                          "trainSpec": dict(tpl, trigger={"checkPeriodSeconds": 1, "condition": {
                              "operator": ">", "threshold": 5, "metric": "num_of_samples"}}),
                          "evalSpec": tpl, "deploySpec": tpl}}]
        for d in docs:
            p = tmp_path / f"{d['kind']}.json"
            p.write_text(json.dumps(d))
            cp.cli("apply", "-f", str(p), check=True)
        seen = wait_for(lambda: json.loads((out / "kb" / "reported.json").read_text()) and
                        json.loads((out / "kb" / "seen.json").read_text()),
                        timeout=120, what="the train worker to run and report")
        assert seen["token"] and seen["token"] != admin
        assert seen["list_status"] == 403
        assert json.loads((out / "kb" / "reported.json").read_text())["ok"] is True
        w = wait_for(lambda: [w for w in cp.workers() if w["stage"] == "train" and w["report"]],
                     timeout=60, what="the report to be stored")[0]
        assert w["report"]["status"] == "completed"
        log = open(os.path.join(cp.state_dir, "logs", f"default_{w['name']}.log")).read()
        assert admin not in log
    finally:
        cp.stop()
