"""Helpers shared by the built-in plugins (not public API)."""

import base64
import os
import re

import numpy as np

from sedna.common.class_factory import ClassFactory, ClassType
from sedna.datasources.ops import concat, is_pandas, subset  # noqa: F401  (re-exported for plugins)


def sample_paths(samples, i):
    """Every path-like string of row ``i`` (inputs first, then the label)."""
    out = []
    x = samples.x.iloc[i].to_numpy() if is_pandas(samples.x) else samples.x[i]
    if isinstance(x, (str, np.str_)):
        out.append(str(x))
    elif isinstance(x, (list, tuple, np.ndarray)) and np.asarray(x).dtype.kind in "US":
        out.extend(str(v) for v in np.ravel(x))
    y = getattr(samples, "y", None)
    if y is not None and len(y) == len(samples.x):
        yi = y.iloc[i] if is_pandas(y) else y[i]
        if isinstance(yi, (str, np.str_)):
            out.append(str(yi))
    return out


_SPLIT = re.compile(r"[\\/]")


def path_parts(path):
    return [p for p in _SPLIT.split(path) if p]


def attribute_names(attribute):
    """``attribute`` as a list of names: ``"a, b"``, ``["a", "b"]`` or ``None`` (``[]``)."""
    if attribute is None:
        return []
    if isinstance(attribute, str):
        return [a.strip() for a in attribute.split(",") if a.strip()]
    if isinstance(attribute, (int, np.integer)):
        return [int(attribute)]
    return list(attribute)


def frame_columns(samples, attribute):
    """The names of ``attribute`` when ``samples.x`` is a DataFrame holding all
    of them, else ``None``."""
    attrs = attribute_names(attribute)
    x = getattr(samples, "x", None)
    if not attrs or not is_pandas(x) or not hasattr(x, "columns"):
        return None
    cols = set(x.columns)
    return attrs if all(a in cols for a in attrs) else None


def meta_values(samples, attribute=None):
    """Per-row attribute values as a numpy string array, or ``None`` when the
    samples carry none.

    A DataFrame ``x`` that holds the ``attribute`` column(s) gives their
    values; otherwise ``meta_attr`` may be 1-D (one value per row) or 2-D;
    ``attribute`` selects columns of a 2-D ``meta_attr`` by index, or feature
    columns by name when the source has ``columns`` (CSV). Several columns
    are joined with ``_``.
    """
    frame = frame_columns(samples, attribute)
    if frame is not None:
        return _join_columns(np.asarray(samples.x[frame].astype(str)))
    meta = getattr(samples, "meta_attr", None)
    attrs = attribute_names(attribute)
    if meta is not None and len(meta) == len(samples.x):
        m = np.asarray(meta)
        if m.ndim == 1:
            return m if m.dtype.kind == "U" else m.astype(str)
        cols = list(range(m.shape[1]))
        if attrs and all(isinstance(a, int) or str(a).isdigit() for a in attrs):
            cols = [int(a) for a in attrs]
        return _join_columns(m[:, cols])
    columns = getattr(samples, "columns", None)
    if attrs and columns is not None and not is_pandas(samples.x):
        names = list(columns)
        if any(a not in names for a in attrs):
            return None
        return _join_columns(np.asarray(samples.x)[:, [names.index(a) for a in attrs]])
    return None


def split_attribute(samples, attribute):
    """Move the ``attribute`` columns of a DataFrame ``x`` into ``meta_attr``
    (their values, joined with ``_``), in place, as the original does, so an
    estimator never sees them. Samples without those columns are left as they
    are. Returns ``samples``."""
    frame = frame_columns(samples, attribute)
    if frame is not None:
        values = meta_values(samples, frame)
        samples.x = samples.x.drop(columns=frame)
        samples.meta_attr = values
        if getattr(samples, "columns", None) is not None:
            samples.columns = list(samples.x.columns)
    return samples


def _join_columns(m):
    m = np.asarray(m).astype(str)
    if m.ndim == 1:
        return m
    out = m[:, 0]
    for j in range(1, m.shape[1]):
        out = np.char.add(np.char.add(out, "_"), m[:, j])
    return out


def lookup(values, mapping, missing=-1):
    """``[mapping.get(v, missing) for v in values]`` as an int array, one dict
    lookup per distinct value."""
    values = np.asarray(values)
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    if len(mapping) <= 32 and values.dtype.kind == "U":
        # few tasks: one vectorised comparison per task beats sorting the rows
        out = np.full(len(values), missing, dtype=np.int64)
        for k, v in mapping.items():
            out[values == k] = v
        return out
    uniq, inv = np.unique(values, return_inverse=True)
    table = np.array([mapping.get(str(u), missing) for u in uniq], dtype=np.int64)
    return table[inv.reshape(-1)]


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
    return [str(v) for v in attribute_names(value)]


def basename(path):
    return os.path.basename(str(path))


def value_map_of(extractor):
    """The ``{attribute_value: task_index}`` part of a task extractor, if any."""
    if not isinstance(extractor, dict):
        return None
    if "kind" not in extractor:
        return extractor
    base = extractor.get("base")
    return base if isinstance(base, dict) and "kind" not in base else None


def is_numeric(samples):
    return samples is not None and samples.x is not None and np.asarray(samples.x).dtype.kind in "biuf"


def pack_array(a):
    """A numeric array as a compact JSON value (base64 of the raw bytes)."""
    a = np.ascontiguousarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"pack_array: numeric arrays only, got {a.dtype}")
    return {"dtype": a.dtype.str, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def unpack_array(v):
    """Inverse of :func:`pack_array`; plain JSON lists are accepted too."""
    if isinstance(v, dict) and "b64" in v:
        dtype = np.dtype(v["dtype"])
        if dtype.kind not in "biuf":
            raise ValueError(f"unpack_array: refusing dtype {dtype}")
        return np.frombuffer(base64.b64decode(v["b64"]), dtype=dtype).reshape(v["shape"]).copy()
    return np.asarray(v, dtype=np.float64)


def features_of(samples, features=None):
    """2-D float features of ``samples``: the registered CALLBACK ``features``
    (a function ``samples -> array (n, d)``, e.g. image statistics for path
    samples) when given, else the flattened numeric ``x``."""
    if not features:
        return as_features(samples.x)
    from inspect import isclass

    fn = ClassFactory.get_cls(ClassType.CALLBACK, features)
    if isclass(fn):
        fn = fn()
    out = np.asarray(fn(samples), dtype=np.float64)
    if out.ndim != 2 or len(out) != len(samples.x):
        raise ValueError(f"features callback {features!r} returned shape {out.shape}; expected ({len(samples.x)}, d)")
    return out
