"""The node agent (``sedna.runtimes.kubernetes.agent``) as a real process, with kmock's
Kubernetes API emulator standing in for the API server: it counts the index lines of
its node's Datasets into their status, and takes worker reports authenticated by each
worker's own token. The last test runs the real operator and agent together."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("kopf")
pytest.importorskip("kmock")

from support.ctlplane import free_port, stop_process as stop  # noqa: E402
from support.waiting import wait_for  # noqa: E402
from sedna.runtimes.kubernetes import pods  # noqa: E402
from sedna.runtimes.kubernetes.api import DATASETS, JOBS, PODS, SECRETS  # noqa: E402

NS = "default"
NODE = "sedna-mini-control-plane"




def start(module, *args, log):
    with open(log, "ab") as f:
        return subprocess.Popen([sys.executable, "-m", f"sedna.runtimes.kubernetes.{module}", *args],
                                stdout=f, stderr=subprocess.STDOUT)


@pytest.fixture
def agent(api_emulator, tmp_path):
    port = free_port()
    proc = start("agent", "--server", api_emulator.url, "--node-name", NODE, "--host", "127.0.0.1",
                 "--port", str(port), "--period", "0.2", "--state-dir", str(tmp_path / "agent-state"), log=tmp_path / "agent.log")
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return True
        except OSError:
            return proc.poll() is not None and pytest.fail((tmp_path / "agent.log").read_text())
    wait_for(up, what="the agent")
    yield url
    stop(proc)


def post_report(agent_url, worker, body, token=None):
    req = urllib.request.Request(f"{agent_url}/sedna/workers/{worker}/info", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json",
                                                         **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def dataset(name, node, url):
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": name},
            "spec": {"url": str(url), "format": "txt", "nodeName": node}}


def samples_of(kube, name):
    return ((kube.get(DATASETS, NS, name) or {}).get("status") or {}).get("numberOfSamples")


def test_agent_counts_its_nodes_index_lines_on_the_api_emulator(kube, agent, tmp_path):
    """Lines appended on the agent's node raise the Dataset's numberOfSamples; a Dataset
    of another node is left alone; a half-written last line waits for its newline."""
    index, other = tmp_path / "data.txt", tmp_path / "other.txt"
    index.write_text("a 1\nb 2\n")
    other.write_text("x 1\n")
    kube.create(DATASETS, NS, dataset("mine", NODE, index))
    kube.create(DATASETS, NS, dataset("theirs", "edge-2", other))
    wait_for(lambda: samples_of(kube, "mine") == 2, what="2 samples")
    with open(index, "a") as f:
        f.write("c 3\nd 4\ne")
    wait_for(lambda: samples_of(kube, "mine") == 4, what="4 samples")
    with open(index, "a") as f:
        f.write(" 5\n")
    wait_for(lambda: samples_of(kube, "mine") == 5, what="5 samples")
    assert samples_of(kube, "theirs") is None
    assert kube.get(DATASETS, NS, "mine")["status"]["updateTime"].endswith("Z")


def test_a_restarted_agent_counts_nothing_twice_on_the_api_emulator(kube, api_emulator, tmp_path):
    """The watcher's position lives in the Dataset's status: an agent killed and started
    again goes on from there (lines appended while it was down are counted once)."""
    index = tmp_path / "data.txt"
    index.write_text("a 1\nb 2\n")
    kube.create(DATASETS, NS, dataset("mine", NODE, index))
    argv = ("--server", api_emulator.url, "--node-name", NODE, "--host", "127.0.0.1", "--period", "0.2",
            "--state-dir", str(tmp_path / "agent-state"))
    proc = start("agent", *argv, "--port", str(free_port()), log=tmp_path / "agent.log")
    try:
        wait_for(lambda: samples_of(kube, "mine") == 2, what="2 samples")
    finally:
        proc.kill()
        proc.wait(10)
    with open(index, "a") as f:
        f.write("c 3\n")
    proc = start("agent", *argv, "--port", str(free_port()), log=tmp_path / "agent.log")
    try:
        wait_for(lambda: samples_of(kube, "mine") == 3, what="3 samples")
        time.sleep(1)
        assert samples_of(kube, "mine") == 3
    finally:
        stop(proc)


def test_agent_writes_round_files_the_operator_could_not_on_the_api_emulator(kube, agent, tmp_path):
    """A round claimed by the operator (lines [0, 10) of the index) whose files are missing:
    the agent, which can read the index on its node, writes them (8 train, 2 eval)."""
    index, out = tmp_path / "data.txt", tmp_path / "out"
    index.write_text("".join(f"x{i} y{i}\n" for i in range(12)))
    kube.create(DATASETS, NS, dataset("d", NODE, index))
    kube.create(JOBS, NS, {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob",
                           "metadata": {"name": "j"},
                           "spec": {"outputDir": str(out), "dataset": {"name": "d", "trainProb": 0.8}},
                           "status": {"sednaState": {"round": 1, "claims": {"1": [0, 10, 0]}}}})
    train, evals = out / "data" / "train" / "1" / "data.txt", out / "data" / "eval" / "1" / "data.txt"
    wait_for(lambda: train.exists() and evals.exists(), what="the round's files")  # train is written first
    assert train.read_text().splitlines() == [f"x{i} y{i}" for i in (0, 1, 2, 3, 5, 6, 7, 8)]
    assert evals.read_text().splitlines() == ["x4 y4", "x9 y9"]


def create_job(kube, out):
    """Job ``j`` of this node, as the API server holds it."""
    kube.create(JOBS, NS, {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob",
                           "metadata": {"name": "j"},
                           "spec": {"outputDir": out, "dataset": {"name": "d"},
                                    "trainSpec": {"template": {"spec": {"nodeName": NODE,
                                                                        "containers": [{"name": "c"}]}}}}})


def make_worker(kube, job_name, worker, out):
    """What the operator makes for a worker: its Pod (on this node) and its token Secret."""
    job = kube.get(JOBS, NS, job_name)
    kube.create(PODS, NS, pods.pod(job, worker, "train", 1, {"OUTPUT_URL": f"{out}/kb"}))
    secret = pods.token_secret(job, worker, "train", 1)
    kube.create(SECRETS, NS, secret)
    return pods.secret_token(secret)


def report(worker, job_name, out, **kw):
    body = {"name": worker, "namespace": NS, "ownerName": job_name, "ownerKind": "lifelonglearningjob",
            "kind": "train", "status": "completed",
            "results": [{"format": "json", "url": f"{out}/kb/index.json", "metrics": {}}], "ownerInfo": {}}
    body.update(kw)
    return body


def test_a_workers_token_cannot_report_for_another_worker_on_the_api_emulator(kube, agent, tmp_path):
    """Each worker posts its own report with its own token; the report lands in the job's
    status. Another worker's token, no token, a wrong name or a URL outside outputDir: refused."""
    out = str(tmp_path / "out")
    create_job(kube, out)
    t1 = make_worker(kube, "j", "j-train-1", out)
    t2 = make_worker(kube, "j", "j-train-2", out)
    assert t1 != t2
    code, body = post_report(agent, "j-train-2", report("j-train-2", "j", out), token=t1)
    assert code == 403 and "does not belong to worker default/j-train-2" in body["detail"]
    assert post_report(agent, "j-train-1", report("j-train-1", "j", out))[0] == 401
    assert post_report(agent, "j-train-1", report("j-train-2", "j", out), token=t1)[0] == 400
    code, body = post_report(agent, "j-train-1", report("j-train-1", "j", out, results=[{"url": "/etc/passwd"}]),
                             token=t1)
    assert code == 400 and "outputDir" in body["detail"]
    assert "workerReports" not in (kube.get(JOBS, NS, "j").get("status") or {})
    assert post_report(agent, "j-train-1", report("j-train-1", "j", out), token=t1) == (200, {"result": "accepted"})
    got = kube.get(JOBS, NS, "j")["status"]["workerReports"]
    assert list(got) == ["j-train-1"] and got["j-train-1"]["status"] == "completed"
    assert got["j-train-1"]["results"][0]["url"] == f"{out}/kb/index.json"


def _raw_post(agent_url, worker, body, authorization=None):
    """A POST with bytes as they are: a body no JSON encoder makes, a header urllib would refuse."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(agent_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    conn.putrequest("POST", f"/sedna/workers/{worker}/info")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(body)))
    if authorization is not None:
        conn.putheader("Authorization", authorization)
    conn.endheaders(body)
    r = conn.getresponse()
    out = r.status, json.loads(r.read())
    conn.close()
    return out


def test_the_agents_input_errors_are_400_and_401_never_500_on_the_api_emulator(kube, agent, tmp_path):
    """Issue 19, finding 11: a deeply nested body and a bearer token that is not ASCII."""
    out = str(tmp_path / "out")
    create_job(kube, out)
    token = make_worker(kube, "j", "j-train-1", out)
    code, body = _raw_post(agent, "j-train-1", b"[" * 200000 + b"]" * 200000, f"Bearer {token}")
    assert code == 400 and "JSON" in body["detail"]
    good = json.dumps(report("j-train-1", "j", out)).encode()
    code, body = _raw_post(agent, "j-train-1", good, "Bearer ".encode() + "t\u00e9t\u00e9".encode())
    assert code == 401 and "token" in body["detail"]
    assert _raw_post(agent, "j-train-1", good, f"Bearer {token}") == (200, {"result": "accepted"})


def test_three_rounds_with_the_real_operator_and_agent_on_the_api_emulator(kube, api_emulator, agent, tmp_path):
    """The tutorial's Dataset + job; lines appended on the agent's node start each round's
    train Pod; the workers report through the agent with their own tokens; the test plays the
    kubelet. Three rounds: train -> eval -> deploy, round 2 and 3 update the KB of the last."""
    from test_operator_emulated import JOB, env_of, kubelet, manifests

    ds, job, index = manifests(tmp_path)
    out = job["spec"]["outputDir"]
    lc = agent
    op = start("operator", "--server", api_emulator.url, "--lc-server", lc, log=tmp_path / "operator.log")
    try:
        kube.create(DATASETS, NS, ds)
        kube.create(JOBS, NS, job)
        for r in (1, 2, 3):
            with open(index, "a") as f:
                f.write("".join(f"img/{r}-{i}.png lbl/{r}-{i}.png\n" for i in range(130)))
            train = wait_for(lambda: kube.get(PODS, NS, f"{JOB}-train-{r}"), what=f"round {r}'s train Pod")
            env = env_of(train)
            assert env["LC_SERVER"] == lc
            assert env["HAS_COMPLETED_INITIAL_TRAINING"] == ("true" if r > 1 else "false")
            if r > 1:
                assert env["CLOUD_KB_INDEX"] == f"{out}/kb/index.json"
            with open(env["TRAIN_DATASET_URL"]) as f:
                assert len(f.read().splitlines()) == 104
            for stage in ("train", "eval"):
                name = f"{JOB}-{stage}-{r}"
                wait_for(lambda: kube.get(PODS, NS, name), what=f"Pod {name}")
                token = pods.secret_token(kube.get(SECRETS, NS, f"{name}-token"))
                kubelet(kube, name, "Running")
                url = f"{out}/kb/index.json" if stage == "train" else f"{out}/eval/{r}/index.json"
                os.makedirs(os.path.dirname(url), exist_ok=True)
                with open(url, "w") as f:
                    f.write("{}")
                assert post_report(lc, name, report(name, JOB, out, kind=stage, results=[{"url": url}]),
                                   token=token)[0] == 200
                kubelet(kube, name, "Succeeded", 0)
            dep = wait_for(lambda: kube.get(PODS, NS, f"{JOB}-deploy-{r}"), what=f"round {r}'s deploy Pod")
            assert env_of(dep)["MODEL_URLS"] == f"{out}/deploy/index.json"
            kubelet(kube, f"{JOB}-deploy-{r}", "Running")
            wait_for(lambda: [x for x in (kube.get(JOBS, NS, JOB)["status"].get("rounds") or [])
                              if x["round"] == r and x["phase"] == "Succeeded"], what=f"round {r} to succeed")
        # the inference Pod of round 3 replaced the earlier ones
        wait_for(lambda: kube.get(PODS, NS, f"{JOB}-deploy-2") is None, what="the old inference Pod to go")
        assert kube.get(PODS, NS, f"{JOB}-deploy-3")
        assert samples_of(kube, ds["metadata"]["name"]) == 390
    finally:
        stop(op)
