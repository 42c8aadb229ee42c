"""Issue 18's protocol for the scikit-learn path: random shift scenarios, four estimators, four learners.

Each scenario (``sk_scenarios.py``) starts with one seen task (plain data) and
brings 1-2 new shifted tasks in each of 3 update rounds, drawn at random from a
seed: translation, noise, inversion, rotation, feature scaling, a missing
feature, on scikit-learn's digits (even ids) or a seeded table (odd ids).
Scenarios 0-7 are for development; 8-15 are the reported half, refused unless
``--reported``: the defaults must be frozen before they are looked at.

Estimators, each as a user writes it (``random_state`` = seed):
``LogisticRegression()``, ``MLPClassifier((64,), max_iter=300)``,
``RandomForestClassifier()``, ``HistGradientBoostingClassifier()``. Learners,
side by side in one process, every one given the same rows each round:

* ``sedna``: ``LifelongLearning(estimator, output_url=...)`` with every default;
  ``train`` on the plain task, ``update`` with each round's new tasks; the task
  attribute (the task's name) is given at training. Tested twice: with the task
  attribute at inference (``sedna``) and without it (``sedna-`` : the
  allocation must find the task);
* ``finetune``: one model, trained again on each round's new rows only. For
  models with weights (LogisticRegression, MLP) it continues from them
  (``warm_start=True``; LogisticRegression's loss is convex, so this is a refit on
  the new rows); RandomForest and HistGradientBoosting cannot continue (their
  ``warm_start`` adds trees), so for them fine-tune is a refit on the new rows;
* ``joint``: one fresh model on every row of every task seen so far;
* ``iso`` (a diagnostic reference, not a user's option): one fresh model per task
  on all of its rows, asked with the task known -- what sedna's per-task models
  would be without the engine's own costs (rows held out, no transfer);
* ``jmem``: one fresh model on the same memory as the knowledge base: the new
  tasks' rows plus, of each earlier task, a uniform sample of at most
  ``replay_size`` rows (``LifelongLearning``'s default, read from its signature).

Per round: accuracy on every task seen so far (its test rows), the mean per
learner, forgetting (per earlier task, its best accuracy in earlier rounds minus
now; averaged), training seconds, and for sedna the share of each task's test
rows the allocation routes to the task's own model without the attribute.
Summary over scenario-rounds 1-3 per estimator. Progress on stderr, tables on stdout.
The development half (scenarios 0-7, seeds 0,1, four estimators: 256 rounds) took
2,420 s on two CPU cores shared with other jobs (load about 5), HistGradientBoosting
on digits the largest part; results in ``benchmarks/results/sklearn_scenarios_dev.*``.

    OMP_NUM_THREADS=1 python benchmarks/bench_sklearn_scenarios.py [--scenarios 0-7] [--seeds 0,1]
        [--estimators logreg,mlp,rf,hgb] [--json OUT] [--reported]
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy / scikit-learn start their thread pools

import argparse
import copy
import inspect
import json
import logging
import platform
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lifelong as bl
import sk_report
import sk_scenarios as sks

ESTIMATORS = ("logreg", "mlp", "rf", "hgb")
LEARNERS = ("finetune", "joint", "jmem", "sedna", "sedna-", "iso")  # sedna-: without the attribute at inference
BASELINES = ("finetune", "joint", "jmem")
#: LifelongLearning keywords given to sedna (--sedna-options); empty: every default
SEDNA_OPTIONS = {}


def make_estimator(name, seed):
    """The estimator as a scikit-learn user reaches for it."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    return {"logreg": lambda: LogisticRegression(random_state=seed),
            "mlp": lambda: MLPClassifier((64,), max_iter=300, random_state=seed),
            "rf": lambda: RandomForestClassifier(random_state=seed),
            "hgb": lambda: HistGradientBoostingClassifier(random_state=seed)}[name]()


def replay_budget():
    """Rows the knowledge base keeps per task by default (``LifelongLearning(replay_size=...)``)."""
    from sedna.core.lifelong_learning import LifelongLearning

    return inspect.signature(LifelongLearning.__init__).parameters["replay_size"].default


def parse_ids(text):
    """``"0-3,6"`` -> [0, 1, 2, 3, 6]."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


# ------------------------------------------------------------------ baselines
def fit_fresh(name, seed, x, y):
    est = make_estimator(name, seed)
    est.fit(x, y)
    return est


def fine_tune(prev, name, seed, x, y):
    """See the module doc: continue from the weights where the model has some, else refit on the new rows."""
    if prev is not None and (hasattr(prev, "coef_") or hasattr(prev, "coefs_")):
        est = copy.deepcopy(prev)
        est.set_params(warm_start=True)
        est.fit(x, y)
        return est
    return fit_fresh(name, seed, x, y)


def memory_rows(n, budget, seed_key):
    """A uniform sample of at most ``budget`` of ``n`` rows (what a bounded replay buffer holds of one task)."""
    if budget is None or n <= budget:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed_key).choice(n, int(budget), replace=False))


# ------------------------------------------------------------------ sedna
def sedna_src(x, y=None, names=None):
    return bl.data_source(x, y, None if names is None else np.asarray(names), "train" if y is not None else "test")


def sedna_predict(ll, x, name=None):
    src = sedna_src(x, names=None if name is None else [name] * len(x))
    return np.asarray(ll.inference(src, recognize_unseen=False)[0])


def sedna_routing(ll, name, x, y, pred):
    """Without the attribute: the share of task ``name``'s test rows the allocation routes to its own
    group, where most of the rest go, and sedna's accuracy on either part (``pred``: its predictions)."""
    loaded = ll._serving()
    ids = loaded.allocate(sedna_src(x))
    got = np.array([loaded.entries[i].replace(".model", "") if i >= 0 else "-" for i in ids])
    mine = got == name
    others = list(got[~mine])
    return {"own": float(mine.mean()),
            "mostly_else": max(set(others), key=others.count) if others else None,
            "acc_own_rows": float(np.mean(pred[mine] == y[mine])) if mine.any() else None,
            "acc_other_rows": float(np.mean(pred[~mine] == y[~mine])) if (~mine).any() else None}


def sedna_groups(ll, res):
    """What the version did, per group: how its model was trained, where from, what serves it."""
    doc = ll._serving().doc
    groups = {}
    for g in doc["task_groups"]:
        m = g.get("model", {})
        groups[g["entry"].replace(".model", "")] = {
            "strategy": m.get("strategy"), "trained_version": m.get("trained_version"),
            "init_from": m.get("init_from"), "serve": g.get("serve"), "n_buffer": g.get("n_buffer"),
            "shared": bool(m.get("shared"))}
    upd = doc.get("update", {})
    return {"version": res.get("version"), "base_model": "base_model" in doc, "groups": groups,
            "refreshed": upd.get("refreshed", {})}


# ------------------------------------------------------------------ one sequence
def run_sequence(data, est_name, budget, out_dir):
    """Every learner through one scenario for one estimator; a list of per-round records."""
    from sedna.core.lifelong_learning import LifelongLearning

    seed, rounds = data.seed, data.spec["rounds"]
    train = {t["name"]: data.train(t["name"]) for r in rounds for t in r}
    test = {t["name"]: data.test(t["name"]) for r in rounds for t in r}
    models, iso = {"finetune": None, "joint": None, "jmem": None}, {}
    kb = os.path.join(out_dir, f"kb-{data.scenario}-{seed}-{est_name}")
    ll = LifelongLearning(make_estimator(est_name, seed), output_url=kb, **SEDNA_OPTIONS)
    seen, history, records = [], {m: {} for m in LEARNERS}, []
    for r, new in enumerate(rounds):
        names = [t["name"] for t in new]
        xn = np.concatenate([train[n][0] for n in names])
        yn = np.concatenate([train[n][1] for n in names])
        secs = {}
        t0 = time.perf_counter()
        models["finetune"] = fine_tune(models["finetune"], est_name, seed, xn, yn)
        secs["finetune"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        everything = seen + names
        models["joint"] = fit_fresh(est_name, seed, np.concatenate([train[n][0] for n in everything]),
                                    np.concatenate([train[n][1] for n in everything]))
        secs["joint"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        keep = {n: memory_rows(len(train[n][0]), budget, [seed, data.scenario, i]) for i, n in enumerate(seen)}
        xm = np.concatenate([train[n][0][keep[n]] for n in seen] + [xn])
        ym = np.concatenate([train[n][1][keep[n]] for n in seen] + [yn])
        models["jmem"] = fit_fresh(est_name, seed, xm, ym)
        secs["jmem"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        iso.update({n: fit_fresh(est_name, seed, *train[n]) for n in names})
        secs["iso"] = time.perf_counter() - t0
        src = sedna_src(xn, yn, [n for n in names for _ in train[n][0]])
        t0 = time.perf_counter()
        res = ll.train(src) if r == 0 else ll.update(src)
        secs["sedna"] = secs["sedna-"] = time.perf_counter() - t0
        seen = everything
        acc, routing = {m: {} for m in LEARNERS}, {}
        for n in seen:
            x, y = test[n]
            for m in BASELINES:
                acc[m][n] = float(np.mean(models[m].predict(x) == y))
            acc["iso"][n] = float(np.mean(iso[n].predict(x) == y))
            acc["sedna"][n] = float(np.mean(sedna_predict(ll, x, n) == y))
            pred = sedna_predict(ll, x)
            acc["sedna-"][n] = float(np.mean(pred == y))
            routing[n] = sedna_routing(ll, n, x, y, pred)
        forgetting = {}
        for m in LEARNERS:
            drops = [max(history[m][n]) - acc[m][n] for n in seen if n in history[m]]
            forgetting[m] = {"mean": float(np.mean(drops)) if drops else None,
                             "max": float(np.max(drops)) if drops else None}
            for n in seen:
                history[m].setdefault(n, []).append(acc[m][n])
        rec = {"scenario": data.scenario, "seed": seed, "dataset": data.dataset, "estimator": est_name, "round": r,
               "new": names, "families": {n: data.tasks[n]["family"] for n in names}, "acc": acc,
               "mean": {m: float(np.mean(list(acc[m].values()))) for m in LEARNERS}, "forgetting": forgetting,
               "train_s": secs, "rows": {"joint": int(sum(len(train[n][0]) for n in seen)), "jmem": len(xm)},
               "routing": routing, "sedna": sedna_groups(ll, res)}
        records.append(rec)
        bl.log(sk_report.progress_line(rec))
    ll.close()
    shutil.rmtree(kb, ignore_errors=True)
    return records


def run(scenarios, seeds, estimators, out_dir):
    budget = replay_budget()
    records = []
    with bl.clean_env(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the defaults: what a user gets
        for sc in scenarios:
            for seed in seeds:
                data = sks.ScenarioData(sc, seed)
                bl.log(f"[scenario {sc} seed {seed}] {data.dataset}: " + "; ".join(sks.describe(data.spec)[1:]))
                for est in estimators:
                    t = time.perf_counter()
                    records += run_sequence(data, est, budget, out_dir)
                    bl.log(f"[scenario {sc} seed {seed}] {est}: {time.perf_counter() - t:.1f} s")
    return records, budget


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", default="0-7", help="scenario ids, e.g. 0-7 or 0,3 (default 0-7: development)")
    p.add_argument("--seeds", default="0,1", help="data/estimator seeds (default 0,1)")
    p.add_argument("--estimators", default=",".join(ESTIMATORS), help=f"of {', '.join(ESTIMATORS)}")
    p.add_argument("--json", help="write every round's record and the summary here")
    p.add_argument("--reported", action="store_true",
                   help="allow the reported scenarios 8-15 (only once the defaults are frozen)")
    p.add_argument("--sedna-options", default="{}", type=json.loads,
                   help='LifelongLearning keywords for sedna, as JSON, e.g. \'{"base_replay": null}\'')
    p.add_argument("--verbose", action="store_true", help="keep sedna's INFO log lines")
    a = p.parse_args(argv)
    SEDNA_OPTIONS.update(a.sedna_options)
    scenarios, seeds = parse_ids(a.scenarios), parse_ids(a.seeds)
    estimators = [e.strip() for e in a.estimators.split(",") if e.strip()]
    if set(estimators) - set(ESTIMATORS):
        p.error(f"unknown estimators {sorted(set(estimators) - set(ESTIMATORS))}; estimators: {', '.join(ESTIMATORS)}")
    if not scenarios or any(s < 0 or s > max(sks.REPORTED) for s in scenarios):
        p.error(f"scenarios are 0-{max(sks.REPORTED)}")
    reported = sorted(set(scenarios) & set(sks.REPORTED))
    if reported and not a.reported:
        print(f"refused: scenarios {reported} belong to the reported half (8-15). Their figures are only "
              "looked at once the engine's defaults are frozen: develop on 0-7, freeze the defaults, then run "
              "the reported half with --reported.", file=sys.stderr)
        return 2
    if not a.verbose:
        logging.getLogger("sedna").setLevel(logging.WARNING)
    out_dir = tempfile.mkdtemp(prefix="bench-sk-scenarios-")
    t = time.perf_counter()
    try:
        records, budget = run(scenarios, seeds, estimators, out_dir)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    wall = time.perf_counter() - t
    summary = sk_report.summarize(records, estimators)
    print(sk_report.tables(records, summary, estimators))
    print(f"\n{len(records)} rounds in {wall:.0f} s (scenarios {a.scenarios}, seeds {a.seeds}, "
          f"replay budget {budget} rows per task, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')})")
    if a.json:
        import sklearn

        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        meta = {"scenarios": scenarios, "seeds": seeds, "estimators": estimators, "replay_budget": budget,
                "train_rows_per_task": sks.TRAIN_ROWS, "wall_s": round(wall, 1), "sklearn": sklearn.__version__,
                "python": platform.python_version(), "specs": [sks.scenario_spec(s) for s in scenarios]}
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "summary": summary, "rounds": sk_report.rounded(records)}, f, separators=(",", ":"))
        print(f"results in {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
