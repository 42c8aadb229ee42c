"""Helpers shared by the built-in plugins (not public API)."""

import os
import re

import numpy as np


def subset(samples, idx):
    """A new data source holding rows ``idx`` of ``samples``; ``.index`` keeps
    the rows' positions in the batch the caller started from."""
    from sedna.datasources import BaseDataSource

    idx = np.asarray(idx, dtype=np.int64)
    out = BaseDataSource(data_type=samples.data_type)
    out.x = samples.x[idx] if samples.x is not None else None
    y = getattr(samples, "y", None)
    out.y = y[idx] if y is not None and len(y) == len(samples.x) else y
    meta = getattr(samples, "meta_attr", None)
    out.meta_attr = np.asarray(meta)[idx] if meta is not None and len(meta) == len(samples.x) else meta
    base = getattr(samples, "index", None)
    out.index = np.asarray(base)[idx] if base is not None else idx
    for attr in ("columns",):
        if hasattr(samples, attr):
            setattr(out, attr, getattr(samples, attr))
    return out


def concat(parts, data_type="train"):
    """Concatenate data sources row-wise (x, y, meta_attr)."""
    from sedna.datasources import BaseDataSource

    parts = [p for p in parts if p is not None and p.x is not None and len(p.x)]
    out = BaseDataSource(data_type=data_type)
    if not parts:
        out.x, out.y = np.array([]), np.array([])
        return out
    out.x = np.concatenate([np.asarray(p.x) for p in parts], axis=0)
    ys = [p.y for p in parts]
    if all(y is not None and len(y) == len(p.x) for y, p in zip(ys, parts)):
        out.y = np.concatenate([np.asarray(y) for y in ys], axis=0)
    else:
        out.y = np.array([])
    metas = [getattr(p, "meta_attr", None) for p in parts]
    if all(m is not None and len(m) == len(p.x) for m, p in zip(metas, parts)):
        out.meta_attr = np.concatenate([np.asarray(m) for m in metas], axis=0)
    return out


def sample_paths(samples, i):
    """Every path-like string of row ``i`` (inputs first, then the label)."""
    out = []
    x = samples.x[i]
    if isinstance(x, (str, np.str_)):
        out.append(str(x))
    elif isinstance(x, (list, tuple, np.ndarray)) and np.asarray(x).dtype.kind in "US":
        out.extend(str(v) for v in np.ravel(x))
    y = getattr(samples, "y", None)
    if y is not None and len(y) == len(samples.x) and isinstance(y[i], (str, np.str_)):
        out.append(str(y[i]))
    return out


_SPLIT = re.compile(r"[\\/]")


def path_parts(path):
    return [p for p in _SPLIT.split(path) if p]


def meta_values(samples, attribute=None):
    """Per-row attribute values as strings, or ``None`` when the samples carry none.

    ``meta_attr`` may be 1-D (one value per row) or 2-D; ``attribute`` selects
    columns of a 2-D ``meta_attr`` by index, or feature columns by name when the
    source has ``columns`` (CSV).
    """
    meta = getattr(samples, "meta_attr", None)
    attrs = attribute
    if isinstance(attrs, str):
        attrs = [a.strip() for a in attrs.split(",") if a.strip()]
    if meta is not None and len(meta) == len(samples.x):
        m = np.asarray(meta)
        if m.ndim == 1:
            return [str(v) for v in m]
        cols = list(range(m.shape[1]))
        if attrs and all(isinstance(a, int) or str(a).isdigit() for a in attrs):
            cols = [int(a) for a in attrs]
        return ["_".join(str(v) for v in row[cols]) for row in m]
    columns = getattr(samples, "columns", None)
    if attrs and columns is not None:
        names = list(columns)
        missing = [a for a in attrs if a not in names]
        if missing:
            return None
        cols = [names.index(a) for a in attrs]
        x = np.asarray(samples.x)
        return ["_".join(str(v) for v in row[cols]) for row in x]
    return None


def safe_name(entry):
    """A file-system-safe folder name for a task entry."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", str(entry)).strip("._") or "task"
    return s[:80]


def as_features(x):
    """2-D float features from numeric samples (images are flattened)."""
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError("this plugin needs numeric samples (x), got dtype %s" % a.dtype)
    return a.reshape(len(a), -1).astype(np.float64, copy=False)


def parse_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def basename(path):
    return os.path.basename(str(path))
