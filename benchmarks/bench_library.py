"""Library benchmarks (issue 2), printed as Markdown tables.

(a) TxtDataParse on a generated 1,000,000-line index: lines/s and peak memory;
(b) LifelongLearning.inference on a 1,000-sample batch with a 3-task KB
    (logistic regression per task) against each task's own model predicting
    its rows by hand; and the time a single-sample call adds to a bare predict;
(c) train time minus the estimators' own fit time, for a 3-task job, with no
    control plane reachable (median of several trains in one process, and the
    first train of a fresh process, where imports count);
(d) writing and loading a KB version of 100 tasks.

The original system's figures on this kind of machine are printed beside ours.

    python benchmarks/bench_library.py            # all
    python benchmarks/bench_library.py b c        # some
"""

import os
import statistics
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class _FitClock:
    """Times every ``LogisticRegression.fit`` while installed (the estimator stays a plain
    scikit-learn class, so the knowledge base can save it with skops)."""

    fit_seconds = 0.0

    def __init__(self):
        from sklearn.linear_model import LogisticRegression

        self.cls, self.orig = LogisticRegression, LogisticRegression.fit
        clock = self

        def fit(est, X, y, sample_weight=None):
            t = time.perf_counter()
            try:
                return clock.orig(est, X, y, sample_weight)
            finally:
                clock.fit_seconds += time.perf_counter() - t

        self.cls.fit = fit

    def __call__(self, **params):
        return self.cls(**params)

    def close(self):
        self.cls.fit = self.orig


def _three_task_job(out, bare=False):
    """A digits job with one task per domain. ``bare``: allocation by the
    attribute only and no unseen-sample detector, i.e. what the original does."""
    from sedna.core.lifelong_learning import LifelongLearning
    from sedna.examples.digits import DigitsDomains

    data = DigitsDomains()
    lr = _FitClock()
    extra = {}
    if bare:
        extra = {"task_allocation": {"method": "TaskAllocationByDataAttr"},
                 "unseen_sample_recognition": {"method": "SampleRegonitionAllSeen"}}
    ll = LifelongLearning(lr(max_iter=300), task_definition={"method": "TaskDefinitionByDataAttr"},
                          output_url=out, **extra)
    return ll, data, lr


def bench_inference(repeats=200):
    """(b): batch ratio and single-sample overhead."""
    domains = ["plain", "inverted", "flipped"]
    with tempfile.TemporaryDirectory() as out:
        os.environ.pop("LC_SERVER", None)
        ll, data, clock = _three_task_job(out)
        ll.train(data.source(domains))
        clock.close()
        rng = np.random.default_rng(0)
        batch = data.source(domains, "test", data_type="test")
        pick = rng.choice(len(batch.x), 1000, replace=False)
        from sedna.algorithms._util import subset

        b = subset(batch, pick)
        b.index = None
        kb = ll._serving()
        models = {e: m for e, m in zip(kb.entries, kb.models)}
        ll.inference(b)  # warm

        def by_hand():
            out = np.empty(len(b.x), dtype=np.int64)
            for d in domains:
                rows = np.flatnonzero(b.meta_attr == d)
                out[rows] = models[f"{d}.model"].est.predict(b.x[rows])
            return out

        def timeit(fn, n):
            ts = []
            for _ in range(n):
                t = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t)
            return statistics.median(ts)

        def paired(fa, fb, n):
            # alternate the two so that drift on a shared machine hits both alike
            ta, tb = [], []
            for _ in range(n):
                for fn, ts in ((fa, ta), (fb, tb)):
                    t = time.perf_counter()
                    fn()
                    ts.append(time.perf_counter() - t)
            return statistics.median(ta), statistics.median(tb)

        res, unseen, _ = ll.inference(b)
        assert (np.asarray(res) == by_hand()).all() and not unseen.any()
        t_ll, t_hand = paired(lambda: ll.inference(b), by_hand, repeats)
        one = subset(b, [0])
        one.index = None
        est = models[f"{one.meta_attr[0]}.model"].est
        t_one, t_bare = paired(lambda: ll.inference(one), lambda: est.predict(one.x), repeats * 10)
    return {"batch_ll_ms": t_ll * 1e3, "batch_hand_ms": t_hand * 1e3, "ratio": t_ll / t_hand,
            "single_ll_ms": t_one * 1e3, "single_bare_ms": t_bare * 1e3, "single_overhead_ms": (t_one - t_bare) * 1e3}


def bench_train(repeats=7, bare=False):
    """(c): train wall time minus the estimators' fit time, 3 tasks, no control plane."""
    domains = ["plain", "inverted", "flipped"]
    overheads, walls, fits = [], [], []
    os.environ.pop("LC_SERVER", None)
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            ll, data, lr = _three_task_job(out, bare=bare)
            src = data.source(domains)
            lr.fit_seconds = 0.0
            try:
                t = time.perf_counter()
                ll.train(src)
                wall = time.perf_counter() - t
            finally:
                lr.close()
            walls.append(wall)
            fits.append(lr.fit_seconds)
            overheads.append(wall - lr.fit_seconds)
    return {"wall_ms": statistics.median(walls) * 1e3, "fit_ms": statistics.median(fits) * 1e3,
            "overhead_ms": statistics.median(overheads) * 1e3}


def bench_train_fresh(repeats=3):
    """(c): the same, for the first train of a fresh process (imports included: a
    scikit-learn job must not import torch), and whether torch got imported."""
    import subprocess

    code = ("import os, sys, tempfile; sys.path.insert(0, sys.argv[1]); import bench_library as b; "
            "r = b.bench_train(repeats=1, bare=True); print(r['overhead_ms'], 'torch' in sys.modules)")
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code, HERE], capture_output=True, text=True, check=True,
                             env={k: v for k, v in os.environ.items() if k != "LC_SERVER"}).stdout.split()
        runs.append((float(out[-2]), out[-1] == "True"))
    return {"overhead_ms": statistics.median(r[0] for r in runs), "torch": any(r[1] for r in runs)}


def main(parts):
    rows = []
    if "a" in parts:
        from bench_datasources import run_txt_parse_bench

        a = run_txt_parse_bench()
        print(a["table"])
        print()
    if "b" in parts:
        b = bench_inference()
        rows.append(("(b) inference, 1,000 samples, 3 tasks: time / by-hand per-task predict",
                     "×3.5", "≤ ×1.2", f"×{b['ratio']:.2f} ({b['batch_ll_ms']:.2f} ms vs {b['batch_hand_ms']:.2f} ms)"))
        rows.append(("(b) single-sample call: time added to the bare predict",
                     "≈1.7 ms", "≤ 0.3 ms", f"{b['single_overhead_ms']:.3f} ms ({b['single_ll_ms']:.3f} vs "
                     f"{b['single_bare_ms']:.3f} ms)"))
    if "c" in parts:
        c = bench_train()
        rows.append(("(c) train, 3 tasks: wall time minus the estimators' fit time (defaults: allocation "
                     "classifier + calibrated unseen detector fitted too)",
                     "≈50 ms", "≤ 20 ms", f"{c['overhead_ms']:.1f} ms (wall {c['wall_ms']:.1f}, fit {c['fit_ms']:.1f})"))
        c2 = bench_train(bare=True)
        rows.append(("(c) same, allocation by attribute and no unseen detector (the original's work)",
                     "≈50 ms", "≤ 20 ms", f"{c2['overhead_ms']:.1f} ms (wall {c2['wall_ms']:.1f}, fit {c2['fit_ms']:.1f})"))
        c3 = bench_train_fresh()
        rows.append(("(c) same, the first train of a fresh process (imports included)", "—", "—",
                     f"{c3['overhead_ms']:.1f} ms (torch imported: {'yes' if c3['torch'] else 'no'})"))
        rows.append(("(c) waiting for an unreachable control plane / KB server", "≈96 s", "0",
                     "0 (one log line, no retry; included above)"))
    if "d" in parts:
        from bench_kb import run_kb_bench

        d = run_kb_bench(n_tasks=100)
        rows.append(("(d) write a KB version of 100 tasks (index, artifacts, catalog)", "—", "—",
                     f"{d['write_median_s'] * 1e3:.1f} ms"))
        rows.append(("(d) load a KB version of 100 tasks (index, every artifact)", "—", "—",
                     f"{d['load_median_s'] * 1e3:.1f} ms"))
    if rows:
        print("| measure | original | target | sedna |")
        print("|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main(set(sys.argv[1:]) or {"a", "b", "c", "d"})
