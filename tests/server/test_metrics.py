"""``GET /metrics`` of a real ``sedna up`` on loopback, read over HTTP and parsed
with prometheus_client's own parser: the values a user's Prometheus would
store equal what ``sedna get -o json`` says about the same job."""

import json
import os
import re
import urllib.error
import urllib.request

import pytest

from sedna.common.api_paths import API, WORKERS, report_path, resource_path
from support.ctlplane import ControlPlane, DigitsIndex, last_round, manifests, write_yaml
from support.paths import REPO

pytest.importorskip("sklearn")
pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

JOB_PATH = resource_path("lifelonglearningjobs", "default", "digits-ll")
JOB_ROUTE = API + "/namespaces/{ns}/{plural}/{name}"  # the route template requests are counted under


def http_get(cp, path, accept=None):
    """``GET path`` over HTTP with the admin token: (body text, content type)."""
    req = urllib.request.Request(cp.url + path)
    req.add_header("Authorization", "Bearer " + admin_token(cp))
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode(), r.headers["content-type"]


def scrape(cp, accept=None):
    """``GET /metrics`` as Prometheus sends it: ``{(name, sorted labels): value}``, the families, the type."""
    text, ctype = http_get(cp, "/metrics", accept=accept)
    families = list(text_string_to_metric_families(text))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}
    return samples, {f.name: f for f in families}, ctype


def admin_token(cp):
    with open(os.path.join(cp.state_dir, "token")) as f:
        return f.read().strip()


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def start_job(cp, tmp_path, **kw):
    """The digits Dataset and job of the control-plane tests, applied."""
    data = DigitsIndex(str(tmp_path / "data"))
    test_data, results = str(tmp_path / "test_data"), str(tmp_path / "infer_results")
    os.makedirs(test_data)
    path = write_yaml(str(tmp_path / "job.yaml"),
                      manifests(data.index, str(tmp_path / "out"), test_data, results, **kw))
    cp.cli("apply", "-f", path, check=True)
    return data


def np_save(path, array):
    import numpy as np

    np.save(str(path), array)


def round_ended(cp, phase):
    def check():
        job = cp.get("ll", "digits-ll")
        return job if last_round(job).get("phase") == phase else None
    return check


def workers_ended(cp, stages):
    """The job's workers once every one of ``stages`` has exited by itself (what the histogram counts)."""
    def check():
        ws = cp.workers()
        return ws if all(w["phase"] in ("Succeeded", "Failed") for w in ws if w["stage"] in stages) else None
    return check


def test_metrics_equal_the_jobs_status_after_a_round(control_plane, tmp_path, wait_for):
    cp = control_plane
    data = start_job(cp, tmp_path, threshold=20)
    data.append(data.lines("plain", 60) + data.lines("inverted", 60))
    wait_for(round_ended(cp, "Succeeded"), timeout=120, what="round 1")
    # frames from a domain the job never saw: the inference worker saves those it flags as unseen
    from sedna.examples.digits import transform

    results = tmp_path / "infer_results"
    wait_for(lambda: (results / "started-digits-ll-deploy-1").exists(), what="the inference worker")
    for i, x in enumerate(transform("flipped", data.x[1600:1610])):
        np_save(tmp_path / "test_data" / f"odd{i}.npy", x)

    def answers():
        found = [json.loads(p.read_text()) for p in results.glob("odd*.npy.json")]
        return found if len(found) == 10 else None
    flagged = sum(a["unseen"] for a in wait_for(answers, what="the inference worker's ten answers"))
    assert flagged >= 1
    wait_for(lambda: cp.get("ll", "digits-ll")["status"]["knowledgeBase"]["samples"].get("unseenSamples")
             == flagged, what="the unseen count in the job's status")
    workers = wait_for(workers_ended(cp, ("train", "eval")), what="the train and eval workers to exit")
    job, ds = cp.get("ll", "digits-ll"), cp.get("ds", "digits")
    st, kb = job["status"], job["status"]["knowledgeBase"]

    samples, families, ctype = scrape(cp)
    assert ctype.startswith("text/plain; version=0.0.4")
    key = {"namespace": "default", "job": "digits-ll"}
    assert value(samples, "sedna_dataset_samples", namespace="default", dataset="digits") \
        == ds["status"]["numberOfSamples"] == 120
    assert value(samples, "sedna_job_rounds", outcome="Succeeded", **key) == 1 == len(st["rounds"])
    assert value(samples, "sedna_job_rounds", outcome="Failed", **key) == 0
    assert value(samples, "sedna_job_round", **key) == 1
    assert value(samples, "sedna_job_state", stage="Train", state="Waiting", **key) == 1
    assert value(samples, "sedna_job_samples", split="train", **key) == kb["samples"]["trainSamples"] == 96
    assert value(samples, "sedna_job_samples", split="eval", **key) == kb["samples"]["evalSamples"] == 24
    assert value(samples, "sedna_job_unseen_samples", **key) == kb["samples"]["unseenSamples"] >= 1
    assert value(samples, "sedna_kb_version", **key) == kb["version"] == 1
    for model in kb["AIModels"]:  # each task's eval accuracy, as the status has it
        assert value(samples, "sedna_task_metric", task=model["name"], source="eval", metric="accuracy",
                     **key) == model["evalMetrics"]["accuracy"]
    assert {m["name"] for m in kb["AIModels"]} == {"plain.model", "inverted.model"}

    # one duration per train/eval worker that ran; none restarted
    for stage in ("train", "eval"):
        ran = [w for w in workers if w["stage"] == stage]
        assert value(samples, "sedna_stage_duration_seconds_count", stage=stage) == len(ran) == 1
        assert value(samples, "sedna_stage_duration_seconds_bucket", stage=stage, le="+Inf") == 1
        assert value(samples, "sedna_worker_restarts_total", stage=stage, **key) == 0
    assert families["sedna_stage_duration_seconds"].type == "histogram"
    assert families["sedna_reconcile_duration_seconds"].type == "histogram"
    assert value(samples, "sedna_reconcile_duration_seconds_count") >= 3  # at least one per stage

    # requests are counted by route template, never by raw path
    routes = {dict(k[1])["route"] for k in samples if k[0] == "sedna_api_requests_total"}
    assert JOB_ROUTE in routes and report_path("{name}") in routes
    assert not any("digits-ll" in r for r in routes)
    assert value(samples, "sedna_api_requests_total", method="POST", route=report_path("{name}"),
                 code="200") >= 2  # the train and eval workers' reports

    # the Grafana board for cluster users queries only series sedna serves
    board = json.load(open(REPO / "deploy" / "grafana" / "sedna.json"))
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    queried = set(re.findall(r"\bsedna_[a-z_]+", " ".join(exprs)))
    assert len(queried) >= 10 and queried <= {name for name, _ in samples}


def test_metrics_need_the_admin_token_and_count_the_refusals(control_plane):
    cp = control_plane
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        req = urllib.request.Request(cp.url + "/metrics", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401
        assert b"sedna_" not in e.value.read()
    token = {"Authorization": "Bearer " + admin_token(cp)}
    for method, path, code in (("DELETE", "/metrics", 405), ("GET", "/no/such/path", 404)):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(cp.url + path, method=method, headers=token), timeout=10)
        assert e.value.code == code
    samples, _, _ = scrape(cp)
    assert value(samples, "sedna_api_requests_total", method="GET", route="/metrics", code="401") == 2
    assert value(samples, "sedna_api_requests_total", method="DELETE", route="/metrics", code="405") == 1
    # a path no route has is counted as "unmatched": a client cannot add label values at will
    assert value(samples, "sedna_api_requests_total", method="GET", route="unmatched", code="404") == 1
    # Prometheus asks for OpenMetrics first: it gets it
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om

    text, ctype = http_get(cp, "/metrics", accept="application/openmetrics-text;version=1.0.0,"
                                                  "text/plain;version=0.0.4;q=0.5")
    assert ctype.startswith("application/openmetrics-text")
    assert {"sedna_api_requests", "sedna_reconcile_duration_seconds"} <= {f.name for f in parse_om(text)}


def test_failed_rounds_and_their_retries_are_counted(tmp_path, wait_for):
    cp = ControlPlane(str(tmp_path), ["--backoff", "0.5", "--max-attempts", "2"]).start()
    try:
        data = start_job(cp, tmp_path, threshold=10, extra_env={"FAIL_TRAIN": "3"})
        data.append(data.lines("plain", 30))
        wait_for(round_ended(cp, "Failed"), timeout=120, what="the round to fail")

        # a failed round gives its samples back, so rounds keep starting and failing:
        # compare a listing with the scrapes just before and after it that agree
        def settled():
            watched = ("sedna_worker_restarts_total", "sedna_job_rounds", "sedna_stage_duration_seconds_count")
            before = scrape(cp)[0]
            job = json.loads(http_get(cp, JOB_PATH)[0])
            trains = [w for w in json.loads(http_get(cp, WORKERS + "/workers")[0])["items"] if w["stage"] == "train"]
            after = scrape(cp)[0]
            same = {k: v for k, v in before.items() if k[0] in watched} == \
                {k: v for k, v in after.items() if k[0] in watched}
            ended = all(w["phase"] in ("Succeeded", "Failed") for w in trains)
            return (after, job["status"], trains) if same and ended else None
        samples, st, trains = wait_for(settled, what="a listing between two equal scrapes")
    finally:
        cp.stop()
    key = {"namespace": "default", "job": "digits-ll"}
    rounds = {w["round"] for w in trains}
    assert value(samples, "sedna_worker_restarts_total", stage="train", **key) == len(trains) - len(rounds) >= 1
    failed = [r for r in st["rounds"] if r["phase"] == "Failed"]
    assert value(samples, "sedna_job_rounds", outcome="Failed", **key) == len(failed) == len(st["rounds"]) >= 1
    assert value(samples, "sedna_job_rounds", outcome="Succeeded", **key) == 0
    assert value(samples, "sedna_stage_duration_seconds_count", stage="train") == len(trains)  # failed tries too


def test_odd_values_in_a_status_never_break_a_scrape(tmp_path):
    """Workers choose the metrics a status carries: strings, NaN, flags, deep nesting
    and a task reported twice are skipped, and the scrape still parses."""
    from prometheus_client import CollectorRegistry, generate_latest

    from sedna.runtimes.local.store import Store
    from sedna.server.metrics import StoreCollector

    store = Store(str(tmp_path / "state.db"))  # the real SQLite store, no server
    job = manifests(str(tmp_path / "data.txt"), str(tmp_path / "out"), "", "")[1]
    store.apply(job)
    store.update_status("LifelongLearningJob", "default", "digits-ll", {
        "rounds": "not a list",
        "conditions": [1, {"type": "Running", "stage": "Eval", "round": "two"}],
        "knowledgeBase": {"version": True, "samples": {"trainSamples": "many", "unseenSamples": float("nan")},
                          "AIModels": [None, {"name": "a", "metrics": {"acc": 0.9, "note": "hi", "ok": True,
                                                                       "deep": {"x": {"y": {"z": 1}}},
                                                                       "loss": {"last": 0.25}}},
                                       {"name": "a", "metrics": {"acc": 0.1}}]}})
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(generate_latest(registry).decode()) for s in f.samples}
    key = {"namespace": "default", "job": "digits-ll"}
    tasks = {dict(k[1])["metric"]: v for k, v in samples.items() if k[0] == "sedna_task_metric"}
    assert tasks == {"acc": 0.9, "loss.last": 0.25}  # the first report of a task wins
    assert value(samples, "sedna_job_state", stage="Eval", state="Running", **key) == 1
    assert value(samples, "sedna_job_round", **key) == 0
    assert value(samples, "sedna_job_samples", split="train", **key) == 0
    assert value(samples, "sedna_job_unseen_samples", **key) is None
    assert value(samples, "sedna_kb_version", **key) is None
