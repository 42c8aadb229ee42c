"""A job's sample pool, the same on both runtimes.

A Dataset's samples are numbered in the order the index watcher
(:class:`~sedna.control.rounds.IndexWatcher`) handed them out: sample ``k``
is the ``k``-th complete, non-blank, valid UTF-8 line read from the
Dataset's index files, across truncations, rewrites and changes of ``url``
(the watcher's policy decides which lines those are). ``numberOfSamples`` is
how many there are. Each runtime keeps that sequence of lines where it can
read it back by number: the local runtime in its SQLite file, the
Kubernetes runtime in a :class:`SampleLog` file kept by the Dataset's node
agent; the index itself is never re-read by position.

A job's pool is kept in its private state: ``pool_start`` (the first sample
not yet given to a round) and ``split_counter`` (the train/eval split's
counter at that sample). A round claims ``[pool_start, numberOfSamples)``
(``claims[r] = [start, end, counter]``); a failed round gives its range
back. :func:`round_lines` turns a claim and its lines into the round's train
and eval lines: both runtimes write round files through it.
"""

import os

from sedna.control.reconcile import ActionKind
from sedna.control.split import split_counts, split_in_order

__all__ = ("train_prob", "pending", "claim", "release", "apply_actions", "round_lines", "SampleLog")


def train_prob(job):
    """The job's ``dataset.trainProb`` (0.8 by default)."""
    return float(((job.get("spec") or {}).get("dataset") or {}).get("trainProb", 0.8))


def pending(state, number_of_samples, train_prob):
    """``(pending_train, pending_eval)`` of samples not yet given to a round."""
    start = int(state.get("pool_start", 0))
    n = max(0, int(number_of_samples or 0) - start)
    return split_counts(n, float(train_prob), int(state.get("split_counter", 0)))


def claim(state, r, number_of_samples, train_prob):
    """Round ``r`` takes every pending sample; returns the new state (with ``claims[r]``)."""
    start, counter = int(state.get("pool_start", 0)), int(state.get("split_counter", 0))
    end = max(start, int(number_of_samples or 0))
    split_counts(end - start, float(train_prob), counter)  # refuses a bad trainProb, as the split does
    new_counter = counter + (end - start)
    claims = {k: v for k, v in (state.get("claims") or {}).items() if int(k) >= r - 1}  # this round and the last
    claims[str(r)] = [start, end, counter]
    return dict(state, pool_start=end, split_counter=new_counter, claims=claims)


def release(state, r):
    """Give round ``r``'s samples back to the pool (its stage failed for good)."""
    claim_ = (state.get("claims") or {}).get(str(r))
    if not claim_:
        return dict(state)
    start, _, counter = claim_
    return dict(state, pool_start=start, split_counter=counter)


def apply_actions(state, actions, number_of_samples, train_prob):
    """The pool after ``reconcile``'s ``start_round``/``release_round`` actions."""
    for a in actions:
        if a.kind == ActionKind.START_ROUND:
            state = claim(state, a.round, number_of_samples, train_prob)
        elif a.kind == ActionKind.RELEASE_ROUND:
            state = release(state, a.round)
    return state


def round_lines(lines, claim_, train_prob):
    """``(train, eval)`` lines of a round from its claim and the claimed samples' lines."""
    start, end, counter = claim_
    lines = list(lines)
    if len(lines) != end - start:
        raise ValueError(f"the round claims samples {start}..{end - 1} but {len(lines)} of them can be read")
    train, evals, _ = split_in_order(lines, float(train_prob), counter)
    return train, evals


class SampleLog:
    """A file holding a Dataset's samples in order, one per line (UTF-8).

    Its writer records the file's size after each append together with the
    watcher's position (in the same status write); :meth:`append` first cuts
    the file back to that size, so lines appended by a pass whose status
    write was lost are written again once, never twice. ``base`` is the
    number of the file's first sample (samples counted before the log began
    cannot be read from it)."""

    def __init__(self, path, base=0):
        self.path = os.fspath(path)
        self.base = int(base)

    def size(self):
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return -1

    def append(self, lines, size):
        """Cut the file to ``size`` bytes, append ``lines``; returns the new size."""
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        data = "".join(f"{ln}\n" for ln in lines).encode("utf-8")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, int(size))
            os.lseek(fd, int(size), os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        return int(size) + len(data)

    def read(self, start, end, size=None):
        """Samples ``start..end-1`` (``size``: the bytes the writer recorded, when known)."""
        if start < self.base:
            raise ValueError(f"samples before {self.base} are not in the sample log {self.path}")
        with open(self.path, "rb") as f:
            data = f.read() if size is None else f.read(int(size))
        lines = data.decode("utf-8").split("\n")[:-1]
        return lines[start - self.base:end - self.base]
