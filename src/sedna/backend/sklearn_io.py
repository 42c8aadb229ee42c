"""Persist fitted scikit-learn estimators with skops, scikit-learn's
pickle-free format: loading builds objects from a declared schema, so no code
from the file runs.

Trust is restricted, never blanket: a file may hold only the types skops
trusts by default plus *classes* defined inside scikit-learn itself (a
forest's ``Tree``, a boosting model's ``TreePredictor``, an MLP's optimizer).
Anything else found by :func:`skops.io.get_untrusted_types` (a user class, a
function, a lambda in a ``FunctionTransformer``) is refused with a one-line
error: at save time, so the user learns it before the next round, and again
at load time, for files that did not come from here.

A model whose fitted state is plain data (a linear model, a scaler) is written
by :mod:`.sklearn_plain` instead, as one ``.npz``: faster to write and read.
Model files written by the previous JSON + ``.npz`` format
(``sedna-sklearn-v1``) still load.
"""

import importlib
import inspect
import json
import os
import sys
import types

import numpy as np

from sedna.backend import sklearn_plain
from sedna.backend.sklearn_plain import qualname
from sedna.common.exceptions import EstimatorError

__all__ = ("save", "load", "EXTENSION")

EXTENSION = ".skops"
LEGACY_FORMAT = "sedna-sklearn-v1"
_HINT = "give the estimator save()/load() methods to persist it"


#: scikit-learn's torch adapter, a package that imports torch when imported
_TORCH_ADAPTER = "sklearn.externals.array_api_compat.torch"


def _skops_io():
    """:mod:`skops.io`, imported lazily (an optional dependency) and without torch.

    Importing skops lists scikit-learn's estimators by walking every scikit-learn
    package, its torch adapter included, which imports torch (over a second) in
    a job that never uses it. Unless torch is in use already, the adapter stands
    as an empty module while skops is imported, and is removed afterwards."""
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    stub = None
    if "torch" not in sys.modules and _TORCH_ADAPTER not in sys.modules:
        stub = sys.modules[_TORCH_ADAPTER] = types.ModuleType(_TORCH_ADAPTER)  # no __path__: not walked
    try:
        import skops.io as sio
    except ImportError:
        raise EstimatorError("saving a scikit-learn estimator needs skops: pip install 'sedna[sklearn]', "
                             f"or {_HINT}") from None
    finally:
        if stub is not None and sys.modules.get(_TORCH_ADAPTER) is stub:
            del sys.modules[_TORCH_ADAPTER]
    return sio


def _sklearn_class(name):
    """True when ``name`` is a class defined in scikit-learn (resolved, not guessed)."""
    module, _, qual = name.rpartition(".")
    if module != "sklearn" and not module.startswith("sklearn."):
        return False
    try:
        obj = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return False
    return inspect.isclass(obj) and str(getattr(obj, "__module__", "")).startswith("sklearn")


def _trusted(sio, path):
    """The untrusted types of ``path`` this module accepts; raises on any other."""
    names = sio.get_untrusted_types(file=path)
    refused = sorted(n for n in names if not _sklearn_class(n))
    if refused:
        raise EstimatorError(f"{os.path.basename(path)}: holds types skops does not trust "
                             f"({', '.join(refused[:3])}{', ...' if len(refused) > 3 else ''}); {_HINT}")
    return list(names)


#: shapes of estimators whose saved files held only accepted types (see :func:`_shape`)
_VERIFIED = set()


def _name(obj):
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _shape(est):
    """What decides the types a saved scikit-learn estimator holds: its class and, for each of its
    parameters, the class (or, for a function or class given as a value, its name). None for a class
    defined outside scikit-learn, whose fitted state may hold anything: such a file is always checked."""
    if not _sklearn_class(_name(type(est))):
        return None
    try:
        params = est.get_params(deep=True)
    except Exception:  # noqa: BLE001 - a broken get_params: check the file
        return None
    return _name(type(est)), tuple(sorted(
        (k, _name(v) if callable(v) else _name(type(v))) for k, v in params.items()))


def save(est, path):
    """Write ``est`` to ``path`` (``.skops``), or beside it as ``.npz`` when its fitted
    state is plain data (:mod:`.sklearn_plain`); returns the path written.

    A skops file's types are checked once per estimator shape (class and parameter types): a
    second model of the same shape holds the same types, so its check is skipped."""
    if not hasattr(est, "get_params"):
        raise EstimatorError(f"{type(est).__qualname__} has no save() and is not a scikit-learn estimator; {_HINT}")
    state = sklearn_plain.plain_state(est)
    if state is not None:
        if path.endswith(EXTENSION):
            path = path[:-len(EXTENSION)] + sklearn_plain.EXTENSION
        data = sklearn_plain.dumps(est, state)
        with open(path, "wb") as f:
            f.write(data)
        return path
    sio = _skops_io()
    try:
        data = sio.dumps(est)  # in memory, then one write: zipfile's seeks on a file cost more
        with open(path, "wb") as f:
            f.write(data)
        shape = _shape(est)
        if shape is None or shape not in _VERIFIED:
            _trusted(sio, path)
            if shape is not None:
                _VERIFIED.add(shape)
    except EstimatorError as e:
        os.remove(path)
        raise EstimatorError(f"{type(est).__qualname__} cannot be saved with skops: "
                             f"{str(e).split(': ', 1)[-1]}") from None
    except Exception as e:  # skops refuses the object: one line, not its traceback
        if os.path.exists(path):
            os.remove(path)
        raise EstimatorError(f"{type(est).__qualname__} cannot be saved with skops "
                             f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); {_HINT}") from None
    return path


def load(template, path):
    """The estimator saved at ``path``; its class must be ``template``'s."""
    if path.endswith(sklearn_plain.EXTENSION):
        return sklearn_plain.load(template, path)
    if not path.endswith(EXTENSION):
        with open(path, "rb") as f:
            head = f.read(1)
        if head == b"{":
            return _load_legacy(template, path)
    sio = _skops_io()
    try:
        est = sio.load(path, trusted=_trusted(sio, path))
    except EstimatorError:
        raise
    except Exception as e:
        raise EstimatorError(f"{path}: not a readable skops model file ({type(e).__name__}: {e})") from None
    if type(est) is not type(template):
        raise EstimatorError(f"{path}: holds a {qualname(type(est))}, the estimator is a {qualname(type(template))}")
    return est


# --------------------------------------------------------------- old format
def _decode(node, arrays):
    if "v" in node:
        return node["v"]
    if "array" in node:
        return arrays[node["array"]]
    items = [_decode(n, arrays) for n in node["list"]]
    return tuple(items) if node.get("tuple") else items


def _load_legacy(template, path):
    """A model written by the JSON + ``.npz`` format (flat fitted attributes)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != LEGACY_FORMAT:
        raise EstimatorError(f"{path}: neither a skops nor a {LEGACY_FORMAT} model file")
    if doc["class"] != qualname(type(template)):
        raise EstimatorError(f"{path}: holds a {doc['class']}, the estimator is a {qualname(type(template))}")
    npz = path[:-5] + ".npz" if path.endswith(".json") else path + ".npz"
    with np.load(npz, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    est = type(template)(**{k: _decode(v, arrays) for k, v in doc["params"].items()})
    for k, v in doc["fitted"].items():
        setattr(est, k, _decode(v, arrays))
    return est
