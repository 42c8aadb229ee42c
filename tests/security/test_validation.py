"""Accepted means runnable (issue 8, findings 4 and 7): what the control plane
accepts at apply, it can run. Names follow Kubernetes' rules and fit the
local runtime's file names; env values hold nothing the OS refuses; numeric
fields have bounds; status bodies are validated like specs.

The validation tables run without a server; the last tests apply through a
real `sedna up` and watch a worker with the longest accepted name start."""

import copy
import json
import os
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from sedna.common.exceptions import ManifestError
from sedna.control.conditions import record_error
from sedna.control.names import NAME_MAX, max_job_name_length
from sedna.control.reconcile import DatasetObs, WorkerObs, reconcile
from sedna.control.resources import MAX_CHECK_PERIOD, load_manifests, validate, validate_status
from support.ctlplane import ControlPlane, DigitsIndex, manifests, write_yaml
from support.paths import MANIFESTS
from support.waiting import wait_for

(JOB,) = load_manifests(MANIFESTS / "tutorial-job.yaml")
(DATASET,) = load_manifests(MANIFESTS / "tutorial-dataset.yaml")
TRIGGER = ("spec", "trainSpec", "trigger")
C0 = ("spec", "trainSpec", "template", "spec", "containers", 0)
DEPLOY_POD = ("spec", "deploySpec", "template", "spec")


def _with(doc, path, value):
    doc = copy.deepcopy(doc)
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return doc


def _errors(doc):
    with pytest.raises(ManifestError) as e:
        validate(doc)
    return dict(e.value.errors)


def _long_name(n):
    """A DNS-1123 subdomain of exactly ``n`` characters, parts of at most 63."""
    parts, left = [], n
    while left > 0:
        take = min(63, left if left <= 63 else 62)
        parts.append("a" * take)
        left -= take + 1
    name = ".".join(parts)
    assert len(name) == n and all(len(p) <= 63 for p in name.split("."))
    return name


# ------------------------------------------------------------------ numeric bounds

@pytest.mark.parametrize("path,value,fragment", [
    (TRIGGER + ("checkPeriodSeconds",), 10 ** 14, "at most 31536000"),
    (TRIGGER + ("checkPeriodSeconds",), MAX_CHECK_PERIOD + 1, "at most 31536000"),
    (TRIGGER + ("checkPeriodSeconds",), 0, "positive integer"),
    (TRIGGER + ("condition", "threshold"), 10 ** 12, "<= 1000000000"),
    (TRIGGER + ("condition", "threshold"), float("inf"), "must be a number >= 0"),
    (TRIGGER + ("condition", "threshold"), float("nan"), "must be a number >= 0"),
])
def test_numeric_fields_out_of_bounds_are_refused_naming_the_field(path, value, fragment):
    errors = _errors(_with(JOB, path, value))
    field = ".".join(path)
    assert field in errors and fragment in errors[field], errors


def test_numeric_fields_at_their_bounds_are_accepted():
    doc = _with(JOB, TRIGGER + ("checkPeriodSeconds",), MAX_CHECK_PERIOD)
    doc = _with(doc, TRIGGER + ("condition", "threshold"), 10 ** 9)
    assert validate(doc)["spec"]["trainSpec"]["trigger"]["checkPeriodSeconds"] == MAX_CHECK_PERIOD
    assert validate(_with(JOB, TRIGGER + ("checkPeriodSeconds",), 1))


# ------------------------------------------------------------------ names

def test_a_dns_label_over_63_characters_inside_a_name_is_refused():
    name = "a" * 64 + ".b"
    for doc in (JOB, DATASET):
        errors = _errors(_with(doc, ("metadata", "name"), name))
        assert "at most 63 between dots" in errors["metadata.name"] and "64 characters" in errors["metadata.name"]


def test_a_253_character_job_name_is_refused_with_the_reason():
    errors = _errors(_with(JOB, ("metadata", "name"), _long_name(253)))
    msg = errors["metadata.name"]
    assert "NAME_MAX" in msg and f"at most {max_job_name_length('default')}" in msg and "exit" in msg


def test_the_longest_job_name_depends_on_the_namespace_and_fits_name_max():
    longest = max_job_name_length("default")
    ok = _with(JOB, ("metadata", "name"), _long_name(longest))
    assert validate(ok)["metadata"]["name"] == _long_name(longest)
    assert "metadata.name" in _errors(_with(JOB, ("metadata", "name"), _long_name(longest + 1)))
    team = _with(_with(JOB, ("metadata", "namespace"), "t" * 63), ("metadata", "name"), _long_name(longest))
    assert "in namespace 'ttt" in _errors(team)["metadata.name"]
    # the worst case the runtime will make of it: deploy worker, 9-digit round, 3-digit attempt
    worker = f"{_long_name(longest)}-deploy-{'9' * 9}-{'9' * 3}"
    assert len(f"default_{worker}-{'f' * 12}.exit") == NAME_MAX


def test_a_253_character_dataset_name_is_fine():
    assert validate(_with(DATASET, ("metadata", "name"), _long_name(253)))


# ------------------------------------------------------------------ what the OS refuses

TRAIN_C0 = "spec.trainSpec.template.spec.containers[0]"


@pytest.mark.parametrize("path,value,field,fragment", [
    (C0 + ("env", 1, "value"), "a\x00b", TRAIN_C0 + ".env[1].value", "NUL"),
    (C0 + ("env", 1, "value"), "\ud800", TRAIN_C0 + ".env[1].value", "lone surrogate"),
    (C0 + ("env", 1, "value"), "x" * 200_000, TRAIN_C0 + ".env[1].value", "bytes long"),
    (C0 + ("env", 1, "name"), "A\x00", TRAIN_C0 + ".env[1].name", "NUL"),
    (C0 + ("args",), ["train.py", "--x\x00"], TRAIN_C0 + ".args[1]", "NUL"),
    (C0 + ("workingDir",), "/tmp/\x00", TRAIN_C0 + ".workingDir", "NUL"),
    (DEPLOY_POD + ("volumes", 0, "hostPath", "path"), "/data/\x00",
     "spec.deploySpec.template.spec.volumes[0].hostPath.path", "NUL"),
    (("spec", "outputDir"), "/out/\x00", "spec.outputDir", "NUL"),
])
def test_strings_the_os_refuses_are_refused_at_apply_naming_the_field(path, value, field, fragment):
    errors = _errors(_with(JOB, path, value))
    assert field in errors, (field, errors)
    assert fragment in errors[field] and "operating system" in errors[field]


def test_dataset_url_with_nul_is_refused():
    assert "NUL" in _errors(_with(DATASET, ("spec", "url"), "/data/\x00.txt"))["spec.url"]


# ------------------------------------------------------------------ status bodies

@pytest.mark.parametrize("kind,status,path,fragment", [
    ("ll", {"conditions": [42]}, "status.conditions[0]", "must be a mapping"),
    ("ll", {"conditions": "Running"}, "status.conditions", "must be a list"),
    ("ll", {"conditions": [{"type": "Running", "status": "True", "stage": "Bogus"}]},
     "status.conditions[0].stage", "must be one of Train Eval Deploy"),
    ("ll", {"conditions": [{"status": "True"}]}, "status.conditions[0].type", "required"),
    ("ll", {"conditions": [{"type": "Running", "status": "yes"}]}, "status.conditions[0].status",
     "must be one of True False Unknown"),
    ("ll", {"conditions": [{"type": "Running", "status": "True", "lastTransitionTime": "yesterday"}]},
     "status.conditions[0].lastTransitionTime", "RFC 3339"),
    ("ll", {"conditions": [{"type": "Running", "status": "True", "round": -1}]}, "status.conditions[0].round",
     "a count"),
    ("ll", {"conditions": [{"type": "Running", "status": "True", "colour": "red"}]},
     "status.conditions[0].colour", "unknown field"),
    ("ll", {"rounds": [{"round": "one"}]}, "status.rounds[0].round", "a count"),
    ("ll", {"knowledgeBase": {"AIModels": [{"url": "/x"}]}}, "status.knowledgeBase.AIModels[0].name", "required"),
    ("ll", {"lastFailure": {"exitCode": "3"}}, "status.lastFailure.exitCode", "must be an integer"),
    ("ll", {"startTime": 5}, "status.startTime", "must be a string"),
    ("ll", {"numberOfSamples": 5}, "status.numberOfSamples", "unknown field"),
    ("ds", {"numberOfSamples": -1}, "status.numberOfSamples", "a count"),
    ("ds", {"numberOfSamples": True}, "status.numberOfSamples", "a count"),
    ("ds", {"conditions": [{"type": "IndexMissing", "status": "True", "stage": "Train"}]},
     "status.conditions[0].stage", "unknown field"),
    ("ds", [], "status", "must be a mapping"),
])
def test_invalid_status_bodies_are_refused_with_their_path(kind, status, path, fragment):
    with pytest.raises(ManifestError) as e:
        validate_status(kind, status)
    errors = dict(e.value.errors)
    assert path in errors and fragment in errors[path], e.value.errors


def test_every_status_the_controller_writes_is_valid():
    """A whole round through ``reconcile`` (and a recorded error) stays inside the schema."""
    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
    job = {"metadata": {"name": "robo", "namespace": "default"},
           "spec": {"dataset": {"name": "ds", "trainProb": 0.8}, "outputDir": "/out/robo",
                    "trainSpec": {"template": {}, "trigger": {"checkPeriodSeconds": 1, "condition": {
                        "operator": ">", "threshold": 1}}}, "evalSpec": {"template": {}},
                    "deploySpec": {"template": {}}}, "status": {}, "state": {}}
    workers, now, messages = {}, t0, []
    report = {"status": "completed", "ownerInfo": {"version": {"weird": ["any", "json"]}},
              "results": [{"format": "index", "url": "/out/robo/train/1/index.json", "metrics": {"a": {"acc": 1}}}]}
    for _ in range(12):
        res = reconcile(job, DatasetObs(url="/d.txt", pending_train=5, pending_eval=1), list(workers.values()), now)
        job = dict(job, status=res.status, state=res.state)
        validate_status("LifelongLearningJob", res.status)
        messages += [c["message"] for c in res.status["conditions"]]
        for a in res.actions:
            if a.kind == "start_worker":
                if not workers:  # the first worker cannot start: a Failed condition says why
                    workers[a.name] = WorkerObs(a.name, a.stage, a.round, "Failed", error="no such image")
                else:
                    workers[a.name] = WorkerObs(a.name, a.stage, a.round, "Succeeded", 0, report)
        now += timedelta(seconds=5)
    assert res.status["rounds"][-1]["phase"] == "Succeeded"
    assert any(m.startswith("worker robo-train-1 could not start: no such image; retry 1/2") for m in messages)
    bad = record_error(res.status, "OverflowError", "date value out of range", now, 3, 8.0)
    assert validate_status("ll", bad)["conditions"][-1]["type"] == "ReconcileError"


# ------------------------------------------------------------------ at apply, through a real server

@pytest.fixture
def plane(tmp_path):
    cp = ControlPlane(str(tmp_path)).start()
    cp.token = open(os.path.join(cp.state_dir, "token")).read().strip()
    yield cp
    cp.stop()


def _put(cp, path, body):
    req = urllib.request.Request(cp.url + path, data=json.dumps(body).encode(), method="PUT")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {cp.token}")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def _digits_docs(tmp_path, name="digits-ll", **kw):
    data = DigitsIndex(str(tmp_path / "data"))
    os.makedirs(tmp_path / "test_data", exist_ok=True)
    docs = manifests(data.index, str(tmp_path / "out"), str(tmp_path / "test_data"), str(tmp_path / "res"), **kw)
    docs[1]["metadata"]["name"] = name
    return data, docs


def test_an_env_value_with_nul_is_refused_at_apply_and_nothing_is_stored(plane, tmp_path):
    _, docs = _digits_docs(tmp_path, extra_env={"A": "ok", "SECRET": "x\x00y"})
    p = plane.cli("apply", "-f", write_yaml(str(tmp_path / "nul.yaml"), docs))
    assert p.returncode != 0
    assert "spec.trainSpec.template.spec.containers[0].env[1].value" in p.stderr and "NUL" in p.stderr
    # the API refuses it too, whoever calls it
    code, body = _put(plane, "/apis/sedna.io/v1alpha1/namespaces/default/lifelonglearningjobs/digits-ll", docs[1])
    assert code in (400, 422) and "env[1].value" in json.dumps(body), (code, body)
    assert "digits-ll" not in plane.cli("get", "ll").stdout


def test_the_longest_accepted_job_name_runs_and_one_more_character_is_refused(plane, tmp_path):
    longest = _long_name(max_job_name_length("default"))
    data, docs = _digits_docs(tmp_path, name=longest, threshold=5)
    too_long = copy.deepcopy(docs[1])
    too_long["metadata"]["name"] = _long_name(max_job_name_length("default") + 1)
    p = plane.cli("apply", "-f", write_yaml(str(tmp_path / "long.yaml"), [too_long]))
    assert p.returncode != 0 and "NAME_MAX" in p.stderr
    plane.cli("apply", "-f", write_yaml(str(tmp_path / "ok.yaml"), docs), check=True)
    data.append(data.lines("plain", 20))
    worker = f"{longest}-train-1"

    def started():
        w = [w for w in plane.workers() if w["name"] == worker]
        return w[0] if w and w[0]["phase"] in ("Running", "Succeeded") else None
    w = wait_for(started, timeout=120, what="the train worker with the longest name to start")
    assert w["phase"] in ("Running", "Succeeded")
    log = plane.cli("logs", worker)
    assert log.returncode == 0, log.stderr
