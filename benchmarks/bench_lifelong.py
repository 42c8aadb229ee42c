"""Lifelong-learning benchmark of the robot-dog job (issue 4).

The rounds of `sedna demo`, run in-process with the library: round 1 learns
the three seen scenes, round 2 the held-out garden. Two learners:

* **sedna**: the knowledge base, one RFNet-lite per scene, allocation by the
  frames' appearance (what `sedna demo` deploys);
* **baseline**: a single RFNet-lite trained on round 1 and fine-tuned on each
  later round's data (what a plain retraining pipeline does).

Prints the rounds × scenes mIoU matrices side by side with BWT/FWT (GEM and
Ianvs forms) and forgetting; writes ``matrix.csv`` and ``matrix.png`` under
the output folder.

    python benchmarks/bench_lifelong.py [--out DIR] [--frames 40] [--epochs 10] [--size 96x192]
"""

import argparse
import csv
import os
import sys
import tempfile
import time

import numpy as np


def scene_sources(root, lines, data_type="train"):
    from sedna.datasources import BaseDataSource
    from sedna.examples.robo.datagen import domain_of

    src = BaseDataSource(data_type=data_type)
    rows = [ln.split() for ln in lines]
    src.x = np.array([[os.path.join(root, r[0]), os.path.join(root, r[1])] for r in rows])
    src.y = np.array([os.path.join(root, r[2]) for r in rows])
    src.meta_attr = np.array([domain_of(r[0]) for r in rows])
    return src


def read(root, name):
    with open(os.path.join(root, name), encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip()]


def miou_of(predict, root, lines):
    from sedna.examples.robo.imageio import read_label
    from sedna.examples.robo.metrics import Evaluator

    rows = [ln.split() for ln in lines]
    preds = predict([[os.path.join(root, r[0]), os.path.join(root, r[1])] for r in rows])
    ev = Evaluator(24)
    for p, r in zip(preds, rows):
        ev.add(np.asarray(p), read_label(os.path.join(root, r[2])))
    return float(ev.mean_iou())


def run(out, frames=40, epochs=10, size=(96, 192), heldout_frames=40, test_frames=16, seed=0):
    import sedna.examples.robo.plugins  # noqa: F401
    from sedna.core.lifelong_learning import LifelongLearning
    from sedna.core.lifelong_learning.measures import all_measures
    from sedna.examples.robo import datagen
    from sedna.examples.robo.interface import Estimator
    from sedna.examples.robo.jobspec import TASK_ALLOCATION, TASK_DEFINITION, TASK_UPDATE_DECISION, UNSEEN_RECOGNITION

    os.makedirs(out, exist_ok=True)
    root = os.path.join(out, "data")
    seen, held = list(datagen.SEEN), datagen.HELDOUT
    domains = seen + [held]
    counts = {d: {"train": frames, "val": 0, "test": test_frames} for d in seen}
    counts[held] = {"train": heldout_frames, "val": 0, "test": test_frames}
    datagen.generate(root, split_counts=counts, size=size, seed=seed, domains=domains, heldout=held)
    rounds = [read(root, "train_seen.txt"), read(root, f"train_{held.split('/')[1]}.txt")]
    tests = {d: read(root, f"test_{d.split('/')[1]}.txt") for d in domains}
    times = {}

    # ---- sedna: per-scene knowledge base
    os.environ.pop("LC_SERVER", None)
    kb_matrix = []
    for r, lines in enumerate(rounds):
        kb = os.path.join(out, "kb", str(r + 1))
        ll = LifelongLearning(Estimator(num_class=24, epochs=epochs, size=size, seed=seed),
                              task_definition=TASK_DEFINITION, task_allocation=TASK_ALLOCATION,
                              unseen_sample_recognition=UNSEEN_RECOGNITION, task_update_decision=TASK_UPDATE_DECISION,
                              output_url=kb)
        t = time.perf_counter()
        if r == 0:
            ll.train(scene_sources(root, lines))
        else:
            ll.update(scene_sources(root, lines), index_url=os.path.join(out, "kb", str(r), "index.json"))
        times[f"sedna round {r + 1}"] = time.perf_counter() - t

        def predict(rows, ll=ll):
            from sedna.datasources import BaseDataSource

            d = BaseDataSource(data_type="test")
            d.x = np.array(rows)
            return ll.inference(d, recognize_unseen=False)[0]
        kb_matrix.append([miou_of(predict, root, tests[d]) for d in domains])

    # ---- baseline: one model, fine-tuned on each round's data
    base_matrix = []
    single = Estimator(num_class=24, epochs=epochs, size=size, seed=seed)
    untrained = [miou_of(Estimator(num_class=24, size=size, seed=seed + 1).predict, root, tests[d]) for d in domains]
    for r, lines in enumerate(rounds):
        t = time.perf_counter()
        single.train(scene_sources(root, lines))
        times[f"baseline round {r + 1}"] = time.perf_counter() - t
        base_matrix.append([miou_of(single.predict, root, tests[d]) for d in domains])

    learned = [0] * len(seen) + [1]
    res = {"domains": domains, "sedna": kb_matrix, "baseline": base_matrix, "untrained": untrained,
           "measures": {"sedna": all_measures(kb_matrix, learned, untrained),
                        "baseline": all_measures(base_matrix, learned, untrained)},
           "times": times}
    write_csv(os.path.join(out, "matrix.csv"), res)
    plot(os.path.join(out, "matrix.png"), res)
    return res


def write_csv(path, res):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["learner", "after round"] + res["domains"])
        for who in ("sedna", "baseline"):
            for r, row in enumerate(res[who], 1):
                w.writerow([who, r] + [f"{v:.4f}" for v in row])
        w.writerow(["untrained", 0] + [f"{v:.4f}" for v in res["untrained"]])


def plot(path, res):
    """Grouped bars: per scene, mIoU after rounds 1 and 2 for both learners."""
    from PIL import Image, ImageDraw

    W, H, pad = 900, 420, 50
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    doms = res["domains"]
    series = [("sedna r1", res["sedna"][0], (120, 160, 220)), ("sedna r2", res["sedna"][1], (30, 80, 180)),
              ("baseline r1", res["baseline"][0], (240, 170, 120)), ("baseline r2", res["baseline"][1], (200, 80, 30))]
    group = (W - 2 * pad) / len(doms)
    bar = group / (len(series) + 1)
    d.line([(pad, H - pad), (W - pad, H - pad)], fill="black")
    d.line([(pad, pad), (pad, H - pad)], fill="black")
    for k in range(0, 11, 2):
        y = H - pad - (H - 2 * pad) * k / 10
        d.line([(pad - 4, y), (pad, y)], fill="black")
        d.text((8, y - 6), f"{k / 10:.1f}", fill="black")
    for i, dom in enumerate(doms):
        x0 = pad + i * group + bar / 2
        for j, (_, vals, color) in enumerate(series):
            v = max(0.0, min(1.0, vals[i]))
            x = x0 + j * bar
            d.rectangle([x, H - pad - (H - 2 * pad) * v, x + bar * 0.9, H - pad], fill=color)
        d.text((pad + i * group + 10, H - pad + 8), dom, fill="black")
    for j, (name, _, color) in enumerate(series):
        d.rectangle([W - 190, 20 + j * 18, W - 178, 32 + j * 18], fill=color)
        d.text((W - 172, 20 + j * 18), name, fill="black")
    d.text((pad, 15), "mIoU per scene after each round (round 2 learns the held-out garden)", fill="black")
    img.save(path)


def table(res):
    doms = res["domains"]
    lines = ["| learner | after round | " + " | ".join(doms) + " |", "|---|---|" + "---|" * len(doms)]
    for who in ("sedna", "baseline"):
        for r, row in enumerate(res[who], 1):
            lines.append(f"| {who} | {r} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    lines.append("| untrained | — | " + " | ".join(f"{v:.3f}" for v in res["untrained"]) + " |")
    lines += ["", "| measure | sedna (per-scene KB) | baseline (one model, fine-tuned) |", "|---|---|---|"]
    ms, mb = res["measures"]["sedna"], res["measures"]["baseline"]
    for key in ("BWT", "BWT_ianvs", "FWT", "FWT_ianvs", "forgetting"):
        lines.append(f"| {key} | {ms[key]:+.4f} | {mb[key]:+.4f} |")
    gain = lambda m: m[1][-1] - m[0][-1]  # noqa: E731
    worst = lambda m: min(m[1][j] - m[0][j] for j in range(len(doms) - 1))  # noqa: E731
    lines.append(f"| held-out mIoU gain in round 2 | {gain(res['sedna']):+.3f} | {gain(res['baseline']):+.3f} |")
    lines.append(f"| worst change on a seen scene | {worst(res['sedna']):+.3f} | {worst(res['baseline']):+.3f} |")
    lines += ["", "| stage | seconds |", "|---|---|"] + [f"| {k} | {v:.1f} |" for k, v in res["times"].items()]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=None)
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--size", default="96x192")
    a = p.parse_args(argv)
    h, w = (int(v) for v in a.size.split("x"))
    out = a.out or tempfile.mkdtemp(prefix="bench-lifelong-")
    res = run(out, frames=a.frames, epochs=a.epochs, size=(h, w))
    print(table(res))
    print(f"\nmatrix.csv and matrix.png in {out}")


if __name__ == "__main__":
    sys.exit(main())
