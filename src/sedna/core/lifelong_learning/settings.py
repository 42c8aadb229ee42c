"""Every environment read of the lifelong-learning engine, in one place.

The worker contract (CONTRACTS §2) hands a job its configuration through
environment variables; the engine reads them here, when asked, never at
import time. Explicit constructor or call arguments win over the environment.
"""

import functools
import inspect
import json
import os

import numpy as np

from sedna.common.class_factory import ClassFactory, ClassType
from sedna.common.comparison import COMPARISONS
from sedna.common.config import BaseConfig, Context
from sedna.common.exceptions import PluginParamError
from sedna.common.file_ops import FileOps
from sedna.common.log import LOGGER

__all__ = ("output_url", "min_train_sample", "has_completed_initial_training", "cloud_kb_index",
           "first_model_url", "resolve_index_url", "drop_rule", "metric_fns", "unseen_save_url",
           "model_poll_period", "eval_output_dir", "callback")

DEFAULT_MIN_TRAIN_SAMPLE = 10
_said_default_output = set()  # default knowledge-base folders already named in the log


def output_url(explicit=None):
    """Where knowledge-base versions go: ``explicit``, else ``OUTPUT_URL``, else ``./sedna-kb``."""
    url = explicit or BaseConfig.output_url
    if not url:
        url = os.path.abspath("sedna-kb")
        if url not in _said_default_output:  # once per folder, not on every call
            _said_default_output.add(url)
            LOGGER.info("OUTPUT_URL is not set; the knowledge base goes to %s", url)
    return url


def min_train_sample(explicit=None):
    """Task groups with fewer samples share one model (``MIN_TRAIN_SAMPLE``, default 10)."""
    if explicit is not None:
        return int(explicit)
    return Context.get_int("MIN_TRAIN_SAMPLE", DEFAULT_MIN_TRAIN_SAMPLE)


def has_completed_initial_training():
    return Context.get_bool("HAS_COMPLETED_INITIAL_TRAINING", False)


def cloud_kb_index():
    return Context.get_parameters("CLOUD_KB_INDEX")


def first_model_url():
    """The knowledge-base index among ``MODEL_URLS`` (``;``-joined), or None."""
    urls = Context.get_parameters("MODEL_URLS") or Context.get_parameters("MODEL_URL")
    if not urls:
        return None
    parts = [u.strip() for u in str(urls).split(";") if u.strip()]
    for u in parts:
        if u.endswith(".json"):
            return u
    return parts[0] if parts else None


def resolve_index_url(url):
    """A local folder stands for its ``index.json``."""
    if FileOps.is_local(url) and os.path.isdir(url):
        return os.path.join(url, "index.json")
    return url


def drop_rule(operator=None, model_threshold=None):
    """``(name, compare, threshold)`` of the evaluation drop rule (env
    ``operator``/``model_threshold``; the tutorial's ``<`` with ``0`` drops nothing)."""
    op_name = operator or Context.get_parameters("operator", "<")
    if op_name not in COMPARISONS:
        raise PluginParamError(f"operator: must be one of {' '.join(COMPARISONS)}, got {op_name!r}")
    thr = model_threshold if model_threshold is not None else Context.get_parameters("model_threshold", 0)
    try:
        thr = float(thr)
    except (TypeError, ValueError):
        raise PluginParamError(f"model_threshold: expected a number, got {thr!r}") from None
    return op_name, COMPARISONS[op_name], thr


def _accuracy(y, p):
    return float((np.asarray(y) == np.asarray(p)).mean())


def _metric(name):
    """A metric function by name: ``accuracy``, a registered GENERAL plugin, else
    the function of that name in :mod:`sklearn.metrics` (as the original)."""
    if name == "accuracy":
        return _accuracy
    if ClassFactory.is_exists(ClassType.GENERAL, name):
        return ClassFactory.get_cls(ClassType.GENERAL, name)
    try:
        from sklearn import metrics as skm
    except ImportError:
        skm = None
    fn = getattr(skm, name, None) if skm is not None and not name.startswith("_") else None
    if callable(fn):
        return fn
    return ClassFactory.get_cls(ClassType.GENERAL, name)  # UnknownPluginError, naming the registered ones


def _accepted(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None  # takes anything
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _with_params(fns, metrics_param):
    """Each metric called with the ``metrics_param`` it accepts; a parameter no
    metric accepts is an error naming it."""
    if not metrics_param:
        return fns
    if not isinstance(metrics_param, dict):
        raise PluginParamError(f"metrics_param: expected a dict, got {type(metrics_param).__name__}")
    used, out = set(), {}
    for name, fn in fns.items():
        names = _accepted(fn)
        take = {k: v for k, v in metrics_param.items() if names is None or k in names}
        used |= set(take)
        out[name] = functools.partial(fn, **take) if take else fn
    unused = sorted(set(metrics_param) - used)
    if unused:
        raise PluginParamError(f"metrics_param.{unused[0]}: no metric among {', '.join(fns)} takes this parameter")
    return out


def metric_fns(metrics, metrics_param=None):
    """``{name: fn(y_true, y_pred)}`` from a name, a callable, a list or a dict (None: the estimator's own).

    Names: ``accuracy``, registered GENERAL plugins, else :mod:`sklearn.metrics`
    functions (``precision_score``...). ``metrics_param`` (a dict, or JSON) is
    passed to every metric that accepts it, e.g. ``{"average": "micro"}``.
    """
    if metrics is None:
        return None
    if isinstance(metrics_param, str):
        try:
            metrics_param = json.loads(metrics_param) if metrics_param.strip() else None
        except ValueError as e:
            raise PluginParamError(f"metrics_param: not valid JSON ({e})") from None
    if callable(metrics):
        return _with_params({getattr(metrics, "__name__", "metric"): metrics}, metrics_param)
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    if isinstance(metrics, dict):
        return _with_params(dict(metrics), metrics_param)
    out = {}
    for m in metrics:
        if callable(m):
            out[getattr(m, "__name__", "metric")] = m
        else:
            out[m] = _metric(m)
    return _with_params(out, metrics_param)


def unseen_save_url(kwargs):
    return kwargs.get("unseen_save_url") or Context.get_parameters("unseen_save_url")


def model_poll_period():
    return Context.get_float("MODEL_POLL_PERIOD_SECONDS", 60.0)


def eval_output_dir(kb_root, version_number):
    """Where evaluate writes the deployable index: ``OUTPUT_URL``, unless that is
    the knowledge base's own folder (its pointer is never overwritten)."""
    out_dir = Context.get_parameters("OUTPUT_URL")
    if not out_dir or out_dir.rstrip("/") == kb_root.rstrip("/") or (
            FileOps.is_local(out_dir) and os.path.abspath(out_dir) == os.path.abspath(kb_root)):
        out_dir = FileOps.join_path(kb_root, "evaluations", f"{version_number:04d}")
    return out_dir


def callback(post_process):
    """A ``post_process`` argument as a callable: itself, or a registered CALLBACK by name."""
    if post_process is None or callable(post_process):
        return post_process
    cls = ClassFactory.get_cls(ClassType.CALLBACK, post_process)
    try:
        return cls()
    except TypeError:
        return cls
