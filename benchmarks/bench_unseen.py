"""Unseen-frame detection benchmark of the robot-dog job (issue 7, item 4).

Trains the knowledge base of the seen scenes exactly as the job does
(``LifelongLearning`` with the slots of ``sedna.examples.robo.jobspec``), then
scores frames of each shift scenario (``datagen.SHIFTS``: a new city's look,
the robot's low viewpoint, night and rain, the garden) and of the seen
scenes' test split with four recognisers:

* (a) **appearance**: ``SampleRegonitionByDistance`` over ``robo_image_stats``
  (the job's recogniser before this benchmark);
* (b) **max-softmax**: one minus the allocated model's mean per-pixel max-softmax;
* (c) **embedding**: ``SampleRegonitionByModel(combine="model")``, the distance of
  the allocated model's own features to those of its training frames;
* (d) **combined**: ``SampleRegonitionByModel(combine="sum")``, (c) and the
  appearance distance, each z-normalised on the calibration frames, summed.

Every threshold is calibrated for 5 % false alarms on held-out seen frames
(the seen scenes' ``val`` split, never trained on), by the same rule
(``calibrated_threshold``: the split-conformal rank). Per shift: AUROC (seen
test frames against the shift's frames) and recall at that threshold; the
false alarms on the seen test frames in the last row. Per frame, then
windowed: each frame's score pooled (mean) with the previous ``window - 1``
frames of the same scene's stream (frames in stream order; the calibration
frames pooled the same way). Then on a stream that changes scene, as a
robot's does (seen A, half of the shift, seen B, the other half, seen C): per
frame, windowed (the pooled score lags at each change: the first seen frames
after the shift inherit its evidence) and windowed with the gate (a frame is
flagged only if its own score also exceeds the ``--gate`` quantile of the
calibration scores), the job's rule. Last, the job's own recogniser as the
engine calibrated it on its training holdout: the share of each scene's frames flagged.

    python benchmarks/bench_unseen.py [--frames 40] [--test-frames 16] [--epochs 10] [--size 96x192] [--window 3]
        [--gate 0.9] [--seed 0]
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

METHODS = ("appearance", "max-softmax", "embedding", "combined")


def scene_source(root, lines, data_type="train"):
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


def auroc(neg, pos):
    """P(score of a positive > score of a negative), ties counted half."""
    neg, pos = np.asarray(neg, dtype=np.float64), np.asarray(pos, dtype=np.float64)
    if not len(neg) or not len(pos):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def render(root, seen, shifts, frames, cal_frames, test_frames, size, seed):
    from sedna.examples.robo import datagen

    counts = {d: {"train": frames, "val": cal_frames, "test": test_frames} for d in seen}
    counts.update({d: {"train": 0, "val": 0, "test": test_frames} for d in shifts})
    datagen.generate(root, split_counts=counts, size=size, seed=seed, domains=seen + shifts, heldout=None)
    name = datagen.domain_name
    return ({d: scene_source(root, read(root, f"train_{name(d)}.txt")) for d in seen},
            {d: scene_source(root, read(root, f"val_{name(d)}.txt"), "eval") for d in seen},
            {d: scene_source(root, read(root, f"test_{name(d)}.txt"), "test") for d in seen + shifts})


def train_kb(out, train, epochs, size, seed):
    """The job's round 1 on the seen scenes; returns (ll, loaded KB, seconds)."""
    import sedna.examples.robo.plugins  # noqa: F401  (registers robo_image_stats)
    from sedna.algorithms._util import concat
    from sedna.core.lifelong_learning import LifelongLearning
    from sedna.examples.robo.interface import Estimator
    from sedna.examples.robo.jobspec import TASK_ALLOCATION, TASK_DEFINITION, TASK_UPDATE_DECISION, UNSEEN_RECOGNITION

    os.environ.pop("LC_SERVER", None)
    ll = LifelongLearning(Estimator(num_class=24, epochs=epochs, size=size, seed=seed),
                          task_definition=TASK_DEFINITION, task_allocation=TASK_ALLOCATION,
                          unseen_sample_recognition=UNSEEN_RECOGNITION, task_update_decision=TASK_UPDATE_DECISION,
                          output_url=os.path.join(out, "kb"))
    t = time.perf_counter()
    ll.train(concat(list(train.values()), "train"))
    return ll, ll._serving(), time.perf_counter() - t


def group_parts(kb, train):
    """Each group's training frames, in the KB's group order."""
    from sedna.algorithms._util import concat

    by_group = {}
    for t in kb.doc["tasks"]:
        if t.get("group", -1) >= 0 and t.get("meta_attr") in train:
            by_group.setdefault(t["group"], []).append(train[t["meta_attr"]])
    return [concat(by_group.get(g, []), "train") for g in range(len(kb.models))]


def scorers(kb, parts, cal):
    """{method: samples -> per-frame unseen score}, each recogniser fitted on the
    groups' training frames (and calibrated, for the z-normalisation of (d))."""
    from sedna.algorithms._util import concat
    from sedna.algorithms.unseen_task_detection.unseen_sample_recognition import (SampleRegonitionByDistance,
                                                                                  SampleRegonitionByModel)
    from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.by_model import model_embedding

    models, allocate = kb.models, kb.allocate
    cal_all = concat(list(cal.values()), "eval")
    app = SampleRegonitionByDistance(features="robo_image_stats", target_fpr=0.05, shrinkage=0.3).fit(parts)
    emb = SampleRegonitionByModel(combine="model").fit(parts, models=models)
    comb = SampleRegonitionByModel(combine="sum", features="robo_image_stats").fit(parts, models=models)
    for rec in (app, emb, comb):
        rec.calibrate(cal_all, models, allocate)

    def max_softmax(s):
        groups = np.asarray(allocate(s), dtype=np.int64)
        out = np.zeros(len(s.x))
        for g in sorted(set(groups.tolist())):
            rows = np.flatnonzero(groups == g)
            out[rows] = 1.0 - model_embedding(models[max(g, 0)], s.x[rows])[:, -2]  # EMBED_TAIL: mean max-softmax
        return out

    return {"appearance": app.scores, "max-softmax": max_softmax,
            "embedding": lambda s: emb.scores(s, models, allocate),
            "combined": lambda s: comb.scores(s, models, allocate)}


def miou(ll, src):
    from sedna.datasources import BaseDataSource
    from sedna.examples.robo.imageio import read_label
    from sedna.examples.robo.metrics import Evaluator

    d = BaseDataSource(data_type="test")
    d.x = src.x
    preds = ll.inference(d, recognize_unseen=False)[0]
    ev = Evaluator(24)
    for p, y in zip(preds, src.y):
        ev.add(np.asarray(p), read_label(str(y)))
    return float(ev.mean_iou())


def measure(score_fns, cal, tests, seen, shifts, window, fpr=0.05):
    """{method: {"frame"|"window": {"threshold", "fpr", scene: (auroc, recall)}}}."""
    from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.by_model import (calibrated_threshold,
                                                                                           window_pool)

    res = {}
    for name, fn in score_fns.items():
        per = {d: fn(s) for d, s in cal.items()}
        test = {d: fn(s) for d, s in tests.items()}
        res[name] = {}
        for kind, w in (("frame", 1), ("window", window)):
            c = np.concatenate([window_pool(v, w) for v in per.values()])
            t = {d: window_pool(v, w) for d, v in test.items()}
            thr = calibrated_threshold(c, fpr)  # the rule SampleRegonitionByModel calibrates with
            neg = np.concatenate([t[d] for d in seen])
            row = {"threshold": thr, "fpr": float((neg > thr).mean())}
            for d in shifts:
                row[d] = (auroc(neg, t[d]), float((t[d] > thr).mean()))
            res[name][kind] = row
    return res


def stream_rules(score_fns, cal, tests, seen, shifts, window, gate, fpr=0.05):
    """Recall on each shift and false alarms on the seen frames of a stream that
    changes scene (A, S[:half], B, S[half:], C), per rule:
    ``{method: {rule: {"fpr", shift: recall}}}``."""
    from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.by_model import (calibrated_threshold,
                                                                                           window_pool)

    res = {}
    for name, fn in score_fns.items():
        per = {d: fn(s) for d, s in cal.items()}
        test = {d: fn(s) for d, s in tests.items()}
        flat = np.concatenate(list(per.values()))
        t1 = calibrated_threshold(flat, fpr)
        tw = calibrated_threshold(np.concatenate([window_pool(v, window) for v in per.values()]), fpr)
        g = float(np.quantile(flat, gate))
        rules = {"frame": lambda x, p: x > t1, "window": lambda x, p: p > tw,
                 "window + gate": lambda x, p: (p > tw) & (x > g)}
        res[name] = {r: {"fpr": []} for r in rules}
        a, b, c = (test[d] for d in seen[:3])
        for d in shifts:
            half = len(test[d]) // 2
            segs = [(a, 0), (test[d][:half], 1), (b, 0), (test[d][half:], 1), (c, 0)]
            x = np.concatenate([v for v, _ in segs])
            new = np.concatenate([np.full(len(v), k, dtype=bool) for v, k in segs])
            p = window_pool(x, window)
            for r, rule in rules.items():
                flag = rule(x, p)
                res[name][r][d] = float(flag[new].mean())
                res[name][r]["fpr"].append(float(flag[~new].mean()))
        for r in rules:
            res[name][r]["fpr"] = float(np.mean(res[name][r]["fpr"]))
    return res


def job_recognizer(kb, tests):
    """The job's own recogniser as the engine calibrated it (on its training
    holdout): share of each scene's test frames it flags, and its calibration."""
    rec = kb.recognizer
    cal = (kb.doc.get("unseen_sample_recognition") or {})
    flagged = {}
    for d, s in tests.items():
        if hasattr(rec, "reset"):
            rec.reset()
        flagged[d] = len(rec(s, models=kb.models, allocate=kb.allocate)[1].x) / max(len(s.x), 1)
    return {"method": cal.get("method"), "n_calibration": (cal.get("calibration") or {}).get("n_calibration"),
            "flagged": flagged}


def run(out, frames=40, cal_frames=16, test_frames=16, epochs=10, size=(96, 192), window=3, gate=0.9, seed=0):
    from sedna.examples.robo import datagen

    seen = list(datagen.SEEN)
    shifts = [d for d in getattr(datagen, "SHIFTS", [datagen.HELDOUT]) if d not in seen]
    if datagen.HELDOUT not in shifts:
        shifts.append(datagen.HELDOUT)
    t0 = time.perf_counter()
    train, cal, tests = render(os.path.join(out, "data"), seen, shifts, frames, cal_frames, test_frames, size, seed)
    ll, kb, train_s = train_kb(out, train, epochs, size, seed)
    t1 = time.perf_counter()
    fns = scorers(kb, group_parts(kb, train), cal)
    res = measure(fns, cal, tests, seen, shifts, window)
    stream = stream_rules({k: fns[k] for k in ("embedding", "combined")}, cal, tests, seen, shifts, window, gate)
    score_s = time.perf_counter() - t1
    mious = {d: miou(ll, tests[d]) for d in seen + shifts}
    return {"seen": seen, "shifts": shifts, "window": window, "gate": gate, "results": res, "stream": stream,
            "mIoU": mious,
            "job": job_recognizer(kb, tests),
            "seconds": {"train": train_s, "fit, calibrate and score": score_s, "total": time.perf_counter() - t0},
            "n": {"calibration": sum(len(s.x) for s in cal.values()),
                  "seen test": sum(len(tests[d].x) for d in seen), "per shift": test_frames}}


def table(res, kind):
    r, shifts = res["results"], res["shifts"]
    seen_miou = float(np.mean([res["mIoU"][d] for d in res["seen"]]))
    head = "| shift (mIoU; seen mean %.3f) | " % seen_miou + " | ".join(f"{m} AUROC / recall" for m in r) + " |"
    lines = [head, "|---|" + "---|" * len(r)]
    for d in shifts:
        cells = [f"{r[m][kind][d][0]:.2f} / {r[m][kind][d][1]:.2f}" for m in r]
        lines.append(f"| {d} ({res['mIoU'][d]:.3f}) | " + " | ".join(cells) + " |")
    lines.append("| false alarms on seen test frames | " + " | ".join(f"{r[m][kind]['fpr']:.2f}" for m in r) + " |")
    return "\n".join(lines)


def stream_table(res):
    shifts, st = res["shifts"], res["stream"]
    lines = ["| method, rule | " + " | ".join(f"{d} recall" for d in shifts) + " | false alarms on seen frames |",
             "|---|" + "---|" * (len(shifts) + 1)]
    for m, rules in st.items():
        for r, row in rules.items():
            lines.append(f"| {m}, {r} | " + " | ".join(f"{row[d]:.2f}" for d in shifts) + f" | {row['fpr']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=None)
    p.add_argument("--frames", type=int, default=40, help="training frames per seen scene")
    p.add_argument("--cal-frames", type=int, default=16, help="held-out calibration frames per seen scene")
    p.add_argument("--test-frames", type=int, default=16, help="test frames per scene (seen and shifts)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--size", default="96x192")
    p.add_argument("--window", type=int, default=3, help="frames pooled (the robot job's: 3)")
    p.add_argument("--gate", type=float, default=0.9, help="the gate's quantile (the robot job's: 0.9)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    h, w = (int(v) for v in a.size.split("x"))
    out = a.out or tempfile.mkdtemp(prefix="bench-unseen-")
    res = run(out, frames=a.frames, cal_frames=a.cal_frames, test_frames=a.test_frames, epochs=a.epochs,
              size=(h, w), window=a.window, gate=a.gate, seed=a.seed)
    n = res["n"]
    print(f"thresholds for 5 % false alarms on {n['calibration']} held-out seen frames; "
          f"{n['seen test']} seen test frames, {n['per shift']} per shift\n")
    print("per frame\n" + table(res, "frame"))
    print(f"\nwindowed (mean over {res['window']} consecutive frames of a scene's stream)\n" + table(res, "window"))
    print(f"\non a stream that changes scene (seen A, half the shift, seen B, the other half, seen C); "
          f"window {res['window']}, gate at the {res['gate']:.2f} quantile of the calibration scores\n"
          + stream_table(res))
    job = res["job"]
    print(f"\nthe job's recogniser ({job['method']}) as the engine calibrated it on "
          f"{job['n_calibration']} held-out training frames: share of test frames flagged unseen")
    print("| " + " | ".join(job["flagged"]) + " |\n|" + "---|" * len(job["flagged"]))
    print("| " + " | ".join(f"{v:.2f}" for v in job["flagged"].values()) + " |")
    print("\n" + " · ".join(f"{k} {v:.0f} s" for k, v in res["seconds"].items()))


if __name__ == "__main__":
    sys.exit(main())
