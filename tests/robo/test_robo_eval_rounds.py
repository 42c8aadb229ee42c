"""The robot job's eval worker (``src/sedna/examples/robo/evaluate.py``) as a
real process on a job's round files: each round it scores every scene learned
so far, on the eval frames of every round so far, so the rounds × tasks matrix
gets scores below its diagonal; an earlier round's eval index that is missing
or unreadable is left out with a log line, never a failed round. For a scene new
in the round's knowledge base its report also carries the scores FWT needs: the
parent version's on its eval frames (``before``) and an untrained model's
(``untrained``); round 1's scenes have no parent, only ``untrained``."""

import json
import math
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import sedna.examples.robo
from sedna.control.rounds import RoundFiles

pytest.importorskip("torch")
pytest.importorskip("PIL")

ROBO = os.path.dirname(os.path.abspath(sedna.examples.robo.__file__))  # the job's worker scripts
SIZE = "32x64"


def run_worker(script, env, cwd):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SEDNA_"))}
    full.update(env, num_class="24", BACKEND_TYPE="PYTORCH", IMAGE_SIZE=SIZE, NAMESPACE="default",
                JOB_NAME="robo")  # no LC_SERVER: run by hand, the report is dropped at once
    proc = subprocess.run([sys.executable, os.path.join(ROBO, script)], env=full, cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def eval_lines(stdout):
    """``{task: n_samples}`` from the eval worker's ``eval <task>: ...`` lines."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^eval (\S+): .*n_samples=(\d+)", stdout, re.M)}


@pytest.fixture(scope="module")
def round_one(tmp_path_factory):
    """Frames of two scenes; round 1 of a job trained on both (its round files
    as the control plane writes them), its knowledge base version 1."""
    from sedna.examples.robo import datagen
    from sedna.knowledge import KnowledgeBase

    tmp = tmp_path_factory.mktemp("robo-eval")
    info = datagen.generate(tmp / "data", frames_per_domain={"real/aachen": 10, "sim/synthia": 10, "real/garden": 10},
                            size=(32, 64), seed=5, split_counts={"train": 7, "val": 3, "test": 0})
    index = info["index"]["data.txt"]  # the Dataset's index: the frames' paths are relative to its folder
    lines = [ln for name in ("train_all.txt", "val_all.txt")
             for ln in open(info["index"][name]).read().split("\n") if ln]
    by_scene = {d: [ln for ln in lines if f"/{d}/" in ln] for d in ("real/aachen", "sim/synthia", "real/garden")}
    out = tmp / "output" / "robo"
    files = RoundFiles(str(out))
    train = by_scene["real/aachen"][:6] + by_scene["sim/synthia"][:6]
    files.write(1, train, by_scene["real/aachen"][6:9] + by_scene["sim/synthia"][6:9])
    run_worker("train.py", {"WORKER_NAME": "robo-train-1", "TRAIN_DATASET_URL": files.train_index(1),
                            "ORIGINAL_DATASET_URL": index, "OUTPUT_URL": files.knowledge_base(), "epoches": "1",
                            "MIN_TRAIN_SAMPLE": "4"},
               str(tmp))
    return {"tmp": tmp, "index": index, "files": files, "by_scene": by_scene,
            "kb": KnowledgeBase(files.knowledge_base()).current().url}


def evaluate(r1, r, kb=None, **env):
    files = r1["files"]
    return run_worker("evaluate.py", {"WORKER_NAME": f"robo-eval-{r}", "TEST_DATASET_URL": files.eval_index(r),
                                      "ORIGINAL_DATASET_URL": r1["index"], "MODEL_URLS": kb or r1["kb"],
                                      "OUTPUT_URL": files.eval_output(r), "operator": "<", "model_threshold": "0",
                                      **env},
                      str(r1["tmp"]))


class Reports:
    """A loopback control plane that keeps the worker reports posted to it."""

    def __init__(self):
        self.bodies = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.env = {"LC_SERVER": f"http://127.0.0.1:{self.httpd.server_address[1]}", "no_proxy": "127.0.0.1",
                    "NO_PROXY": "127.0.0.1"}
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def metrics(self, worker):
        """``{task: metrics}`` of the report ``worker`` posted."""
        (body,) = [b for b in self.bodies if b["name"] == worker]
        return body["results"][0]["metrics"]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def scores(d):
    """True when ``d`` is a dict of the eval's scores, each a finite number."""
    return isinstance(d, dict) and {"mIoU", "pixel_accuracy"} <= set(d) and all(
        isinstance(v, float) and math.isfinite(v) for v in d.values())


def test_a_scene_new_in_the_round_is_reported_with_its_scores_before_learning_and_untrained(round_one):
    from sedna.knowledge import KnowledgeBase

    scenes, tmp = round_one["by_scene"], round_one["tmp"]
    # the job's own rounds: round 1 as round_one's, round 2 brings a scene the robot has not seen
    files = RoundFiles(str(tmp / "output" / "grow"))
    files.write(1, [], scenes["real/aachen"][6:9] + scenes["sim/synthia"][6:9])
    files.write(2, scenes["real/garden"][:8], scenes["real/garden"][8:10])
    kb_root = round_one["files"].knowledge_base()
    run_worker("train.py", {"WORKER_NAME": "robo-train-2", "TRAIN_DATASET_URL": files.train_index(2),
                            "ORIGINAL_DATASET_URL": round_one["index"], "OUTPUT_URL": kb_root, "epoches": "1",
                            "MIN_TRAIN_SAMPLE": "4", "HAS_COMPLETED_INITIAL_TRAINING": "true",
                            "CLOUD_KB_INDEX": round_one["kb"]}, str(tmp))
    v2 = KnowledgeBase(kb_root).current()
    assert v2.doc["parent_version"] == 1
    job = dict(round_one, files=files)
    reports = Reports()
    try:
        evaluate(job, 1, **reports.env)
        p = evaluate(job, 2, kb=v2.url, **reports.env)
    finally:
        reports.close()
    first, second = reports.metrics("robo-eval-1"), reports.metrics("robo-eval-2")
    # round 1: no parent, so its scenes carry an untrained model's scores and nothing before
    assert first and all(scores(m["untrained"]) and "before" not in m for m in first.values()), first
    new = set(second) - set(first)
    assert len(new) == 1, second  # the garden
    (garden,) = new
    m = second[garden]
    assert m["n_samples"] == 2 and scores(m["before"]) and scores(m["untrained"]), m
    assert set(m["before"]) == set(m["untrained"]) <= set(m)  # the same metrics as its own scores
    # the scenes it knew already have a score before, in round 1's row: nothing more
    assert all("before" not in second[t] and "untrained" not in second[t] for t in first), second
    assert re.search(rf"^eval {re.escape(garden)}: .*before={{mIoU=\d", p.stdout, re.M)


def test_a_later_round_scores_the_scenes_of_earlier_rounds_on_their_eval_frames(round_one):
    files, scenes = round_one["files"], round_one["by_scene"]
    # round 2's new eval frames are of one scene only
    files.write(2, [], scenes["sim/synthia"][9:10])
    p = evaluate(round_one, 2)
    n = eval_lines(p.stdout)
    assert set(n) == {"real/aachen.model", "sim/synthia.model"}
    assert n["real/aachen.model"] > 0 and n["sim/synthia.model"] > 0  # aachen: round 1's frames
    assert sum(n.values()) == 3 + 3 + 1  # every frame of rounds 1 and 2, once
    assert "eval frames: 1 of this round, 6 of round 1" in p.stdout
    # round 1's files are only read
    assert open(files.eval_index(1)).read().splitlines() == scenes["real/aachen"][6:9] + scenes["sim/synthia"][6:9]


def test_missing_or_unreadable_earlier_rounds_are_left_out_with_a_log_line(round_one):
    files, scenes, tmp = round_one["files"], round_one["by_scene"], round_one["tmp"]
    # round 1: a frame that is not there any more; round 2: never written; round 3: bytes that are not text
    broken = RoundFiles(str(tmp / "output" / "broken"))
    broken.write(1, [], scenes["real/aachen"][6:8] + [
        "leftImg8bit/train/real/aachen/gone_leftImg8bit.png depth/train/real/aachen/gone_disparity.png "
        "gtFine/train/real/aachen/gone_gtFine_labelTrainIds.png"])
    broken.write(3, [], [])
    with open(broken.eval_index(3), "wb") as f:
        f.write(b"\xff\xfe\x00 not an index\n")
    broken.write(4, [], scenes["sim/synthia"][9:10])
    p = evaluate(dict(round_one, files=broken), 4)
    logged = p.stdout + p.stderr
    assert re.search(r"round 1's eval index \S+ is left out: \S*gone\S* does not exist", logged)
    assert re.search(r"round 2's eval index \S+ is missing", logged)
    assert re.search(r"round 3's eval index \S+ is left out", logged)
    assert sum(eval_lines(p.stdout).values()) == 1  # round 4's own frame, nothing else
