"""The train/eval split of a round's lines, in order and exact: over the first ``n``
lines a Dataset ever gave, ``ceil(n * trainProb)`` go to training (``train_first``),
whatever rounds they came in. Both runtimes split through :func:`split_in_order`; a
job's pending counts come from :func:`split_counts` without going through the lines.
The counter persists across rounds, so the ratio holds over the whole life of the job,
not per round."""

import math
from fractions import Fraction

__all__ = ("split_in_order", "split_counts")


def _checked(train_prob, state_counter):
    """``(p, counter)``: ``train_prob`` as an exact fraction (6 decimals), the counter as an int."""
    p, counter = float(train_prob), int(state_counter)
    if math.isnan(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"train_prob must be within [0, 1], got {train_prob!r}")
    if counter < 0:
        raise ValueError(f"state_counter must be >= 0, got {state_counter!r}")
    return Fraction(round(p * 10**6), 10**6), counter


def _train_count(n, p, train_first):
    """Train lines among the first ``n`` (global) lines: ceil(n*p) or floor(n*p)."""
    num, den = p.numerator, p.denominator
    return -((-n * num) // den) if train_first else (n * num) // den


def split_counts(n, train_prob, state_counter=0, *, train_first=True):
    """``(train, eval)``: how many of ``n`` lines :func:`split_in_order` would send each way
    from ``state_counter`` on, without going through them (a pool of millions of pending
    samples is counted on every check)."""
    p, counter = _checked(train_prob, state_counter)
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    train = _train_count(counter + n, p, train_first) - _train_count(counter, p, train_first)
    return train, n - train


def split_in_order(lines, train_prob, state_counter=0, *, train_first=True):
    """Split ``lines`` in order into ``(train_lines, eval_lines, new_counter)``.

    Line ``i`` has global index ``k = state_counter + i``. Over the first
    ``n`` global lines the number of train lines is exactly
    ``ceil(n * p)`` (``train_first=True``, the default: with p = 0.8 the
    pattern is train, train, train, train, eval, ... as the original's
    "first int(n*p) of a round to train" gives for a round of 5) or
    ``floor(n * p)`` (``train_first=False``: eval, train, train, train,
    train, ...). Either way it equals ``n * p`` whenever that is an integer
    and never strays from it by one line or more. ``p`` is ``train_prob``
    rounded to 6 decimals and handled as an exact fraction. ``train_prob``
    1 sends everything to train, 0 everything to eval. Persist
    ``new_counter`` (``state_counter + len(lines)``) for the next round.
    """
    p, counter = _checked(train_prob, state_counter)
    lines = list(lines)
    train, evaluate = [], []
    before = _train_count(counter, p, train_first)
    for i, line in enumerate(lines):
        after = _train_count(counter + i + 1, p, train_first)
        (train if after > before else evaluate).append(line)
        before = after
    return train, evaluate, counter + len(lines)
