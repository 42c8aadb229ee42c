"""``sedna demo``: the robot dog meets a scene it never saw and learns it
without forgetting, on one machine.

1. render the scenes (three seen: two cities and a simulated style; one
   held-out: a garden at dusk with stairs, curbs and ramps);
2. start the embedded control plane and apply the tutorial-shaped manifests;
3. round 1: the seen scenes' frames are appended to the Dataset's index →
   train → eval → deploy;
4. the camera stream (all four scenes) goes through the inference worker,
   which flags and saves the frames it does not recognise;
5. ``sedna label`` plays the annotator: the saved frames get their labels and
   are appended to the index → round 2 → eval → deploy;
6. the table: rounds × scenes mIoU, BWT/FWT, unseen-detection precision and
   recall, time per stage.
"""

import json
import os
import random
import shutil
import signal
import string
import subprocess
import sys
import time

from sedna.common.api_paths import resource_path
from sedna.core.labelling import label
from sedna.core.lifelong_learning.measures import all_measures
from sedna.examples.robo.demo_table import print_table, write_outputs
from sedna.examples.robo.plugins import NAMING

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = "sedna/robo-demo:v1"
MARKER = ".sedna-demo"


class DemoError(Exception):
    pass


class Progress:
    def __init__(self, out):
        self.out = out
        self.t0 = time.monotonic()

    @property
    def elapsed(self):
        return time.monotonic() - self.t0

    def __call__(self, msg):
        self.out(f"[{self.elapsed:6.1f}s] {msg}")


# --------------------------------------------------------------------- helpers
def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_workdir(work):
    if os.path.exists(work) and os.listdir(work):
        if not os.path.exists(os.path.join(work, MARKER)):
            raise DemoError(f"{work} exists and is not a sedna demo folder; choose another --workdir")
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    open(os.path.join(work, MARKER), "w").close()


#: What the shipped manifest templates (``manifests/*.yaml``) leave to fill in.
TEMPLATE_VALUES = ("DATA_URL", "NODE", "IMAGE", "EPOCHS", "IMAGE_SIZE", "THRESHOLD", "WORK")


def write_manifests(target, work, data_url=None, epochs=10, size=(96, 192), threshold=20):
    """Fill the shipped templates for a demo under ``work`` and write them into
    ``target``; returns the two paths (dataset.yaml, job.yaml), ready to apply."""
    work = os.path.abspath(work)
    data_url = data_url or os.path.join(work, "segmentation_data", "data.txt")
    values = {"DATA_URL": data_url, "NODE": "localhost", "IMAGE": IMAGE, "EPOCHS": str(epochs),
              "IMAGE_SIZE": f"{size[0]}x{size[1]}", "THRESHOLD": str(threshold), "WORK": work}
    paths = []
    os.makedirs(target, exist_ok=True)
    for name in ("dataset.yaml", "job.yaml"):
        with open(os.path.join(HERE, "manifests", name), encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
        while lines and lines[0].startswith("#"):  # the template's "how to fill me" note
            lines.pop(0)
        text = (f"# Filled in by `sedna demo --manifests` for a demo under {work}.\n"
                + string.Template("".join(lines)).substitute(values))
        path = os.path.join(target, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        paths.append(path)
    return paths


def _manifests(work, data_url, epochs, size, threshold):
    return write_manifests(os.path.join(work, "manifests"), work, data_url, epochs, size, threshold)


class Plane:
    """`sedna up` for the demo, and a small client."""

    def __init__(self, work, port):
        self.state = os.path.join(work, "state")
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None
        self.log = os.path.join(work, "control-plane.log")

    def start(self):
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sedna.cli", "up", "--state-dir", self.state, "--port", str(self.port),
                 "--image", f"{IMAGE}={HERE}"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DemoError(f"the control plane exited (code {self.proc.returncode}); see {self.log}")
            try:
                self.call("GET", "/healthz")
                return self
            except OSError:
                time.sleep(0.2)
        raise DemoError(f"the control plane did not start; see {self.log}")

    def call(self, method, path, body=None):
        import urllib.request

        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        token = os.path.join(self.state, "token")
        if os.path.exists(token):
            req.add_header("Authorization", "Bearer " + open(token).read().strip())
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def cli(self, *args):
        p = subprocess.run([sys.executable, "-m", "sedna.cli", *args, "--state-dir", self.state],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise DemoError(f"sedna {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def job(self):
        return self.call("GET", resource_path("lifelonglearningjobs", "default", "robo-demo"))

    def workers(self):
        return self.call("GET", "/api/v1/namespaces/default/workers")["items"]

    def stop(self, keep_workers=False):
        if self.proc and self.proc.poll() is None:
            args = ["down"] + (["--keep-workers"] if keep_workers else [])
            subprocess.run([sys.executable, "-m", "sedna.cli", *args, "--state-dir", self.state],
                           capture_output=True, timeout=60)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def _follow(plane, progress, round_no, timeout):
    """Print training progress and stage changes until round ``round_no`` is deployed.

    Each poll reads the job first and the workers' logs second, and prints the
    log lines before the new conditions: a log line written before a stage
    completed is always printed before that stage's "Completed"."""
    seen_conds, offsets = set(), {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = plane.job()
        st = job.get("status") or {}
        for line in _new_log_lines(plane, round_no, offsets):
            progress(line)
        for c in st.get("conditions") or []:
            key = (c.get("round"), c.get("stage"), c.get("type"), c.get("reason"))
            if key not in seen_conds and c.get("round") == round_no:
                seen_conds.add(key)
                progress(f"round {round_no}: {c.get('stage')} {c.get('type')}"
                         + (f" ({c.get('message')})" if c.get("message") else ""))
        rounds = st.get("rounds") or []
        last = rounds[-1] if rounds else {}
        if last.get("round") == round_no:
            if last.get("phase") != "Succeeded":
                fail = st.get("lastFailure") or {}
                raise DemoError(f"round {round_no} failed: exit code {fail.get('exitCode')}\n{fail.get('logTail', '')}")
            return job
        time.sleep(0.5)
    raise DemoError(f"round {round_no} did not finish within {timeout:.0f} s")


def _new_log_lines(plane, round_no, offsets):
    """The progress lines (epochs, eval scores, KB versions) round ``round_no``'s workers logged since last time."""
    out = []
    for w in plane.workers():
        if w["round"] != round_no or not w.get("logPath") or not os.path.exists(w["logPath"]):
            continue
        with open(w["logPath"], "rb") as f:
            f.seek(offsets.get(w["name"], 0))
            data = f.read()
        data = data[:data.rfind(b"\n") + 1]  # whole lines only; the rest next time
        offsets[w["name"]] = offsets.get(w["name"], 0) + len(data)
        for line in data.decode("utf-8", "replace").splitlines():
            if line.startswith("=====") or "Traceback" in line:
                continue
            if ("epoch" in line or line.startswith("eval ") or "knowledge base version" in line
                    or "]: task " in line or "]: tasks " in line) and "training RFNet-lite" not in line:
                out.append(f"  {w['name']}: {line.split(']: ')[-1].strip()}")
    return out


STAGE_ORDER = {"Train": 0, "Eval": 1, "Deploy": 2}


def ordered_stages(stages):
    """``{(round, stage): seconds}`` as ``{"round r Stage": seconds}``, by round, then Train, Eval, Deploy."""
    keys = sorted(stages, key=lambda k: (k[0] or 0, STAGE_ORDER.get(k[1], 9), str(k[1])))
    return {f"round {r} {s}": stages[(r, s)] for r, s in keys}


def _stage_times(job):
    """Seconds per (round, stage) from the job's conditions (Starting → Completed)."""
    from datetime import datetime

    def ts(s):
        return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")

    out, start = {}, {}
    for c in (job.get("status") or {}).get("conditions") or []:
        key = (c.get("round"), c.get("stage"))
        if c.get("type") == "Starting":
            start[key] = ts(c["lastTransitionTime"])
        elif c.get("type") == "Completed" and key in start:
            out[key] = (ts(c["lastTransitionTime"]) - start[key]).total_seconds()
    return out


def _evaluate_kb(index_url, data_root, test_index, size, domains):
    """mIoU per scene of the knowledge-base version at ``index_url`` (every frame to its allocated task)."""
    import numpy as np

    import sedna.examples.robo.plugins  # noqa: F401
    from sedna.core.lifelong_learning import LifelongLearning  # lazy: the engine loads only when the demo runs
    from sedna.datasources import BaseDataSource  # lazy: loaded only when the demo runs
    from sedna.examples.robo.imageio import read_label  # lazy: pillow ([robo] extra)
    from sedna.examples.robo.interface import Estimator  # lazy: [robo] extra
    from sedna.examples.robo.metrics import Evaluator  # lazy: [robo] extra

    saved = os.environ.get("MODEL_URLS")
    os.environ["MODEL_URLS"] = index_url  # serve this version, as an inference worker would
    ll = LifelongLearning(Estimator(num_class=24, size=size))
    out = {}
    try:
        for d in domains:
            rows = test_index[d]
            data = BaseDataSource(data_type="test")
            data.x = np.array([[os.path.join(data_root, r[0]), os.path.join(data_root, r[1])] for r in rows])
            res, _, _ = ll.inference(data, recognize_unseen=False)
            ev = Evaluator(24)
            for pred, r in zip(res, rows):
                ev.add(np.asarray(pred), read_label(os.path.join(data_root, r[2])))
            out[d] = float(ev.mean_iou())
    finally:
        ll.close()
        if saved is None:
            os.environ.pop("MODEL_URLS", None)
        else:
            os.environ["MODEL_URLS"] = saved
    return out


def _untrained_miou(data_root, test_index, size, domains):
    import numpy as np

    from sedna.examples.robo.imageio import read_label  # lazy: pillow ([robo] extra)
    from sedna.examples.robo.interface import Estimator  # lazy: [robo] extra
    from sedna.examples.robo.metrics import Evaluator  # lazy: [robo] extra

    est = Estimator(num_class=24, size=size, seed=1)
    out = {}
    for d in domains:
        rows = test_index[d]
        preds = est.predict([[os.path.join(data_root, r[0]), os.path.join(data_root, r[1])] for r in rows])
        ev = Evaluator(24)
        for pred, r in zip(preds, rows):
            ev.add(np.asarray(pred), read_label(os.path.join(data_root, r[2])))
        out[d] = float(ev.mean_iou())
    return out


# ------------------------------------------------------------------------ demo
def _render(work, frames, stream_seen, heldout_frames, test_frames, size, seed, progress):
    """The scenes rendered under ``work``: ``{data_root, index, train_lines, test_index, stream, domains}``;
    the Dataset's index left empty (appending is what triggers rounds)."""
    from sedna.examples.robo import datagen  # lazy: [robo] extra

    data_root = os.path.join(work, "segmentation_data")
    seen, held = list(datagen.SEEN), datagen.HELDOUT
    domains = seen + [held]
    progress(f"rendering scenes: {', '.join(seen)} (seen) and {held} (held out) at {size[0]}x{size[1]}")
    counts = {d: {"train": frames, "val": stream_seen, "test": test_frames} for d in seen}
    counts[held] = {"train": 0, "val": heldout_frames, "test": test_frames}
    info = datagen.generate(data_root, split_counts=counts, size=size, seed=seed, domains=domains)
    index = os.path.join(data_root, "data.txt")
    with open(index, encoding="utf-8") as f:
        train_lines = [ln.strip() for ln in f if ln.strip()]
    os.replace(index, os.path.join(data_root, "round1_train.txt"))
    open(index, "w").close()
    test_index = {d: [] for d in domains}
    for line in _split_lines(data_root, info, "test"):
        test_index[datagen.domain_of(line.split()[0])].append(line.split())
    stream = [line.split() for line in _split_lines(data_root, info, "val")]
    progress(f"rendered {len(train_lines)} training frames, {len(stream)} camera frames, "
             f"{sum(map(len, test_index.values()))} test frames")
    return {"data_root": data_root, "index": index, "train_lines": train_lines, "test_index": test_index,
            "stream": stream, "domains": domains, "seen": seen, "held": held}


def _stream_camera(work, d, seed, progress):
    """Every camera frame to the inference worker, in a shuffled order; the
    unseen flags scored against the held-out scene: ``{precision, recall, tp, fp, fn}``."""
    from sedna.examples.robo import datagen  # lazy: [robo] extra

    camera, stream = os.path.join(work, "camera"), d["stream"]
    results = os.path.join(work, "infer_results", "results.jsonl")
    order = list(range(len(stream)))
    random.Random(seed).shuffle(order)
    os.makedirs(camera, exist_ok=True)
    for i in order:
        rgb, depth = stream[i][0], stream[i][1]
        shutil.copy2(os.path.join(d["data_root"], depth), os.path.join(camera, os.path.basename(depth)))
        shutil.copy2(os.path.join(d["data_root"], rgb), os.path.join(camera, os.path.basename(rgb)))
    progress(f"camera: {len(stream)} frames streamed to the inference worker")
    done = _wait_results(results, len(stream), progress, timeout=300)
    truth = {os.path.basename(s[0]): datagen.domain_of(s[0]) == d["held"] for s in stream}
    flagged = {r["frame"]: r["unseen"] for r in done}
    tp = sum(1 for n, u in flagged.items() if u and truth[n])
    fp = sum(1 for n, u in flagged.items() if u and not truth[n])
    fn = sum(1 for n, u in flagged.items() if not u and truth[n])
    progress(f"unseen frames flagged: {tp + fp} ({tp} of {tp + fn} {d['held']} frames; {fp} seen-scene frames)")
    return {"precision": tp / (tp + fp) if tp + fp else float("nan"),
            "recall": tp / (tp + fn) if tp + fn else float("nan"), "tp": tp, "fp": fp, "fn": fn}


def _measure(work, d, size, progress):
    """Every round's knowledge base on every scene's test frames: the matrix, baseline and
    measures, and the knowledge base's folder."""
    progress("measuring every round's knowledge base on every scene's test frames")
    kb_root = os.path.join(work, "output", "robo-demo", "kb")
    domains = d["domains"]
    R = [_evaluate_kb(_kb_version_index(kb_root, r), d["data_root"], d["test_index"], size, domains) for r in (1, 2)]
    base = _untrained_miou(d["data_root"], d["test_index"], size, domains)
    learned = [0] * len(d["seen"]) + [1]
    matrix = [[R[r][x] for x in domains] for r in range(2)]
    return {"domains": domains, "heldout": d["held"], "matrix": matrix, "baseline": base,
            "measures": all_measures(matrix, learned, [base[x] for x in domains])}, kb_root


def _rounds(plane, work, d, size, seed, progress):
    """Round 1, the camera stream, the annotator's labels, round 2, the measures: the summary."""
    with open(d["index"], "a", encoding="utf-8") as f:  # round 1: the seen scenes arrive in the index
        f.write("".join(line + "\n" for line in d["train_lines"]))
    progress(f"appended {len(d['train_lines'])} frames of the seen scenes to {d['index']}")
    t = time.monotonic()
    _follow(plane, progress, 1, timeout=600)
    wall = {"round 1": time.monotonic() - t}
    wait_for_worker(plane, "robo-demo-deploy-1")
    t = time.monotonic()
    unseen = _stream_camera(work, d, seed, progress)  # every scene, the held-out one included
    wall["stream"] = time.monotonic() - t
    if unseen["tp"] + unseen["fp"] == 0:  # the annotator labels what was flagged: round 2
        raise DemoError("the inference worker flagged no frame as unseen, so there is nothing to label "
                        f"(see {os.path.join(work, 'infer_results', 'results.jsonl')})")
    lines = label(os.path.join(work, "unseen_samples"), d["index"], naming=NAMING, tree=d["data_root"])
    progress(f"labelled {len(lines)} unseen frames and appended them to the index")
    t = time.monotonic()
    job = _follow(plane, progress, 2, timeout=600)
    wall["round 2"] = time.monotonic() - t
    wait_for_worker(plane, "robo-demo-deploy-2")
    measured, kb_root = _measure(work, d, size, progress)
    return dict(measured, unseen=unseen, stages=ordered_stages(_stage_times(job)), wall=wall,
                total_seconds=progress.elapsed, workdir=work, knowledge_base=kb_root)


def run_demo(workdir="sedna-demo", frames=40, stream_seen=10, heldout_frames=40, test_frames=16,
             size=(96, 192), epochs=10, port=None, keep=False, seed=0, out=print):
    """Run the whole demo; returns the summary dict (also written to ``workdir/summary.json``)."""
    progress = Progress(out)
    work = os.path.abspath(workdir)
    _prepare_workdir(work)
    d = _render(work, frames, stream_seen, heldout_frames, test_frames, size, seed, progress)
    manifests = _manifests(work, d["index"], epochs, size, threshold=20)
    plane = Plane(work, port or _free_port()).start()
    progress(f"control plane on {plane.url} (state in {plane.state})")
    progress(f"dashboard: {plane.url}/ui/ (log in with the token in {os.path.join(plane.state, 'token')})")
    try:
        for line in plane.cli("apply", "-f", manifests[0], "-f", manifests[1]).splitlines():
            progress(line)
        summary = _rounds(plane, work, d, size, seed, progress)
        write_outputs(work, summary)
        print_table(out, summary)
    finally:
        if keep:  # the dashboard stays up, with the inference worker
            out(f"the control plane stays up: dashboard {plane.url}/ui/; stop it with: "
                f"sedna down --state-dir {plane.state}")
        else:
            plane.stop()
    return summary


def _kb_version_index(kb_root, number):
    """The index of version ``number`` of the job's knowledge base (round r wrote version r)."""
    from sedna.knowledge import KnowledgeBase  # lazy: loaded only when the demo measures

    return KnowledgeBase(kb_root).load(number).url


def wait_for_worker(plane, name, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for w in plane.workers():
            if w["name"] == name and w["phase"] == "Running":
                return w
        time.sleep(0.3)
    raise DemoError(f"worker {name} is not running")


def _wait_results(path, n, progress, timeout):
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        rows = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
        if len(rows) != last and rows:
            last = len(rows)
            if last % 10 == 0 or last >= n:
                progress(f"  inference: {last}/{n} frames")
        if len(rows) >= n:
            return rows[:n]
        time.sleep(0.3)
    raise DemoError(f"the inference worker handled {last} of {n} frames within {timeout} s")


def _split_lines(root, info, split):
    """Index lines (rgb depth label) of one split, every scene (the generator's ``<split>_all.txt``)."""
    with open(os.path.join(root, f"{split}_all.txt"), encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]
