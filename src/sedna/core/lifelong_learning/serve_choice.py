"""Which model serves a task group's samples: its own, or the shared base.

A task model is only as good as the allocation that sends it samples: when
two tasks look alike (plain and mirrored digits), some samples reach the wrong
task's model, and the shared base (trained on every task) answers them better.
So, each time a version is written, the knowledge base measures both *as
served*: every group's held-out rows (rows no model trained on) are pooled
and allocated as inference allocates them; the rows a group receives are
predicted by the group's own model and by the base. The group is served by
the base when the base scores strictly better on at least :data:`MIN_ROWS`
rows (numeric rows; one frame of an image task, whose pixels are many
labels). In an update the margin is :data:`SWITCH_MARGIN`: a group kept from
the previous version keeps its previous choice, and a group trained in the
update its own model (the base, kept from an earlier version, never learned
its new samples), unless the other scores better by that much: a hundred
held-out rows are a noisy judge, and every change of the serving model risks
forgetting. When the update retrains the base (``update_base``), the new base
is a new candidate for every group: a group its own model served keeps it
unless the new base scores better by the margin; a group the old base served
(that base is gone) and a new group take the better scorer, except that, for
numeric rows, a group the old base served keeps the old base as its own
model unless the better of the two new candidates beats it by the margin: an
update never serves it worse than the version before did (a base continued
mostly on a new domain's rows forgets the others).
For an image task the bar to change also grows with the standard error of the
per-frame differences: three held-out frames that disagree do not move a
group that was served well (``sedna demo`` lost 0.05 on a seen place that way,
held-out frames 0.51 against 0.49 for the base, test frames 0.44 against 0.49). The decision
and both scores go into the group's index entry (``serve``: ``"own"`` or
``"base"``, ``serve_scores``), so a reload serves the same way;
:class:`~.serving.LoadedKB` honours it.

Nothing is decided without a base model or held-out rows (see
:meth:`~.training.Trainer.choosing`): the groups are then served by their own
models, as before.
"""

import numpy as np

from sedna.algorithms._util import is_numeric
from sedna.common.log import LOGGER
from sedna.core.lifelong_learning.training import stored_samples
from sedna.datasources.ops import concat, subset

__all__ = ("SERVE_KEY", "SCORES_KEY", "MIN_ROWS", "SWITCH_MARGIN", "decide", "choose", "serves_base")

SERVE_KEY = "serve"
SCORES_KEY = "serve_scores"
MIN_ROWS = 10  # held-out rows a group must receive for its decision to be made
SWITCH_MARGIN = 0.02  # how much better the other model must score to change a previous choice


def decide(own, base, n, previous=None, min_rows=MIN_ROWS, margin=SWITCH_MARGIN, spread=0.0):
    """``"base"`` or ``"own"``: the better scorer on at least ``min_rows`` rows;
    with a ``previous`` choice, the other one only if it scores better by ``margin``
    plus ``spread`` (the standard error of the per-frame differences: three frames
    that disagree are weaker evidence than three that agree).
    Without scores or rows to judge: the previous choice, else ``"own"``."""
    if own is None or base is None or n < min_rows:
        return previous or "own"
    bar = margin + spread
    if previous == "base":
        return "own" if own >= base + bar else "base"
    if previous == "own":
        return "base" if base >= own + bar else "own"
    return "base" if base > own else "own"


def _spread(trainer, own_model, base, part):
    """The standard error of base-minus-own scores over the frames of ``part`` (image
    tasks; 0 for fewer than two frames or when a frame cannot be scored)."""
    n = len(part.x)
    if n < 2:
        return 0.0
    diffs = []
    for i in range(n):
        one = subset(part, [i])
        own, on_base = trainer.score(own_model, one), trainer.score(base, one)
        if own is None or on_base is None:
            return 0.0
        diffs.append(on_base - own)
    return float(np.std(diffs, ddof=1) / np.sqrt(n))


def _hits(est, data):
    """``est.hits(data)``, or None where it fails (each group is then scored apart, and the
    failure logged there)."""
    try:
        return est.hits(data)
    except (TypeError, ValueError):
        return None


def serves_base(group_doc):
    """Whether the index doc says this group's samples are predicted by the shared base."""
    return group_doc.get(SERVE_KEY) == "base"


def _holdouts(trainer, group_docs, prev):
    """Each group's held-out rows: kept in memory for the groups trained now,
    read from the knowledge base for the others; None where there are none."""
    out = []
    for gd in group_docs:
        held = trainer.holdouts.get(gd["entry"])
        if held is None and gd.get("holdout_url") and prev is not None:
            held = stored_samples(prev, {"entry": gd["entry"], "samples_url": gd["holdout_url"],
                                         "prefix": gd.get("holdout_key")})
        ok = held is not None and held.x is not None and len(held.x) and getattr(held, "y", None) is not None \
            and len(held.y) == len(held.x)
        out.append(held if ok else None)
    return out


def _keep_old_base(gd, gi, loaded, old_base, old_score, own, on_base):
    """Make the previous version's base group ``gi``'s own model (see the module's text)."""
    est, doc = old_base
    gd["model"] = {k: doc[k] for k in ("url", "format", "estimator", "metrics", "trained_version") if k in doc}
    gd["model"]["strategy"] = "previous_base"
    loaded.models[gi] = est
    gd[SERVE_KEY] = "own"
    gd[SCORES_KEY] = {"own": own, "base": on_base, "previous_base": old_score}
    LOGGER.info("task %s: served by the previous version's base (own model %.4f, new base %.4f, previous "
                "base %.4f)", gd["entry"], own, on_base, old_score)


def choose(trainer, loaded, base, prev=None, fresh_base=False, old_base=None):
    """Decide, per group of ``loaded`` (a version being written), which model serves
    it, and record it in ``loaded.doc``. ``base``: the shared base Estimator or None;
    ``prev``: the previous version (for the held-out rows of groups kept from it);
    ``fresh_base``: the base learned this round's samples, so only a group its own
    model served keeps an incumbent; ``old_base``: then the previous base, ``(Estimator,
    model doc)``, a candidate for the numeric groups it served (see the module's text).
    Returns ``{entry: decision}``."""
    groups = loaded.doc["task_groups"]
    # the choice a group starts from: a kept group's previous one; in an update, a group
    # trained now starts from its own model (the base never learned its new samples).
    # A base retrained on the round's rows is a new candidate for every group: a group its own
    # model served keeps it unless beaten; one the old base served has no incumbent left (that
    # base is gone), nor has a new group: the better scorer serves them
    served_before = {g["entry"]: g.get(SERVE_KEY, "own") for g in prev.doc["task_groups"]} if prev is not None else {}
    previous = {}
    for gd in groups:
        kept = gd.pop(SERVE_KEY, None) if gd["entry"] not in trainer.holdouts else None
        if fresh_base:
            previous[gd["entry"]] = "own" if served_before.get(gd["entry"]) == "own" else None
        else:
            previous[gd["entry"]] = kept or (None if prev is None else "own")
        gd.pop(SCORES_KEY, None)
    parts = [h for h in _holdouts(trainer, groups, prev) if h is not None]
    if base is None or not parts:
        return {}
    pooled = concat(parts, data_type="eval")
    ids = loaded.allocate(pooled)
    # a numeric row is one label; a frame holds one per pixel, so one frame judges
    need = MIN_ROWS if is_numeric(pooled) else 1
    base_hits = _hits(base, pooled)  # one prediction of the base serves every group's score
    out = {}
    for gi, gd in enumerate(groups):
        rows = np.flatnonzero(ids == gi)
        if gd.get("model", {}).get("shared") or len(rows) < need:
            continue  # served by the base already, or too few rows to judge
        part = subset(pooled, rows)
        own = trainer.score(loaded.models[gi], part)
        on_base = trainer.score(base, part) if base_hits is None else float(base_hits[rows].mean())
        if own is None or on_base is None:
            continue
        if old_base is not None and need > 1 and served_before.get(gd["entry"]) == "base":
            old_score = trainer.score(old_base[0], part)
            if old_score is not None and max(own, on_base) < old_score + SWITCH_MARGIN:
                _keep_old_base(gd, gi, loaded, old_base, old_score, own, on_base)
                out[gd["entry"]] = "own"
                continue
        spread = 0.0 if need > 1 or previous[gd["entry"]] is None else _spread(trainer, loaded.models[gi], base, part)
        gd[SERVE_KEY] = out[gd["entry"]] = decide(own, on_base, len(rows), previous[gd["entry"]], min_rows=need,
                                                  spread=spread)
        gd[SCORES_KEY] = {"own": own, "base": on_base, "n": int(len(rows))}
        LOGGER.info("task %s: served by %s (held-out rows allocated to it: %d; own model %.4f, base %.4f)",
                    gd["entry"], "the shared base" if out[gd["entry"]] == "base" else "its own model",
                    len(rows), own, on_base)
    loaded.serve_base(base)
    return out
