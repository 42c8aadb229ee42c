"""A hostile worker (tests/support/hostile.py): as a train worker it writes, at once, what
issue 19 found a worker can hurt the server with, and records the server's answers in
``OUTPUT_URL/hostile.json``; as any other worker it waits to be stopped.

- its knowledge base's ``index.json`` a FIFO (a reader that opens it blocks);
- a sparse gigabyte as its unseen list (``unseen_save_url``);
- ``HOSTILE_LINES`` lines appended to its Dataset's index in one go;
- a report naming 60,000 tasks, then ``HOSTILE_FLOOD`` reports of about 2.4 MB each.
"""

import json
import os
import signal
import time
import urllib.error
import urllib.request

RUNNING = True


def _stop(*_):
    global RUNNING
    RUNNING = False


def post(body):
    """The status the server answers a report with (the worker's own token)."""
    url = f"{os.environ['LC_SERVER']}/sedna/workers/{os.environ['WORKER_NAME']}/info"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + os.environ["LC_TOKEN"],
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def report(out, tasks, padding=0):
    metrics = {f"task-{i}": {"accuracy": 0.5} for i in range(tasks)}
    return {"name": os.environ["WORKER_NAME"], "namespace": os.environ["NAMESPACE"],
            "ownerName": os.environ["JOB_NAME"], "ownerKind": "lifelonglearningjob", "kind": "train",
            "status": "completed", "ownerInfo": {"padding": "x" * padding},
            "results": [{"format": "index", "url": os.path.join(out, "index.json"), "metrics": metrics}]}


def attack():
    out, unseen = os.environ["OUTPUT_URL"], os.environ["unseen_save_url"]
    os.makedirs(out, exist_ok=True)
    os.makedirs(unseen, exist_ok=True)
    os.mkfifo(os.path.join(out, "index.json"))
    with open(os.path.join(unseen, "unseen.txt"), "wb") as f:
        f.truncate(1 << 30)
    lines = int(os.environ.get("HOSTILE_LINES", "2000000"))
    with open(os.environ["ORIGINAL_DATASET_URL"], "a", encoding="utf-8") as f:
        for start in range(0, lines, 100_000):
            f.write("".join(f"x/{i}.npy {i % 10}\n" for i in range(start, min(lines, start + 100_000))))
    answers = {"60000 tasks": post(report(out, 60_000))}
    flood = [post(report(out, 10, padding=2_400_000)) for _ in range(int(os.environ.get("HOSTILE_FLOOD", "40")))]
    answers["flood"] = flood
    with open(os.path.join(out, "hostile.json"), "w", encoding="utf-8") as f:
        json.dump(answers, f)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    if "-train-" in os.environ["WORKER_NAME"]:
        attack()
    while RUNNING:
        time.sleep(0.2)
