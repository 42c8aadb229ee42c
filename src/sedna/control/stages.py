"""What a round's stages give and take: the environment of each stage's worker,
the job's status filled from the workers' reports, a round's summary.

Pure helpers of :func:`sedna.control.reconcile.reconcile`; each takes the
reconcile's working copy of the job (``j``: ``status``, ``state``, ``now``).
"""

from sedna.control.conditions import ts as _ts

MAX_ROUNDS_KEPT = 100


def summarise_round(j, phase, reason=""):
    r = j.state["round"]
    rounds = [x for x in (j.status.get("rounds") or []) if x.get("round") != r]
    entry = {"round": r, "phase": phase, "startTime": j.state.get("round_started"),
             "completionTime": _ts(j.now), "trainSamples": j.state.get("round_train", 0),
             "evalSamples": j.state.get("round_eval", 0)}
    if reason:
        entry["reason"] = reason
    rounds.append(entry)
    j.status["rounds"] = rounds[-MAX_ROUNDS_KEPT:]


def stage_env(j, stage, r, dataset_url, paths):
    env = {"DATA_PATH_PREFIX": "/home/data"}
    if stage == "Train":
        env.update(TRAIN_DATASET_URL=paths["train_index"], ORIGINAL_DATASET_URL=dataset_url,
                   OUTPUT_URL=paths["kb"])
        prev = j.state.get("last_trained_index")
        if prev:
            env.update(HAS_COMPLETED_INITIAL_TRAINING="true", CLOUD_KB_INDEX=prev)
        else:
            env["HAS_COMPLETED_INITIAL_TRAINING"] = "false"
    elif stage == "Eval":
        env.update(TEST_DATASET_URL=paths["eval_index"], ORIGINAL_DATASET_URL=dataset_url,
                   MODEL_URLS=j.state.get("trained_index") or paths["kb_index"],
                   OUTPUT_URL=paths["eval_output"])
    else:
        env.update(MODEL_URLS=paths["deploy_index"], OUTPUT_URL=paths["deploy_output"],
                   ORIGINAL_DATASET_URL=dataset_url)
    return env


def report_url(report, default):
    for res in (report or {}).get("results") or []:
        if isinstance(res, dict) and res.get("url"):
            return res["url"]
    return default


def update_kb_status(j, stage, report):
    kb = dict(j.status.get("knowledgeBase") or {})
    results = (report or {}).get("results") or []
    models = []
    for res in results:
        if not isinstance(res, dict):
            continue
        metrics = res.get("metrics") or {}
        if isinstance(metrics, dict):
            for entry, m in metrics.items():
                models.append({"name": entry, "url": res.get("url", ""), "format": res.get("format", ""),
                               "metrics": m if isinstance(m, dict) else {"value": m}})
    if stage == "Train":
        kb["AIModels"] = models
        kb["AIClasses"] = [m["name"] for m in models]
        kb["version"] = ((report or {}).get("ownerInfo") or {}).get("version")
    elif stage == "Eval":
        evals = {m["name"]: m["metrics"] for m in models}
        for m in kb.get("AIModels", []):
            if m["name"] in evals:
                m["evalMetrics"] = evals[m["name"]]
    samples = dict(kb.get("samples") or {})
    samples["trainSamples"] = j.state.get("total_train", 0)
    samples["evalSamples"] = j.state.get("total_eval", 0)
    kb["samples"] = samples
    j.status["knowledgeBase"] = kb
