"""Persist fitted scikit-learn-style estimators without pickle.

The estimator's constructor parameters and its fitted attributes (names
ending in ``_``) are written as JSON, arrays into a side ``.npz`` loaded with
``allow_pickle=False``. Supported fitted values: numbers, strings, booleans,
None, numpy arrays of numbers/strings, and lists/tuples of those. Estimators
holding other objects (a forest's trees, a pipeline's steps) are refused with
an error telling the user to give their estimator ``save``/``load``.
"""

import json

import numpy as np

from sedna.common.exceptions import EstimatorError

FORMAT = "sedna-sklearn-v1"


def _encode(name, value, arrays):
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"v": value}
    if isinstance(value, np.generic):
        return {"v": value.item()}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufcUS":
            raise EstimatorError(f"fitted attribute {name} has dtype {value.dtype}, which cannot be saved without pickle")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"array": key}
    if isinstance(value, (list, tuple)):
        return {"list": [_encode(f"{name}[{i}]", v, arrays) for i, v in enumerate(value)],
                "tuple": isinstance(value, tuple)}
    raise EstimatorError(f"fitted attribute {name} is a {type(value).__name__}; give the estimator "
                         "save()/load() methods to persist it")


def _decode(node, arrays):
    if "v" in node:
        return node["v"]
    if "array" in node:
        return arrays[node["array"]]
    items = [_decode(n, arrays) for n in node["list"]]
    return tuple(items) if node.get("tuple") else items


def save(est, path):
    if not hasattr(est, "get_params"):
        raise EstimatorError(f"{type(est).__qualname__} has no save() and is not a scikit-learn estimator")
    arrays, fitted = {}, {}
    for name, value in vars(est).items():
        if name.endswith("_") and not name.startswith("_"):
            fitted[name] = _encode(name, value, arrays)
    params = {}
    for k, v in est.get_params(deep=False).items():
        params[k] = _encode(f"param {k}", v, arrays)
    doc = {"format": FORMAT, "class": f"{type(est).__module__}.{type(est).__qualname__}",
           "params": params, "fitted": fitted}
    npz = path[:-5] + ".npz" if path.endswith(".json") else path + ".npz"
    np.savez(npz, **arrays)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


def load(template, path):
    """Rebuild into a fresh copy of ``template`` (whose class must match)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != FORMAT:
        raise EstimatorError(f"{path}: not a {FORMAT} model file")
    cls_name = f"{type(template).__module__}.{type(template).__qualname__}"
    if doc["class"] != cls_name:
        raise EstimatorError(f"{path}: holds a {doc['class']}, the estimator is a {cls_name}")
    npz = path[:-5] + ".npz" if path.endswith(".json") else path + ".npz"
    with np.load(npz, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    est = type(template)(**{k: _decode(v, arrays) for k, v in doc["params"].items()})
    for k, v in doc["fitted"].items():
        setattr(est, k, _decode(v, arrays))
    return est
