"""A worker runs someone else's code as the server's user (issue 19, finding 1). Against a
real `sedna up` whose kernel offers Landlock: a hostile train worker cannot read the admin
token, the state database, the user's sedna config or another job's output folder, by their
paths or through the server's /proc entries, nor (Landlock ABI 6) signal the server; its
HOME is its own scratch folder; its honest work (its output, its report) still goes through."""

import json
import os

import pytest

from support.ctlplane import ControlPlane
from support.paths import DATA
from support.waiting import wait_for
from sedna.common import landlock

IMAGE = "sedna-test/snoop:v1"


def _job(tmp_path, snoop):
    (tmp_path / "data").mkdir()
    index = tmp_path / "data" / "data.txt"
    index.write_text("".join(f"x{i}.npy {i % 2}\n" for i in range(20)))
    container = {"name": "w", "image": IMAGE, "args": ["train.py"],
                 "env": [{"name": "SNOOP", "value": json.dumps(snoop)}]}
    tpl = {"template": {"spec": {"containers": [container]}}}
    return [{"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "ds"},
             "spec": {"url": str(index), "format": "txt", "nodeName": "localhost"}},
            {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": "snoop"},
             "spec": {"dataset": {"name": "ds", "trainProb": 0.8}, "outputDir": str(tmp_path / "out"),
                      "trainSpec": dict(tpl, trigger={"checkPeriodSeconds": 1, "condition": {
                          "operator": ">", "threshold": 5, "metric": "num_of_samples"}}),
                      "evalSpec": tpl, "deploySpec": tpl}}]


def _run(cp, tmp_path, snoop):
    """Apply the job, then what its train worker saw."""
    for d in _job(tmp_path, snoop):
        p = tmp_path / f"{d['kind']}.json"
        p.write_text(json.dumps(d))
        cp.cli("apply", "-f", str(p), check=True)
    return wait_for(lambda: json.loads((tmp_path / "out" / "kb" / "seen.json").read_text()),
                    timeout=120, what="the train worker to run")


@pytest.mark.skipif(landlock.abi() < 1, reason="this kernel offers no Landlock")
def test_a_hostile_worker_reads_no_secret_by_any_path_tried(tmp_path):
    cp = ControlPlane(str(tmp_path), extra_args=["--image", f"{IMAGE}={DATA / 'snoopworker'}"]).start()
    try:
        admin = open(os.path.join(cp.state_dir, "token")).read().strip()
        other = tmp_path / "other-job-out"
        other.mkdir()
        (other / "secret.txt").write_text("another job's model")
        config = os.path.join(os.environ["XDG_CONFIG_HOME"], "sedna", "config.yaml")
        assert os.path.exists(config)  # `sedna up` recorded its context there
        seen = _run(cp, tmp_path, {"state_dir": cp.state_dir, "config": config,
                                   "other_job": str(other / "secret.txt")})
        leaked = [s for s in seen["seen"] if "read" in s and s["read"]]
        assert not leaked, leaked
        assert all(admin not in json.dumps(s) for s in seen["seen"])
        assert seen["home"].startswith(cp.state_dir) and seen["home"] != os.path.expanduser("~")
        if landlock.abi() >= 6:  # signals scoped to the worker's own domain
            assert seen["signal"] == "PermissionError"
        w = wait_for(lambda: [w for w in cp.workers() if w["stage"] == "train" and w["report"]],
                     timeout=60, what="the worker's report")[0]
        assert w["report"]["status"] == "completed"
    finally:
        cp.stop()


def test_without_confinement_the_same_worker_reads_the_token(tmp_path):
    """The test above can fail: with `--no-confine` the same worker reads the admin token."""
    cp = ControlPlane(str(tmp_path), extra_args=["--image", f"{IMAGE}={DATA / 'snoopworker'}",
                                                 "--no-confine"]).start()
    try:
        admin = open(os.path.join(cp.state_dir, "token")).read().strip()
        seen = _run(cp, tmp_path, {"state_dir": cp.state_dir, "config": "/nonexistent", "other_job": "/nonexistent"})
        assert any(s.get("read") == admin for s in seen["seen"])
        assert seen["signal"] == "allowed"
    finally:
        cp.stop()
