"""The Kubernetes operator (``sedna.runtimes.kubernetes.operator``) as a real
process, with kmock's Kubernetes API emulator standing in for the API server.

The emulator stores objects and serves list/watch/get/create/merge-patch/
delete; it schedules and runs no Pod, keeps no resourceVersion and validates
nothing. So these tests play the node agent (they count and log the index's lines with
the agent's own code and patch the Dataset's status), the kubelet (they patch Pod phases and exit
codes) and, where needed, the workers (they write the eval output).
"""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

pytest.importorskip("kopf")
pytest.importorskip("kmock")

from support.ctlplane import stop_process  # noqa: E402
from support.paths import MANIFESTS  # noqa: E402
from support.waiting import wait_for  # noqa: E402
from sedna.runtimes.kubernetes.api import DATASETS, JOBS, PODS, SECRETS  # noqa: E402

NS = "default"
JOB = "robo-demo"


def manifests(tmp_path, threshold=100):
    """The tutorial's Dataset and job, with the index and outputDir under ``tmp_path``."""
    with open(MANIFESTS / "tutorial-dataset.yaml") as f:
        ds = yaml.safe_load(f)
    with open(MANIFESTS / "tutorial-job.yaml") as f:
        job = yaml.safe_load(f)
    index = tmp_path / "data" / "data.txt"
    index.parent.mkdir(parents=True)
    index.write_text("")
    ds["spec"]["url"] = str(index)
    job["spec"]["outputDir"] = str(tmp_path / "output")
    trigger = job["spec"]["trainSpec"]["trigger"]
    trigger["checkPeriodSeconds"] = 1  # the tutorial's 30 s would only slow the test down
    trigger["condition"]["threshold"] = threshold
    return ds, job, index





class OperatorProcess:
    """The real operator, cluster-wide unless ``args`` says ``--namespace NS``."""
    def __init__(self, url, log_path, args=()):
        self.url, self.log_path, self.args, self.proc = url, log_path, list(args), None

    def start(self):
        log = open(self.log_path, "ab")
        argv = [sys.executable, "-m", "sedna.runtimes.kubernetes.operator", "--server", self.url, *self.args]
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        stop_process(self.proc)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]


@pytest.fixture
def operator(api_emulator, tmp_path):
    op = OperatorProcess(api_emulator.url, tmp_path / "operator.log").start()
    yield op
    op.stop()
    if os.environ.get("SEDNA_TEST_SHOW_LOGS"):
        print(op.log())


def pod(kube, name):
    return kube.get(PODS, NS, name)


def pod_names(kube):
    return sorted(p["metadata"]["name"] for p in kube.list(PODS, NS))


def kubelet(kube, name, phase, exit_code=None):
    """Play the kubelet: set a Pod's phase (and its container's exit code). What the container
    wrote is ``api_emulator.write_pod_log(NS, name, text)``."""
    status = {"phase": phase, "hostIP": "10.0.0.7"}
    if exit_code is not None:
        term = {"exitCode": exit_code, "reason": "Error" if exit_code else "Completed"}
        container = pod(kube, name)["spec"]["containers"][0]["name"]
        status["containerStatuses"] = [{"name": container, "state": {"terminated": term}}]
    kube.patch(PODS, NS, name, {"status": status}, sub="status")


def last_condition(kube):
    conds = ((kube.get(JOBS, NS, JOB) or {}).get("status") or {}).get("conditions") or []
    states = [c for c in conds if c.get("type") != "ReconcileError"]
    return (states[-1]["stage"], states[-1]["type"]) if states else None


def count_samples(kube, ds_name, tmp_path, ns=NS):
    """Play the node agent, with its own code: count and log the index's new lines, patch the status."""
    from sedna.control.rounds import IndexWatcher
    from sedna.runtimes.kubernetes import samples

    patch, _, _ = samples.advance(IndexWatcher(), kube.get(DATASETS, ns, ds_name), str(tmp_path / "agent-state"))
    kube.patch(DATASETS, ns, ds_name, {"status": patch}, sub="status")


def apply_tutorial(kube, tmp_path, lines=130, threshold=100):
    ds, job, index = manifests(tmp_path, threshold)
    kube.create(DATASETS, NS, ds)
    kube.create(JOBS, NS, job)
    index.write_text("".join(f"img/{i}.png lbl/{i}.png\n" for i in range(lines)))
    count_samples(kube, ds["metadata"]["name"], tmp_path)  # on the dataset's node
    return job


def env_of(p):
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in p["spec"]["containers"][0]["env"]}


def test_round_pods_on_the_api_emulator(kube, operator, tmp_path):
    """Samples cross the threshold -> round 1's train Pod with the template's spec and the
    worker env contract; Succeeded -> eval Pod; Succeeded -> deploy Pod; Running -> Deploy/Completed."""
    job = apply_tutorial(kube, tmp_path)
    out = job["spec"]["outputDir"]
    train = wait_for(lambda: pod(kube, f"{JOB}-train-1"), what="the train Pod")
    meta, spec = train["metadata"], train["spec"]
    assert meta["labels"]["sedna.io/job"] == JOB and meta["labels"]["sedna.io/stage"] == "train"
    assert meta["labels"]["sedna.io/round"] == "1"
    assert meta["ownerReferences"][0]["kind"] == "LifelongLearningJob" and meta["ownerReferences"][0]["name"] == JOB
    assert spec["nodeName"] == "sedna-mini-control-plane" and spec["restartPolicy"] == "Never"
    assert spec["volumes"][0]["name"] == "cache-volume"
    env = env_of(train)
    assert env["TRAIN_DATASET_URL"] == f"{out}/data/train/1/data.txt"
    assert env["ORIGINAL_DATASET_URL"] == str(tmp_path / "data" / "data.txt")
    assert env["OUTPUT_URL"] == f"{out}/kb" and env["HAS_COMPLETED_INITIAL_TRAINING"] == "false"
    assert env["NAMESPACE"] == NS and env["JOB_NAME"] == JOB and env["WORKER_NAME"] == f"{JOB}-train-1"
    assert env["LC_SERVER"] == "http://$(SEDNA_NODE_IP):9100" and env["num_class"] == "24"
    assert env["LC_TOKEN"] == {"secretKeyRef": {"name": f"{JOB}-train-1-token", "key": "token"}}
    assert kube.get(SECRETS, NS, f"{JOB}-train-1-token")["data"]["token"]
    # round files: 130 lines, trainProb 0.8 -> 104 train, 26 eval
    with open(env["TRAIN_DATASET_URL"]) as f:
        assert len(f.read().splitlines()) == 104
    kubelet(kube, f"{JOB}-train-1", "Running")
    kubelet(kube, f"{JOB}-train-1", "Succeeded", 0)
    ev = wait_for(lambda: pod(kube, f"{JOB}-eval-1"), what="the eval Pod")
    assert env_of(ev)["TEST_DATASET_URL"] == f"{out}/data/eval/1/data.txt"
    assert env_of(ev)["MODEL_URLS"] == f"{out}/kb/index.json"
    os.makedirs(f"{out}/eval/1")
    with open(f"{out}/eval/1/index.json", "w") as f:  # play the eval worker's output
        f.write("{}")
    kubelet(kube, f"{JOB}-eval-1", "Succeeded", 0)
    dep = wait_for(lambda: pod(kube, f"{JOB}-deploy-1"), what="the deploy Pod")
    assert env_of(dep)["MODEL_URLS"] == f"{out}/deploy/index.json" and "KB_SERVER" not in env_of(dep)
    assert os.path.exists(f"{out}/deploy/index.json")
    assert dep["spec"]["hostNetwork"] is True
    kubelet(kube, f"{JOB}-deploy-1", "Running")
    wait_for(lambda: last_condition(kube) == ("Train", "Waiting"), what="the round to complete")
    rounds = kube.get(JOBS, NS, JOB)["status"]["rounds"]
    assert rounds[-1]["round"] == 1 and rounds[-1]["phase"] == "Succeeded"
    assert pod_names(kube) == [f"{JOB}-deploy-1", f"{JOB}-eval-1", f"{JOB}-train-1"]


def test_kill9_and_restart_creates_no_pod_twice_on_the_api_emulator(kube, operator, tmp_path):
    """``kill -9`` of the operator mid-round, the train Pod ends while it is down; the
    restarted operator carries on from the job's status: the eval Pod, once, no new train Pod,
    and the round completes."""
    apply_tutorial(kube, tmp_path)
    wait_for(lambda: pod(kube, f"{JOB}-train-1"), what="the train Pod")
    kube.patch(PODS, NS, f"{JOB}-train-1", {"metadata": {"annotations": {"test/marker": "first"}}})
    operator.kill9()
    kubelet(kube, f"{JOB}-train-1", "Succeeded", 0)
    operator.start()
    wait_for(lambda: pod(kube, f"{JOB}-eval-1"), what="the eval Pod after the restart")
    time.sleep(2)
    assert pod_names(kube) == [f"{JOB}-eval-1", f"{JOB}-train-1"]
    assert pod(kube, f"{JOB}-train-1")["metadata"]["annotations"]["test/marker"] == "first"
    assert kube.get(JOBS, NS, JOB)["status"]["sednaState"]["round"] == 1
    out = kube.get(JOBS, NS, JOB)["spec"]["outputDir"]
    os.makedirs(f"{out}/eval/1")
    with open(f"{out}/eval/1/index.json", "w") as f:
        f.write("{}")
    kubelet(kube, f"{JOB}-eval-1", "Succeeded", 0)
    wait_for(lambda: pod(kube, f"{JOB}-deploy-1"), what="the deploy Pod")
    kubelet(kube, f"{JOB}-deploy-1", "Running")
    wait_for(lambda: last_condition(kube) == ("Train", "Waiting"), what="the round to complete")
    assert kube.get(JOBS, NS, JOB)["status"]["rounds"][-1]["phase"] == "Succeeded"
    assert pod_names(kube) == [f"{JOB}-deploy-1", f"{JOB}-eval-1", f"{JOB}-train-1"]


def test_a_waiting_job_is_checked_without_api_calls_on_the_api_emulator(tmp_path):
    """Below the threshold, the job's periodic checks (every second here) read the watch cache:
    a stretch of seconds passes without the reconciler asking the API for anything; the
    threshold crossed still starts the round's train Pod."""
    from sedna.testing.k8s_emulator import EmulatedApiServer, SyncClient

    seen = []  # (monotonic time, method, URL) of the reconciler's own requests (aiohttp's, not kopf's)

    def record(r):
        agent = str(r.headers.get("User-Agent", ""))
        if "aiohttp" in agent and not agent.startswith("kopf"):
            seen.append((time.monotonic(), str(getattr(r.method, "name", r.method)), str(r.url)))

    def quiet_for(seconds):
        about_job = [t for t, _, url in seen if JOB in url or ds_name in url]
        return time.monotonic() - max(about_job, default=started) >= seconds

    with EmulatedApiServer(recorder=record) as srv:
        kube = SyncClient(srv.url)
        op = OperatorProcess(srv.url, tmp_path / "operator.log").start()
        try:
            ds_name = apply_tutorial(kube, tmp_path, lines=50)["spec"]["dataset"]["name"]
            started = time.monotonic()
            wait_for(lambda: last_condition(kube) == ("Train", "Waiting"), what="the job to wait")
            assert any(JOB in url for _, _, url in seen)  # the recorder does see the reconciler
            wait_for(lambda: quiet_for(3.0), timeout=30, what="3 s of checks without an API call")
            with open(tmp_path / "data" / "data.txt", "a") as f:
                f.write("".join(f"img/{i}.png lbl/{i}.png\n" for i in range(50, 130)))
            count_samples(kube, ds_name, tmp_path)
            wait_for(lambda: pod(kube, f"{JOB}-train-1"), what="the train Pod")
        finally:
            op.stop()


def test_train_pod_waits_for_the_round_files_on_the_api_emulator(kube, operator, tmp_path):
    """The operator cannot read the index (it lies on the Dataset's node only): the round starts
    but its train Pod is held, not started to fail on a missing file; once the node agent
    (played here) has written the round files, the train Pod starts and reads them."""
    from sedna.control import pool
    from sedna.control.rounds import RoundFiles

    ds, job, index = manifests(tmp_path)
    index.unlink()  # not on the operator's machine
    kube.create(DATASETS, NS, ds)
    kube.create(JOBS, NS, job)
    kube.patch(DATASETS, NS, ds["metadata"]["name"], {"status": {"numberOfSamples": 130}}, sub="status")

    def held():
        state = ((kube.get(JOBS, NS, JOB) or {}).get("status") or {}).get("sednaState") or {}
        return state if f"{JOB}-train-1" in (state.get("awaiting_files") or {}) else None

    state = wait_for(held, what="the train Pod to be held for its round files")
    assert not kube.list(PODS, NS) and last_condition(kube) == ("Train", "Starting")
    lines = [f"img/{i}.png lbl/{i}.png" for i in range(130)]  # the samples, as logged on the agent's node
    RoundFiles(job["spec"]["outputDir"]).write(1, *pool.round_lines(lines, state["claims"]["1"], 0.8))
    train = wait_for(lambda: pod(kube, f"{JOB}-train-1"), what="the train Pod once the files exist")
    with open(env_of(train)["TRAIN_DATASET_URL"]) as f:
        assert len(f.read().splitlines()) == 104
    wait_for(lambda: not held(), what="the hold to be cleared")
    assert pod_names(kube) == [f"{JOB}-train-1"]


def test_failed_pod_retried_then_round_failed_with_exit_code_and_log_tail_on_the_api_emulator(
        kube, api_emulator, operator, tmp_path):
    """A train Pod that exits 3 is retried (new Pods after a backoff), then the round is
    Failed with the exit code and the last 50 lines of the last Pod's log, and its samples
    wait for the next round. The first Pod's log ends in a byte that is not UTF-8."""
    apply_tutorial(kube, tmp_path)
    for attempt, name in enumerate((f"{JOB}-train-1", f"{JOB}-train-1-1", f"{JOB}-train-1-2"), 1):
        wait_for(lambda: pod(kube, name), what=f"Pod {name}")
        log = "".join(f"attempt {attempt} step {i}\n" for i in range(1, 81)).encode()
        if attempt == 1:
            log += b"attempt 1: no file caf\xe9.png\n"  # Latin-1, as some worker printed it
        api_emulator.write_pod_log(NS, name, log)
        kubelet(kube, name, "Failed", 3)
    st = wait_for(lambda: (kube.get(JOBS, NS, JOB)["status"].get("lastFailure")), what="the round to fail")
    assert st["exitCode"] == 3 and st["stage"] == "Train" and st["round"] == 1
    assert st["logTail"].splitlines() == [f"attempt 3 step {i}" for i in range(31, 81)]
    conds = kube.get(JOBS, NS, JOB)["status"]["conditions"]
    failed = [c for c in conds if c["type"] == "Failed" and c["reason"] == "BackoffLimitExceeded"]
    assert failed and failed[-1]["data"]["exitCode"] == 3 and "exit code 3" in failed[-1]["message"]
    assert failed[-1]["data"]["logTail"] == st["logTail"]
    retrying = [c for c in conds if c["reason"] == "Retrying"]
    assert retrying[0]["data"]["logTail"].splitlines()[-2:] == ["attempt 1 step 80", "attempt 1: no file caf\ufffd.png"]
    assert kube.get(JOBS, NS, JOB)["status"]["sednaState"]["pool_start"] == 0  # samples given back


def test_a_failed_pod_without_a_log_fails_the_round_on_the_api_emulator(kube, operator, tmp_path):
    """Pods with no log: the first never started its container (the API answers 400 "is
    waiting to start"), the retries exited 3 having written nothing (an empty log). The round
    is still Failed with the exit code; its log tail is the container's termination reason."""
    apply_tutorial(kube, tmp_path)
    wait_for(lambda: pod(kube, f"{JOB}-train-1"), what="the train Pod")
    kubelet(kube, f"{JOB}-train-1", "Failed")
    for name in (f"{JOB}-train-1-1", f"{JOB}-train-1-2"):
        wait_for(lambda: pod(kube, name), what=f"Pod {name}")
        kubelet(kube, name, "Failed", 3)
    st = wait_for(lambda: (kube.get(JOBS, NS, JOB)["status"].get("lastFailure")), what="the round to fail")
    assert st["exitCode"] == 3 and st["stage"] == "Train" and st["logTail"] == "Error"
    assert operator.proc.poll() is None


def test_a_failed_pod_with_a_sidecar_reports_the_workers_log_on_the_api_emulator(
        kube, api_emulator, operator, tmp_path):
    """A train Pod with a sidecar (a service mesh's proxy, say): the API server refuses a
    log request that names no container, so the operator asks for the container that
    exited non-zero, and the round's log tail is the worker's, not the proxy's."""
    ds, job, index = manifests(tmp_path)
    tspec = job["spec"]["trainSpec"]["template"]["spec"]
    tspec["containers"].insert(0, {"name": "proxy", "image": "mesh/proxy:1"})  # listed first, on purpose
    worker = tspec["containers"][1]["name"]
    kube.create(DATASETS, NS, ds)
    kube.create(JOBS, NS, job)
    index.write_text("".join(f"img/{i}.png lbl/{i}.png\n" for i in range(130)))
    count_samples(kube, ds["metadata"]["name"], tmp_path)
    for name in (f"{JOB}-train-1", f"{JOB}-train-1-1", f"{JOB}-train-1-2"):
        wait_for(lambda: pod(kube, name), what=f"Pod {name}")
        api_emulator.write_pod_log(NS, name, "proxy: listening on 15001\n", container="proxy")
        api_emulator.write_pod_log(NS, name, f"{name}: no such file img/7.png\n", container=worker)
        kube.patch(PODS, NS, name, {"status": {"phase": "Failed", "hostIP": "10.0.0.7", "containerStatuses": [
            {"name": "proxy", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": worker, "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}]}}, sub="status")
    st = wait_for(lambda: (kube.get(JOBS, NS, JOB)["status"].get("lastFailure")), what="the round to fail")
    assert st["exitCode"] == 3
    assert st["logTail"] == f"{JOB}-train-1-2: no such file img/7.png\n"


def test_pod_log_is_answered_as_kubernetes_does_on_the_api_emulator(kube, api_emulator):
    """The operator's client reads Pod logs from the emulator as from an API server: the last
    ``tailLines`` lines; "" for a Pod not yet on a node; 400 for a container that has not
    started; 404 for an unknown Pod."""
    import asyncio

    from sedna.runtimes.kubernetes.api import Api, ApiError, connection

    for name, node in (("ran", "node-1"), ("waiting", "node-1"), ("unscheduled", None)):
        kube.create(PODS, NS, {"metadata": {"name": name},
                               "spec": {"nodeName": node, "containers": [{"name": "worker", "image": "w"}]}})
    api_emulator.write_pod_log(NS, "ran", "one\ntwo\nthree\n")
    kubelet(kube, "ran", "Failed", 1)

    async def read(name, lines):
        async with Api(connection(server=api_emulator.url)) as api:
            try:
                return await api.log(NS, name, lines)
            except ApiError as e:
                return e.status

    got = {name: asyncio.run(read(name, 2)) for name in ("ran", "waiting", "unscheduled", "nobody")}
    assert got == {"ran": "two\nthree\n", "waiting": 400, "unscheduled": "", "nobody": 404}
    assert asyncio.run(read("ran", 10)) == "one\ntwo\nthree\n"


def test_deleting_the_job_removes_its_pods_on_the_api_emulator(kube, operator, tmp_path):
    """The finalizer: deleting the job removes its Pods and token Secrets, then the job."""
    apply_tutorial(kube, tmp_path)
    wait_for(lambda: pod(kube, f"{JOB}-train-1"), what="the train Pod")
    assert kube.get(JOBS, NS, JOB)["metadata"].get("finalizers")
    kube.delete(JOBS, NS, JOB)
    wait_for(lambda: not kube.list(PODS, NS), what="the Pods to go")
    wait_for(lambda: kube.get(JOBS, NS, JOB) is None, what="the job to go")
    assert not kube.list(SECRETS, NS)


def test_namespace_flag_limits_the_operator_to_one_namespace_on_the_api_emulator(kube, api_emulator, tmp_path):
    """``--namespace team-a``: the tutorial's job in team-a gets its train Pod; the same job in
    team-b is left alone (no finalizer, no status, no Pod)."""
    for ns in ("team-b", "team-a"):
        ds, job, index = manifests(tmp_path / ns)
        index.write_text("".join(f"img/{i}.png lbl/{i}.png\n" for i in range(130)))
        kube.create(DATASETS, ns, ds)
        kube.create(JOBS, ns, job)
        count_samples(kube, ds["metadata"]["name"], tmp_path / ns, ns)
    op = OperatorProcess(api_emulator.url, tmp_path / "operator.log", ["--namespace", "team-a"]).start()
    try:
        wait_for(lambda: kube.get(PODS, "team-a", f"{JOB}-train-1"), what="team-a's train Pod")
        other = kube.get(JOBS, "team-b", JOB)
        assert not other["metadata"].get("finalizers") and not other.get("status")
        assert not kube.list(PODS, "team-b")
    finally:
        op.stop()


def test_pod_env_is_the_local_runtimes_worker_contract(tmp_path):
    """The same worker gets the same contract variables from both runtimes; on Kubernetes
    only LC_SERVER/KB_SERVER (the node's agent) and LC_TOKEN (its Secret) are resolved there."""
    from sedna.runtimes.kubernetes import pods
    from sedna.control.contract import worker_contract_env

    _, job, _ = manifests(tmp_path)
    job["metadata"].update(namespace=NS, uid="u1")
    env = {"TRAIN_DATASET_URL": "/o/data/train/1/data.txt", "HAS_COMPLETED_INITIAL_TRAINING": "false"}
    local = worker_contract_env(NS, JOB, f"{JOB}-train-1", "train", "http://127.0.0.1:9100", "tok", env)
    p = pods.pod(job, f"{JOB}-train-1", "train", 1, env, lc_server="http://127.0.0.1:9100")
    got = env_of(p)
    assert {k: got[k] for k in local if k != "LC_TOKEN"} == {k: v for k, v in local.items() if k != "LC_TOKEN"}
    assert got["LC_TOKEN"] == {"secretKeyRef": {"name": f"{JOB}-train-1-token", "key": "token"}}
    names = [e["name"] for e in p["spec"]["containers"][0]["env"]]
    assert names[:len(local)] == list(local)  # the contract first, then the template's own env
    assert names[len(local):] == ["num_class", "epoches", "attribute", "city", "BACKEND_TYPE"]
    job["spec"]["credentialName"] = "s3-creds"  # the Secret's keys become env, as on the original
    p = pods.pod(job, f"{JOB}-train-1", "train", 1, env)
    assert p["spec"]["containers"][0]["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert env_of(p)["SEDNA_NODE_IP"] == {"fieldRef": {"fieldPath": "status.hostIP"}}


def test_a_status_write_from_a_stale_read_is_refused_on_the_api_emulator(kube, tmp_path):
    """Status goes through ``/status`` with the resourceVersion the pass read: when the job
    changed in between (the agent wrote a report...), the write is refused with 409 and
    nothing of the stale decision is applied (the daemon redoes the pass)."""
    import asyncio

    from sedna.runtimes.kubernetes.api import Api, ApiError, connection
    from sedna.runtimes.kubernetes.jobs import JobReconciler

    apply_tutorial(kube, tmp_path)

    async def stale_pass():
        async with Api(connection(kube.url)) as api:
            stale = await api.get(JOBS, NS, JOB)
            kube.patch(JOBS, NS, JOB, {"status": {"workerReports": {}}}, sub="status")  # someone else writes
            fresh_get = api.get

            async def get(res, ns, name, sub=None):
                return stale if res == JOBS else await fresh_get(res, ns, name, sub)
            api.get = get
            with pytest.raises(ApiError) as e:
                await JobReconciler(api).reconcile(NS, JOB)
            return e.value.status

    assert asyncio.run(stale_pass()) == 409
    assert "conditions" not in (kube.get(JOBS, NS, JOB).get("status") or {})
    assert not kube.list(PODS, NS)


def test_status_patch_removes_what_the_pass_dropped_and_keeps_the_agents_reports():
    """The status write is a merge patch: a nested entry the pass dropped (a hold, a start error)
    is sent as null so that the server removes it; the agent's ``workerReports`` are left alone;
    a pass that moved only the trigger's check time writes nothing."""
    from sedna.runtimes.kubernetes.jobs import _only_check_moved, _status_patch

    old = {"phase": "Running", "workerReports": {"w": {}},
           "sednaState": {"round": 1, "awaiting_files": {"w": {"round": 1}}, "last_check": "a"}}
    new = {"phase": "Running", "sednaState": {"round": 1, "last_check": "a"}}
    assert _status_patch(old, new) == {"sednaState": {"awaiting_files": None}}
    assert _status_patch(new, new) is None
    moved = _status_patch(new, {"phase": "Running", "sednaState": {"round": 1, "last_check": "b"}})
    assert moved == {"sednaState": {"last_check": "b"}} and _only_check_moved(moved)


def test_connection_from_a_kind_style_kubeconfig(tmp_path):
    """Inline client certificate, key and CA (as kind writes them) become private files;
    ``--server`` with ``--kubeconfig`` keeps the credentials and changes the address."""
    import base64
    import stat

    from sedna.runtimes.kubernetes.api import connection

    b64 = {k: base64.b64encode(k.encode()).decode() for k in ("CERT", "KEY", "CA")}
    cfg = {"current-context": "kind", "contexts": [{"name": "kind", "context": {"cluster": "c", "user": "u"}}],
           "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443/",
                                                  "certificate-authority-data": b64["CA"]}}],
           "users": [{"name": "u", "user": {"client-certificate-data": b64["CERT"],
                                            "client-key-data": b64["KEY"]}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    conn = connection(kubeconfig=str(path))
    assert conn.server == "https://127.0.0.1:6443" and conn.token is None and not conn.insecure
    for attr, want in (("cert_path", "CERT"), ("key_path", "KEY"), ("ca_path", "CA")):
        with open(getattr(conn, attr)) as f:
            assert f.read() == want
        assert stat.S_IMODE(os.stat(getattr(conn, attr)).st_mode) == 0o600
        os.unlink(getattr(conn, attr))
    other = connection("https://10.0.0.1:6443", str(path))
    assert other.server == "https://10.0.0.1:6443" and other.cert_path
    for f in (other.cert_path, other.key_path, other.ca_path):
        os.unlink(f)
    assert connection("http://127.0.0.1:1234").token is None
