"""The API server with bad input: every invalid manifest is rejected with its
field path, nothing is stored, and the server stays healthy. Also the token,
the worker-report checks and optimistic concurrency on status."""

import copy
import json
import os
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.ctlplane import ControlPlane
from support.paths import MANIFESTS
from sedna.control.resources import load_manifests

API = "/apis/sedna.io/v1alpha1/namespaces/default"
JOB = load_manifests(open(MANIFESTS / "tutorial-job.yaml").read())[0]
DATASET = load_manifests(open(MANIFESTS / "tutorial-dataset.yaml").read())[0]


@pytest.fixture(scope="module")
def plane(tmp_path_factory):
    cp = ControlPlane(str(tmp_path_factory.mktemp("api"))).start()
    cp.token = open(os.path.join(cp.state_dir, "token")).read().strip()
    yield cp
    cp.stop()


def call(cp, method, path, body=None, token=True):
    req = urllib.request.Request(cp.url + path, method=method,
                                 data=None if body is None else (body if isinstance(body, bytes) else
                                                                 json.dumps(body).encode()))
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {cp.token if token is True else token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def mutate(doc, path, value):
    d = copy.deepcopy(doc)
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    if value is DELETE:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    return d


DELETE = object()
TRAIN_C = ["spec", "trainSpec", "template", "spec", "containers", 0]
DEPLOY_C = ["spec", "deploySpec", "template", "spec", "containers", 0]
BAD = [
    (JOB, ["apiVersion"], "sedna.io/v2", "apiVersion"),
    (JOB, ["kind"], "Deployment", "kind"),
    (JOB, ["metadata", "name"], "Robo_Demo", "metadata.name"),
    (JOB, ["metadata"], DELETE, "metadata"),
    (JOB, ["spec", "dataset"], DELETE, "spec.dataset"),
    (JOB, ["spec", "dataset", "trainProb"], 1.5, "spec.dataset.trainProb"),
    (JOB, ["spec", "dataset", "trainProb"], "most", "spec.dataset.trainProb"),
    (JOB, ["spec", "outputDir"], "", "spec.outputDir"),
    (JOB, ["spec", "trainSpec", "trigger", "condition", "operator"], "~", "spec.trainSpec.trigger.condition.operator"),
    (JOB, ["spec", "trainSpec", "trigger", "condition", "threshold"], "many", "spec.trainSpec.trigger.condition.threshold"),
    (JOB, ["spec", "trainSpec", "trigger", "condition", "metric"], "accuracy", "spec.trainSpec.trigger.condition.metric"),
    (JOB, ["spec", "trainSpec", "trigger", "checkPeriodSeconds"], -5, "spec.trainSpec.trigger.checkPeriodSeconds"),
    (JOB, ["spec", "trainSpec", "trigger", "timer", "start"], "25:00", "spec.trainSpec.trigger.timer.start"),
    (JOB, ["spec", "trainSpec", "trigger", "timer", "end"], "12:61", "spec.trainSpec.trigger.timer.end"),
    (JOB, ["spec", "trainSpec", "template", "spec", "containers"], [], "spec.trainSpec.template.spec.containers"),
    (JOB, TRAIN_C + ["image"], DELETE, "spec.trainSpec.template.spec.containers[0].image"),
    (JOB, TRAIN_C + ["name"], DELETE, "spec.trainSpec.template.spec.containers[0].name"),
    (JOB, TRAIN_C + ["env", 0, "value"], 24, "spec.trainSpec.template.spec.containers[0].env[0].value"),
    (JOB, TRAIN_C + ["resources", "limits", "memory"], "12 gigs", "spec.trainSpec.template.spec.containers[0].resources.limits.memory"),
    (JOB, TRAIN_C + ["resources", "limits", "cpu"], "fast", "spec.trainSpec.template.spec.containers[0].resources.limits.cpu"),
    (JOB, TRAIN_C + ["volumeMounts", 0, "name"], "nope", "spec.trainSpec.template.spec.containers[0].volumeMounts[0].name"),
    (JOB, DEPLOY_C + ["volumeMounts", 1, "name"], "x", "spec.deploySpec.template.spec.containers[0].volumeMounts[1].name"),
    (JOB, ["spec", "evalSpec"], DELETE, "spec.evalSpec"),
    (JOB, ["spec", "deploySpec", "template"], DELETE, "spec.deploySpec.template"),
    (JOB, ["spec", "trainSpec", "trigger"], DELETE, "spec.trainSpec.trigger"),
    (JOB, ["spec", "surprise"], 1, "spec.surprise"),
    (DATASET, ["spec", "url"], "", "spec.url"),
    (DATASET, ["spec", "format"], "parquet", "spec.format"),
    (DATASET, ["spec", "nodeName"], DELETE, "spec.nodeName"),
    (DATASET, ["metadata", "namespace"], "Not_OK", "metadata.namespace"),
    (DATASET, ["spec"], "just a string", "spec"),
]


def stored_names(cp):
    return ({o["metadata"]["name"] for o in call(cp, "GET", API + "/datasets")[1]["items"]}
            | {o["metadata"]["name"] for o in call(cp, "GET", API + "/lifelonglearningjobs")[1]["items"]})


@pytest.mark.parametrize("doc, path, value, field", BAD, ids=[b[3] + "=" + repr(b[2])[:20] for b in BAD])
def test_invalid_manifest_rejected_with_its_field_path(plane, doc, path, value, field):
    from urllib.parse import quote

    bad = copy.deepcopy(doc)
    bad["metadata"]["name"] = "bad-one"
    bad = mutate(bad, path, value)
    name = (bad.get("metadata") or {}).get("name", "bad-one")
    plural = "lifelonglearningjobs" if doc is JOB else "datasets"
    code, body = call(plane, "PUT", f"{API}/{plural}/{quote(name)}", bad)
    assert code in (422, 404), body
    assert any(e["path"].startswith(field) or field.startswith(e["path"]) for e in body.get("errors", [])) \
        or field in body.get("message", ""), body
    assert not {"bad-one", name} & stored_names(plane)
    assert plane.healthy()


def test_the_cli_prints_one_line_per_problem_and_stores_nothing(plane, tmp_path):
    bad = mutate(JOB, ["spec", "trainSpec", "trigger", "condition", "operator"], "~")
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump_all([DATASET, bad]))
    p = plane.cli("apply", "-f", str(path))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "spec.trainSpec.trigger.condition.operator: must be one of > >= = == != <= <" in p.stderr
    assert "lifelong-robo-dataset" not in stored_names(plane)  # the valid document was not stored either


leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=False, width=32),
                 st.text(max_size=12))
junk = st.recursive(leaf, lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=8), c,
                                                                                      max_size=3)), max_leaves=6)


def _paths(d, prefix=()):
    yield prefix
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(JOB) if p and p[0] != "metadata"]
FUZZ_IDS = __import__("itertools").count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), junk), min_size=1, max_size=3))
def test_fuzzed_manifests_never_break_the_server(plane, edits):
    doc = copy.deepcopy(JOB)
    name = f"fuzzed-{next(FUZZ_IDS)}"  # one name per example: deleting a job takes a controller pass
    doc["metadata"]["name"] = name
    for path, value in edits:
        cur = doc
        try:
            for k in path[:-1]:
                cur = cur[k]
            cur[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    code, body = call(plane, "PUT", API + f"/lifelonglearningjobs/{name}", doc)
    assert code in (200, 422), (code, body)
    if code == 422:
        assert body["errors"] and all(e["path"] for e in body["errors"])
        assert name not in stored_names(plane)
    else:
        call(plane, "DELETE", API + f"/lifelonglearningjobs/{name}")
    assert plane.healthy()


def test_every_call_but_healthz_needs_the_token(plane):
    assert call(plane, "PUT", API + "/datasets/lifelong-robo-dataset", DATASET, token=False)[0] == 401
    assert call(plane, "PUT", API + "/datasets/lifelong-robo-dataset", DATASET, token="wrong")[0] == 401
    assert call(plane, "GET", API + "/datasets", token=False)[0] == 401
    assert call(plane, "GET", API + "/datasets")[0] == 200
    mode = os.stat(os.path.join(plane.state_dir, "token")).st_mode & 0o777
    assert mode == 0o600


def test_not_json_and_wrong_path_are_clear_errors(plane):
    assert call(plane, "PUT", API + "/datasets/x", b"{not json")[0] == 400
    code, body = call(plane, "PUT", API + "/datasets/other-name", DATASET)
    assert code == 422 and body["errors"][0]["path"] == "metadata.name"
    assert call(plane, "GET", API + "/gadgets")[0] == 404


def test_worker_report_name_must_match_the_path(plane):
    code, body = call(plane, "POST", "/sedna/workers/w1/info",
                      {"name": "w2", "namespace": "default", "kind": "train", "status": "completed", "results": []})
    assert code == 400 and "name" in body["detail"]
    code, body = call(plane, "POST", "/sedna/workers/w1/info",
                      {"name": "w1", "namespace": "default", "kind": "dance", "status": "completed"})
    assert code == 400 and "kind" in body["detail"]
    code, _ = call(plane, "POST", "/sedna/workers/w1/info",
                   {"name": "w1", "namespace": "default", "kind": "train", "status": "completed"})
    assert code == 404  # no such worker


def test_status_updates_with_a_stale_resource_version_conflict(plane):
    code, body = call(plane, "PUT", API + "/datasets/lifelong-robo-dataset", DATASET)
    assert code == 200
    stale = body["object"]["metadata"]["resourceVersion"]
    # a writer with the current version succeeds (the controller may write in between: then read again)
    for _ in range(20):
        rv = call(plane, "GET", API + "/datasets/lifelong-robo-dataset")[1]["metadata"]["resourceVersion"]
        ok = call(plane, "PUT", API + "/datasets/lifelong-robo-dataset/status",
                  {"metadata": {"resourceVersion": rv}, "status": {"numberOfSamples": 1}})
        if ok[0] == 200:
            break
        assert ok[0] == 409
    assert ok[0] == 200
    # a writer holding an old version is refused instead of overwriting
    lost = call(plane, "PUT", API + "/datasets/lifelong-robo-dataset/status",
                {"metadata": {"resourceVersion": stale}, "status": {"numberOfSamples": 2}})
    assert lost[0] == 409 and "stale" in lost[1]["message"]
    call(plane, "DELETE", API + "/datasets/lifelong-robo-dataset")


def test_tutorial_manifests_are_accepted_by_sedna_apply(plane):
    p = plane.cli("apply", "-f", str(MANIFESTS), check=True)
    assert "dataset.sedna.io/lifelong-robo-dataset created" in p.stdout
    assert "lifelonglearningjob.sedna.io/robo-demo created" in p.stdout
    again = plane.cli("apply", "-f", str(MANIFESTS), check=True)
    assert "lifelonglearningjob.sedna.io/robo-demo unchanged" in again.stdout
    job = plane.get("ll", "robo-demo")
    assert job["spec"]["trainSpec"]["trigger"]["timer"] == {"start": "00:00", "end": "24:00"}
    assert job["metadata"]["uid"] and job["metadata"]["generation"] == 1
    plane.cli("delete", "-f", str(MANIFESTS), check=True)
