"""Who may read and write what, against a real `sedna up` on loopback (issue 8):
worker tokens scoped to their own report, report URLs confined to the job's
outputDir, tokens on reads, the Host header, private state files, bounded
bodies, logs and lists, dry runs and stale resourceVersions."""

import json
import os
import stat
import urllib.error
import urllib.request

import pytest

from support.ctlplane import ControlPlane
from support.waiting import wait_for
from sedna.runtimes.local.store import Store

API = "/apis/sedna.io/v1alpha1"


@pytest.fixture(scope="module")
def plane(tmp_path_factory):
    cp = ControlPlane(str(tmp_path_factory.mktemp("access"))).start()
    cp.token = open(os.path.join(cp.state_dir, "token")).read().strip()
    yield cp
    cp.stop()


def call(cp, method, path, body=None, token=True, headers=None):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(cp.url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {cp.token if token is True else token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if r.headers.get_content_type() == "application/json" else raw), r.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw), e.headers
        except ValueError:
            return e.code, raw, e.headers


def dataset(name, ns="default", url="/tmp/nowhere/data.txt"):
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": name, "namespace": ns},
            "spec": {"url": url, "format": "txt", "nodeName": "localhost"}}


def job(name, ns, output_dir):
    container = {"name": "w", "image": "sedna-test/none:v1", "args": ["train.py"]}
    tpl = {"template": {"spec": {"containers": [container]}}}
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": name, "namespace": ns},
            "spec": {"dataset": {"name": "ds"}, "outputDir": output_dir,
                     "trainSpec": dict(tpl, trigger={"checkPeriodSeconds": 60, "condition": {
                         "operator": ">", "threshold": 10 ** 6, "metric": "num_of_samples"}}),
                     "evalSpec": tpl, "deploySpec": tpl}}


@pytest.fixture(scope="module")
def two_jobs(plane, tmp_path_factory):
    """Jobs default/job-v and team2/job-m that never trigger, each with a worker row and its own token
    (minted the way the controller mints one when it starts a worker)."""
    out = str(tmp_path_factory.mktemp("outputs"))
    for ns, name in (("default", "job-v"), ("team2", "job-m")):
        assert call(plane, "PUT", f"{API}/namespaces/{ns}/datasets/ds", dataset("ds", ns))[0] == 200
        code, body, _ = call(plane, "PUT", f"{API}/namespaces/{ns}/lifelonglearningjobs/{name}",
                             job(name, ns, os.path.join(out, name)))
        assert code == 200, body
    store = Store(os.path.join(plane.state_dir, "state.db"))
    tokens = {}
    for ns, name in (("default", "job-v"), ("team2", "job-m")):
        store.add_worker(ns, f"{name}-train-1", name, "train", 1)
        tokens[name] = store.mint_worker_token(ns, f"{name}-train-1")
    store.close()
    return out, tokens


def report(worker, ns, job_name, url, status="completed"):
    return {"name": worker, "namespace": ns, "ownerName": job_name, "ownerKind": "lifelonglearningjob",
            "kind": "train", "status": status, "results": [{"format": "index", "url": url}]}


# ------------------------------------------------------------- worker identity
def test_a_worker_token_cannot_report_for_another_job(plane, two_jobs):
    out, tokens = two_jobs
    forged = report("job-v-train-1", "default", "job-v", os.path.join(out, "job-m", "index.json"))
    code, body, _ = call(plane, "POST", "/sedna/workers/job-v-train-1/info", forged, token=tokens["job-m"])
    assert code == 403 and "own report" in body["message"]
    # nor under its own worker's path with another namespace in the body
    forged = report("job-m-train-1", "default", "job-v", os.path.join(out, "job-v", "index.json"))
    assert call(plane, "POST", "/sedna/workers/job-m-train-1/info", forged, token=tokens["job-m"])[0] == 403
    w = [w for w in plane.workers() if w["name"] == "job-v-train-1"][0]
    assert w["report"] is None


def test_a_worker_token_reads_and_writes_nothing_else(plane, two_jobs):
    _, tokens = two_jobs
    t = tokens["job-m"]
    assert call(plane, "GET", f"{API}/namespaces/default/lifelonglearningjobs", token=t)[0] == 403
    assert call(plane, "GET", "/api/v1/workers", token=t)[0] == 403
    relabel = dataset("ds", "default", "/etc/passwd")
    assert call(plane, "PUT", f"{API}/namespaces/default/datasets/ds", relabel, token=t)[0] == 403
    assert call(plane, "GET", f"{API}/namespaces/default/datasets/ds")[1]["spec"]["url"] == "/tmp/nowhere/data.txt"


def test_report_urls_must_lie_inside_the_jobs_output_dir(plane, two_jobs, tmp_path):
    out, tokens = two_jobs
    outside = tmp_path / "elsewhere" / "index.json"
    linked = os.path.join(out, "job-m", "link")
    os.makedirs(os.path.dirname(linked), exist_ok=True)
    os.symlink("/etc", linked)
    for url in ("/etc/shadow", str(outside), os.path.join(out, "job-m", "..", "job-v", "index.json"),
                os.path.join(linked, "passwd"), "s3://bucket/x/index.json"):
        code, body, _ = call(plane, "POST", "/sedna/workers/job-m-train-1/info",
                             report("job-m-train-1", "team2", "job-m", url), token=tokens["job-m"])
        assert code == 400 and "results[0].url" in body["detail"] and "outputDir" in body["detail"], (url, body)
    ok = report("job-m-train-1", "team2", "job-m", os.path.join(out, "job-m", "train", "index.json"))
    code, body, _ = call(plane, "POST", "/sedna/workers/job-m-train-1/info", ok, token=tokens["job-m"])
    assert code == 200 and body["result"] == "accepted"


def test_a_report_naming_too_many_tasks_is_a_400_and_nothing_is_kept(plane, two_jobs):
    """Issue 19, finding 4: an eval report naming 60,000 tasks made each view of the job page
    cost minutes and gigabytes; one report may name at most MAX_REPORT_TASKS."""
    from sedna.control.reports import MAX_REPORT_TASKS

    out, tokens = two_jobs
    flood = report("job-m-train-1", "team2", "job-m", os.path.join(out, "job-m", "eval", "index.json"))
    flood["kind"] = "eval"
    flood["results"][0]["metrics"] = {f"task-{i}": {"mIoU": 0.5} for i in range(MAX_REPORT_TASKS + 1)}
    code, body, _ = call(plane, "POST", "/sedna/workers/job-m-train-1/info", flood, token=tokens["job-m"])
    assert code == 400 and f"at most {MAX_REPORT_TASKS}" in body["detail"] and "results[0].metrics" in body["detail"]
    wide = dict(flood, results=[dict(flood["results"][0], metrics={"t": {f"m{i}": 1.0 for i in range(65)}})])
    code, body, _ = call(plane, "POST", "/sedna/workers/job-m-train-1/info", wide, token=tokens["job-m"])
    assert code == 400 and "results[0].metrics['t']" in body["detail"]
    job = call(plane, "GET", f"{API}/namespaces/team2/lifelonglearningjobs/job-m")[1]
    assert "task-0" not in json.dumps(job)


def test_a_worker_flooding_reports_is_stopped_by_its_budget_and_others_still_report(plane, two_jobs):
    """Issue 19, finding 8: 40 reports of 2.4 MB from one worker made the job's object 10 MB and
    other objects lag; one worker's reports may weigh MAX_REPORT_BYTES_PER_WORKER together."""
    from sedna.control.reports import MAX_REPORT_BYTES_PER_WORKER

    out, tokens = two_jobs
    heavy = report("job-v-train-1", "default", "job-v", os.path.join(out, "job-v", "kb", "index.json"))
    heavy["ownerInfo"] = {"note": "x" * (3 << 20)}
    codes = [call(plane, "POST", "/sedna/workers/job-v-train-1/info", heavy, token=tokens["job-v"])[0]
             for _ in range(MAX_REPORT_BYTES_PER_WORKER // (3 << 20) + 2)]
    assert codes[0] == 200 and codes[-1] == 429 and set(codes) == {200, 429}
    code, body, _ = call(plane, "POST", "/sedna/workers/job-v-train-1/info", heavy, token=tokens["job-v"])
    assert code == 429 and "budget" in body["detail"]
    ok = report("job-m-train-1", "team2", "job-m", os.path.join(out, "job-m", "train", "index.json"))
    assert call(plane, "POST", "/sedna/workers/job-m-train-1/info", ok, token=tokens["job-m"])[0] == 200


# --------------------------------------------------------------- reads, hosts
def test_reads_need_the_token_and_healthz_does_not(plane):
    for path in (f"{API}/datasets", f"{API}/namespaces/default/lifelonglearningjobs", "/api/v1/workers",
                 "/api/v1/namespaces/default/workers/x/log"):
        assert call(plane, "GET", path, token=False)[0] == 401, path
    assert call(plane, "GET", "/healthz", token=False)[0] == 200


def test_a_foreign_host_header_is_refused(plane):
    code, body, _ = call(plane, "GET", f"{API}/datasets", headers={"Host": "attacker.example:80"})
    assert code == 421 and "SEDNA_ALLOWED_HOSTS" in body["message"]
    assert call(plane, "GET", f"{API}/datasets", headers={"Host": f"localhost:{plane.port}"})[0] == 200


def test_a_non_ascii_authorization_header_is_a_401(plane):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", plane.port, timeout=10)
    conn.putrequest("GET", f"{API}/datasets")
    conn.putheader("Authorization", "Bearer t\u00f6ken".encode("latin-1"))
    conn.endheaders()
    assert conn.getresponse().status == 401
    assert plane.healthy()


def test_state_folder_and_files_are_private(plane):
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(plane.state_dir) == 0o700
    for name in ("state.db", "token", "server.json", "server.log"):
        assert mode(os.path.join(plane.state_dir, name)) == 0o600, name
    for name in os.listdir(plane.state_dir):
        if name.startswith("state.db-"):
            assert mode(os.path.join(plane.state_dir, name)) & 0o077 == 0, name


# --------------------------------------------------------------- bounded input
def test_an_oversized_body_gets_413_and_nothing_is_stored(plane):
    import http.client

    big = dataset("big")
    big["metadata"]["annotations"] = {"blob": "x" * (5 * 1024 * 1024)}
    data = json.dumps(big).encode()
    conn = http.client.HTTPConnection("127.0.0.1", plane.port, timeout=20)
    conn.putrequest("PUT", f"{API}/namespaces/default/datasets/big")
    conn.putheader("Authorization", f"Bearer {plane.token}")
    conn.putheader("Content-Length", str(len(data)))
    conn.endheaders()
    try:
        conn.send(data)
    except OSError:  # the server answers before reading it all, and closes
        pass
    assert conn.getresponse().status == 413
    assert call(plane, "GET", f"{API}/namespaces/default/datasets/big")[0] == 404


def test_deeply_nested_json_is_a_400(plane):
    deep = b"[" * 1000 + b"]" * 1000
    code, body, _ = call(plane, "PUT", f"{API}/namespaces/default/datasets/x", deep)
    assert code == 400 and "nests deeper" in body["detail"]


def test_lists_page_with_limit_and_continue(plane):
    for i in range(7):
        assert call(plane, "PUT", f"{API}/namespaces/paged/datasets/d{i}", dataset(f"d{i}", "paged"))[0] == 200
    names, cont, pages = [], "", 0
    while True:
        q = f"?limit=3&continue={cont}" if cont else "?limit=3"
        code, body, _ = call(plane, "GET", f"{API}/namespaces/paged/datasets{q}")
        assert code == 200 and len(body["items"]) <= 3
        names += [o["metadata"]["name"] for o in body["items"]]
        pages += 1
        cont = body["metadata"]["continue"]
        if not cont:
            break
    assert names == [f"d{i}" for i in range(7)] and pages == 3
    assert call(plane, "GET", f"{API}/namespaces/paged/datasets?continue=garbage")[0] == 400
    assert call(plane, "GET", f"{API}/namespaces/paged/datasets?limit=0")[0] == 400


def test_worker_logs_come_in_bounded_chunks(plane, two_jobs):
    store = Store(os.path.join(plane.state_dir, "state.db"))
    log = os.path.join(plane.tmp, "big.log")
    with open(log, "wb") as f:
        f.write(b"a" * (3 * 1024 * 1024) + b"THE END\n")
    store.add_worker("default", "logger", "job-v", "train", 1, {"log_path": log})
    store.close()
    size = os.path.getsize(log)
    path = "/api/v1/namespaces/default/workers/logger/log"
    code, body, headers = call(plane, "GET", path)
    assert code == 200 and len(body) == 1024 * 1024
    assert int(headers["X-Offset"]) == 1024 * 1024 and int(headers["X-Size"]) == size
    code, body, headers = call(plane, "GET", path + "?offset=-8")
    assert body == b"THE END\n" and int(headers["X-Offset"]) == size
    code, body, headers = call(plane, "GET", path + f"?offset={10 ** 30}")
    assert code == 200 and body == b"" and int(headers["X-Offset"]) == size
    os.remove(log)
    os.mkfifo(log)  # a log that became a FIFO must not hang the server
    assert call(plane, "GET", path)[0] == 409
    assert plane.healthy()


# ------------------------------------------------------- dry runs, concurrency
def test_a_dry_run_checks_and_stores_nothing(plane):
    code, body, _ = call(plane, "PUT", f"{API}/namespaces/default/datasets/dry?dryRun=All", dataset("dry"))
    assert code == 200 and body["dryRun"] is True and body["result"] == "created"
    assert call(plane, "GET", f"{API}/namespaces/default/datasets/dry")[0] == 404
    bad = dataset("dry")
    bad["spec"]["format"] = "parquet"
    code, body, _ = call(plane, "PUT", f"{API}/namespaces/default/datasets/dry?dryRun=All", bad)
    assert code == 422 and body["errors"][0]["path"] == "spec.format"


def test_apply_with_a_stale_resource_version_is_a_409(plane):
    assert call(plane, "PUT", f"{API}/namespaces/default/datasets/rv", dataset("rv"))[0] == 200
    first = call(plane, "GET", f"{API}/namespaces/default/datasets/rv")[1]
    changed = dataset("rv", url="/tmp/other/data.txt")
    assert call(plane, "PUT", f"{API}/namespaces/default/datasets/rv", changed)[0] == 200
    stale = dataset("rv", url="/tmp/third/data.txt")
    stale["metadata"]["resourceVersion"] = first["metadata"]["resourceVersion"]
    code, body, _ = call(plane, "PUT", f"{API}/namespaces/default/datasets/rv", stale)
    assert code == 409 and "stale" in body["message"]
    assert call(plane, "GET", f"{API}/namespaces/default/datasets/rv")[1]["spec"]["url"] == "/tmp/other/data.txt"
    wait_for(plane.healthy, timeout=5)


def test_a_full_disk_is_a_507_simulated_in_process():
    """A full disk cannot be made here without root: the store raises what SQLite and the OS raise then."""
    import errno
    import sqlite3
    from types import SimpleNamespace

    import threading

    import uvicorn

    from support.ctlplane import free_port
    from sedna.server.app import create_app

    class FullStore:  # a runtime whose storage is full
        def __init__(self, exc, port):
            self.exc, self.token, self.host, self.port = exc, "t", "127.0.0.1", port

        def on_reconcile(self, callback):
            pass

        def get(self, *a, **k):
            from sedna.common.exceptions import NotFound
            raise NotFound("no")

        def apply(self, *a, **k):
            raise self.exc

        def worker_by_token(self, token):
            return None

    for exc in (sqlite3.OperationalError("database or disk is full"), OSError(errno.ENOSPC, "No space left")):
        port = free_port()
        rt = FullStore(exc, port)
        server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            wait_for(lambda: server.started, timeout=20, what="the in-process server")
            cp = SimpleNamespace(url=f"http://127.0.0.1:{port}", token="t")
            code, body, _ = call(cp, "PUT", f"{API}/namespaces/default/datasets/d", dataset("d"))
            assert code == 507 and "disk is full" in body["message"]
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def test_a_status_body_is_validated_like_a_spec(plane):
    assert call(plane, "PUT", f"{API}/namespaces/default/datasets/st", dataset("st"))[0] == 200
    before = call(plane, "GET", f"{API}/namespaces/default/datasets/st")[1]
    code, body, _ = call(plane, "PUT", f"{API}/namespaces/default/datasets/st/status",
                         {"metadata": {"resourceVersion": before["metadata"]["resourceVersion"]},
                          "status": {"conditions": [42]}})
    assert code == 422 and body["errors"][0]["path"].startswith("status.conditions[0]")
    after = call(plane, "GET", f"{API}/namespaces/default/datasets/st")[1]
    assert 42 not in (after["status"].get("conditions") or [])
