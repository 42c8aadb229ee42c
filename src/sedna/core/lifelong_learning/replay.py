"""The bounded per-task replay buffer.

Each task group keeps at most ``size`` of the samples it was trained on (its
``samples/<task>.npz`` in the version): a uniform sample of everything the
task has seen, kept by weighted reservoir sampling (Efraimidis-Spirakis keys
``u ** (1 / w)``). The old buffer stands for ``n_seen`` samples, so each of its
rows weighs ``n_seen / len(buffer)``; new rows weigh 1. When a known task is
retrained, its model trains on the buffer plus the new samples, so what it
knew is replayed, and the buffer stays bounded however long the robot runs.

Deterministic: the random stream is seeded by the task and the version.
"""

import zlib

import numpy as np

from sedna.datasources.ops import concat, subset

__all__ = ("reservoir", "DEFAULT_SIZE")

DEFAULT_SIZE = 500


def _n(samples):
    return len(samples.x) if samples is not None and samples.x is not None else 0


def reservoir(old, n_seen, new, size, seed_key):
    """``(buffer, n_seen)`` after adding ``new`` to buffer ``old`` that stands for
    ``n_seen`` samples. ``size=None`` keeps everything."""
    n_old, n_new = _n(old), _n(new)
    n_seen = max(int(n_seen or 0), n_old)
    total_seen = n_seen + n_new
    joined = concat([old, new], data_type="train")
    if size is None or n_old + n_new <= int(size):
        return joined, total_seen
    size = int(size)
    rng = np.random.default_rng(zlib.crc32(str(seed_key).encode()))
    weights = np.concatenate([np.full(n_old, n_seen / max(n_old, 1)), np.ones(n_new)])
    keys = rng.random(len(weights)) ** (1.0 / weights)
    keep = np.sort(np.argsort(-keys, kind="stable")[:size])
    return subset(joined, keep), total_seen
