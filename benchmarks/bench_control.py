"""Control-plane benchmarks (issue 3), printed as a Markdown table.

(a) time from the index write that crosses the trigger threshold to the train
    worker's process start, with ``checkPeriodSeconds: 1`` (median of rounds);
(b) cost of one index check of a 1,000,000-line index after 100 appended lines
    (watcher + storing the lines + dataset status), in the controller;
(c) CPU of the control-plane process while 50 jobs wait for their trigger.

    python benchmarks/bench_control.py [a] [b] [c]
"""

import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from support.ctlplane import ControlPlane, write_yaml  # noqa: E402
from support.waiting import wait_for  # noqa: E402

WORKERS = os.path.join(HERE, "controlworkers")
IMAGE = "sedna-bench/control:v1"


def job(name, index_ds, out, threshold, period, env):
    c = lambda n, s: {"name": n, "image": IMAGE, "args": [s], "env": [{"name": k, "value": v} for k, v in env.items()]}  # noqa: E731
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": name},
            "spec": {"dataset": {"name": index_ds, "trainProb": 1.0}, "outputDir": out,
                     "trainSpec": {"template": {"spec": {"containers": [c("train", "train.py")]}},
                                   "trigger": {"checkPeriodSeconds": period,
                                               "condition": {"operator": ">=", "threshold": threshold,
                                                             "metric": "num_of_samples"}}},
                     "evalSpec": {"template": {"spec": {"containers": [c("eval", "evaluate.py")]}}},
                     "deploySpec": {"template": {"spec": {"containers": [c("infer", "predict.py")]}}}}}


def dataset(name, url):
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": name},
            "spec": {"url": url, "format": "txt", "nodeName": "localhost"}}


def plane(tmp):
    """A real `sedna up` with this benchmark's worker image mapped."""
    return ControlPlane(tmp, ["--image", f"{IMAGE}={WORKERS}"]).start()


def bench_trigger_latency(rounds=5):
    with tempfile.TemporaryDirectory() as tmp:
        cp = plane(tmp)
        try:
            index = os.path.join(tmp, "data.txt")
            open(index, "w").close()
            starts = os.path.join(tmp, "starts.log")
            docs = [dataset("ds", index), job("lat", "ds", os.path.join(tmp, "out"), 100, 1, {"START_LOG": starts})]
            cp.cli("apply", "-f", write_yaml(os.path.join(tmp, "m.yaml"), docs), check=True)
            lat = []
            for r in range(1, rounds + 1):
                wait_for(lambda: cp.get("ll", "lat")["status"]["conditions"][-1]["stage"] == "Train"
                         and cp.get("ll", "lat")["status"]["conditions"][-1]["type"] == "Waiting",
                         timeout=60, what="the job to wait for its trigger")
                time.sleep(0.5)
                with open(index, "a") as f:
                    f.write("".join(f"s{r}_{i}.png {i % 10}\n" for i in range(99)))
                time.sleep(1.5)  # below the threshold: nothing may start
                with open(index, "a") as f:
                    t_write = time.time()
                    f.write(f"s{r}_last.png 0\n")
                wait_for(lambda: os.path.exists(starts) and len(open(starts).read().splitlines()) >= r,
                         timeout=30, what=f"train worker {r}")
                lat.append(float(open(starts).read().splitlines()[r - 1].split()[1]) - t_write)
            return lat
        finally:
            cp.stop()


def bench_index_check(n_lines=1_000_000, appended=100, repeats=20):
    from sedna.runtimes.local.controller import Controller
    from sedna.runtimes.local.store import Store
    from sedna.runtimes.local.workers import ImageMap, LocalLauncher

    with tempfile.TemporaryDirectory() as tmp:
        index = os.path.join(tmp, "data.txt")
        with open(index, "w") as f:
            for start in range(0, n_lines, 100_000):
                f.write("".join(f"real/berlin/rgb_{i:07d}.png real/berlin/depth_{i:07d}.png "
                                f"real/berlin/label_{i:07d}.png\n" for i in range(start, start + 100_000)))
        store = Store(os.path.join(tmp, "state.db"))
        ctl = Controller(store, LocalLauncher(tmp, ImageMap({})), lc_server="http://127.0.0.1:1", token="t")
        store.apply({"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset",
                     "metadata": {"name": "big", "namespace": "default"},
                     "spec": {"url": index, "format": "txt", "nodeName": "n"}})
        t = time.perf_counter()
        ctl.check_dataset(store.get("Dataset", "default", "big"))
        first = time.perf_counter() - t
        times = []
        for r in range(repeats):
            with open(index, "a") as f:
                f.write("".join(f"new/{r}/{i}.png new/{r}/{i}_d.png new/{r}/{i}_l.png\n" for i in range(appended)))
            ds = store.get("Dataset", "default", "big")
            t = time.perf_counter()
            ctl.check_dataset(ds)
            times.append(time.perf_counter() - t)
        total = store.get("Dataset", "default", "big")["status"]["numberOfSamples"]
        assert total == n_lines + repeats * appended, total
        return {"first_s": first, "median_ms": statistics.median(times) * 1e3,
                "max_ms": max(times) * 1e3}


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def bench_idle_cpu(n_jobs=50, seconds=20):
    with tempfile.TemporaryDirectory() as tmp:
        cp = plane(tmp)
        try:
            index = os.path.join(tmp, "data.txt")
            with open(index, "w") as f:
                f.write("".join(f"a{i}.png 0\n" for i in range(10)))
            docs = [dataset("ds", index)] + [job(f"wait-{i}", "ds", os.path.join(tmp, f"out{i}"), 10**9, 30,
                                                 {"START_LOG": os.path.join(tmp, "s")}) for i in range(n_jobs)]
            cp.cli("apply", "-f", write_yaml(os.path.join(tmp, "m.yaml"), docs), check=True)
            time.sleep(3)  # let every job reach Train/Waiting
            c0, t0 = _cpu_seconds(cp.proc.pid), time.monotonic()
            time.sleep(seconds)
            c1, t1 = _cpu_seconds(cp.proc.pid), time.monotonic()
            waiting = sum(1 for o in json.loads(cp.cli("get", "ll", "-o", "json", check=True).stdout)["items"]
                          if o["status"]["conditions"][-1]["type"] == "Waiting")
            return {"cpu_percent": 100 * (c1 - c0) / (t1 - t0), "jobs_waiting": waiting, "seconds": t1 - t0}
        finally:
            cp.stop()


def main(parts):
    rows = []
    if "a" in parts:
        lat = bench_trigger_latency()
        rows.append(("(a) index write crossing the threshold → train worker process start "
                     "(checkPeriodSeconds 1)", "10–60 s (checks every 10 s, re-reads the index every 60 s)",
                     "≤ 1.5 s median", f"{statistics.median(lat):.2f} s median "
                     f"(min {min(lat):.2f}, max {max(lat):.2f}, {len(lat)} rounds)"))
    if "b" in parts:
        b = bench_index_check()
        rows.append(("(b) one index check, 1,000,000-line index, 100 appended lines (watch + store + status)",
                     "re-reads the whole index", "≤ 20 ms", f"{b['median_ms']:.2f} ms median (max "
                     f"{b['max_ms']:.2f}; first full read {b['first_s']:.1f} s)"))
    if "c" in parts:
        c = bench_idle_cpu()
        rows.append((f"(c) control-plane CPU while {c['jobs_waiting']} jobs wait", "—", "≤ 2 % of one core",
                     f"{c['cpu_percent']:.2f} % over {c['seconds']:.0f} s"))
    print("| measure | original | target | sedna |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main(set(sys.argv[1:]) or {"a", "b", "c"})
