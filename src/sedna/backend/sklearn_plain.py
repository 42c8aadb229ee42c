"""scikit-learn models whose fitted state is plain data, as one ``.npz`` file.

Most models a scikit-learn job trains per task (linear and logistic models,
naive Bayes, scalers) hold only numbers, strings and numeric arrays once
fitted. Such a model is written as its class name, its constructor parameters
(scalars) and its fitted attributes, with numpy's own format and
``allow_pickle=False``: loading builds the template's class from scalars and
sets arrays and scalars on it, so nothing in the file can name code to run.
Writing one takes about a third of a skops file's time and loading a quarter.

Anything else (a pipeline, a forest, an MLP's list of weight arrays, a class
defined outside scikit-learn, an object-dtype array) is not "plain"
(:func:`plain_state` returns None) and goes to skops (:mod:`.sklearn_io`).
"""

import functools
import io
import json
import re
import sys
import zipfile

import numpy as np

from sedna.common.exceptions import EstimatorError

__all__ = ("EXTENSION", "FORMAT", "plain_state", "dumps", "load", "qualname", "clone")

EXTENSION = ".npz"
FORMAT = "sedna-sklearn-plain-v1"
_META = "__sedna__"
_ARRAY = "a:"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$|^_[A-Za-z0-9][A-Za-z0-9_]*$")  # no dunder names
_SCALARS = (bool, int, float, str, type(None))


def qualname(cls):
    """``module.QualName`` of a class: how model files name the estimator's class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _plain_array(v):
    return isinstance(v, np.ndarray) and v.dtype.kind in "biufU" and not v.dtype.hasobject


@functools.lru_cache(maxsize=256)
def _param_names(cls):
    return tuple(cls._get_param_names())  # scikit-learn reads __init__'s signature on every call


def clone(est):
    """An unfitted copy of scikit-learn estimator ``est`` whose parameters are all
    scalars, as ``sklearn.base.clone`` makes it (its class called with the same
    parameters), without reading ``__init__``'s signature again; None for any
    other estimator (one that overrides how it is cloned or lists its parameters)."""
    cls = type(est)
    base = sys.modules.get("sklearn.base")
    if base is None or not cls.__module__.startswith("sklearn.") or \
            getattr(cls, "__sklearn_clone__", None) is not base.BaseEstimator.__sklearn_clone__ or \
            getattr(cls, "get_params", None) is not base.BaseEstimator.get_params:
        return None
    try:
        params = {k: getattr(est, k) for k in _param_names(cls)}
    except AttributeError:
        return None
    if not all(isinstance(v, _SCALARS) for v in params.values()):
        return None
    return cls(**params)


def plain_state(est):
    """``(params, scalars, arrays)`` of a fitted scikit-learn estimator whose state
    is plain data, else None. ``est``'s class must be defined in scikit-learn."""
    cls = type(est)
    if not cls.__module__.startswith("sklearn.") or not hasattr(est, "get_params"):
        return None
    try:
        state = vars(est)
        params = {k: state[k] for k in _param_names(cls)}  # what get_params(deep=False) reads
    except Exception:  # noqa: BLE001 - an unusual estimator (a parameter stored elsewhere): skops decides
        return None
    if not all(isinstance(v, _SCALARS) for v in params.values()):
        return None
    scalars, arrays = {}, {}
    for k, v in state.items():
        if k in params:
            continue
        if not _NAME.match(k):
            return None
        if isinstance(v, np.generic):  # before the scalars: np.float64 is a float
            if not _plain_array(np.asarray(v)):
                return None
            arrays[k] = np.asarray(v)  # a 0-d array, restored as a numpy scalar
            scalars[k] = {"numpy_scalar": True}
        elif isinstance(v, _SCALARS):
            scalars[k] = v
        elif _plain_array(v):
            arrays[k] = v
        else:
            return None
    return params, scalars, arrays


def dumps(est, state):
    """The file's bytes for ``est`` and its :func:`plain_state`."""
    import sklearn

    params, scalars, arrays = state
    meta = {"format": FORMAT, "class": qualname(type(est)), "params": params, "scalars": scalars,
            "sklearn": sklearn.__version__}
    buf = io.BytesIO()
    np.savez(buf, **{_META: np.array(json.dumps(meta))}, **{_ARRAY + k: v for k, v in arrays.items()})
    return buf.getvalue()


def load(template, path):
    """The estimator saved at ``path``; its class must be ``template``'s."""
    cls = type(template)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z[_META][()]))
            arrays = {k[len(_ARRAY):]: z[k] for k in z.files if k.startswith(_ARRAY)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise EstimatorError(f"{path}: not a readable {FORMAT} model file ({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise EstimatorError(f"{path}: not a {FORMAT} model file")
    if meta.get("class") != qualname(cls):
        raise EstimatorError(f"{path}: holds a {meta.get('class')}, the estimator is a {qualname(cls)}")
    params, scalars = meta.get("params"), meta.get("scalars")
    if not isinstance(params, dict) or not isinstance(scalars, dict):
        raise EstimatorError(f"{path}: params and scalars must be objects")
    names = set(scalars) | set(arrays)
    bad = sorted(n for n in names if not _NAME.match(n)) + sorted(
        k for k, v in list(params.items()) + [(k, v) for k, v in scalars.items() if k not in arrays]
        if not isinstance(v, _SCALARS))
    if bad:
        raise EstimatorError(f"{path}: refused field(s) {', '.join(map(repr, bad[:3]))}")
    try:
        est = cls(**params)
    except TypeError as e:
        raise EstimatorError(f"{path}: parameters do not fit {qualname(cls)}: {e}") from None
    for k, v in scalars.items():
        if k not in arrays:
            setattr(est, k, v)
    for k, v in arrays.items():
        setattr(est, k, v[()] if isinstance(scalars.get(k), dict) else v)
    return est
