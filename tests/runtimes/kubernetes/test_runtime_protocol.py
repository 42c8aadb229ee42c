"""The Kubernetes runtime implements the server's ``Runtime`` protocol over a real
HTTP API server (kmock's emulator): objects, the workers (a job's Pods), reports."""

import pytest

from sedna.common.exceptions import NotFound
from sedna.control.runtime import ReportRefused, Runtime
from sedna.runtimes.kubernetes import pods
from sedna.runtimes.kubernetes.api import JOBS, PODS, connection

pytest.importorskip("kmock")

NS = "default"


def manifests(tmp_path):
    ds = {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "d", "namespace": NS},
          "spec": {"url": str(tmp_path / "data.txt"), "format": "txt", "nodeName": "n1"}}
    job = {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": "j", "namespace": NS},
           "spec": {"dataset": {"name": "d"}, "outputDir": str(tmp_path / "out"),
                    "trainSpec": {"template": {"spec": {"containers": [{"name": "w", "image": "x"}]}}}}}
    return ds, job


def test_the_kubernetes_runtime_serves_objects_workers_and_reports(api_emulator, kube, tmp_path):
    from sedna.runtimes.kubernetes.runtime import KubernetesRuntime

    rt = KubernetesRuntime(connection(api_emulator.url))
    assert isinstance(rt, Runtime)
    ds, job = manifests(tmp_path)
    assert rt.apply(ds)[1] == "created" and rt.apply(job)[1] == "created"
    assert rt.apply(ds)[1] == "unchanged"
    assert [o["metadata"]["name"] for o in rt.list("Dataset")] == ["d"]
    rt.update_status("LifelongLearningJob", NS, "j", {"sednaState": {"round": 1}, "startTime": "2026-01-01T00:00:00Z"})
    shown = rt.get("LifelongLearningJob", NS, "j", with_state=True)
    assert shown["status"] == {"startTime": "2026-01-01T00:00:00Z"} and shown["state"] == {"round": 1}

    kube.create(PODS, NS, pods.pod(kube.get(JOBS, NS, "j"), "j-train-1", "train", 1, {}))
    (w,) = rt.workers(NS, job="j")
    assert (w["name"], w["job"], w["stage"], w["round"], w["phase"]) == ("j-train-1", "j", "train", 1, "Pending")
    body = {"name": "j-train-1", "kind": "train", "status": "completed",
            "results": [{"url": str(tmp_path / "out" / "kb" / "index.json")}]}
    rt.report(NS, "j-train-1", body)
    assert rt.worker(NS, "j-train-1")["report"]["status"] == "completed"
    with pytest.raises(ReportRefused, match=r"results\[0\].url"):
        rt.report(NS, "j-train-1", dict(body, results=[{"url": "/etc/passwd"}]))
    with pytest.raises(NotFound):
        rt.worker(NS, "nobody")
    assert rt.worker_counts() == [{"namespace": NS, "job": "j", "stage": "train", "workers": 1, "rounds": 1}]
    rt.delete("Dataset", NS, "d")
    with pytest.raises(NotFound):
        rt.get("Dataset", NS, "d")


def test_the_server_runs_on_the_kubernetes_runtime(api_emulator, tmp_path):
    """``create_app`` around the Kubernetes runtime: kubectl-style calls over real HTTP
    reach the API server behind it (apply, get, list), with the admin token only."""
    import json
    import threading
    import urllib.error
    import urllib.request

    import uvicorn

    from support.ctlplane import free_port
    from support.waiting import wait_for
    from sedna.runtimes.kubernetes.runtime import KubernetesRuntime
    from sedna.server.app import create_app

    rt = KubernetesRuntime(connection(api_emulator.url), token="admin-t")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}/apis/sedna.io/v1alpha1/namespaces/{NS}/datasets"

    def call(method, url, body=None, token="admin-t"):
        req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    try:
        wait_for(lambda: server.started, timeout=30, what="the server")
        ds, _ = manifests(tmp_path)
        assert call("PUT", base + "/d", ds)[1]["result"] == "created"
        code, listed = call("GET", base)
        assert code == 200 and [o["metadata"]["name"] for o in listed["items"]] == ["d"]
        assert call("GET", base + "/d")[1]["spec"]["url"] == ds["spec"]["url"]
        assert call("GET", base + "/nope")[0] == 404
        assert call("GET", base, token="wrong")[0] in (401, 403)
    finally:
        server.should_exit = True
