"""Backward transfer: old tasks learn from a new, related task.

When an update creates a task, each old task with a model of its own is a
candidate for a *refresh*: trained again from its own model on its replay
buffer plus the new task's samples, for ``refresh`` of the estimator's epochs.
A refresh is planned only when it can be judged and is likely to help:

* the task has held-out rows (rows none of its models trained on, see
  :meth:`Trainer.held_out`; its replay buffer must still hold every sample
  it learned from, in order, for them to be known), and
* the new task is related: the old model scores at least :data:`RELATED` times
  as well on the new samples as on its own held-out rows (a street model meets
  a new city: yes; a garden at dusk: no).

After training, the refreshed model is kept only if it scores at least as well
as the old one on the task's held-out rows; otherwise the old artifact stays,
byte-identical. Tasks served by the shared base are not refreshed.

``Trainer.refresh_budget`` bounds what the refreshes cost together, in units of
the new tasks' own training (rows times epochs): the most related tasks are
refreshed first, the last one on an even subsample of its rows if it does not
fit whole, and the rest not at all (``"over budget"``). None: no bound.
"""

from dataclasses import dataclass

import numpy as np

from sedna.common.log import LOGGER
from sedna.core.lifelong_learning.training import stored_samples
from sedna.datasources.ops import concat, subset

__all__ = ("plan", "keep_better", "budgeted", "RELATED", "PROBE")

RELATED = 0.3   # the old model's score on the new samples over its score on its own held-out rows
PROBE = 32      # new samples the relatedness is measured on (at most)
MIN_ROWS = 4    # a refresh cut to fewer training rows than this by the budget is not worth its cost


@dataclass
class Refresh:
    """One old task's refresh: the samples it trains on besides its own, the
    held-out rows and the old model's score on them; ``outcome`` once decided;
    ``rows``: the training rows the budget allows (None: all)."""
    new: object
    holdout: object
    before: float
    outcome: str = "planned"
    rows: int = None

    def training_set(self, own):
        """The task's own training rows plus the new task's, evenly cut to ``rows``."""
        both = concat([own, self.new], data_type="train")
        n = len(both.x)
        if self.rows is None or self.rows >= n:
            return both
        return subset(both, np.unique(np.linspace(0, n - 1, self.rows).round().astype(int)).tolist())


def _probe(new):
    n = len(new.x)
    return new if n <= PROBE else subset(new, list(range(0, n, -(-n // PROBE))))


def budgeted(candidates, n_new, share, budget):
    """Training rows each related task may refresh on: ``{entry: rows or None}``.

    ``candidates``: ``(entry, relatedness, own training rows)``; a refresh of
    ``own + n_new`` rows for ``share`` of the epochs costs ``(own + n_new) * share``
    against ``budget * n_new`` (the new tasks train on ``n_new`` rows, full
    epochs). The most related first; the one that does not fit whole gets the
    rows left, if at least :data:`MIN_ROWS`; then none."""
    left = None if budget is None else float(budget) * n_new
    out = {}
    for entry, _, own in sorted(candidates, key=lambda c: -c[1]):
        rows = own + n_new
        if left is None:
            out[entry] = None
            continue
        fits = int(left / share) if share > 0 else rows
        if fits >= rows:
            out[entry] = None
        elif fits >= MIN_ROWS:
            out[entry] = fits
        else:
            break
        left -= min(rows, fits) * share
    return out


def plan(trainer, prev, loaded, tasks_doc, groups_plan, kept, valid_data, recognizer):
    """Move the kept groups worth refreshing (and within the budget) from ``kept``
    to ``groups_plan`` (as ``"refresh"``); returns ``{entry: Refresh}``, those
    left out by the budget with the outcome ``"over budget"``."""
    fresh = [trainer.train_rows(s, valid_data, recognizer)  # the new tasks' held-out rows stay unseen
             for _, _, incoming, strategy, _ in groups_plan if strategy == "new" for s in incoming]
    if trainer.refresh <= 0 or not trainer.transfer or not fresh:
        return {}
    new = concat(fresh, data_type="train")
    related = _related(trainer, prev, loaded, kept, new, valid_data, recognizer)
    rows = budgeted([(e, r["ratio"], r["own"]) for e, r in related.items()], len(new.x), trainer.refresh,
                    trainer.refresh_budget)
    out = {}
    for entry, r in related.items():
        gi = kept[entry][0]
        if entry not in rows:
            LOGGER.info("task %s: related, but not refreshed: the refresh budget (%s) is spent", entry,
                        trainer.refresh_budget)
            out[entry] = Refresh(new=new, holdout=r["holdout"], before=r["before"], outcome="over budget")
            continue
        groups_plan.append((entry, [t for t in tasks_doc if t.get("group") == gi], [], "refresh", gi))
        del kept[entry]
        out[entry] = Refresh(new=new, holdout=r["holdout"], before=r["before"], rows=rows[entry])
    return out


def _related(trainer, prev, loaded, kept, new, valid_data, recognizer):
    """``{entry: {"ratio", "own", "holdout", "before"}}`` of the kept groups the new samples are related to."""
    probe = _probe(new)
    out = {}
    for entry, (gi, incoming) in list(kept.items()):
        gd = prev.doc["task_groups"][gi]
        if incoming or gd.get("model", {}).get("shared") or not gd.get("samples_url") \
                or gd.get("n_buffer", -1) != gd.get("n_samples"):
            continue  # a subsampled buffer no longer tells which rows were held out
        stored = stored_samples(prev, gd)
        holdout = trainer.held_out(stored, valid_data, recognizer)
        if holdout is None:
            continue
        before, on_new = trainer.score(loaded.models[gi], holdout), trainer.score(loaded.models[gi], probe)
        if before is None or on_new is None or on_new < RELATED * before:
            LOGGER.info("task %s: not refreshed with the new task's samples (score %s on them, %s on its own)",
                        entry, on_new, before)
            continue
        out[entry] = {"ratio": on_new / before if before > 0 else float("inf"),
                      "own": len(stored.x) - len(holdout.x), "holdout": holdout, "before": before}
    return out


def keep_better(trainer, prev, loaded, specs, docs, models, refreshes):
    """Keep each refreshed model only if it scores at least as well on the held-out
    rows; else put the previous model (artifact and doc) back."""
    for i, (entry, _, _, strategy, gi) in enumerate(specs):
        r = refreshes.get(entry)
        if strategy != "refresh" or r is None or r.outcome != "planned":
            continue
        after = trainer.score(models[i], r.holdout)
        r.outcome = "kept" if after is not None and after >= r.before else "dropped"
        LOGGER.info("task %s: refreshed model %s (held-out score %.4f, before %.4f)", entry,
                    "kept" if r.outcome == "kept" else "dropped, the previous one stays",
                    float("nan") if after is None else after, r.before)
        if r.outcome == "dropped":
            gd = prev.doc["task_groups"][gi]
            docs[i]["model"] = dict(gd["model"], url=prev.resolve(gd["model"]["url"]))
            models[i] = loaded.models[gi]
