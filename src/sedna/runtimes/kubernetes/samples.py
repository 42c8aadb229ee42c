"""A Dataset's samples on Kubernetes: counted and logged by its node's agent.

The node agent reads what was appended to the Dataset's index (the
incremental :class:`~sedna.control.rounds.IndexWatcher`), appends the new
samples to the Dataset's :class:`~sedna.control.pool.SampleLog` on its node,
and patches ``status.numberOfSamples`` (cumulative, never going back: the
watcher's policy) and ``status.sednaWatch``: the watcher's position, the
log's path, its first sample's number and its size, so a restarted agent
carries on where it stopped and counts nothing twice. A job's rounds claim
ranges of sample numbers (:mod:`sedna.control.pool`, shared with the local
runtime); a round's lines are read back from the sample log, never from the
index by position, so a truncated, rewritten or replaced index hands a round
the same lines as on the local runtime.
"""

import os
import re

from sedna.common.file_ops import FileOps
from sedna.control.conditions import record_index_event, ts, utcnow
from sedna.control.pool import SampleLog, round_lines
from sedna.control.rounds import RoundFiles, WatchState

WATCH_KEY = "sednaWatch"



def log_path(state_dir, ds):
    """Where the agent keeps a Dataset's sample log."""
    meta = ds["metadata"]
    safe = [re.sub(r"[^A-Za-z0-9._-]", "_", str(meta.get(k) or "default")) for k in ("namespace", "name")]
    return os.path.join(os.path.abspath(state_dir), safe[0], f"{safe[1]}.samples")


def advance(watcher, ds, state_dir):
    """Poll ``ds``'s index once: ``(status patch or {}, numberOfSamples, event)``.

    The new samples are appended to the sample log before the patch is made;
    the patch records the log's size with the watcher's position."""
    status, url = ds.get("status") or {}, ds["spec"]["url"]
    saved = status.get(WATCH_KEY) or {}
    same_url = saved.get("url") == url
    state = WatchState.from_dict(saved.get("state")) if same_url else WatchState()
    csv = str(ds["spec"].get("format") or "txt").lower() == "csv"
    lines, new_state, event = watcher.poll(url, state, None, csv)
    # a new url: counting goes on from the old total
    base = int(saved.get("base", status.get("numberOfSamples") or 0)) if same_url else \
        int(status.get("numberOfSamples") or 0)
    total = base + new_state.lines_total
    path = log_path(state_dir, ds)
    log = {"log": saved.get("log"), "logBase": int(saved.get("logBase", 0)), "logBytes": int(saved.get("logBytes", 0))}
    if log["log"] != path or SampleLog(path).size() < log["logBytes"]:
        # no log yet (or it was lost): it starts at the first sample counted from now on
        log = {"log": path, "logBase": base + state.lines_total, "logBytes": 0}
    if lines or log["logBytes"] == 0:
        log["logBytes"] = SampleLog(path).append(lines, log["logBytes"])
    conditions = {"conditions": list(status.get("conditions") or [])}
    patch = conditions if record_index_event(conditions, event, utcnow()) else {}
    watch = {"url": url, "state": new_state.to_dict(), "base": base, **log}
    if watch != saved:
        patch[WATCH_KEY] = watch
    if status.get("numberOfSamples") != total:
        patch.update(numberOfSamples=total, updateTime=ts(utcnow()))
    return patch, total, event


def read_claim(ds, claim_):
    """The lines of the samples a round claimed, from the Dataset's sample log: ``(header, lines)``."""
    watch = ((ds or {}).get("status") or {}).get(WATCH_KEY) or {}
    if not watch.get("log"):
        raise FileNotFoundError("the Dataset's samples are not logged yet (no node agent has read its index)")
    start, end, _ = claim_
    lines = SampleLog(watch["log"], watch.get("logBase", 0)).read(start, end, watch.get("logBytes")) \
        if end > start else []
    return WatchState.from_dict(watch.get("state")).header or None, lines


def write_round(output_dir, fmt, ds, r, claim_, train_prob):
    """Write round ``r``'s train/eval index files from its claimed samples (idempotent)."""
    header, lines = read_claim(ds, claim_)
    train, evals = round_lines(lines, claim_, train_prob)
    out = output_dir if "://" in output_dir else os.path.abspath(output_dir)
    return RoundFiles(out, fmt).write(r, train, evals, header=header)


def round_written(output_dir, fmt, r):
    """Whether round ``r``'s train index file exists (written by the operator or the agent)."""
    return FileOps.exists(RoundFiles(output_dir, fmt).train_index(r))
