"""The unseen-sample store: what the inference worker saves for labelling
(no pickle), and how many samples wait there."""

import json
import os
import shutil
import time

import numpy as np

from sedna.common.log import LOGGER
from sedna.common.regular_files import open_regular
from sedna.datasources.frames import pack
from sedna.datasources.ops import is_pandas


def save_unseen(samples, save_url):
    """Write unseen samples under ``save_url``.

    Path samples: each input file is copied (name kept) and a line is appended
    to ``save_url/unseen.txt``. Array samples: one ``.npz`` per batch.
    Returns the written paths.
    """
    from sedna.common.file_ops import FileOps

    if not FileOps.is_local(save_url):
        LOGGER.warning("unseen samples: only local save folders are supported, not %s", save_url)
        return []
    os.makedirs(save_url, exist_ok=True)
    if is_pandas(samples.x):  # columns and dtypes kept, no pickle
        return _save_batch(save_url, pack("x", samples.x), samples)
    x = np.asarray(samples.x)
    written = []
    if x.dtype.kind in "US":
        lines = []
        base = os.environ.get("ORIGINAL_DATASET_URL")
        base = os.path.dirname(base) if base else ""
        for row in (x if x.ndim > 1 else x[:, None]):
            names = []
            for p in row:
                src = str(p) if os.path.isabs(str(p)) or not base else os.path.join(base, str(p))
                if os.path.isfile(src):
                    dst = os.path.join(save_url, os.path.basename(src))
                    if not os.path.exists(dst):
                        shutil.copy2(src, dst)
                    written.append(dst)
                    names.append(os.path.basename(src))
                else:
                    names.append(str(p))
            lines.append(" ".join(names))
        with open(os.path.join(save_url, "unseen.txt"), "a", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
        return written
    return _save_batch(save_url, {"x": x}, samples)


def _save_batch(save_url, arrays, samples):
    """One ``.npz`` (``allow_pickle=False`` readable) and its line in ``unseen.jsonl``."""
    name = os.path.join(save_url, f"unseen-{time.time_ns()}.npz")
    if getattr(samples, "index", None) is not None:
        arrays["index"] = np.asarray(samples.index)
    if any(np.asarray(a).dtype.kind == "O" for a in arrays.values()):
        raise ValueError("unseen samples: object arrays cannot be saved without pickle; give numbers, "
                         "strings or a DataFrame")
    np.savez(name, **arrays)
    with open(os.path.join(save_url, "unseen.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps({"file": os.path.basename(name), "n": int(len(samples.x)), "time": time.time()}) + "\n")
    return [name]


def count_unseen(folder):
    """Unseen samples saved by the inference worker (``unseen.txt`` lines and
    ``unseen.jsonl`` batch sizes, as :mod:`sedna` writes them); None if there is no folder.
    A file there that is not regular (a FIFO...) raises NotRegularFile, never blocks."""
    if not folder or not os.path.isdir(folder):
        return None
    n = 0
    for name, count in (("unseen.txt", _count_lines), ("unseen.jsonl", _count_batches)):
        try:
            fd = open_regular(os.path.join(folder, name))
        except FileNotFoundError:
            continue
        with os.fdopen(fd, "rb") as f:
            n += count(f)
    return n


def _count_lines(f):
    return sum(1 for line in f if line.strip())


def _count_batches(f):
    n = 0
    for line in f:
        try:
            n += int(json.loads(line).get("n", 0))
        except (ValueError, AttributeError, TypeError):
            continue
    return n
