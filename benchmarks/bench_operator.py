"""Kubernetes-operator benchmarks (issue 10), on kmock's API emulator, printed as a Markdown table.

The real operator process (``python -m sedna.runtimes.kubernetes.operator --server URL``, as
tests/test_operator_emulated.py starts it) against :class:`EmulatedApiServer`; N tutorial-like
jobs (threshold 100 samples, ``checkPeriodSeconds: 1``) with a Dataset each, below the threshold.
This script plays the node agent (it patches ``status.numberOfSamples`` and the sample log's place), the kubelet (it patches
Pod phases) and the eval worker (it writes the eval output), as the emulated tests do.

(a) operator CPU (utime+stime of its process, /proc/<pid>/stat) while all N jobs wait, and
    the API requests per second it makes meanwhile;
(b) for a sample of jobs, one at a time: time from the Dataset's sample count crossing the
    threshold (the agent's status patch returned) to the train Pod existing in the emulator;
(c) API requests of one round (threshold crossed -> train -> eval -> deploy -> waiting again),
    counted from the emulator's request log: those that name the job, its Dataset or its
    Pods/Secrets (requests about the other N-1 jobs are not counted, nor are the shared watch
    streams, which are opened once per resource kind).

(b) is bounded by the trigger's period: the crossing is seen at the job's next check.

    python benchmarks/bench_operator.py [--jobs 200] [--cpu-seconds 20] [--sample 20]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from support.ctlplane import stop_process  # noqa: E402
from support.waiting import wait_for  # noqa: E402

MANIFESTS = os.path.join(HERE, "..", "tests", "data", "manifests")
NS = "default"
THRESHOLD = 100
LINES = 130  # the sample count the "agent" reports when it crosses the threshold
TICK = os.sysconf("SC_CLK_TCK")


class Rec:
    """What the benchmark keeps of one request (kmock's own log is emptied, see below)."""
    __slots__ = ("method", "url", "headers", "text")

    def __init__(self, r):
        self.method, self.url = str(getattr(r.method, "name", r.method)).upper(), r.url
        self.headers = {"User-Agent": r.headers.get("User-Agent", "")}
        self.text = r.text if self.method == "POST" else ""


def _server_class():
    """``EmulatedApiServer`` that records the requests it serves (kmock's own log is trimmed
    to the current request by the emulator: it would slow every request down)."""
    from sedna.testing import k8s_emulator as emulator

    class RecordingServer(emulator.EmulatedApiServer):
        def __init__(self, *args, **kwargs):
            self.log = []
            super().__init__(*args, recorder=lambda r: self.log.append(Rec(r)), **kwargs)

        def requests(self):
            """A snapshot of the requests served so far."""
            return list(self.log)

    return RecordingServer


def manifests(tmp, i):
    """The tutorial's Dataset and job, renamed ``bd-NNNN``/``bj-NNNN``, index and outputDir under ``tmp``."""
    with open(os.path.join(MANIFESTS, "tutorial-dataset.yaml")) as f:
        ds = yaml.safe_load(f)
    with open(os.path.join(MANIFESTS, "tutorial-job.yaml")) as f:
        job = yaml.safe_load(f)
    ds["metadata"]["name"] = f"bd-{i:04d}"
    job["metadata"]["name"] = f"bj-{i:04d}"
    index = os.path.join(tmp, f"data-{i:04d}.txt")
    with open(index, "w") as f:
        f.write("".join(f"img/{k}.png lbl/{k}.png\n" for k in range(LINES)))
    ds["spec"]["url"] = index
    job["spec"]["dataset"]["name"] = ds["metadata"]["name"]
    job["spec"]["outputDir"] = os.path.join(tmp, "out", job["metadata"]["name"])
    trigger = job["spec"]["trainSpec"]["trigger"]
    trigger["checkPeriodSeconds"] = 1
    trigger["condition"]["threshold"] = THRESHOLD
    return ds, job


def agent_patch(kube, ds_name, tmp):
    """The node agent's status patch once it has counted (and logged) the index's lines, made
    ahead with the agent's own code so that the timed step is the patch alone."""
    from sedna.control.rounds import IndexWatcher
    from sedna.runtimes.kubernetes import samples
    from sedna.runtimes.kubernetes.api import DATASETS

    patch, _, _ = samples.advance(IndexWatcher(), kube.get(DATASETS, NS, ds_name), os.path.join(tmp, "agent"))
    return {"status": patch}


def client(url):
    """The emulator's blocking client, patient: a saturated emulator answers late, not never."""
    from sedna.testing.k8s_emulator import SyncClient

    class Patient(SyncClient):
        def call(self, method, p, body=None, content_type="application/json"):
            for attempt in range(6):
                try:
                    return super().call(method, p, body, content_type)
                except (TimeoutError, OSError) as e:
                    if attempt == 5 or method not in ("GET", "PATCH"):
                        raise RuntimeError(f"{method} {p}: {e}") from None
    return Patient(url)





def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def last_condition(job):
    conds = [c for c in ((job or {}).get("status") or {}).get("conditions") or [] if c.get("type") != "ReconcileError"]
    return (conds[-1]["stage"], conds[-1]["type"]) if conds else None


def from_operator(req):
    """Requests of the operator process (kopf's and its Api's aiohttp), not this script's urllib."""
    return not str(req.headers.get("User-Agent", "")).startswith("Python-urllib")


def about(req, job, ds):
    """The request names the job or its Dataset in its URL, or the job in its body (a Pod, a Secret)."""
    u = str(req.url)
    return job in u or ds in u or job in (req.text or "")


def breakdown(reqs):
    by = {}
    for r in reqs:
        kind = next((k for k in ("pods", "secrets", "lifelonglearningjobs", "datasets", "events")
                     if f"/{k}" in r.url.path), "other")
        verb = r.method
        if verb == "GET" and r.url.query.get("watch") in ("true", "1"):
            verb = "WATCH"
        by[f"{verb} {kind}"] = by.get(f"{verb} {kind}", 0) + 1
    return by


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))]


def run(n_jobs, cpu_window, sample, log_path=None):
    from sedna.runtimes.kubernetes.api import DATASETS, JOBS, PODS
    res = {"jobs": n_jobs, "cpu_window": cpu_window}
    with tempfile.TemporaryDirectory() as tmp, _server_class()() as srv:
        kube = client(srv.url)
        names = []
        for i in range(n_jobs):
            ds, job = manifests(tmp, i)
            kube.create(DATASETS, NS, ds)
            kube.patch(DATASETS, NS, ds["metadata"]["name"], {"status": {"numberOfSamples": 0}}, sub="status")
            kube.create(JOBS, NS, job)
            names.append((job["metadata"]["name"], ds["metadata"]["name"]))
        log = open(log_path or os.path.join(tmp, "operator.log"), "ab")
        env = dict(os.environ, LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"))
        t_start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "sedna.runtimes.kubernetes.operator", "--server", srv.url],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        try:
            def all_waiting():
                jobs = kube.list(JOBS, NS)
                return len(jobs) == n_jobs and all(last_condition(j) == ("Train", "Waiting") for j in jobs)
            wait_for(all_waiting, timeout=max(120, 2 * n_jobs), what="every job to wait for its trigger", interval=3.0)
            res["startup_s"] = time.monotonic() - t_start
            time.sleep(3)  # let the start-up burst settle

            # (a) CPU and request rate while all N wait
            r0, c0, e0, t0 = len(srv.requests()), cpu_seconds(proc.pid), cpu_seconds("self"), time.monotonic()
            time.sleep(cpu_window)
            r1, c1, e1, t1 = len(srv.requests()), cpu_seconds(proc.pid), cpu_seconds("self"), time.monotonic()
            res["cpu_pct"] = 100.0 * (c1 - c0) / (t1 - t0)
            res["emu_cpu_pct"] = 100.0 * (e1 - e0) / (t1 - t0)
            res["idle_rps"] = (r1 - r0) / (t1 - t0)  # nothing of this script's runs in the window
            res["idle_by"] = {k: v / (t1 - t0) for k, v in breakdown(srv.requests()[r0:r1]).items()}

            # (b) threshold crossed -> train Pod exists, for `sample` jobs one at a time
            lat = []
            for job, ds in names[:sample]:
                counted = agent_patch(kube, ds, tmp)
                t = time.monotonic()
                kube.patch(DATASETS, NS, ds, counted, sub="status")
                wait_for(lambda: kube.get(PODS, NS, f"{job}-train-1"), timeout=30, what=f"{job}'s train Pod",
                         interval=0.01)
                lat.append(time.monotonic() - t)
                time.sleep(0.3)
            res["lat"] = lat

            # (c) the requests of one whole round of one job
            job, ds = names[-1]
            out = os.path.join(tmp, "out", job)
            counted = agent_patch(kube, ds, tmp)
            first = len(srv.requests())
            t_round = time.monotonic()
            kube.patch(DATASETS, NS, ds, counted, sub="status")
            for stage, phases in (("train", ("Running", "Succeeded")), ("eval", ("Running", "Succeeded")),
                                  ("deploy", ("Running",))):
                name = f"{job}-{stage}-1"
                wait_for(lambda: kube.get(PODS, NS, name), timeout=30, what=f"Pod {name}", interval=0.02)
                if stage == "eval":  # play the eval worker's output
                    os.makedirs(f"{out}/eval/1", exist_ok=True)
                    with open(f"{out}/eval/1/index.json", "w") as f:
                        f.write("{}")
                for ph in phases:
                    status = {"phase": ph, "hostIP": "10.0.0.7"}
                    if ph == "Succeeded":
                        status["containerStatuses"] = [
                            {"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]
                    kube.patch(PODS, NS, name, {"status": status}, sub="status")
            wait_for(lambda: last_condition(kube.get(JOBS, NS, job)) == ("Train", "Waiting")
                     and (kube.get(JOBS, NS, job)["status"].get("rounds") or [{}])[-1].get("phase") == "Succeeded",
                     timeout=30, what="the round to complete", interval=0.05)
            res["round_s"] = time.monotonic() - t_round
            reqs = [r for r in srv.requests()[first:] if from_operator(r) and about(r, job, ds)]
            res["round_calls"], res["round_by"] = len(reqs), breakdown(reqs)
            res["operator_alive"] = proc.poll() is None
        finally:
            stop_process(proc)
    return res


def table(res):
    lat = res["lat"]
    med, hi = statistics.median(lat), p95(lat)
    rows = [
        ("(a) operator CPU, %d jobs waiting (%g s window)" % (res["jobs"], res["cpu_window"]),
         f"{res['cpu_pct']:.1f} % of a core", "≤ 5 % of a core", res["cpu_pct"] <= 5.0),
        ("(a) operator API requests/s meanwhile", f"{res['idle_rps']:.0f} /s", "—", None),
        ("(a) the emulator's CPU meanwhile (this script's process)", f"{res['emu_cpu_pct']:.0f} % of a core", "—",
         None),
        (f"(b) threshold crossed → train Pod, median ({len(lat)} jobs)", f"{med * 1000:.0f} ms", "≤ 1 s", med <= 1.0),
        (f"(b) threshold crossed → train Pod, p95 ({len(lat)} jobs)", f"{hi * 1000:.0f} ms", "—", None),
        ("(c) API calls in one round (train → eval → deploy)", str(res["round_calls"]), "—", None),
        ("(c) wall time of that round (script playing kubelet)", f"{res['round_s']:.1f} s", "—", None),
        ("start-up: all jobs Train/Waiting after", f"{res['startup_s']:.1f} s", "—", None),
    ]
    lines = ["| measure | value | target | met |", "|---|---|---|---|"]
    for what, val, target, ok in rows:
        lines.append(f"| {what} | {val} | {target} | {'' if ok is None else ('yes' if ok else '**MISSED**')} |")
    lines.append("")
    lines.append("(a) requests/s by kind while waiting: "
                 + ", ".join(f"{k}: {v:.1f}" for k, v in sorted(res["idle_by"].items())))
    lines.append("")
    lines.append("(c) by request: " + ", ".join(f"{k}: {v}" for k, v in sorted(res["round_by"].items())))
    missed = [r[0] for r in rows if r[3] is False]
    lines.append("")
    lines.append("Targets missed: " + ("; ".join(missed) if missed else "none"))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--cpu-seconds", type=float, default=20.0)
    p.add_argument("--sample", type=int, default=20, help="jobs whose trigger latency is measured")
    p.add_argument("--operator-log", default=None)
    args = p.parse_args(argv)
    if args.jobs < args.sample + 1:
        p.error("--jobs must exceed --sample (one more job is used for (c))")
    res = run(args.jobs, args.cpu_seconds, args.sample, args.operator_log)
    print(table(res))
    return 0 if res["operator_alive"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
