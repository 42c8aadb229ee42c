"""End to end on a real Kubernetes cluster: the CRDs as the API server reads them, the
operator writing a job's status, `kubectl get ll` columns, deletion removing the job's Pods.

Skipped unless ``KUBECONFIG`` names a kubeconfig and ``SEDNA_E2E=1``: it installs sedna with
``kubectl apply -k deploy/`` (the images must be reachable by the cluster: see
deploy/e2e-kind.sh, which builds them and runs a whole round on kind) and creates, then deletes,
a namespace ``sedna-e2e-<random>``. A whole round needs data on the node: deploy/e2e-kind.sh. ``SEDNA_E2E_NODE`` names the node for the Dataset and the
workers (default: the first node). Never run in this project's CI (no cluster there).
"""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from sedna.control.resources import load_manifests
from support.paths import MANIFESTS
from support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (os.environ.get("KUBECONFIG") and os.environ.get("SEDNA_E2E") == "1" and shutil.which("kubectl")),
    reason="real-cluster test: set KUBECONFIG and SEDNA_E2E=1 (and install kubectl) to run it")


def kubectl(*args, stdin=None, check=True, timeout=120):
    p = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {p.stderr.strip()}")
    return p


@pytest.fixture(scope="module")
def installed():
    kubectl("apply", "-k", str(REPO / "deploy"), timeout=300)
    kubectl("wait", "--for=condition=Established", "crd/datasets.sedna.io", "crd/lifelonglearningjobs.sedna.io",
            "--timeout=60s")
    kubectl("-n", "sedna-system", "rollout", "status", "deployment/sedna-operator", "--timeout=300s", timeout=320)
    kubectl("-n", "sedna-system", "rollout", "status", "daemonset/sedna-agent", "--timeout=300s", timeout=320)


@pytest.fixture
def namespace(installed):
    ns = f"sedna-e2e-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", ns)
    yield ns
    kubectl("delete", "namespace", ns, "--wait=false", check=False)


def _node():
    if os.environ.get("SEDNA_E2E_NODE"):
        return os.environ["SEDNA_E2E_NODE"]
    return kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout.strip()


def _tutorial(ns):
    node = _node()
    ds = load_manifests(MANIFESTS / "tutorial-dataset.yaml")[0]
    job = load_manifests(MANIFESTS / "tutorial-job.yaml")[0]
    for m in (ds, job):
        m["metadata"]["namespace"] = ns
    ds["spec"]["nodeName"] = node
    for stage in ("trainSpec", "evalSpec", "deploySpec"):
        job["spec"][stage]["template"]["spec"]["nodeName"] = node
    return ds, job


def _apply(manifest, *flags, check=True):
    return kubectl("apply", *flags, "-f", "-", stdin=yaml.safe_dump(manifest), check=check)


def test_the_api_server_accepts_the_tutorials_manifests(namespace):
    for m in _tutorial(namespace):
        _apply(m, "--dry-run=server")


@pytest.mark.parametrize("field,value", [("format", "xml"), ("url", 5)])
def test_the_api_server_refuses_what_sedna_apply_refuses(namespace, field, value):
    ds, _ = _tutorial(namespace)
    ds["spec"][field] = value
    p = _apply(ds, "--dry-run=server", check=False)
    assert p.returncode != 0 and f"spec.{field}" in p.stderr


def test_the_operator_writes_the_jobs_state_and_kubectl_shows_it(namespace):
    """No samples arrive, so the job waits in Train; deleting it leaves no Pod behind."""
    ds, job = _tutorial(namespace)
    _apply(ds)
    _apply(job)

    def state():
        out = kubectl("-n", namespace, "get", "ll", "robo-demo", "-o", "json").stdout
        conds = (json.loads(out).get("status") or {}).get("conditions") or []
        return conds[-1] if conds else None

    last = wait_for(state, timeout=180, interval=2, what="the operator to write the job's first condition")
    assert last["stage"] == "Train" and last["type"] in ("Waiting", "Ready", "Starting", "Running")
    header = kubectl("-n", namespace, "get", "ll").stdout.splitlines()[0].split()
    assert header[:5] == ["NAME", "STAGE", "STATUS", "ROUND", "AGE"]
    kubectl("-n", namespace, "delete", "ll", "robo-demo", "--wait=true", timeout=180)
    pods = kubectl("-n", namespace, "get", "pods", "-l", "sedna.io/job=robo-demo", "-o", "name").stdout.strip()
    assert pods == ""


def test_a_status_written_by_hand_is_checked_by_the_schema(namespace):
    ds, _ = _tutorial(namespace)
    _apply(ds)
    bad = {"status": {"numberOfSamples": "many"}}
    p = kubectl("-n", namespace, "patch", "ds", ds["metadata"]["name"], "--subresource=status", "--type=merge",
                "-p", json.dumps(bad), check=False)
    assert p.returncode != 0 and "numberOfSamples" in p.stderr
