"""Summaries and markdown tables of ``bench_sklearn_scenarios.py``'s per-round records."""

import numpy as np

LEARNERS = ("finetune", "joint", "jmem", "sedna", "sedna-", "iso")
TRAINED = ("finetune", "joint", "jmem", "sedna", "iso")  # sedna- is sedna's training, served without the attribute
SEDNA = ("sedna", "sedna-")
TOL = 0.005  # issue 18: sedna >= joint - 0.005


def progress_line(rec):
    m, f = rec["mean"], rec["forgetting"]
    fg = "" if f["sedna"]["mean"] is None else f", forgetting sedna {f['sedna']['mean']:+.3f}"
    route = np.mean([v["own"] for v in rec["routing"].values()])
    return (f"[scenario {rec['scenario']} seed {rec['seed']}] {rec['estimator']} round {rec['round']} "
            f"(+{','.join(rec['new'])}): mean acc ft {m['finetune']:.3f} joint {m['joint']:.3f} "
            f"jmem {m['jmem']:.3f} sedna {m['sedna']:.3f} / no attr {m['sedna-']:.3f}{fg}; routed own {route:.2f}; "
            f"train s " + " ".join(f"{k} {rec['train_s'][k]:.1f}" for k in TRAINED))


def _mean(v):
    v = [x for x in v if x is not None]
    return float(np.mean(v)) if v else None


def summarize(records, estimators):
    """Per estimator, over scenario-rounds 1.. (the rounds that bring shifts)."""
    out = {}
    for est in estimators:
        recs = [r for r in records if r["estimator"] == est and r["round"] >= 1]
        if not recs:
            continue
        s = {"n_rounds": len(recs), "mean_acc": {m: _mean(r["mean"][m] for r in recs) for m in LEARNERS}}
        for m in SEDNA:
            for base in ("joint", "jmem", "finetune"):
                d = np.array([r["mean"][m] - r["mean"][base] for r in recs])
                s[f"{m}_vs_{base}"] = {"mean": float(d.mean()), "worst": float(d.min()),
                                       "frac_ge_minus_tol": float((d >= -TOL).mean())}
        s["new_task_acc"] = {m: _mean(r["acc"][m][n] for r in recs for n in r["new"]) for m in LEARNERS}
        s["new_task_vs_finetune_ge_minus_0.02"] = {
            m: float(np.mean([r["acc"][m][n] >= r["acc"]["finetune"][n] - 0.02 for r in recs for n in r["new"]]))
            for m in SEDNA}
        s["forgetting_mean"] = {m: _mean(r["forgetting"][m]["mean"] for r in recs) for m in LEARNERS}
        s["forgetting_max"] = {m: max((r["forgetting"][m]["max"] for r in recs
                                       if r["forgetting"][m]["max"] is not None), default=None) for m in LEARNERS}
        seqs = {}
        for r in records:
            if r["estimator"] == est:
                key = (r["scenario"], r["seed"])
                seqs.setdefault(key, {m: 0.0 for m in TRAINED})
                for m in TRAINED:
                    seqs[key][m] += r["train_s"][m]
        s["train_s_per_sequence"] = {m: float(np.mean([v[m] for v in seqs.values()])) for m in TRAINED}
        s["train_s_sedna_over_joint"] = s["train_s_per_sequence"]["sedna"] / max(s["train_s_per_sequence"]["joint"],
                                                                                1e-9)
        s["misrouting"] = misrouting(recs)
        out[est] = s
    return out


def misrouting(recs):
    """Without the attribute, over every seen task's test rows (each task has as many): the share routed to
    the task's own model, sedna-'s accuracy on those and on the others (row-weighted), and the mean gap
    sedna − sedna-. Rows routed home get the same model with or without the attribute, so the whole gap
    comes from the mis-routed rows."""
    own, a_own, a_oth, gap = [], [], [], []
    for r in recs:
        for n, v in r["routing"].items():
            own.append(v["own"])
            if v["acc_own_rows"] is not None:
                a_own.append((v["own"], v["acc_own_rows"]))
            if v["acc_other_rows"] is not None:
                a_oth.append((1 - v["own"], v["acc_other_rows"]))
            gap.append(r["acc"]["sedna"][n] - r["acc"]["sedna-"][n])

    def wmean(pairs):
        w = sum(p[0] for p in pairs)
        return sum(p[0] * p[1] for p in pairs) / w if w > 0 else None
    return {"own": _mean(own), "acc_own_rows": wmean(a_own), "acc_other_rows": wmean(a_oth), "gap": _mean(gap)}


def _f(v, fmt="{:.3f}"):
    return "–" if v is None else fmt.format(v)


def tables(records, summary, estimators):
    lines = [("## After rounds 1–3 (mean over scenario-rounds); sedna: task attribute at inference, "
             "sedna-: without it"), "",
             ("| estimator | rounds | finetune | joint | jmem | sedna | sedna- | iso | sedna−joint mean / worst / ≥−0.005 "
             "| sedna-−joint mean / worst / ≥−0.005 | sedna−jmem | sedna−finetune |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for est in estimators:
        s = summary.get(est)
        if not s:
            continue
        a = s["mean_acc"]
        dj, dn = s["sedna_vs_joint"], s["sedna-_vs_joint"]
        lines.append(f"| {est} | {s['n_rounds']} | " + " | ".join(_f(a[m]) for m in LEARNERS)
                     + f" | {dj['mean']:+.3f} / {dj['worst']:+.3f} / {dj['frac_ge_minus_tol']:.0%}"
                     + f" | {dn['mean']:+.3f} / {dn['worst']:+.3f} / {dn['frac_ge_minus_tol']:.0%}"
                     + f" | {s['sedna_vs_jmem']['mean']:+.3f} | {s['sedna_vs_finetune']['mean']:+.3f} |")
    lines += ["", "## New tasks when they arrive, forgetting, cost", "",
              ("| estimator | new: finetune | joint | jmem | sedna | sedna- | iso | sedna ≥ ft−0.02 "
              "| forgetting mean ft / joint / jmem / sedna / sedna- / iso | worst drop sedna / sedna- "
              "| train s per sequence ft / joint / jmem / sedna / iso | sedna/joint time |"),
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for est in estimators:
        s = summary.get(est)
        if not s:
            continue
        n, fg, ts = s["new_task_acc"], s["forgetting_mean"], s["train_s_per_sequence"]
        lines.append(f"| {est} | " + " | ".join(_f(n[m]) for m in LEARNERS)
                     + f" | {s['new_task_vs_finetune_ge_minus_0.02']['sedna']:.0%}"
                     + " | " + " / ".join(_f(fg[m], "{:+.3f}") for m in LEARNERS)
                     + " | " + " / ".join(_f(s["forgetting_max"][m], "{:+.3f}") for m in SEDNA)
                     + " | " + " / ".join(f"{ts[m]:.1f}" for m in TRAINED)
                     + f" | {s['train_s_sedna_over_joint']:.2f} |")
    lines += ["", "## Without the attribute: where sedna- loses (rows of every seen task, rounds 1–3)", "",
              ("| estimator | rows routed to their own task | sedna- accuracy on those | on the others "
              "| sedna (attr) | sedna − sedna- (all from mis-routed rows) |"), "|---|---|---|---|---|---|"]
    for est in estimators:
        s = summary.get(est)
        if s:
            m = s["misrouting"]
            lines.append(f"| {est} | {_f(m['own'], '{:.2f}')} | {_f(m['acc_own_rows'])} | {_f(m['acc_other_rows'])} "
                         f"| {_f(s['mean_acc']['sedna'])} | {_f(m['gap'], '{:+.3f}')} |")
    lines += ["", "## sedna − joint by data set and round (mean over scenarios and seeds; attr / no attr)", "",
              "| estimator | data | round 0 | round 1 | round 2 | round 3 |", "|---|---|---|---|---|---|"]
    for est in estimators:
        for ds in ("digits", "table"):
            cells = []
            for r in range(4):
                recs = [x for x in records if x["estimator"] == est and x["dataset"] == ds and x["round"] == r]
                cells.append("–" if not recs else " / ".join(
                    f"{np.mean([x['mean'][m] - x['mean']['joint'] for x in recs]):+.3f}" for m in SEDNA))
            if any(c != "–" for c in cells):
                lines.append(f"| {est} | {ds} | " + " | ".join(cells) + " |")
    lines += ["", ("## Each shift family as a new task (accuracy in its first round; routed: share of its test "
              "rows the allocation sends to its own model without the attribute)"), "",
              "| data | family | n | routed | " + " | ".join(f"{e} ft / joint / sedna / sedna-" for e in estimators)
              + " |", "|---|---|---|---|" + "---|" * len(estimators)]
    fams = sorted({(r["dataset"], f) for r in records for f in r["families"].values()})
    for ds, fam in fams:
        cells, n, routed = [], 0, []
        for est in estimators:
            hits = [(r, t) for r in records if r["estimator"] == est and r["dataset"] == ds
                    for t, f in r["families"].items() if f == fam]
            n = max(n, len(hits))
            routed += [r["routing"][t]["own"] for r, t in hits]
            cells.append("–" if not hits else " / ".join(
                f"{np.mean([r['acc'][m][t] for r, t in hits]):.3f}" for m in ("finetune", "joint", "sedna", "sedna-")))
        lines.append(f"| {ds} | {fam} | {n} | {_f(_mean(routed), '{:.2f}')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compact_sedna(info):
    """What the version did, counted over its groups (the per-group detail repeats every round)."""
    groups = info["groups"].values()

    def count(key):
        out = {}
        for g in groups:
            out[str(g[key])] = out.get(str(g[key]), 0) + 1
        return out
    return {"version": info["version"], "base_model": info["base_model"], "groups": len(info["groups"]),
            "strategy": count("strategy"), "init_from": count("init_from"), "serve": count("serve"),
            "n_buffer": count("n_buffer"), "refreshed": info["refreshed"]}


def rounded(records, nd=3):
    """The records with floats rounded and sedna's per-group detail counted, for a small JSON."""
    records = [dict(r, sedna=compact_sedna(r["sedna"])) if "groups" in r.get("sedna", {})
               and isinstance(r["sedna"]["groups"], dict) else r for r in records]
    def r(v):
        if isinstance(v, float):
            return round(v, nd)
        if isinstance(v, dict):
            return {k: r(x) for k, x in v.items()}
        if isinstance(v, list):
            return [r(x) for x in v]
        return v
    return [r(x) for x in records]
