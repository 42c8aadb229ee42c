"""kubectl itself against `sedna up` (issue 9): discovery, `get`, `apply`
(create, then a merge patch), `describe`, `delete`, errors as kubectl prints
them, with the kubeconfig `sedna up` writes to its own file (never
~/.kube/config). The installed kubectl in a subprocess, a real server."""

import os
import shutil
import stat
import subprocess

import pytest
import yaml

from support.ctlplane import ControlPlane, manifests, write_yaml

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (these tests drive the real one)")


@pytest.fixture
def plane(tmp_path, user_config):
    home = tmp_path / "home"  # kubectl's cache and any ~/.kube/config would land here, not in the real home
    home.mkdir()
    cp = ControlPlane(str(tmp_path))
    cp.env["HOME"] = str(home)
    cp.start()
    cp.home = home
    cp.kubeconfig = os.path.join(cp.state_dir, "kubeconfig")
    try:
        yield cp
    finally:
        cp.stop()


def kubectl(cp, *args, input=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "SEDNA_"))}
    env.update({"KUBECONFIG": cp.kubeconfig, "HOME": str(cp.home)})
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=60, env=env, input=input)


def ok(p):
    assert p.returncode == 0, p.stderr
    return p.stdout


def job_docs(tmp_path, threshold=10 ** 6):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "data.txt").touch()
    return manifests(str(data / "data.txt"), str(tmp_path / "out"), str(tmp_path / "td"), str(tmp_path / "res"),
                     threshold=threshold)


def test_up_writes_its_own_kubeconfig(plane):
    assert stat.S_IMODE(os.stat(plane.kubeconfig).st_mode) == 0o600
    doc = yaml.safe_load(open(plane.kubeconfig))
    assert doc["current-context"] and doc["users"][0]["user"]["token"] == open(
        os.path.join(plane.state_dir, "token")).read().strip()
    assert doc["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
    assert not (plane.home / ".kube" / "config").exists()  # the user's kubeconfig is never written


@needs_kubectl
def test_discovery_names_the_kinds_and_short_names(plane):
    out = ok(kubectl(plane, "api-resources", "--api-group=sedna.io"))
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert "ds" in rows["datasets"] and "ll" in rows["lifelonglearningjobs"]
    assert "sedna.io/v1alpha1" in ok(kubectl(plane, "api-versions"))
    assert "Server Version" in ok(kubectl(plane, "version"))


@needs_kubectl
def test_get_apply_describe_delete(plane, tmp_path):
    assert "No resources found in default namespace." in kubectl(plane, "get", "ll").stderr
    path = write_yaml(str(tmp_path / "job.yaml"), job_docs(tmp_path))
    out = ok(kubectl(plane, "apply", "-f", path))
    assert "dataset.sedna.io/digits created" in out and "lifelonglearningjob.sedna.io/digits-ll created" in out
    table = ok(kubectl(plane, "get", "ll")).splitlines()  # the columns of `sedna get ll`, as a server-side Table
    assert table[0].split()[:4] == ["NAME", "STAGE", "STATUS", "ROUND"] and table[1].split()[:3] == [
        "digits-ll", "Train", "Waiting"]
    assert "TRAIN-SAMPLES" in ok(kubectl(plane, "get", "ll", "-o", "wide"))
    assert ok(kubectl(plane, "get", "ll", "-o", "name")).strip() == "lifelonglearningjob.sedna.io/digits-ll"
    assert "digits-ll" in ok(kubectl(plane, "get", "lifelonglearningjobs"))
    assert "digits" in ok(kubectl(plane, "get", "ds"))
    assert "unchanged" in ok(kubectl(plane, "apply", "-f", path))
    docs = job_docs(tmp_path, threshold=500)
    out = ok(kubectl(plane, "apply", "-f", write_yaml(path, docs)))  # a merge patch of the stored object
    assert "lifelonglearningjob.sedna.io/digits-ll configured" in out
    assert plane.get("ll", "digits-ll")["spec"]["trainSpec"]["trigger"]["condition"]["threshold"] == 500
    desc = ok(kubectl(plane, "describe", "ll", "digits-ll"))
    assert "Name:" in desc and "digits-ll" in desc and "LifelongLearningJob" in desc
    out = ok(kubectl(plane, "delete", "ll", "digits-ll", "--timeout=30s"))
    assert 'lifelonglearningjob.sedna.io "digits-ll" deleted' in out
    assert "digits-ll" not in ok(kubectl(plane, "get", "ll"))
    assert 'dataset.sedna.io "digits" deleted' in ok(kubectl(plane, "delete", "ds", "digits"))


@needs_kubectl
def test_errors_read_as_kubectl_prints_them(plane, tmp_path):
    p = kubectl(plane, "get", "ll", "nope")
    assert p.returncode == 1 and "NotFound" in p.stderr and "nope" in p.stderr
    bad = job_docs(tmp_path)[:1]
    bad[0]["spec"]["format"] = "xls"
    p = kubectl(plane, "apply", "-f", write_yaml(str(tmp_path / "bad.yaml"), bad))
    assert p.returncode == 1 and "spec.format" in p.stderr
    assert "No resources found" in kubectl(plane, "get", "ds").stderr  # nothing stored
    p = kubectl(plane, "get", "ll", "--watch")
    assert p.returncode == 1 and "watch is not supported" in p.stderr


def test_without_a_certificate_tool_sedna_up_still_runs_and_says_why(tmp_path, sedna, user_config):
    """No `cryptography` and no `openssl`: no kubectl listener, no kubeconfig, and a line saying so."""
    import sys

    blocker = tmp_path / "block" / "cryptography"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('blocked for this test')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(blocker.parent), os.environ.get("PYTHONPATH", "")]),
           "PATH": os.path.dirname(sys.executable)}
    state = tmp_path / "st"
    from support.ctlplane import free_port

    p = sedna("up", "--detach", "--state-dir", state, "--port", free_port(), env=env)
    try:
        assert p.returncode == 0, p.stderr
        assert "kubectl: unavailable" in p.stdout and not (state / "kubeconfig").exists()
        assert "No resources found" in sedna("get", "ll", "--state-dir", state).stdout
        assert "cannot make a TLS certificate" in (state / "server.log").read_text()
    finally:
        sedna("down", "--state-dir", state)
