"""The closing tables of ``sedna demo`` (:mod:`.demo`) and its output files, from its summary."""

import csv
import json
import os


def write_outputs(work, s):
    """``summary.json`` and ``matrix.csv`` of a demo's summary ``s`` under ``work``."""
    with open(os.path.join(work, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(s, f, indent=1)
    with open(os.path.join(work, "matrix.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["after round"] + s["domains"])
        for r, row in enumerate(s["matrix"], 1):
            w.writerow([r] + [f"{v:.4f}" for v in row])
        w.writerow(["untrained"] + [f"{s['baseline'][d]:.4f}" for d in s["domains"]])


def print_table(out, s):
    """The demo's closing tables (mIoU per round and scene, the measures, the stage times), line by line to ``out``."""
    doms = s["domains"]
    out("")
    out("mIoU on each scene's test frames (rows: knowledge base after each round)")
    out("(the eval workers' mIoU above is per task on the eval splits of every round so far, 20 % of each round's "
        "new frames; this table is per scene on held-out test frames, each frame through the task the KB allocates "
        "it to)")
    out("| round | " + " | ".join(d + (" (held out)" if d == s["heldout"] else "") for d in doms) + " |")
    out("|---|" + "---|" * len(doms))
    for r, row in enumerate(s["matrix"], 1):
        out(f"| {r} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    out("| untrained | " + " | ".join(f"{s['baseline'][d]:.3f}" for d in doms) + " |")
    m = s["measures"]
    gain = s["matrix"][1][-1] - s["matrix"][0][-1]
    worst = min(s["matrix"][1][j] - s["matrix"][0][j] for j in range(len(doms) - 1))
    out("")
    out("| measure | value |")
    out("|---|---|")
    out(f"| held-out scene mIoU gain (round 2 − round 1) | {gain:+.3f} |")
    out(f"| largest change on a seen scene | {worst:+.3f} |")
    out(f"| BWT (GEM) / BWT (Ianvs) | {m['BWT']:+.4f} / {m['BWT_ianvs']:+.4f} |")
    out(f"| FWT (GEM) / FWT (Ianvs) | {m['FWT']:+.4f} / {m['FWT_ianvs']:+.4f} |")
    out(f"| forgetting | {m['forgetting']:.4f} |")
    u = s["unseen"]
    out(f"| unseen detection on the camera stream: precision / recall | {u['precision']:.2f} / {u['recall']:.2f} |")
    out("")
    out("| stage | seconds |")
    out("|---|---|")
    for k, v in s["stages"].items():
        out(f"| {k} | {v:.0f} |")
    if "stream" in s.get("wall", {}):
        out(f"| camera stream through the inference worker | {s['wall']['stream']:.0f} |")
    out(f"| whole demo | {s['total_seconds']:.0f} |")
    out("")
    kb = s.get("knowledge_base") or os.path.join(s["workdir"], "output", "robo-demo", "kb")
    out(f"every output is under {s['workdir']} (inference results in infer_results, saved unseen frames in "
        "unseen_samples, summary.json, matrix.csv)")
    out(f"the job's knowledge base, one version per round: {kb}  (try: sedna kb list {kb})")
