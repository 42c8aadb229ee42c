"""Dashboard page times with 50 jobs × 20 rounds of status, printed as a Markdown table.

A real state folder is filled through the local runtime's own SQLite store
(:class:`sedna.runtimes.local.store.Store`): N jobs (Datasets with an index
file each, ``checkPeriodSeconds: 3600`` so the controller stays idle), each
with R rounds in ``status.rounds``, the last two rounds' conditions, a
knowledge base of 5 tasks in its status, and 3 workers per round (train, eval,
deploy) whose train/eval reports carry per-task metrics; one job also has a
real knowledge base of R versions on disk. Then a real ``sedna up`` serves it
and each page is fetched over one keep-alive loopback connection with the
admin token (the dashboard takes it like a session). The time is the round
trip; ``/healthz`` is printed as the floor (HTTP, auth middleware, loopback).

    python benchmarks/bench_dashboard.py [--jobs 50] [--rounds 20] [--repeat 30]
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from support.ctlplane import free_port  # noqa: E402
from support.waiting import wait_for  # noqa: E402

NS = "default"
TASKS = ("real/aachen.model", "real/bremen.model", "sim/synthia.model", "real/garden.model", "real/zurich.model")
STAGES = ("Train", "Eval", "Deploy")
TARGET_MS = 300


def ts(base, seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + seconds))


def job_manifest(i, out_dir):
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob",
            "metadata": {"name": f"job-{i:03d}", "namespace": NS},
            "spec": {"dataset": {"name": f"ds-{i:03d}", "trainProb": 0.8},
                     "trainSpec": {"template": {"spec": {"containers": [{"name": "t", "image": "x"}]}},
                                   "trigger": {"checkPeriodSeconds": 3600, "timer": {"start": "00:00", "end": "24:00"},
                                               "condition": {"operator": ">", "threshold": 20,
                                                             "metric": "num_of_samples"}}},
                     "evalSpec": {"template": {"spec": {"containers": [{"name": "e", "image": "x"}]}}},
                     "deploySpec": {"template": {"spec": {"containers": [{"name": "d", "image": "x"}]}}},
                     "outputDir": out_dir}}


def conditions(r, t0):
    out = []
    for k, stage in enumerate(STAGES):
        for j, kind in enumerate(("Waiting", "Ready", "Starting", "Running", "Completed")):
            t = ts(t0, k * 60 + j * 10)
            out.append({"type": kind, "status": "True", "stage": stage, "round": r, "reason": "Bench",
                        "message": f"round {r} {stage} {kind}", "lastTransitionTime": t, "lastHeartbeatTime": t})
    return out


def metrics(r, eval_=False):
    if eval_:
        return {t: ({"mIoU": 0.3 + 0.01 * r + 0.02 * k, "pixel_accuracy": 0.7, "n_samples": 8} if k <= r % 5 + 1
                    else {"n_samples": 0}) for k, t in enumerate(TASKS)}
    return {t: {"metrics": {"loss": 1.0 / r, "pixel_accuracy": 0.6}, "n_samples": 10, "strategy": "train"}
            for t in TASKS}


def job_status(rounds, t0):
    rows = [{"round": r, "phase": "Succeeded", "startTime": ts(t0, r * 600), "completionTime": ts(t0, r * 600 + 200),
             "trainSamples": 30, "evalSamples": 8} for r in range(1, rounds + 1)]
    conds = conditions(rounds - 1, t0 + (rounds - 1) * 600) + conditions(rounds, t0 + rounds * 600)
    conds.append({"type": "Waiting", "status": "True", "stage": "Train", "round": rounds, "reason": "RoundSucceeded",
                  "message": "waiting for training samples: 3 new, trains when > 20", "lastTransitionTime": ts(t0, 0),
                  "lastHeartbeatTime": ts(t0, 0), "data": {"pendingTrainSamples": 3,
                                                           "trigger": "num_of_samples > 20"}})
    models = [{"name": t, "url": "/x/index.json", "format": "index", "metrics": metrics(rounds)[t],
               "evalMetrics": metrics(rounds, True)[t]} for t in TASKS]
    return {"rounds": rows, "conditions": conds, "startTime": ts(t0, 0),
            "knowledgeBase": {"AIModels": models, "AIClasses": list(TASKS), "version": rounds,
                              "samples": {"trainSamples": 30 * rounds, "evalSamples": 8 * rounds}}}


def fill(state_dir, work, n_jobs, n_rounds):
    from sedna.runtimes.local.store import Store

    store = Store(os.path.join(state_dir, "state.db"))
    t0 = time.time() - n_rounds * 600 - 3600
    for i in range(n_jobs):
        index = os.path.join(work, f"ds-{i:03d}.txt")
        open(index, "w").close()
        store.apply({"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset",
                     "metadata": {"name": f"ds-{i:03d}", "namespace": NS},
                     "spec": {"url": index, "format": "txt", "nodeName": "localhost"}})
        name = f"job-{i:03d}"
        store.apply(job_manifest(i, os.path.join(work, "out", name)))
        store.update_status("LifelongLearningJob", NS, name, job_status(n_rounds, t0),
                            state={"round": n_rounds, "last_check": ts(time.time(), -10)})
        for r in range(1, n_rounds + 1):
            for stage in ("train", "eval", "deploy"):
                w = f"{name}-{stage}-{r}"
                store.add_worker(NS, w, name, stage, r, {"log_path": os.path.join(work, "logs", w + ".log")})
                report = None if stage == "deploy" else {
                    "status": "completed", "kind": stage, "name": w, "ownerInfo": {"version": r},
                    "results": [{"format": "index", "url": "/x", "metrics": metrics(r, stage == "eval")}]}
                store.set_worker(NS, w, phase="Succeeded" if stage != "deploy" else "Stopped", exit_code=0,
                                 report=report)
    store.close()


def write_kb(root, n_rounds):
    from sedna.knowledge import KnowledgeBase

    kb, parent = KnowledgeBase(root), None
    for r in range(1, n_rounds + 1):
        w = kb.begin_version(parent=parent)
        groups = []
        for t in TASKS:
            rel = f"models/{t.replace('/', '_')}.bin"
            with open(w.path(rel), "w") as f:
                f.write(t)
            groups.append({"entry": t, "n_samples": 10 * r, "model": {"url": rel, "metrics": {"loss": 1.0 / r}},
                           "tasks": [{"entry": t, "meta_attr": t, "n_samples": 10 * r}]})
        parent = w.commit({"task_groups": groups})


def timings(port, token, path, repeat):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out = []
    for i in range(repeat + 2):
        t = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        body = r.read()
        if i >= 2:  # two warm-up requests
            out.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, (path, r.status, body[:300])
    conn.close()
    return out, len(body)


def p95(values):
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        state, work = os.path.join(tmp, "state"), os.path.join(tmp, "work")
        os.makedirs(os.path.join(work, "logs"))
        fill(state, work, args.jobs, args.rounds)
        write_kb(os.path.join(work, "out", "job-000", "kb"), args.rounds)
        with open(os.path.join(work, "logs", f"job-000-train-{args.rounds}.log"), "w") as f:
            f.write("epoch 1/1 loss 0.5\n" * 20000)
        port = free_port()
        log = open(os.path.join(tmp, "up.log"), "wb")
        proc = subprocess.Popen([sys.executable, "-m", "sedna.cli", "up", "--state-dir", state, "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                     or True, timeout=60, what="sedna up")
            token = open(os.path.join(state, "token")).read().strip()
            pages = [("/healthz (floor)", "/healthz"), ("job list", "/ui/"),
                     ("a job (20 KB versions on disk)", "/ui/jobs/default/job-000"),
                     ("a job (no KB on disk)", "/ui/jobs/default/job-025"),
                     ("a worker's log (64 KiB tail)", f"/ui/jobs/default/job-000/workers/job-000-train-"
                                                      f"{args.rounds}/log?offset=-65536")]
            print(f"{args.jobs} jobs × {args.rounds} rounds ({args.jobs * args.rounds * 3} workers), "
                  f"{args.repeat} requests per page, loopback, one keep-alive connection\n")
            print("| page | median ms | p95 ms | bytes | under 300 ms |")
            print("|---|---|---|---|---|")
            for label, path in pages:
                ms, size = timings(port, token, path, args.repeat)
                ok = "yes" if p95(ms) < TARGET_MS else "NO"
                print(f"| {label} | {statistics.median(ms):.1f} | {p95(ms):.1f} | {size} | {ok} |")
        finally:
            subprocess.run([sys.executable, "-m", "sedna.cli", "down", "--state-dir", state], capture_output=True,
                           timeout=60)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


if __name__ == "__main__":
    main()
