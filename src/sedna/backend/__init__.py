"""Uniform access to user estimators (duck-typed, CONTRACTS §1).

An estimator is a class or an instance with ``train(train_data,
valid_data=None, **kw)`` (or ``fit``), ``predict(data, **kw)``, optionally
``evaluate``, ``predict_proba``, ``save(model_path)`` and ``load(model_url)``.
Keyword arguments are passed only where the method accepts them.

Estimators without ``save``/``load`` that follow scikit-learn's conventions
are persisted by :mod:`sedna.backend.sklearn_io` with skops (no pickle; only
trusted types load). Anything else must bring its own ``save``/``load``.
"""

import copy
import functools
import inspect
import os
import shutil

import numpy as np

from sedna.backend import sklearn_io, sklearn_plain
from sedna.backend.transfer import accepts_keyword, start_from, transfer_mode
from sedna.common.exceptions import EstimatorError

__all__ = ("Estimator", "new_estimator", "call_with_accepted")


@functools.lru_cache(maxsize=512)
def _accepts(func):
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None  # unknown: pass everything
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return frozenset(n for n, p in sig.parameters.items()
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def call_with_accepted(func, *args, **kwargs):
    """Call ``func`` with only the keyword arguments its signature accepts."""
    if kwargs:
        try:
            names = _accepts(getattr(func, "__func__", func))
        except TypeError:  # unhashable callable
            names = None
        if names is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in names}
    return func(*args, **kwargs)


def new_estimator(template):
    """A fresh, independent estimator from a class or an (untrained) instance."""
    if inspect.isclass(template):
        return template()
    if hasattr(template, "get_params") and hasattr(template, "fit"):
        try:
            from sklearn.base import clone  # lazy: scikit-learn is optional

            fresh = sklearn_plain.clone(template)  # the same, faster, where parameters are scalars
            return clone(template) if fresh is None else fresh
        except Exception:  # not a real scikit-learn estimator
            pass
    return copy.deepcopy(template)


def _x(data):
    return data.x if hasattr(data, "x") and hasattr(data, "num_examples") else data


class Estimator:
    """Adapter around one estimator instance (one per task)."""

    def __init__(self, est):
        self.est = est
        self.has_proba = hasattr(est, "predict_proba")

    @classmethod
    def create(cls, template):
        return cls(new_estimator(template))

    @property
    def name(self):
        return sklearn_plain.qualname(type(self.est))

    # ------------------------------------------------------------------ train
    @property
    def transfer_mode(self):
        """How this estimator can start from another (see :mod:`sedna.backend.transfer`)."""
        return transfer_mode(self.est)

    def train_from(self, source, train_data, valid_data=None, teacher=None, **kwargs):
        """Train starting from ``source`` (an :class:`Estimator` already trained),
        distilling from ``teacher`` where the estimator takes one. Falls back to
        training from scratch when the estimator cannot start from another, or
        when a warm start is refused (e.g. other classes)."""
        fresh = self.est
        if source is not None:
            self.est, extra = start_from(self.est, source.est)
            kwargs = dict(kwargs, **extra)
        train = getattr(self.est, "train", None) or getattr(self.est, "fit", None)
        if teacher is not None and train is not None and accepts_keyword(train, "teacher"):
            kwargs["teacher"] = teacher.est
        try:
            return self.train(train_data, valid_data, **kwargs)
        except ValueError:
            if self.est is fresh:
                raise
            self.est = fresh  # a warm start the estimator refused: from scratch
            kwargs.pop("init_from", None)
            return self.train(train_data, valid_data, **kwargs)

    def train(self, train_data, valid_data=None, **kwargs):
        est = self.est
        if hasattr(est, "train"):
            res = call_with_accepted(est.train, train_data, valid_data=valid_data, **kwargs)
        elif hasattr(est, "fit"):
            x, y = _x(train_data), getattr(train_data, "y", None)
            res = call_with_accepted(est.fit, x, y, **kwargs)
            res = None if res is est else res
        else:
            raise EstimatorError(f"estimator {self.name} has neither train() nor fit()")
        return res if isinstance(res, dict) else ({} if res is None else {"train_result": res})

    def finetune(self, train_data, valid_data=None, **kwargs):
        """Continue training from the current state."""
        est = self.est
        if hasattr(est, "finetune"):
            return call_with_accepted(est.finetune, train_data, valid_data=valid_data, **kwargs) or {}
        if not hasattr(est, "train") and hasattr(est, "partial_fit"):
            call_with_accepted(est.partial_fit, _x(train_data), train_data.y, **kwargs)
            return {}
        if hasattr(est, "warm_start"):
            est.warm_start = True
        return self.train(train_data, valid_data, **kwargs)

    # ---------------------------------------------------------------- predict
    def predict(self, x, **kwargs):
        return call_with_accepted(self.est.predict, x, **kwargs) if kwargs else self.est.predict(x)

    def predict_proba(self, x, **kwargs):
        return call_with_accepted(self.est.predict_proba, x, **kwargs)

    def evaluate(self, data, metrics=None, **kwargs):
        """A dict of metric values on ``data`` (a data source with ``x``, ``y``)."""
        if metrics:
            pred = self.predict(data.x)
            out = {}
            for name, fn in metrics.items():
                out[name] = float(fn(data.y, pred))
            return out
        if hasattr(self.est, "evaluate"):
            res = call_with_accepted(self.est.evaluate, data, **kwargs)
        else:
            right = self._right(data)
            res = {"accuracy": float(right.mean()) if len(right) else 0.0}
        if isinstance(res, dict):
            return {k: float(v) for k, v in res.items() if np.isscalar(v)}
        if np.isscalar(res):
            return {"score": float(res)}
        raise EstimatorError(f"{self.name}.evaluate returned {type(res).__name__}; expected a number or a dict")

    def _right(self, data):
        return np.asarray(self.predict(data.x)) == np.asarray(data.y)

    def hits(self, data):
        """Which rows of ``data`` are predicted right, where :meth:`evaluate`'s score is
        plain accuracy (no metrics, no ``evaluate`` of the estimator's own): its mean over
        any subset is that subset's score. None otherwise."""
        if hasattr(self.est, "evaluate") or getattr(data, "y", None) is None:
            return None
        return self._right(data)

    # ------------------------------------------------------------- save/load
    def save(self, model_dir):
        """Save into ``model_dir``; returns the saved artifact's path (inside it)."""
        os.makedirs(model_dir, exist_ok=True)
        model_path = os.path.join(model_dir, "model")
        if hasattr(self.est, "save"):
            ret = call_with_accepted(self.est.save, model_path)
            for cand in (ret, model_path):
                if isinstance(cand, str) and os.path.exists(cand):
                    cand = os.path.abspath(cand)
                    if not cand.startswith(os.path.abspath(model_dir) + os.sep):
                        dst = os.path.join(model_dir, os.path.basename(cand))
                        (shutil.copytree if os.path.isdir(cand) else shutil.copy2)(cand, dst)
                        cand = dst
                    return cand
            raise EstimatorError(f"{self.name}.save({model_path!r}) wrote nothing there and returned {ret!r}")
        return sklearn_io.save(self.est, model_path + sklearn_io.EXTENSION)

    def load(self, path):
        if hasattr(self.est, "load"):
            ret = call_with_accepted(self.est.load, path)
            if ret is not None and ret is not self.est and hasattr(ret, "predict"):
                self.est = ret
            return self
        self.est = sklearn_io.load(self.est, path)
        self.has_proba = hasattr(self.est, "predict_proba")
        return self
