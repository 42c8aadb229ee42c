"""``GET /metrics`` scrape time against stores of growing size, printed as a Markdown table.

Each scale is a real state folder filled as ``bench_dashboard.py`` fills it (N
jobs with R rounds of status, a 5-task knowledge base with train and eval
metrics, 3 workers per round), served by a real ``sedna up``; the scrape is
fetched over one keep-alive loopback connection with the admin token, as
Prometheus does. ``/healthz`` is the floor (HTTP, auth, loopback).

    python benchmarks/bench_metrics.py [--scales 50x20,200x20] [--repeat 30]
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile

from bench_dashboard import fill, p95, timings  # noqa: E402 - same folder: the dashboard's fixture data

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from support.ctlplane import free_port  # noqa: E402
from support.waiting import wait_for  # noqa: E402


def serve(state):
    port = free_port()
    log = open(os.path.join(os.path.dirname(state), "up.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "sedna.cli", "up", "--state-dir", state, "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz") or True,
             timeout=60, what="sedna up")
    return proc, port, log


def stop(proc, state, log):
    subprocess.run([sys.executable, "-m", "sedna.cli", "down", "--state-dir", state], capture_output=True, timeout=60)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="50x20,200x20", help="JOBSxROUNDS, comma-separated")
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    print(f"{args.repeat} scrapes per row after 2 warm-ups, loopback, one keep-alive connection\n")
    print("| jobs × rounds | workers | path | median ms | p95 ms | bytes |")
    print("|---|---|---|---|---|---|")
    for scale in args.scales.split(","):
        jobs, rounds = (int(x) for x in scale.lower().split("x"))
        with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
            state, work = os.path.join(tmp, "state"), os.path.join(tmp, "work")
            os.makedirs(os.path.join(work, "logs"))
            fill(state, work, jobs, rounds)
            proc, port, log = serve(state)
            try:
                token = open(os.path.join(state, "token")).read().strip()
                for path in ("/healthz", "/metrics"):
                    ms, size = timings(port, token, path, args.repeat)
                    print(f"| {jobs} × {rounds} | {jobs * rounds * 3} | `{path}` | {statistics.median(ms):.1f} | "
                          f"{p95(ms):.1f} | {size} |")
            finally:
                stop(proc, state, log)


if __name__ == "__main__":
    main()
