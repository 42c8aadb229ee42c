"""The control plane on one machine, with real processes and real HTTP:
`sedna up`, `sedna apply -f`, rounds triggered only by appending lines to the
Dataset's index, eval then deploy replacing the inference worker."""

import json
import os
import time

import pytest

from support.ctlplane import ControlPlane, DigitsIndex, last_round, manifests, write_yaml
from support.waiting import wait_for

pytest.importorskip("sklearn")


@pytest.fixture
def plane(tmp_path):
    cp = ControlPlane(str(tmp_path)).start()
    yield cp
    cp.stop()


def setup_job(cp, tmp_path, **kw):
    data = DigitsIndex(str(tmp_path / "data"))
    out = str(tmp_path / "output" / "digits-ll")
    test_data, results = str(tmp_path / "test_data"), str(tmp_path / "infer_results")
    os.makedirs(test_data)
    path = write_yaml(str(tmp_path / "job.yaml"), manifests(data.index, out, test_data, results, **kw))
    p = cp.cli("apply", "-f", path, check=True)
    assert p.stdout.split("\n")[:2] == ["dataset.sedna.io/digits created",
                                         "lifelonglearningjob.sedna.io/digits-ll created"]
    return data, out, test_data, results


def round_done(cp, r):
    def check():
        job = cp.get("ll", "digits-ll")
        last = last_round(job)
        if last.get("round") == r:
            assert last["phase"] == "Succeeded", last
            return job
        return None
    return check


def test_three_rounds_triggered_by_appending_to_the_index(plane, tmp_path):
    data, out, test_data, results = setup_job(plane, tmp_path)
    job = plane.get("ll", "digits-ll")
    assert job["status"]["conditions"][-1]["stage"] == "Train"
    # 100 samples: 80 train, not > 100: nothing happens
    data.append(data.lines("plain", 60) + data.lines("inverted", 40))
    wait_for(lambda: plane.get("ds", "digits")["status"].get("numberOfSamples") == 100, what="the index count")
    # crossing the threshold: round 1
    data.append(data.lines("plain", 40) + data.lines("inverted", 60))
    job = wait_for(round_done(plane, 1), timeout=120, what="round 1")
    assert os.path.exists(os.path.join(out, "kb", "versions", "0001", "index.json"))
    train_lines = open(os.path.join(out, "data", "train", "1", "data.txt")).read().splitlines()
    eval_lines = open(os.path.join(out, "data", "eval", "1", "data.txt")).read().splitlines()
    assert (len(train_lines), len(eval_lines)) == (160, 40)
    assert sorted(job["status"]["knowledgeBase"]["AIClasses"]) == ["inverted.model", "plain.model"]
    wait_for(lambda: os.path.exists(os.path.join(results, "started-digits-ll-deploy-1")), what="inference worker 1")

    # round 2: a new domain
    data.append(data.lines("rotated", 150))
    job = wait_for(round_done(plane, 2), timeout=120, what="round 2")
    assert "rotated.model" in job["status"]["knowledgeBase"]["AIClasses"]
    kb2 = json.load(open(os.path.join(out, "kb", "index.json")))  # one KB for the job: version 2 is current
    assert kb2["version"] == 2 and kb2["parent_version"] == 1

    # round 3
    data.append(data.lines("plain", 70) + data.lines("rotated", 70))
    job = wait_for(round_done(plane, 3), timeout=120, what="round 3")
    assert json.load(open(os.path.join(out, "kb", "index.json")))["version"] == 3
    assert sorted(os.listdir(os.path.join(out, "kb", "versions"))) == ["0001", "0002", "0003"]

    # deploy replaced the inference worker each round: only round 3's runs
    def deploy_phases():
        ws = {w["name"]: w["phase"] for w in plane.workers() if w["stage"] == "deploy"}
        return ws if ws.get("digits-ll-deploy-3") == "Running" and all(
            p != "Running" for n, p in ws.items() if n != "digits-ll-deploy-3") else None
    phases = wait_for(deploy_phases, what="one running inference worker")
    assert set(phases) == {"digits-ll-deploy-1", "digits-ll-deploy-2", "digits-ll-deploy-3"}

    # the live inference worker serves round 3's knowledge base
    import numpy as np
    from sedna.examples.digits import transform

    np.save(os.path.join(test_data, "probe.npy"), transform("rotated", data.x[1500:1501])[0])
    res = wait_for(lambda: json.load(open(os.path.join(results, "probe.npy.json"))), what="an inference result")
    assert res["worker"] == "digits-ll-deploy-3" and res["kb_version"] == 3 and not res["unseen"]
    assert res["result"] == int(data.y[1500])

    # a never-seen domain is flagged unseen, saved, and counted in the job's status
    np.save(os.path.join(test_data, "odd.npy"), transform("flipped", data.x[1600:1601])[0])
    res = wait_for(lambda: json.load(open(os.path.join(results, "odd.npy.json"))), what="an unseen result")
    assert res["unseen"] and isinstance(res["result"], int)  # flagged, and still answered
    wait_for(lambda: (plane.get("ll", "digits-ll")["status"]["knowledgeBase"]["samples"].get("unseenSamples")
                      == 1), what="the unseen count in the job status")

    table = plane.cli("get", "ll", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "STAGE", "STATUS", "ROUND", "LAST-ROUND", "AGE", "MESSAGE"]
    assert table[1].split()[:5] == ["digits-ll", "Train", "Waiting", "3", "3:Succeeded"]
    assert "round 3 succeeded; waiting for training samples" in table[1]  # why it waits, not "stuck"
    wide = plane.cli("get", "ll", "-o", "wide", check=True).stdout.splitlines()
    assert wide[1].split()[5] == "3"  # models
    assert "digits-ll-train-3" in plane.cli("describe", "ll", "digits-ll", check=True).stdout
    log = plane.cli("logs", "digits-ll-train-1", check=True).stdout
    assert "knowledge base version 1" in log


def test_a_failing_worker_is_retried_then_the_job_records_the_failure(tmp_path):
    cp = ControlPlane(str(tmp_path), ["--backoff", "0.5", "--max-attempts", "3", "--max-failed-rounds", "2"]).start()
    try:
        data, out, test_data, results = setup_job(cp, tmp_path, threshold=10, extra_env={"FAIL_TRAIN": "3"})
        data.append(data.lines("plain", 30))

        def failed():
            st = cp.get("ll", "digits-ll")["status"]
            return st if st.get("lastFailure") else None
        st = wait_for(failed, timeout=120, what="the job to record the failure")
        assert st["lastFailure"]["exitCode"] == 3 and "failing on purpose" in st["lastFailure"]["logTail"]
        assert st["rounds"][-1]["phase"] == "Failed"
        reasons = [c["reason"] for c in st["conditions"]]
        assert "BackoffLimitExceeded" in reasons
        # round 1's own retries (round 2, from the kept samples, may already be retrying)
        assert reasons[:reasons.index("BackoffLimitExceeded")].count("Retrying") == 2
        names = sorted(w["name"] for w in cp.workers() if w["round"] == 1)
        assert names == ["digits-ll-train-1", "digits-ll-train-1-1", "digits-ll-train-1-2"]
        # the failed round's samples were kept: they trigger round 2 without a new line
        wait_for(lambda: any(w["name"] == "digits-ll-train-2" for w in cp.workers()), what="round 2 from kept samples")
        train2 = open(os.path.join(out, "data", "train", "2", "data.txt")).read().splitlines()
        assert len(train2) == 24  # 80 % of the 30 lines
        # round 2 fails as well: two rounds in a row, the job is Failed with the worker's error
        # and starts no round 3, however long it is left
        def job_failed():
            conds = cp.get("ll", "digits-ll")["status"]["conditions"]
            return conds[-1] if conds[-1]["reason"] == "JobFailed" else None
        cond = wait_for(job_failed, timeout=120, what="the job to be Failed")
        assert cond["type"] == "Failed" and "2 rounds in a row failed" in cond["message"]
        assert "failing on purpose" in cond["message"]
        time.sleep(3)  # three trigger periods: a round 3 would have started
        assert job_failed() and not [w for w in cp.workers() if w["round"] == 3]
        # the job changed (the failure fixed): it trains again, from the samples kept
        docs = manifests(data.index, out, test_data, results, threshold=10)
        cp.cli("apply", "-f", write_yaml(str(tmp_path / "fixed.yaml"), docs), check=True)
        wait_for(lambda: any(w["name"] == "digits-ll-train-3" for w in cp.workers()), what="round 3 once changed")
        assert cp.healthy()
    finally:
        cp.stop()


def test_a_truncated_index_is_a_condition_not_a_crash(plane, tmp_path):
    data, out, _, _ = setup_job(plane, tmp_path, threshold=1000)
    data.append(data.lines("plain", 50))
    wait_for(lambda: plane.get("ds", "digits")["status"].get("numberOfSamples") == 50, what="50 samples")
    with open(data.index, "r+") as f:
        f.truncate(100)
    ds = wait_for(lambda: (plane.get("ds", "digits")["status"].get("conditions") or [None])[-1], what="a condition")
    assert ds["reason"] == "Truncated"
    data.append(data.lines("plain", 10))
    wait_for(lambda: plane.get("ds", "digits")["status"].get("numberOfSamples") == 60, what="counting to go on")
    assert plane.healthy()


def test_deleting_a_job_stops_its_workers(plane, tmp_path):
    data, out, _, _ = setup_job(plane, tmp_path, threshold=10)
    data.append(data.lines("plain", 40))
    wait_for(round_done(plane, 1), timeout=120, what="round 1")
    wait_for(lambda: any(w["phase"] == "Running" and w["stage"] == "deploy" for w in plane.workers()),
             what="a running inference worker")
    pid = [w["pid"] for w in plane.workers() if w["stage"] == "deploy"][0]
    assert plane.cli("delete", "ll", "digits-ll").returncode == 0

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    wait_for(gone, what="the inference worker to stop")
    assert "No resources found" in plane.cli("get", "ll").stdout


def test_an_unmapped_image_fails_the_round_with_a_message_that_says_how_to_map_it(tmp_path):
    cp = ControlPlane(str(tmp_path), ["--backoff", "0.2", "--max-attempts", "2"]).start()
    try:
        data = DigitsIndex(str(tmp_path / "data"))
        os.makedirs(tmp_path / "td")
        docs = manifests(data.index, str(tmp_path / "out"), str(tmp_path / "td"), str(tmp_path / "res"), threshold=5)
        for d in docs[1:]:
            for spec in ("trainSpec", "evalSpec", "deploySpec"):
                d["spec"][spec]["template"]["spec"]["containers"][0]["image"] = "nobody/unknown:v9"
        cp.cli("apply", "-f", write_yaml(str(tmp_path / "j.yaml"), docs), check=True)
        data.append(data.lines("plain", 20))

        def failed():
            st = cp.get("ll", "digits-ll")["status"]
            return st.get("lastFailure")
        fail = wait_for(failed, timeout=60, what="the failure to be recorded")
        assert "nobody/unknown:v9" in fail["logTail"] and "--image" in fail["logTail"]
        assert cp.healthy()
    finally:
        cp.stop()
