"""Finished workers show how they ended (Succeeded with exit 0, Failed with
their exit code), not "Stopped" with no exit code; `sedna get ll` after a round
says how the round ended and what the job waits for."""

import os
from datetime import timedelta

import pytest

from sedna.control.reconcile import Settings, WorkerObs
from sedna.control.conditions import ts

from support.ctlplane import ControlPlane, DigitsIndex, last_round, manifests, write_yaml
from support.waiting import wait_for
from test_reconcile import Sim, completed, job


# ------------------------------------------------------------------ pure reconcile
def finish_train(sim):
    sim.step(pending=0)
    sim.now += timedelta(seconds=11)
    sim.step(pending=150)
    sim.set("robo-train-1", "Running")
    sim.step()
    w = sim.workers["robo-train-1"]
    sim.workers[w.name] = WorkerObs(w.name, w.stage, w.round, "Running", report=completed("/out/robo/kb/v1"),
                                    reported_at=ts(sim.now))
    return sim.step()


def test_a_worker_that_reported_is_left_to_exit_by_itself():
    sim = Sim(job(), Settings(exit_grace=30))
    res = finish_train(sim)
    assert sim.state == ("Eval", "Starting")
    assert not [a for a in sim.log if a.kind == "stop_worker"]  # exiting on its own: not killed
    assert res.requeue_after <= 1.0
    sim.now += timedelta(seconds=10)
    sim.step()
    assert not [a for a in sim.log if a.kind == "stop_worker"]
    sim.now += timedelta(seconds=25)  # past the grace: a worker that hangs after its report is stopped
    sim.step()
    assert [a.name for a in sim.log if a.kind == "stop_worker"] == ["robo-train-1"]


def test_a_waiting_job_says_why():
    sim = Sim(job(threshold=100))
    sim.step(pending=37)
    cond = sim.job["status"]["conditions"][-1]
    assert (cond["stage"], cond["type"]) == ("Train", "Waiting")
    assert cond["message"] == "waiting for training samples: 37 new, trains when > 100"
    assert cond["data"]["pendingTrainSamples"] == 37


def test_a_closed_timer_window_is_the_reason():
    sim = Sim(job(timer={"start": "02:00", "end": "03:00"}))  # T0 is 12:00 UTC
    sim.step(pending=500)
    assert sim.job["status"]["conditions"][-1]["message"].startswith("outside the training window 02:00-03:00")


# ----------------------------------------------------------------- real processes
def sedna_get(cp, *args):
    return cp.cli("get", *args, check=True).stdout.splitlines()


@pytest.fixture
def plane(tmp_path):
    cp = ControlPlane(str(tmp_path)).start()
    yield cp
    cp.stop()


def test_phases_and_the_waiting_job_through_the_control_plane(plane, tmp_path):
    pytest.importorskip("sklearn")
    data = DigitsIndex(str(tmp_path / "data"))
    out = str(tmp_path / "output" / "digits-ll")
    os.makedirs(tmp_path / "test_data")
    docs = manifests(data.index, out, str(tmp_path / "test_data"), str(tmp_path / "results"))
    plane.cli("apply", "-f", write_yaml(str(tmp_path / "job.yaml"), docs), check=True)
    data.append(data.lines("plain", 80) + data.lines("inverted", 80))
    wait_for(lambda: last_round(plane.get("ll", "digits-ll")).get("phase") == "Succeeded", timeout=120,
             what="round 1")

    def ended():
        ws = {w["name"]: w for w in plane.workers()}
        done = [ws.get(n) for n in ("digits-ll-train-1", "digits-ll-eval-1")]
        return done if all(w and w["phase"] not in ("Running", "Pending") for w in done) else None
    for w in wait_for(ended, timeout=60, what="train and eval workers to end"):
        assert (w["phase"], w["exitCode"]) == ("Succeeded", 0), w
    rows = [line.split() for line in sedna_get(plane, "workers")[1:]]
    assert ["digits-ll-train-1", "digits-ll", "train", "1", "Succeeded", "0"] in [r[:6] for r in rows]

    # after round 1, `get ll` says how it ended and what it waits for
    data.append(data.lines("rotated", 40))  # 32 train samples, the trigger wants > 100
    want = "round 1 succeeded; waiting for training samples: 32 new, trains when > 100"
    table = wait_for(lambda: (lambda t: t if want in t[1] else None)(sedna_get(plane, "ll")), timeout=30,
                     what="the waiting message")
    assert table[1].split()[:5] == ["digits-ll", "Train", "Waiting", "1", "1:Succeeded"]


def test_a_failing_worker_shows_failed_with_its_exit_code(tmp_path):
    cp = ControlPlane(str(tmp_path), ["--backoff", "0.5", "--max-attempts", "1"]).start()
    try:
        data = DigitsIndex(str(tmp_path / "data"))
        os.makedirs(tmp_path / "test_data")
        docs = manifests(data.index, str(tmp_path / "out"), str(tmp_path / "test_data"), str(tmp_path / "r"),
                         threshold=10, extra_env={"FAIL_TRAIN": "3"})
        cp.cli("apply", "-f", write_yaml(str(tmp_path / "job.yaml"), docs), check=True)
        data.append(data.lines("plain", 30))
        w = wait_for(lambda: [w for w in cp.workers() if w["name"] == "digits-ll-train-1"
                              and w["phase"] not in ("Running", "Pending")], timeout=60, what="the failure")[0]
        assert (w["phase"], w["exitCode"]) == ("Failed", 3)
        st = wait_for(lambda: cp.get("ll", "digits-ll")["status"].get("lastFailure") and
                      cp.get("ll", "digits-ll"), what="the recorded failure")["status"]
        failed = [c for c in st["conditions"] if c.get("reason") == "RoundFailed"]
        assert failed and failed[0]["message"].startswith("round 1 failed, its samples kept")
    finally:
        cp.stop()


def test_the_workers_of_a_job_for_sedna_logs():
    from sedna.cli.views import job_workers_text

    ws = [{"name": "j-train-1", "job": "j", "stage": "train", "round": 1, "phase": "Succeeded", "exitCode": 0,
           "created": None}, {"name": "k-train-1", "job": "k", "stage": "train", "round": 1, "phase": "Running"}]
    text = job_workers_text("j", ws)
    assert text.splitlines()[0] == "j is a job; its workers:"
    assert text.splitlines()[2].split()[:6] == ["j-train-1", "j", "train", "1", "Succeeded", "0"]
    assert "k-train-1" not in text and text.endswith("sedna logs j-train-1")
    assert job_workers_text("nope", ws) is None
