"""``reconcile`` driven with plain data and a fake clock (no processes, no files)."""

from datetime import datetime, timedelta, timezone

import pytest

from sedna.control.reconcile import DatasetObs, Settings, WorkerObs, reconcile

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)


def job(period=10, operator=">", threshold=100, timer=None):
    trigger = {"checkPeriodSeconds": period, "condition": {"operator": operator, "threshold": threshold,
                                                           "metric": "num_of_samples"}}
    if timer:
        trigger["timer"] = timer
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob",
            "metadata": {"name": "robo", "namespace": "default"},
            "spec": {"dataset": {"name": "ds", "trainProb": 0.8}, "outputDir": "/out/robo",
                     "trainSpec": {"template": {}, "trigger": trigger}, "evalSpec": {"template": {}},
                     "deploySpec": {"template": {}}},
            "status": {}, "state": {}}


class Sim:
    """Applies reconcile results back onto the job, like a runtime would."""

    def __init__(self, j, settings=Settings()):
        self.job, self.now, self.settings = j, T0, settings
        self.workers = {}
        self.log = []

    def step(self, pending=0, dataset=True):
        ds = DatasetObs(exists=dataset, url="/data/ds/data.txt", pending_train=pending,
                        pending_eval=pending // 4)
        res = reconcile(self.job, ds if dataset else None, list(self.workers.values()), self.now, self.settings)
        self.job = dict(self.job, status=res.status, state=res.state)
        for a in res.actions:
            self.log.append(a)
            if a.kind == "start_worker":
                self.workers[a.name] = WorkerObs(a.name, a.stage, a.round, "Pending")
            elif a.kind == "stop_worker" and a.name in self.workers:
                w = self.workers[a.name]
                self.workers[a.name] = WorkerObs(w.name, w.stage, w.round, "Failed", exit_code=-15)
        return res

    def set(self, name, phase, code=None, report=None, tail=""):
        w = self.workers[name]
        self.workers[name] = WorkerObs(w.name, w.stage, w.round, phase, code, report, tail)

    @property
    def state(self):
        c = self.job["status"]["conditions"][-1]
        return c["stage"], c["type"]

    def started(self, stage):
        return [a for a in self.log if a.kind == "start_worker" and a.stage == stage]


def completed(url, metrics=None):
    return {"status": "completed", "results": [{"format": "index", "url": url, "metrics": metrics or {}}]}


def run_round(sim, pending=150, r=1):
    sim.now += timedelta(seconds=11)
    sim.step(pending=pending)
    tw = sim.started("train")[-1]
    sim.set(tw.name, "Running")
    sim.step()
    sim.set(tw.name, "Succeeded", 0, completed(f"/out/robo/kb/versions/{r:04d}/index.json", {"a.model": {"acc": 0.9}}))
    sim.step()
    ew = sim.started("eval")[-1]
    sim.set(ew.name, "Succeeded", 0, completed(f"/out/robo/eval/{r}/index.json", {"a.model": {"acc": 0.8}}))
    sim.step()
    dw = sim.started("deploy")[-1]
    sim.set(dw.name, "Running")
    sim.step()
    return tw, ew, dw


def test_new_job_waits_for_the_trigger():
    sim = Sim(job())
    res = sim.step(pending=50)
    assert sim.state == ("Train", "Waiting") and not res.actions
    assert res.requeue_after == pytest.approx(10)


def test_a_full_round_train_eval_deploy():
    sim = Sim(job())
    sim.step(pending=0)
    sim.now += timedelta(seconds=11)
    res = sim.step(pending=150)
    kinds = [a.kind for a in res.actions]
    assert kinds == ["start_round", "start_worker"]
    train = res.actions[1]
    assert train.stage == "train" and train.round == 1 and train.name == "robo-train-1"
    assert train.env["TRAIN_DATASET_URL"] == "/out/robo/data/train/1/data.txt"
    assert train.env["ORIGINAL_DATASET_URL"] == "/data/ds/data.txt"
    assert train.env["OUTPUT_URL"] == "/out/robo/kb"  # one knowledge base per job
    assert train.env["HAS_COMPLETED_INITIAL_TRAINING"] == "false" and "CLOUD_KB_INDEX" not in train.env
    assert sim.state == ("Train", "Starting")
    sim.set("robo-train-1", "Running")
    sim.step()
    assert sim.state == ("Train", "Running")
    sim.set("robo-train-1", "Succeeded", 0, completed("/out/robo/kb/versions/0001/index.json", {"a.model": {"acc": 0.9}}))
    res = sim.step()
    ev = [a for a in res.actions if a.kind == "start_worker"][0]
    assert ev.stage == "eval" and ev.env["MODEL_URLS"] == "/out/robo/kb/versions/0001/index.json"
    assert ev.env["TEST_DATASET_URL"] == "/out/robo/data/eval/1/data.txt"
    assert sim.job["status"]["knowledgeBase"]["AIModels"][0]["name"] == "a.model"
    sim.set(ev.name, "Succeeded", 0, completed("/out/robo/eval/1/index.json"))
    res = sim.step()
    pub = [a for a in res.actions if a.kind == "publish_deployment"][0]
    assert (pub.source, pub.target) == ("/out/robo/eval/1/index.json", "/out/robo/deploy/index.json")
    dep = [a for a in res.actions if a.kind == "start_worker"][0]
    assert dep.stage == "deploy" and dep.env["MODEL_URLS"] == "/out/robo/deploy/index.json"
    assert "KB_SERVER" not in dep.env
    sim.set(dep.name, "Running")
    sim.step()
    assert sim.state == ("Train", "Waiting")
    assert sim.job["status"]["rounds"][-1]["phase"] == "Succeeded"
    types = [(c["stage"], c["type"]) for c in sim.job["status"]["conditions"]]
    for stage in ("Train", "Eval", "Deploy"):
        assert (stage, "Completed") in types


def test_round_two_updates_from_the_previous_kb_and_replaces_the_inference_worker():
    sim = Sim(job())
    _, _, dep1 = run_round(sim, r=1)
    tw2, _, dep2 = run_round(sim, r=2)
    assert tw2.env["HAS_COMPLETED_INITIAL_TRAINING"] == "true"
    assert tw2.env["OUTPUT_URL"] == "/out/robo/kb"  # the same KB: round 2 adds version 2
    assert tw2.env["CLOUD_KB_INDEX"] == "/out/robo/kb/versions/0001/index.json"
    stops = [a.name for a in sim.log if a.kind == "stop_worker"]
    assert dep1.name in stops and dep2.name not in stops


def test_trigger_not_checked_before_the_period():
    sim = Sim(job(period=30))
    sim.step(pending=0)  # checked at T0
    sim.now += timedelta(seconds=10)
    res = sim.step(pending=500)
    assert not res.actions and res.requeue_after == pytest.approx(20)
    sim.now += timedelta(seconds=20)
    assert [a.kind for a in sim.step(pending=500).actions] == ["start_round", "start_worker"]


def test_timer_window_wrapping_past_midnight():
    sim = Sim(job(timer={"start": "22:00", "end": "06:00"}))
    sim.step(pending=500)  # 12:00 UTC: outside
    assert not sim.started("train")
    sim.now = T0.replace(hour=23)
    sim.step(pending=500)
    assert sim.started("train")


def test_failure_is_retried_with_backoff_then_recorded_and_samples_kept():
    sim = Sim(job(), Settings(max_attempts=3, backoff_base=2.0))
    sim.now += timedelta(seconds=11)
    sim.step(pending=150)
    name = sim.started("train")[-1].name
    sim.set(name, "Failed", 1, tail="Traceback...\nValueError: boom")
    res = sim.step()
    assert sim.state == ("Train", "Failed")
    assert sim.job["status"]["conditions"][-1]["reason"] == "Retrying"
    assert res.requeue_after == pytest.approx(2.0)
    assert not [a for a in res.actions if a.kind == "start_worker"]
    sim.now += timedelta(seconds=1)
    assert not [a for a in sim.step().actions if a.kind == "start_worker"]  # still backing off
    sim.now += timedelta(seconds=1.5)
    retry = [a for a in sim.step().actions if a.kind == "start_worker"]
    assert len(retry) == 1 and retry[0].name == "robo-train-1-1"
    sim.set(retry[0].name, "Failed", 1)
    sim.step()
    sim.now += timedelta(seconds=4.5)  # second backoff is 4 s
    retry2 = [a for a in sim.step().actions if a.kind == "start_worker"]
    assert retry2 and retry2[0].name == "robo-train-1-2"
    sim.set(retry2[0].name, "Failed", 1, tail="ValueError: boom")
    res = sim.step()
    assert [a.kind for a in res.actions if a.kind == "release_round"] == ["release_round"]
    assert sim.state == ("Train", "Waiting")
    fail = sim.job["status"]["lastFailure"]
    assert fail["exitCode"] == 1 and "boom" in fail["logTail"] and fail["round"] == 1
    assert sim.job["status"]["rounds"][-1]["phase"] == "Failed"
    # the next round starts from the samples the failed round gave back
    sim.now += timedelta(seconds=11)
    sim.step(pending=150)
    assert sim.started("train")[-1].round == 2


def test_a_worker_of_an_earlier_round_cannot_complete_a_later_one():
    sim = Sim(job())
    tw1, _, _ = run_round(sim, r=1)
    sim.now += timedelta(seconds=11)
    sim.step(pending=150)
    assert sim.state == ("Train", "Starting")
    # a late "completed" from round 1's train worker arrives
    sim.workers[tw1.name] = WorkerObs(tw1.name, "train", 1, "Running",
                                      report=completed("/out/robo/kb/versions/0001/index.json"))
    res = sim.step()
    assert sim.state == ("Train", "Starting")
    assert tw1.name in [a.name for a in res.actions if a.kind == "stop_worker"]


def test_conditions_stay_bounded_over_many_rounds():
    sim = Sim(job())
    for r in range(1, 13):
        run_round(sim, r=r)
    st = sim.job["status"]
    assert len(st["conditions"]) <= 30
    assert {c["round"] for c in st["conditions"]} <= {11, 12}
    assert [x["round"] for x in st["rounds"]] == list(range(1, 13))


def test_deleting_a_job_stops_its_workers():
    sim = Sim(job())
    _, _, dep = run_round(sim)
    sim.job["metadata"]["deletionTimestamp"] = "2026-11-27T12:30:00Z"
    res = sim.step()
    assert dep.name in [a.name for a in res.actions if a.kind == "stop_worker"]


def test_missing_dataset_is_a_condition_not_a_crash():
    sim = Sim(job())
    sim.step(dataset=False)
    assert sim.job["status"]["conditions"][-1]["reason"] == "DatasetMissing"


def test_a_lost_worker_counts_as_a_failure():
    sim = Sim(job())
    sim.now += timedelta(seconds=11)
    sim.step(pending=150)
    name = sim.started("train")[-1].name
    sim.set(name, "Unknown")
    sim.step()
    assert sim.state == ("Train", "Failed")


def test_an_action_kind_is_one_of_the_enum_and_compares_as_its_name():
    from sedna.control.reconcile import Action, ActionKind

    a = Action(kind="start_worker", name="w")
    assert a.kind is ActionKind.START_WORKER and a.kind == "start_worker"
    with pytest.raises(ValueError):
        Action(kind="start_wroker")


def fail_round(sim, pending=150, tail="ValueError: boom"):
    """Open a round and fail its train worker until the round is given up."""
    sim.now += timedelta(seconds=11)
    sim.step(pending=pending)
    for _ in range(sim.settings.max_attempts):
        sim.set(sim.started("train")[-1].name, "Failed", 1, tail=tail)
        sim.step()
        sim.now += timedelta(seconds=sim.settings.backoff_max + 1)
        sim.step()


def test_rounds_failing_in_a_row_fail_the_job_until_its_spec_changes():
    sim = Sim(job(), Settings(max_attempts=2, backoff_base=1.0, backoff_max=1.0, max_failed_rounds=2))
    fail_round(sim)
    assert sim.job["status"]["conditions"][-1]["reason"] == "RoundFailed"  # one round: the next may succeed
    fail_round(sim, tail="Traceback (most recent call last):\nKeyError: 'label'\n")
    cond = sim.job["status"]["conditions"][-1]
    assert (cond["type"], cond["reason"]) == ("Failed", "JobFailed")
    assert "2 rounds in a row failed" in cond["message"] and "KeyError: 'label'" in cond["message"]
    rounds = len(sim.started("train"))
    for _ in range(5):  # however long it is left, with samples pending, no round starts
        sim.now += timedelta(minutes=10)
        res = sim.step(pending=500)
        assert not res.actions and sim.job["status"]["conditions"][-1]["reason"] == "JobFailed"
    assert len(sim.started("train")) == rounds
    sim.job["metadata"]["generation"] = 2  # the user changed the job
    sim.now += timedelta(seconds=11)
    sim.step(pending=150)
    assert sim.started("train")[-1].round == 3
    assert "JobChanged" in [c["reason"] for c in sim.job["status"]["conditions"]]


def test_a_succeeded_round_resets_the_count_of_failed_rounds():
    sim = Sim(job(), Settings(max_attempts=1, max_failed_rounds=2))
    fail_round(sim)
    run_round(sim, r=2)
    fail_round(sim)
    assert sim.job["status"]["conditions"][-1]["reason"] == "RoundFailed"


def test_the_unseen_count_the_runtime_observed_goes_into_the_status():
    j = job()
    j["status"] = {"knowledgeBase": {"samples": {"trainSamples": 4, "unseenSamples": 1}}}
    res = reconcile(j, DatasetObs(), [], T0, Settings(), unseen_samples=7)
    assert res.status["knowledgeBase"]["samples"]["unseenSamples"] == 7
    res = reconcile(dict(j, status=res.status), DatasetObs(), [], T0, Settings())  # not known: kept
    assert res.status["knowledgeBase"]["samples"]["unseenSamples"] == 7


def test_a_waiting_job_says_why_its_datasets_index_cannot_be_read():
    ds = DatasetObs(problem="index file /data/x.txt does not exist")
    res = reconcile(job(), ds, [], T0, Settings())
    assert res.status["conditions"][-1]["message"] == (
        "waiting for training samples: the Dataset's index file /data/x.txt does not exist")
