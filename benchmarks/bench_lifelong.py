"""Lifelong-learning benchmark of the robot-dog job on shifts of graded severity (issue 7).

For every shift S of ``datagen.SHIFTS`` (a new city's look, the robot's own low
viewpoint of a seen city, a seen city at night in the rain, the held-out
garden): round 1 learns the three seen scenes from their train frames, round 2
learns S from its labelled train frames; every learner is tested on the test
frames of the three seen scenes and of S after each round. Round 1 is the same
for every shift: it is trained once per learner and each shift branches from it.
Learners, side by side, with the same Estimator settings and epochs:

* ``sedna``     -- the knowledge base with the robot job's slots and the engine's defaults;
* ``isolation`` -- the same with ``transfer=False`` (per-scene models that start from scratch);
* ``finetune``  -- one model trained on round 1, then trained again on round 2's frames only;
* ``joint``     -- one fresh model trained on everything seen so far (the upper bound).

Also the unseen detection of the round-1 knowledge base: the share of each
scene's test frames it flags (recall on a shift, false alarms on the seen
scenes) and an AUROC when the recognizer exposes per-sample scores.

Prints markdown tables (per shift: the rounds x scenes matrix, BWT/FWT/forgetting and train seconds per
learner; a summary, one row per shift); writes ``matrix.csv`` and ``matrix.png`` under ``--out``. The
digits scenario (scikit-learn) is ``benchmarks/bench_lifelong_digits.py``.

    python benchmarks/bench_lifelong.py [--out DIR] [--frames 40] [--test-frames 16] [--epochs 10]
        [--size 96x192] [--seeds 0,1] [--shifts real/zurich,real/garden] [--learners sedna,finetune] [--threads 1]
"""

import argparse
import contextlib
import copy
import csv
import inspect
import json
import os
import sys
import tempfile
import time

import numpy as np

LEARNERS = ("sedna", "isolation", "finetune", "joint")
SEDNA_OPTIONS = {}  # --sedna-options: LifelongLearning keywords for the sedna learner
KB_LEARNERS = ("sedna", "isolation")
_ENV = ("LC_SERVER", "MODEL_URLS", "MODEL_URL", "CLOUD_KB_INDEX", "OUTPUT_URL", "HAS_COMPLETED_INITIAL_TRAINING",
        "unseen_save_url")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def data_source(x, y=None, attr=None, data_type="test"):
    from sedna.datasources import BaseDataSource

    src = BaseDataSource(data_type=data_type)
    src.x = np.asarray(x)
    if y is not None:
        src.y = np.asarray(y)
    if attr is not None:
        src.meta_attr = np.asarray(attr)
    return src


@contextlib.contextmanager
def clean_env():
    """The job's environment would redirect the engine (deployed index, output folder): hide it."""
    saved = {k: os.environ.pop(k) for k in _ENV if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


# ------------------------------------------------------------------ robot scenario
class RoboScenario:
    """The generator's scenes; RFNet-lite; mIoU."""

    metric = "mIoU"

    def __init__(self, root, seed=0, frames=40, test_frames=16, epochs=10, size=(96, 192), shifts=None,
                 eval_frames=10):
        import sedna.examples.robo.plugins  # noqa: F401  (registers robo_image_stats)
        from sedna.examples.robo import datagen, jobspec

        self.root, self.seed, self.epochs, self.size = root, seed, epochs, tuple(size)
        self.seen = list(datagen.SEEN)
        self.shifts = list(shifts or datagen.SHIFTS)
        doms = self.seen + self.shifts
        # the job's eval split of the seen scenes: what its evaluate calibrates unseen detection on
        # (rendered after train and test, so those frames do not depend on it)
        counts = {d: {"train": frames, "test": test_frames, "val": eval_frames if d in self.seen else 0}
                  for d in doms}
        t = time.perf_counter()
        datagen.generate(root, split_counts=counts, splits=("train", "test", "val"), size=self.size, seed=seed,
                         domains=doms, heldout=None, workers=min(2, os.cpu_count() or 1))
        log(f"[seed {seed}] rendered {len(doms)} scenes in {time.perf_counter() - t:.0f} s")
        self.slots = dict(task_definition=jobspec.TASK_DEFINITION, task_allocation=jobspec.TASK_ALLOCATION,
                          unseen_sample_recognition=jobspec.UNSEEN_RECOGNITION,
                          task_update_decision=jobspec.TASK_UPDATE_DECISION)
        self._labels = {}

    def _rows(self, domains, split):
        from sedna.examples.robo.datagen import domain_name

        rows = []
        for d in domains:
            with open(os.path.join(self.root, f"{split}_{domain_name(d)}.txt"), encoding="utf-8") as f:
                rows += [[os.path.join(self.root, p) for p in ln.split()] for ln in f if ln.strip()]
        return rows

    def train_source(self, domains):
        from sedna.examples.robo.datagen import domain_of

        rows = self._rows(domains, "train")
        return data_source([r[:2] for r in rows], [r[2] for r in rows], [domain_of(r[0]) for r in rows], "train")

    def eval_source(self, domains):
        rows = self._rows(domains, "val")
        return data_source([r[:2] for r in rows], [r[2] for r in rows], None, "eval") if rows else None

    def test_x(self, domain):
        return np.array([r[:2] for r in self._rows([domain], "test")])

    def score(self, preds, domain):
        from sedna.examples.robo.imageio import read_label
        from sedna.examples.robo.metrics import Evaluator

        if domain not in self._labels:
            self._labels[domain] = [read_label(r[2]) for r in self._rows([domain], "test")]
        ev = Evaluator(24)
        for p, lab in zip(preds, self._labels[domain]):
            ev.add(np.asarray(p), lab)
        return float(ev.mean_iou())

    def estimator(self, seed_offset=0):
        from sedna.examples.robo.interface import Estimator

        return Estimator(num_class=24, epochs=self.epochs, size=self.size, seed=self.seed + seed_offset)

    def fit(self, est, src):
        est.train(src)

    def predict(self, est, x):
        return est.predict(x)

    def untrained(self, domain):
        return self.score(self.estimator(seed_offset=1).predict(self.test_x(domain)), domain)

    def warmup(self):
        """Untimed: the frames' appearance features (cached by the plugin) and torch's first training step,
        so that no learner pays them for the others."""
        from sedna.examples.robo.plugins import image_stats

        for split in ("train", "test"):
            image_stats(data_source([r[:2] for r in self._rows(self.seen + self.shifts, split)]))
        src = self.train_source(self.seen[:1])
        self.estimator(seed_offset=2).train(data_source(src.x[:2], src.y[:2], src.meta_attr[:2], "train"), epochs=1)


# ------------------------------------------------------------------ learners
def make_ll(sc, name, url):
    from sedna.core.lifelong_learning import LifelongLearning

    kw = dict(sc.slots)
    # until the engine has a ``transfer`` switch its default IS per-task isolation: both rows then match
    if name == "isolation" and "transfer" in inspect.signature(LifelongLearning.__init__).parameters:
        kw["transfer"] = False
    if name == "sedna":
        kw.update(SEDNA_OPTIONS)
    return LifelongLearning(sc.estimator(), output_url=url, **kw)


def predictor(sc, model):
    if hasattr(model, "inference"):
        return lambda x: model.inference(data_source(x), recognize_unseen=False)[0]
    return lambda x: sc.predict(model, x)


def round1(sc, learners, out):
    """{learner: (model, index_url or None, seconds)}; finetune and joint share one training (it is the same)."""
    done, single = {}, None
    for name in learners:
        t = time.perf_counter()
        if name in KB_LEARNERS:
            ll = make_ll(sc, name, os.path.join(out, "kb", name, "round1"))
            res = ll.train(sc.train_source(sc.seen))
            done[name] = (ll, res["index_url"], time.perf_counter() - t)
        else:
            if single is None:
                est = sc.estimator()
                sc.fit(est, sc.train_source(sc.seen))
                single = (est, None, time.perf_counter() - t)
            done[name] = single
        log(f"[seed {sc.seed}] {name} round 1: {done[name][2]:.1f} s")
    return done


def round2(sc, name, r1, shift, out):
    """The learner after learning ``shift``, and its train seconds."""
    t = time.perf_counter()
    model, index_url, _ = r1
    if name in KB_LEARNERS:
        model = make_ll(sc, name, os.path.join(out, "kb", name, shift.replace("/", "-")))
        model.update(sc.train_source([shift]), index_url=index_url)
    elif name == "finetune":
        model = copy.deepcopy(model)
        sc.fit(model, sc.train_source([shift]))
    else:
        model = sc.estimator()
        sc.fit(model, sc.train_source(sc.seen + [shift]))
    return model, time.perf_counter() - t


# ------------------------------------------------------------------ unseen detection
def rec_scores(ll, x):
    """Per-sample unseen scores of the serving recognizer (higher: more unseen), or None."""
    loaded = ll._serving()
    fn = getattr(loaded.recognizer, "scores", None)
    if fn is None:
        return None
    samples = data_source(x)
    for call in (lambda: fn(samples), lambda: fn(samples, models=loaded.models, allocate=loaded.allocate)):
        try:
            s = np.asarray(call(), dtype=float).ravel()
            return s if len(s) == len(x) and np.isfinite(s).all() else None
        except Exception:  # noqa: BLE001 - any recognizer: no scores is an answer too
            continue
    return None


def auroc(neg, pos):
    """P(score of a shift frame > score of a seen frame), ties counted half."""
    neg, pos = np.asarray(neg, float)[None, :], np.asarray(pos, float)[:, None]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def unseen_detection(sc, ll):
    """Flagged share per scene (recognition on) and AUROC per shift against the seen scenes' frames."""
    flagged, scores = {}, {}
    for d in sc.seen + sc.shifts:
        x = sc.test_x(d)
        flagged[d] = float(np.mean(ll.inference(data_source(x))[1]))
        scores[d] = rec_scores(ll, x)
    seen = [scores[d] for d in sc.seen]
    auc = {}
    for s in sc.shifts:
        ok = scores[s] is not None and all(v is not None for v in seen)
        auc[s] = auroc(np.concatenate(seen), scores[s]) if ok else None
    return flagged, auc


def deployed_detection(sc, name, ll, out):
    """Unseen detection as the job deploys it: the knowledge base evaluated on the
    eval split (which re-calibrates the recognizer) and served from the deployed
    index, as the inference worker does. ``(flagged, auroc)``, or None without an eval split."""
    data = sc.eval_source(sc.seen) if hasattr(sc, "eval_source") else None
    if data is None:
        return None
    index = ll.evaluate(data)["index_url"]
    os.environ["MODEL_URLS"] = index
    try:
        served = make_ll(sc, name, os.path.join(out, "kb", name, "deployed"))
        try:
            return unseen_detection(sc, served)
        finally:
            served.close()
    finally:
        os.environ.pop("MODEL_URLS", None)


# ------------------------------------------------------------------ one seed
def run_seed(sc, learners, out):
    from sedna.core.lifelong_learning.measures import all_measures

    untrained = {d: sc.untrained(d) for d in sc.seen + sc.shifts}
    if getattr(sc, "warmup", None):
        sc.warmup()
    r1 = round1(sc, learners, out)
    kb = next((n for n in learners if n in KB_LEARNERS), None)
    flagged, auc = unseen_detection(sc, r1[kb][0]) if kb else ({}, {})
    deployed = deployed_detection(sc, kb, r1[kb][0], out) if kb else None
    r1_scores = {}
    for name in learners:
        pred = predictor(sc, r1[name][0])
        r1_scores[name] = {d: sc.score(pred(sc.test_x(d)), d) for d in sc.seen + sc.shifts}
    run = {"untrained": untrained, "flagged_train": flagged, "auroc_train": auc, "flagged": flagged, "auroc": auc,
           "shifts": {}}
    if deployed is not None:  # what the robot gets: the job's evaluate calibrates before deploying
        run["flagged"], run["auroc"] = deployed
    for shift in sc.shifts:
        scenes = sc.seen + [shift]
        per = {}
        for name in learners:
            model, secs = round2(sc, name, r1[name], shift, out)
            pred = predictor(sc, model)
            row2 = [sc.score(pred(sc.test_x(d)), d) for d in scenes]
            matrix = [[r1_scores[name][d] for d in scenes], row2]
            per[name] = {"matrix": matrix, "times": [r1[name][2], secs],
                         "measures": all_measures(matrix, [0] * len(sc.seen) + [1], [untrained[d] for d in scenes])}
            log(f"[seed {sc.seed}] {name} round 2 on {shift}: {secs:.1f} s, mean {sc.metric} {np.mean(row2):.3f}")
        run["shifts"][shift] = per
    return run


def run(make_scenario, out, seeds=(0,), learners=LEARNERS):
    """Every seed; returns the results and writes ``matrix.csv`` and ``matrix.png`` under ``out``."""
    os.makedirs(out, exist_ok=True)
    res = {"seeds": list(seeds), "learners": list(learners), "runs": {}}
    with clean_env():
        for seed in seeds:
            sc = make_scenario(seed, os.path.join(out, f"seed{seed}"))
            res["runs"][seed] = run_seed(sc, learners, os.path.join(out, f"seed{seed}"))
    res.update(seen=sc.seen, shifts=sc.shifts, metric=sc.metric)
    write_csv(os.path.join(out, "matrix.csv"), res)
    plot(os.path.join(out, "matrix.png"), res)
    return res


# ------------------------------------------------------------------ reporting
def summary(res, run):
    """One dict per shift: r1 figures of the first KB learner, then per learner r2 mean / new / max drop."""
    rows = []
    kb = next((n for n in res["learners"] if n in KB_LEARNERS), res["learners"][0])
    for shift, per in run["shifts"].items():
        row = {"shift": shift, "r1": per[kb]["matrix"][0][-1], "flagged": run["flagged"].get(shift),
               "auroc": run["auroc"].get(shift)}
        for name, r in per.items():
            m = np.asarray(r["matrix"])
            row[name] = (float(m[1].mean()), float(m[1, -1]), float((m[1, :-1] - m[0, :-1]).min()))
        rows.append(row)
    return rows


def _mean_rows(all_rows):
    """Average the summary rows of several seeds (None when any seed has none)."""
    def mean(vals):
        if isinstance(vals[0], str) or any(x is None for x in vals):
            return vals[0] if isinstance(vals[0], str) else None
        return tuple(np.mean(vals, axis=0)) if isinstance(vals[0], tuple) else float(np.mean(vals))
    return [{k: mean([r[k] for r in rows]) for k in rows[0]} for rows in zip(*all_rows)]


def _f(v, fmt):
    return "n/a" if v is None else format(v, fmt)


def summary_table(res, rows):
    ln = res["learners"]
    head = ["shift", f"r1 shift {res['metric']}", "flagged %", "AUROC"]
    for n in ln:
        head += [f"{n} mean r2", f"{n} new", f"{n} max drop"]
    out = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r in rows:
        cells = [r["shift"], _f(r["r1"], ".3f"), _f(None if r["flagged"] is None else 100 * r["flagged"], ".0f"),
                 _f(r["auroc"], ".2f")]
        for n in ln:
            cells += [f"{r[n][0]:.3f}", f"{r[n][1]:.3f}", f"{r[n][2]:+.3f}"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def shift_table(res, run, shift):
    per, scenes = run["shifts"][shift], res["seen"] + [shift]
    out = [f"#### {shift}", "", "| learner | after round | " + " | ".join(scenes) + " | mean | train s |",
           "|---|---|" + "---|" * (len(scenes) + 2)]
    for name, r in per.items():
        for k, row in enumerate(r["matrix"]):
            out.append(f"| {name} | {k + 1} | " + " | ".join(f"{v:.3f}" for v in row)
                       + f" | {np.mean(row):.3f} | {r['times'][k]:.1f} |")
    out.append("| untrained | — | " + " | ".join(f"{run['untrained'][d]:.3f}" for d in scenes) + " | | |")
    out += ["", "| measure | " + " | ".join(per) + " |", "|---|" + "---|" * len(per)]
    for key in ("BWT", "BWT_ianvs", "FWT", "FWT_ianvs", "forgetting"):
        out.append(f"| {key} | " + " | ".join(f"{r['measures'][key]:+.4f}" for r in per.values()) + " |")
    return "\n".join(out)


def report(res):
    parts, all_rows = [], []
    for seed, run in res["runs"].items():
        parts.append(f"### seed {seed}")
        if run["flagged"]:
            fa = np.mean([run["flagged"][d] for d in res["seen"]])
            fa_train = np.mean([run.get("flagged_train", run["flagged"])[d] for d in res["seen"]])
            parts.append(f"round-1 knowledge base, deployed (calibrated by the job's evaluate on the eval split "
                         f"and the training's holdout): {100 * fa:.1f} % of the seen scenes' test frames flagged "
                         f"unseen (false alarms); {100 * fa_train:.1f} % with the training's calibration alone")
        parts += [shift_table(res, run, s) for s in res["shifts"]]
        rows = summary(res, run)
        all_rows.append(rows)
        parts += [f"summary, seed {seed}", summary_table(res, rows)]
    if len(all_rows) > 1:
        parts += [f"summary, mean over seeds {res['seeds']}", summary_table(res, _mean_rows(all_rows))]
    return "\n\n".join(parts)


def write_csv(path, res):
    seen = res["seen"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["seed", "shift", "learner", "round"] + seen + ["new", "mean", "train_seconds", "BWT", "FWT",
                                                                  "forgetting"])
        for seed, run in res["runs"].items():
            for shift, per in run["shifts"].items():
                for name, r in per.items():
                    m = r["measures"]
                    for k, row in enumerate(r["matrix"]):
                        w.writerow([seed, shift, name, k + 1] + [f"{v:.4f}" for v in row]
                                   + [f"{np.mean(row):.4f}", f"{r['times'][k]:.2f}"]
                                   + [f"{m[key]:.4f}" for key in ("BWT", "FWT", "forgetting")])


_COLOURS = [(30, 80, 180), (120, 160, 220), (200, 80, 30), (90, 160, 90), (150, 90, 160), (120, 120, 120)]


def plot(path, res):
    """Grouped bars: per shift, each learner's mean score over the scenes after round 2 (mean over seeds);
    a black tick marks the new scene's score."""
    from PIL import Image, ImageDraw

    W, H, pad = 960, 440, 50
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    shifts, ln = res["shifts"], res["learners"]
    rows = _mean_rows([summary(res, run) for run in res["runs"].values()])
    group = (W - 2 * pad) / max(1, len(shifts))
    bar = group / (len(ln) + 1)
    d.line([(pad, H - pad), (W - pad, H - pad)], fill="black")
    d.line([(pad, pad), (pad, H - pad)], fill="black")
    y_of = lambda v: H - pad - (H - 2 * pad) * max(0.0, min(1.0, v))  # noqa: E731
    for k in range(0, 11, 2):
        d.line([(pad - 4, y_of(k / 10)), (pad, y_of(k / 10))], fill="black")
        d.text((8, y_of(k / 10) - 6), f"{k / 10:.1f}", fill="black")
    for i, row in enumerate(rows):
        x0 = pad + i * group + bar / 2
        for j, name in enumerate(ln):
            x = x0 + j * bar
            d.rectangle([x, y_of(row[name][0]), x + bar * 0.9, H - pad], fill=_COLOURS[j % len(_COLOURS)])
            d.line([(x, y_of(row[name][1])), (x + bar * 0.9, y_of(row[name][1]))], fill="black", width=2)
        d.text((pad + i * group + 10, H - pad + 8), row["shift"], fill="black")
    for j, name in enumerate(ln):
        d.rectangle([W - 150, 20 + j * 18, W - 138, 32 + j * 18], fill=_COLOURS[j % len(_COLOURS)])
        d.text((W - 132, 20 + j * 18), name, fill="black")
    d.text((pad, 15), f"mean {res['metric']} over the scenes after round 2 (tick: the new scene), per shift",
           fill="black")
    img.save(path)


# ------------------------------------------------------------------ command line
def parse_common(p, argv):
    p.add_argument("--out", default=None)
    p.add_argument("--seeds", default="0", help="comma-separated, e.g. 0,1")
    p.add_argument("--shifts", default=None, help="comma-separated subset of the shifts")
    p.add_argument("--learners", default=",".join(LEARNERS), help="comma-separated subset of " + ",".join(LEARNERS))
    p.add_argument("--sedna-options", default="{}", type=json.loads,
                   help='LifelongLearning keywords for the sedna learner, as JSON, e.g. \'{"refresh": 0.5}\'')
    a = p.parse_args(argv)
    if not isinstance(a.sedna_options, dict):
        p.error("--sedna-options: expected a JSON object")
    SEDNA_OPTIONS.update(a.sedna_options)
    a.seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    a.shifts = [s.strip() for s in a.shifts.split(",") if s.strip()] if a.shifts else None
    a.learners = [s.strip() for s in a.learners.split(",") if s.strip()]
    bad = set(a.learners) - set(LEARNERS)
    if bad or not a.learners:
        p.error(f"unknown learners {sorted(bad)}; learners: {', '.join(LEARNERS)}")
    return a


def run_robo(out, frames=40, test_frames=16, epochs=10, size=(96, 192), seeds=(0,), shifts=None, learners=LEARNERS,
             warmup=True):
    def make(seed, root):
        sc = RoboScenario(os.path.join(root, "data"), seed=seed, frames=frames, test_frames=test_frames,
                          epochs=epochs, size=size, shifts=shifts)
        if not warmup:  # the times then include one-off costs in the first learner's round 1
            sc.warmup = None
        return sc
    return run(make, out, seeds=seeds, learners=learners)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=40, help="train frames per scene (default 40)")
    p.add_argument("--test-frames", type=int, default=16, help="test frames per scene (default 16)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--size", default="96x192")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice); 1 is much faster on a CPU shared with others")
    a = parse_common(p, argv)
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    from sedna.examples.robo.datagen import SHIFTS

    if a.shifts and set(a.shifts) - set(SHIFTS):
        p.error(f"unknown shifts {sorted(set(a.shifts) - set(SHIFTS))}; shifts: {', '.join(SHIFTS)}")
    h, w = (int(v) for v in a.size.split("x"))
    out = a.out or tempfile.mkdtemp(prefix="bench-lifelong-")
    t = time.perf_counter()
    res = run_robo(out, frames=a.frames, test_frames=a.test_frames, epochs=a.epochs, size=(h, w), seeds=a.seeds,
                   shifts=a.shifts, learners=a.learners)
    print(report(res))
    print(f"\nmatrix.csv and matrix.png in {out} ({time.perf_counter() - t:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
