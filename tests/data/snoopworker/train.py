"""A hostile train worker (tests/security/test_worker_confinement.py): it tries to read the
admin token and other secrets by every path the test gives it (in SNOOP, as JSON, so that
they are not paths its job names), through /proc of the server too, and records what
each gave, and whether it may signal the server; then it does its honest work: writes its output and reports."""

import json
import os

from sedna.worker.report import report_task_info


def server_pid():
    wrapper = os.getppid()
    with open(f"/proc/{wrapper}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def attempt(path):
    try:
        with open(path, "rb") as f:
            return {"path": path, "read": f.read(200).decode("utf-8", "replace")}
    except OSError as e:
        return {"path": path, "denied": type(e).__name__}


targets = json.loads(os.environ["SNOOP"])
pid = server_pid()
state = targets["state_dir"]
paths = [os.path.join(state, "token"), os.path.join(state, "state.db"), targets["config"], targets["other_job"],
         f"/proc/{pid}/environ", f"/proc/{pid}/root{state}/token", f"/proc/{pid}/cwd/token",
         f"/proc/{pid}/mem"]
paths += [f"/proc/{pid}/fd/{fd}" for fd in range(3, 40)]
seen = [attempt(p) for p in paths]
try:
    os.listdir(state)
    seen.append({"path": state, "read": "listed"})
except OSError as e:
    seen.append({"path": state, "denied": type(e).__name__})
try:
    os.kill(pid, 0)
    signal = "allowed"
except OSError as e:
    signal = type(e).__name__
out = os.environ["OUTPUT_URL"]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "seen.json"), "w") as f:
    json.dump({"seen": seen, "home": os.environ.get("HOME"), "server_pid": pid, "uid": os.getuid(),
               "signal": signal}, f)
report_task_info("train", "completed", [{"format": "index", "url": os.path.join(out, "index.json")}])
