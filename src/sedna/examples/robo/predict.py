"""Inference worker: the robot's camera stream.

Frames arrive in the ``test_data`` folder (``*_leftImg8bit.png`` with a
``*_disparity.png`` beside it). Each one is segmented by the task model the
knowledge base allocates; frames that match no known scene are flagged unseen
and saved to ``unseen_save_url`` for labelling, and still segmented by the
closest scene's model. A worker that replaces an
earlier one (a new deployment) continues the stream where it stopped. Results (label, colour and
overlay PNGs) go to ``INFERENCE_RESULT_DIR``, with one JSON line per frame in
``results.jsonl``. A newly deployed knowledge base is picked up without
restarting the stream (every ``MODEL_POLL_PERIOD_SECONDS``). Previews of the
last frames (thumbnail, overlay, serving task, unseen score) go to
``OUTPUT_URL/frames`` for the dashboard (:mod:`sedna.core.labelling.previews`),
drawn by the job's ``SAMPLE_RENDERER`` (``robo``, in :mod:`sedna.examples.robo.plugins`).
"""

import json
import os
import signal
import time

import numpy as np
from interface import Estimator

import sedna.examples.robo.plugins  # noqa: F401  - registers robo_image_stats and the robo renderer
from sedna.common.config import Context
from sedna.common.log import LOGGER, setup
from sedna.core.labelling.previews import worker_ring
from sedna.core.labelling.render import RENDERER_ENV
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import BaseDataSource

RUNNING = True


def _stop(*_):
    global RUNNING
    RUNNING = False


def new_frames(folder, done):
    names = sorted(n for n in os.listdir(folder) if n.endswith("_leftImg8bit.png") and n not in done)
    return names


def already_done(path):
    """Frames an earlier inference worker of this job handled: a new deployment
    continues the stream instead of starting it again."""
    done = set()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    done.add(json.loads(line)["frame"])
                except (ValueError, KeyError):
                    continue
    return done


def _unseen_score(ll_job):
    """(score, threshold) the unseen recogniser decided the last frame on, or (None, None)."""
    last = ll_job.last_unseen_decision()
    if not last or not last.get("score"):
        return None, None
    return last["score"][0], last["threshold"]


def _preview(ring, ll_job, name, rgb, result, unseen, task, version):
    if ring is None or result is None:
        return
    score, threshold = _unseen_score(ll_job)
    try:
        ring.add(name, rgb, result, task=task, unseen=unseen, score=score, threshold=threshold,
                 kb_version=version, when=time.time())
    except OSError as e:  # a full disk costs the previews, never the stream
        LOGGER.warning("inference: no preview of %s: %s", name, e)


def run():
    setup()
    signal.signal(signal.SIGTERM, _stop)
    estimator = Estimator(num_class=int(Context.get_parameters("num_class", 24)))
    ll_job = LifelongLearning(estimator)
    src = Context.get_parameters("test_data", "/data/test_data")
    out = Context.get_parameters("INFERENCE_RESULT_DIR", "/data/infer_results")
    os.makedirs(out, exist_ok=True)
    done = already_done(os.path.join(out, "results.jsonl"))
    if done:
        LOGGER.info("inference: resuming the stream after %d frames", len(done))
    results = open(os.path.join(out, "results.jsonl"), "a", encoding="utf-8")
    output_url = Context.get_parameters("OUTPUT_URL")
    ring = worker_ring(output_url, Context.get_parameters(RENDERER_ENV, "robo"))
    while RUNNING:
        names = new_frames(src, done) if os.path.isdir(src) else []
        if not names:
            time.sleep(0.2)
            continue
        for name in names:
            rgb = os.path.join(src, name)
            depth = rgb.replace("_leftImg8bit.png", "_disparity.png")
            data = BaseDataSource(data_type="test")
            data.x = np.array([[rgb, depth if os.path.exists(depth) else rgb]])
            res, is_unseen, tasks = ll_job.inference(data)
            version = ll_job.serving_version()
            if res[0] is not None:  # unseen frames are flagged and still segmented
                estimator.save_results([rgb], [res[0]], [name.replace("_leftImg8bit.png", "")], out)
            task = tasks[0].entry if tasks else None
            results.write(json.dumps({"frame": name, "unseen": bool(is_unseen[0]), "task": task,
                                      "kb_version": version, "time": time.time()}) + "\n")
            results.flush()
            _preview(ring, ll_job, name, rgb, res[0], bool(is_unseen[0]), task, version)
            done.add(name)
        LOGGER.info("inference: %d frames so far (knowledge base version %s)", len(done), version)


if __name__ == '__main__':
    run()
