"""pandas data as plain arrays, for ``.npz`` files read with ``allow_pickle=False``.

The knowledge base stores each task's samples (its replay buffer) beside its
model; a DataFrame ``x`` or Series ``y`` goes in as one array per column plus
a JSON schema of column names and dtypes, so it comes back with its columns
and dtypes and no pickle is ever written or read. Numeric, boolean and
date/time columns are stored as they are; any other column (strings,
categories, objects) as a unicode array with a mask of its missing values.

Callers: :mod:`sedna.core.lifelong_learning.training` (stored samples) and
:meth:`sedna.datasources.BaseDataSource.save`.
"""

import json

import numpy as np

from sedna.datasources.arrays import is_pandas

__all__ = ("pack", "unpack")

_RAW = "biufcmM"


def _raw(col):
    return isinstance(col.dtype, np.dtype) and col.dtype.kind in _RAW


def _columns(value):
    if hasattr(value, "columns"):
        return "frame", list(value.columns), [value.iloc[:, j] for j in range(value.shape[1])]
    return "series", [value.name], [value]


def pack(name, value):
    """``{npz key: array}`` for ``value`` (a DataFrame, a Series or an array) stored as ``name``."""
    if not is_pandas(value):
        return {name: np.asarray(value)}
    kind, names, cols = _columns(value)
    arrays, dtypes, masks = {}, [], []
    for j, col in enumerate(cols):
        dtypes.append(str(col.dtype))
        if _raw(col):
            arrays[f"{name}__c{j}"] = col.to_numpy()
            masks.append(False)
            continue
        na = col.isna().to_numpy(dtype=bool)
        arrays[f"{name}__c{j}"] = np.asarray(["" if m else str(v) for v, m in zip(col.tolist(), na)], dtype=str)
        if na.any():
            arrays[f"{name}__na{j}"] = na
        masks.append(bool(na.any()))
    schema = {"kind": kind, "columns": [_json_name(c) for c in names], "dtypes": dtypes}
    arrays[f"{name}__schema"] = np.array(json.dumps(schema))
    return arrays


def _json_name(c):
    return c.item() if isinstance(c, np.generic) else c


def unpack(z, name):
    """What :func:`pack` stored as ``name`` in the open npz archive ``z`` (None if absent)."""
    if f"{name}__schema" not in z.files:
        return z[name] if name in z.files else None
    import pandas as pd

    schema = json.loads(str(z[f"{name}__schema"]))
    cols = []
    for j, dtype in enumerate(schema["dtypes"]):
        arr = z[f"{name}__c{j}"]
        if arr.dtype.kind in _RAW:
            cols.append(pd.Series(arr, dtype=arr.dtype))
            continue
        values = pd.Series(arr, dtype=object)
        if f"{name}__na{j}" in z.files:
            values[z[f"{name}__na{j}"]] = None
        cols.append(_as_dtype(values, dtype))
    if schema["kind"] == "series":
        out = cols[0]
        out.name = schema["columns"][0]
        return out
    frame = pd.concat(cols, axis=1) if cols else pd.DataFrame(index=range(0))
    frame.columns = schema["columns"]
    return frame


def _as_dtype(values, dtype):
    if dtype == "object":
        return values
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values
