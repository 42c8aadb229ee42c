"""Lifelong-learning measures over a rounds × tasks matrix.

``R[t][j]``: performance (e.g. mIoU) on task ``j`` after training round ``t``
(``t = 0`` is the first round). ``learned[j]``: the round in which task ``j``
was first trained. ``baseline[j]``: performance of an untrained (random)
model on task ``j``.

Standard forms (Lopez-Paz & Ranzato, GEM, 2017), generalised to rounds that
may learn several tasks at once:

* BWT = mean over tasks learned before the last round of ``R[T][j] - R[learned[j]][j]``;
* FWT = mean over tasks learned after the first round of ``R[learned[j]-1][j] - baseline[j]``;
* forgetting (Chaudhry et al., 2018) = mean over the same tasks as BWT of
  ``max_{learned[j] <= t < T} R[t][j] - R[T][j]``.

A cell that was not measured is NaN: BWT, FWT and forgetting leave out the
tasks whose cells they need are NaN (the dashboard's matrix, from eval
reports, has no score of a task in a round without eval samples of it).

Ianvs' form (kubeedge/ianvs ``core/testcasecontroller/metrics``): a square
matrix ``M`` with one extra first row, ``M[0]`` = before any round; with
``n`` tasks, BWT = mean over ``i, j < n`` of ``M[i+1][j] - M[i][j]`` and FWT =
mean over ``i < n`` of ``M[i][i] - M[0][i]``.
"""

import math

import numpy as np

__all__ = ("bwt", "fwt", "forgetting", "ianvs_bwt", "ianvs_fwt", "all_measures")


def _arr(R):
    return np.asarray(R, dtype=np.float64)


def _mean(vals):
    """The mean of the measured values (NaN ones left out); NaN when none is."""
    vals = [v for v in vals if not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


def _max(column):
    measured = column[~np.isnan(column)]
    return measured.max() if measured.size else math.nan


def bwt(R, learned):
    R = _arr(R)
    T = len(R) - 1
    vals = [R[T, j] - R[r, j] for j, r in enumerate(learned) if r < T]
    return _mean(vals)


def fwt(R, learned, baseline):
    R = _arr(R)
    vals = [R[r - 1, j] - baseline[j] for j, r in enumerate(learned) if r >= 1]
    return _mean(vals)


def forgetting(R, learned):
    R = _arr(R)
    T = len(R) - 1
    vals = [_max(R[r:T, j]) - R[T, j] for j, r in enumerate(learned) if r < T]
    return _mean(vals)


def ianvs_bwt(M):
    M = _arr(M)
    n = M.shape[1]
    if M.shape[0] != n + 1:
        return math.nan
    return float(np.mean(M[1:n + 1, :n] - M[0:n, :n]))


def ianvs_fwt(M):
    M = _arr(M)
    n = M.shape[1]
    if M.shape[0] != n + 1:
        return math.nan
    return float(np.mean([M[i, i] - M[0, i] for i in range(n)]))


def all_measures(R, learned, baseline):
    """Every measure; Ianvs' form uses the baseline as its row 0 and, when
    rounds learn several tasks, repeats rows so that row ``i + 1`` is the
    round that learned task ``i``."""
    R = _arr(R)
    order = sorted(range(len(learned)), key=lambda j: learned[j])
    M = [list(np.asarray(baseline)[order])] + [list(R[learned[j]][order]) for j in order]
    return {"BWT": bwt(R, learned), "FWT": fwt(R, learned, baseline), "forgetting": forgetting(R, learned),
            "BWT_ianvs": ianvs_bwt(M), "FWT_ianvs": ianvs_fwt(M)}
