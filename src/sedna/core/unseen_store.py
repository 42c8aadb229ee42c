"""The unseen-sample store: what the inference worker saves for labelling
(no pickle), how many samples wait there, and which are still to label.

Its one folder (the inference worker's ``unseen_save_url``) holds the saved
files, ``unseen.txt`` (one line of plain file names per path sample),
``unseen.jsonl`` with its ``.npz`` batches (array samples), and the
annotator's ``labelled.txt`` and ``discarded.txt`` (one name a line).
:mod:`sedna.core.labelling` labels from here; the control plane counts here.
"""

import json
import os
import re
import shutil
import time

import numpy as np

from sedna.common.exceptions import LabelError
from sedna.common.file_ops import FileOps
from sedna.common.log import LOGGER
from sedna.common.regular_files import open_regular
from sedna.datasources.arrays import is_pandas
from sedna.datasources.frames import pack


def save_unseen(samples, save_url):
    """Write unseen samples under ``save_url``.

    Path samples: each input file is copied (name kept) and a line is appended
    to ``save_url/unseen.txt``. Array samples: one ``.npz`` per batch.
    Returns the written paths.
    """
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
    A file there that is not regular (a FIFO...) raises NotRegularFile, never blocks; each is
    read up to :data:`MAX_LIST_BYTES` (a sparse gigabyte costs no more)."""
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
    return sum(1 for line in f.read(MAX_LIST_BYTES).splitlines() if line.strip())


def _count_batches(f):
    n = 0
    for line in f.read(MAX_LIST_BYTES).splitlines():
        try:
            n += int(json.loads(line).get("n", 0))
        except (ValueError, AttributeError, TypeError):
            continue
    return n


# --------------------------------------------------------------------------- the reading side
# The inference worker writes this folder, so everything read here is untrusted:
# list files are regular files read up to a bound, and an entry's files are plain
# names of regular files in the folder itself (never a path, never a link).
UNSEEN_LIST, LABELLED_LIST, DISCARDED_LIST = "unseen.txt", "labelled.txt", "discarded.txt"
MAX_LIST_BYTES = 16 * 1024 * 1024   # an unseen list over this is read up to it
MAX_SAMPLE_BYTES = 64 * 1024 * 1024  # one saved file copied into a Dataset
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,254}$")


def is_plain_name(name):
    """A file name without folders, a leading dot or odd characters."""
    return isinstance(name, str) and bool(_PLAIN_NAME.match(name)) and ".." not in name


def _list_lines(folder, name):
    """The lines of a list file of the store; None if it is missing. Anything
    not a regular file (a FIFO, a folder, a link) is a :class:`LabelError`."""
    path = os.path.join(folder, name)
    try:
        fd = open_regular(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as e:  # NotRegularFile, a link (ELOOP), no permission
        raise LabelError(f"{path}: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_LIST_BYTES)
    return raw.decode("utf-8", errors="replace").splitlines()


def unseen_entries(folder):
    """``[(line number, [file names])]`` of ``unseen.txt``: only entries whose
    every field is a plain file name (what :func:`save_unseen` writes for files
    it copied); None when there is no list."""
    lines = _list_lines(folder, UNSEEN_LIST)
    if lines is None:
        return None
    out = []
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if parts and all(is_plain_name(p) for p in parts):
            out.append((n, parts))
    return out


def _names_in(folder, name):
    return {line.strip() for line in _list_lines(folder, name) or () if line.strip()}


def finished(folder):
    """Frame names already labelled or discarded."""
    return _names_in(folder, LABELLED_LIST) | _names_in(folder, DISCARDED_LIST)


def pending(folder):
    """The saved unseen samples still to label, oldest first:
    ``[(first file name, [file names])]``; [] when none were recorded."""
    entries = unseen_entries(folder)
    if not entries:
        return []
    skip = finished(folder)
    out, seen = [], set()
    for _, parts in entries:
        if parts[0] not in skip and parts[0] not in seen:
            seen.add(parts[0])
            out.append((parts[0], parts))
    return out


def saved_file(folder, name):
    """An open binary file of the saved sample file ``name`` (a plain name, a
    regular file in ``folder``, not a link, at most :data:`MAX_SAMPLE_BYTES`)."""
    if not is_plain_name(name):
        raise LabelError(f"{name!r}: not a file name of the unseen folder")
    path = os.path.join(folder, name)
    try:
        fd = open_regular(path, follow_symlinks=False)
    except FileNotFoundError:
        raise LabelError(f"{path} is missing") from None
    except OSError as e:
        raise LabelError(f"{path}: {e.strerror or e}") from None
    f = os.fdopen(fd, "rb")
    if os.fstat(fd).st_size > MAX_SAMPLE_BYTES:
        f.close()
        raise LabelError(f"{path} is over {MAX_SAMPLE_BYTES} bytes")
    return f


def _record(folder, list_name, names):
    if names:
        with open(os.path.join(folder, list_name), "a", encoding="utf-8") as f:
            f.write("".join(n + "\n" for n in names))


def mark_labelled(folder, names):
    """Remember ``names`` as labelled: they leave :func:`pending` for good."""
    _record(folder, LABELLED_LIST, names)


def discard(folder, names):
    """Throw selected samples away: their saved files (plain names of regular
    files in ``folder``) are removed and their names recorded in
    ``discarded.txt``. Returns the names discarded (those still pending)."""
    wanted = set(names)
    gone = []
    for name, parts in pending(folder):
        if name not in wanted:
            continue
        for p in parts:
            path = os.path.join(folder, p)
            if os.path.isfile(path) and not os.path.islink(path):
                os.unlink(path)
        gone.append(name)
    _record(folder, DISCARDED_LIST, gone)
    return gone
