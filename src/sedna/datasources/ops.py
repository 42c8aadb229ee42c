"""Row operations on data sources: take rows, join sources. Public: plugins
and the engine both cut samples into tasks and put them back together.

``subset(samples, idx)`` keeps, in ``.index``, each row's position in the
batch the caller started from, so results can be put back in input order.

pandas data keeps its type: a DataFrame ``x`` (a Series ``y``) stays one,
with its columns and dtypes, renumbered ``0..n-1``; a Python list ``x`` is
taken as an array. pandas is imported only when the data is pandas.
"""

import numpy as np

from sedna.datasources.arrays import is_pandas, to_array
from sedna.datasources.base import BaseDataSource

__all__ = ("subset", "concat", "is_pandas", "take", "join")


def _rows(a):
    """``a`` ready for row indexing: pandas and arrays as they are, lists as arrays."""
    if a is None or is_pandas(a) or isinstance(a, np.ndarray):
        return a
    return to_array(list(a)) if isinstance(a, (list, tuple)) else np.asarray(a)


def take(a, idx):
    """Rows ``idx`` of an array, a list or a pandas object (renumbered)."""
    a = _rows(a)
    if is_pandas(a):
        return a.iloc[idx].reset_index(drop=True)
    return a[idx]


def join(values):
    """Row-wise concatenation; pandas when any part is pandas (columns aligned by name)."""
    values = [_rows(v) for v in values]
    if any(is_pandas(v) for v in values):
        import pandas as pd

        parts = [v if is_pandas(v) else (pd.DataFrame(v) if np.ndim(v) > 1 else pd.Series(v)) for v in values]
        return pd.concat(parts, ignore_index=True)
    return np.concatenate([np.asarray(v) for v in values], axis=0)


def _aligned(a, n):
    return a is not None and n and len(a) == n


def subset(samples, idx):
    """A new data source holding rows ``idx`` of ``samples``; ``.index`` keeps
    the rows' positions in the batch the caller started from."""
    idx = np.asarray(idx, dtype=np.int64)
    out = BaseDataSource(data_type=samples.data_type)
    x = _rows(samples.x)
    n = len(x) if x is not None else 0
    y = _rows(getattr(samples, "y", None))
    meta = getattr(samples, "meta_attr", None)
    meta = None if meta is None else np.asarray(meta)
    base = getattr(samples, "index", None)
    base = None if base is None else np.asarray(base)
    if hasattr(samples, "columns"):
        out.columns = samples.columns
    if len(idx) == n and n and idx[0] == 0 and idx[-1] == n - 1 and (n < 3 or (np.diff(idx) == 1).all()):
        # every row in order: share the data, copy nothing
        out.x, out.y, out.meta_attr = x, y, meta
        out.index = base if base is not None else idx
        return out
    out.x = take(x, idx) if x is not None else None
    out.y = take(y, idx) if _aligned(y, n) else y
    out.meta_attr = meta[idx] if _aligned(meta, n) else meta
    out.index = base[idx] if base is not None else idx
    return out


def concat(parts, data_type="train"):
    """Concatenate data sources row-wise (x, y, meta_attr)."""
    parts = [p for p in parts if p is not None and p.x is not None and len(p.x)]
    out = BaseDataSource(data_type=data_type)
    if not parts:
        out.x, out.y = np.array([]), np.array([])
        return out
    if len(parts) == 1 and not is_pandas(parts[0].x):  # nothing to join: share the rows
        p = parts[0]
        out.x = _rows(p.x)
        y, meta = getattr(p, "y", None), getattr(p, "meta_attr", None)
        out.y = _rows(y) if _aligned(y, len(p.x)) else np.array([])
        if _aligned(meta, len(p.x)):
            out.meta_attr = np.asarray(meta)
        return out
    out.x = join([p.x for p in parts])
    ys = [p.y for p in parts]
    if all(y is not None and len(y) == len(p.x) for y, p in zip(ys, parts)):
        out.y = join(ys)
    else:
        out.y = np.array([])
    metas = [getattr(p, "meta_attr", None) for p in parts]
    if all(m is not None and len(m) == len(p.x) for m, p in zip(metas, parts)):
        out.meta_attr = np.concatenate([np.asarray(m) for m in metas], axis=0)
    return out
