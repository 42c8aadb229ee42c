"""Load and fault figures of the control plane after hardening (issue 8),
printed as a Markdown table. Every part runs a real `sedna up` on loopback.

(a) 200 concurrent authenticated GETs (20 threads): answered, p50/p99 latency;
(b) 50 concurrent applies of distinct Datasets: each stored exactly once;
(c) 8 GETs of a 100 MiB worker log: the server's RSS growth;
(d) /healthz latency while the controller ingests a 2,000,000-line index;
(e) 10 kill -9 of the server, each between applies, across restarts: objects lost or doubled;
(f) issue 19's attacks at once, 8M index lines among them, beside a healthy job
    (``tests/support/hostile.py``): per probe, answered and its p50/max latency, the server's
    memory over its idle figure, and the time the healthy job took for two rounds.

    python benchmarks/bench_hardening.py [a] [b] [c] [d] [e] [f]
"""

import json
import os
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from support import hostile  # noqa: E402
from support.ctlplane import ControlPlane  # noqa: E402
from support.hostile import rss_mib  # noqa: E402

API = "/apis/sedna.io/v1alpha1/namespaces/default"


def _call(cp, method, path, body=None):
    req = urllib.request.Request(cp.url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", f"Bearer {cp.token}")
    req.add_header("Content-Type", "application/json")
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
            code = r.status
    except urllib.error.HTTPError as e:
        code = e.code
    return code, time.perf_counter() - t


def _dataset(name, url="/tmp/none/data.txt"):
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": name},
            "spec": {"url": url, "format": "txt", "nodeName": "localhost"}}


def _plane(tmp):
    cp = ControlPlane(tmp).start()
    cp.token = open(os.path.join(cp.state_dir, "token")).read().strip()
    return cp




def bench_gets(cp):
    for i in range(20):
        _call(cp, "PUT", f"{API}/datasets/g{i}", _dataset(f"g{i}"))
    with ThreadPoolExecutor(20) as pool:
        res = list(pool.map(lambda _: _call(cp, "GET", f"{API}/datasets"), range(200)))
    lat = sorted(t for _, t in res)
    ok = sum(c == 200 for c, _ in res)
    return f"{ok}/200 answered 200; p50 {1000 * statistics.median(lat):.0f} ms, p99 {1000 * lat[int(0.99 * len(lat)) - 1]:.0f} ms"


def bench_applies(cp):
    with ThreadPoolExecutor(10) as pool:
        res = list(pool.map(lambda i: _call(cp, "PUT", f"{API}/datasets/a{i}", _dataset(f"a{i}"))[0], range(50)))
    names = []
    cont = ""
    while True:
        req = urllib.request.Request(cp.url + f"{API}/datasets?limit=100" + (f"&continue={cont}" if cont else ""))
        req.add_header("Authorization", f"Bearer {cp.token}")
        with urllib.request.urlopen(req) as r:
            page = json.load(r)
        names += [o["metadata"]["name"] for o in page["items"] if o["metadata"]["name"].startswith("a")]
        cont = page["metadata"]["continue"]
        if not cont:
            break
    return f"{sum(c == 200 for c in res)}/50 accepted; stored {len(set(names))} distinct, {len(names) - len(set(names))} doubled"


def bench_log_memory(cp):
    from sedna.runtimes.local.store import Store

    log = os.path.join(cp.tmp, "huge.log")
    with open(log, "wb") as f:
        chunk = b"x" * 1023 + b"\n"
        for _ in range(100 * 1024):
            f.write(chunk)
    store = Store(os.path.join(cp.state_dir, "state.db"))
    store.add_worker("default", "huge", "none", "train", 1, {"log_path": log})
    store.close()
    before = rss_mib(cp.proc.pid)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _call(cp, "GET", "/api/v1/namespaces/default/workers/huge/log"), range(8)))
    return f"RSS {before:.0f} -> {rss_mib(cp.proc.pid):.0f} MiB"


def bench_healthz_during_ingest(cp):
    index = os.path.join(cp.tmp, "big.txt")
    with open(index, "w") as f:
        for i in range(2_000_000):
            f.write(f"s{i}.png {i % 10}\n")
    _call(cp, "PUT", f"{API}/datasets/big", _dataset("big", index))
    lat, t_end = [], time.monotonic() + 20
    while time.monotonic() < t_end:
        req = urllib.request.Request(cp.url + "/healthz")
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
        lat.append(time.perf_counter() - t)
        time.sleep(0.05)
    return f"{len(lat)} probes over 20 s; p50 {1000 * statistics.median(lat):.0f} ms, max {1000 * max(lat):.0f} ms"


def bench_kills(tmp):
    applied = 0
    cp = _plane(tmp)
    try:
        for k in range(10):
            for i in range(5):
                code, _ = _call(cp, "PUT", f"{API}/datasets/k{applied}", _dataset(f"k{applied}"))
                applied += code == 200
            cp.kill9()
            cp.start()
            cp.token = open(os.path.join(cp.state_dir, "token")).read().strip()
        req = urllib.request.Request(cp.url + f"{API}/datasets?limit=500")
        req.add_header("Authorization", f"Bearer {cp.token}")
        with urllib.request.urlopen(req) as r:
            names = [o["metadata"]["name"] for o in json.load(r)["items"]]
        stored = [n for n in names if n.startswith("k")]
        return f"{applied} acknowledged, {len(set(stored))} stored after 10 kills, {applied - len(set(stored))} lost"
    finally:
        cp.stop()


def bench_hostile(tmp):
    """Rows of (f): one per probe, then memory and the healthy job's time."""
    got = hostile.run(tmp, lines=8_000_000)
    rows = []
    for name in dict.fromkeys(n for n, _, _ in got["prober"].answers):
        mine = [(t, s) for n, t, s in got["prober"].answers if n == name]
        lat = sorted(t for t, _ in mine)
        ok = sum(s == 200 for _, s in mine)
        rows.append((f"hostile beside healthy: {name}", f"{ok}/{len(mine)} answered 200; p50 "
                     f"{1000 * statistics.median(lat):.0f} ms, max {1000 * lat[-1]:.0f} ms"))
    rows.append(("hostile beside healthy: server memory", f"idle {got['idle_mib']:.0f} MiB, peak "
                 f"{max(got['prober'].rss):.0f} MiB (+{max(got['prober'].rss) - got['idle_mib']:.0f})"))
    flood = got["hostile"]["flood"]
    rows.append(("hostile beside healthy: the hostile worker's reports",
                 f"60,000 tasks: {got['hostile']['60000 tasks']}; flood of {len(flood)}: "
                 f"{flood.count(200)} accepted, {flood.count(429)} refused 429, others {len(flood) - flood.count(200) - flood.count(429)}"))
    rows.append(("hostile beside healthy: server CPU once every line is ingested (10 s)", f"{100 * got['cpu_after']:.0f} % of a core"))
    rows.append(("hostile beside healthy: the healthy job", f"{len(got['rounds'])} rounds "
                 f"{'/'.join(r['phase'] for r in got['rounds'])} in {got['seconds']:.0f} s"))
    return rows


def main(which):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cp = _plane(tmp)
        try:
            for key, name, fn in (("a", "200 concurrent GETs", bench_gets), ("b", "50 concurrent applies", bench_applies),
                                  ("c", "8 GETs of a 100 MiB log", bench_log_memory),
                                  ("d", "/healthz during a 2M-line ingest", bench_healthz_during_ingest)):
                if key in which:
                    rows.append((name, fn(cp)))
                    print(f"{name}: {rows[-1][1]}", file=sys.stderr, flush=True)
        finally:
            cp.stop()
    if "e" in which:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(("10 kill -9 between applies", bench_kills(tmp)))
    if "f" in which:
        with tempfile.TemporaryDirectory() as tmp:
            rows += bench_hostile(tmp)
    print("| check | result |\n|---|---|")
    for name, res in rows:
        print(f"| {name} | {res} |")


if __name__ == "__main__":
    main(set(sys.argv[1:]) or set("abcdef"))
