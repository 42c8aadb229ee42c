"""Faults with real processes: the controller killed with SIGKILL in the middle
of training, then restarted, must neither lose nor repeat the round."""

import os

import pytest

from support.ctlplane import ControlPlane, DigitsIndex, last_round, manifests, write_yaml
from support.waiting import wait_for

pytest.importorskip("sklearn")


def test_kill9_during_training_then_restart_resumes_without_losing_or_repeating(tmp_path):
    data = DigitsIndex(str(tmp_path / "data"))
    out = str(tmp_path / "output" / "digits-ll")
    (tmp_path / "probe").mkdir()  # the workers' own folder: the one above holds the state folder
    flag, starts = str(tmp_path / "probe" / "training"), str(tmp_path / "probe" / "starts.log")
    os.makedirs(tmp_path / "test_data")
    docs = manifests(data.index, out, str(tmp_path / "test_data"), str(tmp_path / "results"), threshold=10,
                     extra_env={"WORKER_SLEEP": "4", "WORKER_SLEEP_FLAG": flag, "START_LOG": starts})
    cp = ControlPlane(str(tmp_path)).start()
    try:
        cp.cli("apply", "-f", write_yaml(str(tmp_path / "job.yaml"), docs), check=True)
        data.append(data.lines("plain", 40))
        wait_for(lambda: os.path.exists(flag), timeout=60, what="the train worker to be running")
        cp.kill9()                                   # the controller dies mid-training
        assert cp.proc.returncode == -9
        cp.start()                                   # same state folder, same port

        def round1():
            job = cp.get("ll", "digits-ll")
            return job if last_round(job).get("round") == 1 else None
        job = wait_for(round1, timeout=120, what="round 1 to finish after the restart")
        assert last_round(job)["phase"] == "Succeeded"
        assert [r["round"] for r in job["status"]["rounds"]] == [1]   # once, not twice
        train_workers = [w for w in cp.workers() if w["stage"] == "train"]
        assert [w["name"] for w in train_workers] == ["digits-ll-train-1"]
        started = [ln.split()[0] for ln in open(starts).read().splitlines()]
        assert started.count("digits-ll-train-1") == 1  # adopted, not started again
        assert os.path.exists(os.path.join(out, "kb", "versions", "0001", "index.json"))
        # and the job goes on: the next samples make round 2
        data.append(data.lines("inverted", 40))
        wait_for(lambda: last_round(cp.get("ll", "digits-ll")).get("round") == 2, timeout=120, what="round 2")
    finally:
        cp.stop()
