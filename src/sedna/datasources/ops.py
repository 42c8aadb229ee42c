"""Row operations on data sources: take rows, join sources. Public: plugins
and the engine both cut samples into tasks and put them back together.

``subset(samples, idx)`` keeps, in ``.index``, each row's position in the
batch the caller started from, so results can be put back in input order.
"""

import numpy as np

__all__ = ("subset", "concat")


def subset(samples, idx):
    """A new data source holding rows ``idx`` of ``samples``; ``.index`` keeps
    the rows' positions in the batch the caller started from."""
    from sedna.datasources.base import BaseDataSource

    idx = np.asarray(idx, dtype=np.int64)
    out = BaseDataSource(data_type=samples.data_type)
    x = samples.x
    n = len(x) if x is not None else 0
    y = getattr(samples, "y", None)
    meta = getattr(samples, "meta_attr", None)
    base = getattr(samples, "index", None)
    if y is not None and not isinstance(y, np.ndarray):
        y = np.asarray(y)
    if meta is not None and not isinstance(meta, np.ndarray):
        meta = np.asarray(meta)
    if base is not None and not isinstance(base, np.ndarray):
        base = np.asarray(base)
    if hasattr(samples, "columns"):
        out.columns = samples.columns
    if len(idx) == n and n and idx[0] == 0 and idx[-1] == n - 1 and (n < 3 or (np.diff(idx) == 1).all()):
        # every row in order: share the arrays, copy nothing
        out.x, out.y, out.meta_attr = x, y, meta
        out.index = base if base is not None else idx
        return out
    out.x = x[idx] if x is not None else None
    out.y = y[idx] if y is not None and len(y) == n and n else y
    out.meta_attr = meta[idx] if meta is not None and len(meta) == n and n else meta
    out.index = base[idx] if base is not None else idx
    return out


def concat(parts, data_type="train"):
    """Concatenate data sources row-wise (x, y, meta_attr)."""
    from sedna.datasources.base import BaseDataSource

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
