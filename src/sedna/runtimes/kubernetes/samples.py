"""The job's sample pool on Kubernetes, kept in the job's own state.

The node agent counts the Dataset's sample lines (``status.numberOfSamples``,
cumulative, never going back: the incremental watcher's policy). The
operator keeps, in the job's state, ``pool_start`` (the first line not yet
given to a round) and ``split_counter`` (the train/eval split's counter at
that line), so the pending train/eval counts are a pure function of the
sample count and the pool, and a round claims the range
``[pool_start, numberOfSamples)``; a failed round gives its range back.
No line list is stored in the API objects: a round's lines are read back
from the index when its files are written.
"""

import os

from sedna.common.file_ops import FileOps
from sedna.control.rounds import RoundFiles, split_in_order


def pending(state, number_of_samples, train_prob):
    """``(pending_train, pending_eval)`` of lines not yet given to a round."""
    start = int(state.get("pool_start", 0))
    n = max(0, int(number_of_samples or 0) - start)
    train, evals, _ = split_in_order(range(n), float(train_prob), int(state.get("split_counter", 0)))
    return len(train), len(evals)


def claim(state, r, number_of_samples, train_prob):
    """Round ``r`` takes every pending line; returns the new state (with ``claims[r]``)."""
    start, counter = int(state.get("pool_start", 0)), int(state.get("split_counter", 0))
    end = max(start, int(number_of_samples or 0))
    _, _, new_counter = split_in_order(range(end - start), float(train_prob), counter)
    claims = dict(state.get("claims") or {})
    claims = {k: v for k, v in claims.items() if int(k) >= r - 1}  # bounded: this round and the last
    claims[str(r)] = [start, end, counter]
    return dict(state, pool_start=end, split_counter=new_counter, claims=claims)


def release(state, r):
    """Give round ``r``'s lines back to the pool (its stage failed for good)."""
    claim_ = (state.get("claims") or {}).get(str(r))
    if not claim_:
        return dict(state)
    start, _, counter = claim_
    return dict(state, pool_start=start, split_counter=counter)


def read_lines(index_url, csv=False):
    """The index's sample lines (non-blank; a CSV's header apart): ``(header, lines)``."""
    path = index_url[len("file://"):] if index_url.startswith("file://") else index_url
    if "://" in path:
        local = FileOps.download(path)
    else:
        local = path
    with open(local, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    lines = [ln.rstrip("\r") for ln in text.split("\n")[:-1] if ln.strip()]  # complete lines only
    header = None
    if csv and lines:
        header, lines = lines[0], lines[1:]
    return header, lines


def write_round(output_dir, fmt, index_url, r, claim_, train_prob):
    """Write round ``r``'s train/eval index files from its claimed lines (idempotent)."""
    start, end, counter = claim_
    header, lines = read_lines(index_url, csv=str(fmt).lower() == "csv")
    train, evals, _ = split_in_order(lines[start:end], float(train_prob), counter)
    out = output_dir if "://" in output_dir else os.path.abspath(output_dir)
    return RoundFiles(out, fmt).write(r, train, evals, header=header)


def round_written(output_dir, fmt, r):
    """Whether round ``r``'s train index file exists (written by the operator or the agent)."""
    return FileOps.exists(RoundFiles(output_dir, fmt).train_index(r))
