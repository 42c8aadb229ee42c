"""The columns a listing of each kind shows, for `sedna get` and for
kubectl's Table answers alike: pure functions of the stored objects."""

from datetime import datetime, timezone
from sedna.common.constants import DATASETS, JOBS


def age(ts, now=None):
    if not ts:
        return "<unknown>"
    try:
        t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return "<unknown>"
    s = int(((now or datetime.now(timezone.utc)) - t).total_seconds())
    if s < 120:
        return f"{max(s, 0)}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def _last_state(conds):
    """The job's state: its last condition of a state type (a ReconcileError is not one)."""
    states = ("Waiting", "Ready", "Starting", "Running", "Completed", "Failed")
    for c in reversed(conds):
        if c.get("type", "Waiting") in states:
            return c
    return conds[-1] if conds else {}


def _short(text, width=90):
    text = " ".join(str(text or "").split())
    return text if len(text) <= width else text[:width - 1] + "…"


def job_row(o, wide):
    """NAME STAGE STATUS ROUND LAST-ROUND AGE MESSAGE: the state, the last finished
    round (``2:Succeeded``) and, last, why it is where it is (what a waiting job waits for)."""
    st = o.get("status") or {}
    conds = st.get("conditions") or []
    last = _last_state(conds)
    rounds = st.get("rounds") or []
    finished = rounds[-1] if rounds else {}
    kb = st.get("knowledgeBase") or {}
    row = [o["metadata"]["name"], last.get("stage", "-"), last.get("type", "-"),
           max([r.get("round", 0) for r in rounds] + [last.get("round", 0) or 0]),
           f"{finished['round']}:{finished.get('phase', '?')}" if finished else "-",
           age(o["metadata"].get("creationTimestamp")), _short(last.get("message")) or "-"]
    if wide:
        row[5:5] = [len(kb.get("AIModels") or []), (kb.get("samples") or {}).get("trainSamples", 0),
                    last.get("reason") or "-"]
    return row


def dataset_row(o, wide):
    st = o.get("status") or {}
    row = [o["metadata"]["name"], st.get("numberOfSamples", 0), o["spec"].get("format", ""),
           age(o["metadata"].get("creationTimestamp"))]
    if wide:
        row[3:3] = [o["spec"].get("url", ""), o["spec"].get("nodeName", "")]
    return row


def worker_row(w, wide):
    row = [w["name"], w["job"], w["stage"], w["round"], w["phase"],
           "" if w.get("exitCode") is None else w["exitCode"], age(w.get("created"))]
    if wide:
        row[6:6] = [w.get("pid") or "", w.get("logPath") or ""]
    return row


HEADERS = {
    JOBS: (["NAME", "STAGE", "STATUS", "ROUND", "LAST-ROUND", "AGE", "MESSAGE"],
                             ["NAME", "STAGE", "STATUS", "ROUND", "LAST-ROUND", "MODELS", "TRAIN-SAMPLES",
                              "REASON", "AGE", "MESSAGE"],
                             job_row),
    DATASETS: (["NAME", "SAMPLES", "FORMAT", "AGE"], ["NAME", "SAMPLES", "FORMAT", "URL", "NODE", "AGE"],
                 dataset_row),
    "workers": (["NAME", "JOB", "STAGE", "ROUND", "PHASE", "EXIT", "AGE"],
                ["NAME", "JOB", "STAGE", "ROUND", "PHASE", "EXIT", "PID", "LOG", "AGE"], worker_row),
}
