"""Unseen-sample recognition from the deployed models' own features.

:class:`SampleRecognitionByModel` scores a sample by how far the embedding its
task model gives it lies from the embeddings that model gave its own training
samples, optionally combined with the distance of its appearance features to
every task's training samples, and flags it unseen above a threshold
calibrated on held-out seen samples for a target false-alarm rate.
"""

from collections import deque

import numpy as np

from sedna.algorithms._util import features_of, is_numeric, pack_array, unpack_array
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.base_unseen_sample_recognition import (
    BaseSampleRecognition,
)
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.unseen_sample_recognition import split_by_mask
from sedna.common.log import LOGGER

__all__ = ("SampleRecognitionByModel", "model_embedding", "window_pool", "calibrated_threshold")

_COMBINE = ("model", "appearance", "sum", "max")
_MODES = ("allocated", "min")
_KEEP_CALIBRATION = 500  # raw calibration scores kept per component for a later pooled calibration


# --------------------------------------------------------------- embeddings
def model_embedding(model, x):
    """Per-sample features of ``x`` from ``model`` (a ``sedna.backend.Estimator``
    or a raw estimator): its ``embed`` when it has one, else its class
    probabilities with their entropy and maximum. ``float64 (n, d)``."""
    est = getattr(model, "est", model)
    if callable(getattr(est, "embed", None)):
        out = np.asarray(est.embed(x), dtype=np.float64)
    elif callable(getattr(model, "predict_proba", None)):
        p = np.clip(np.asarray(model.predict_proba(x), dtype=np.float64), 0.0, 1.0)
        p = p.reshape(len(p), -1)
        ent = -(p * np.log(np.clip(p, 1e-12, None))).sum(1, keepdims=True)
        out = np.concatenate([p, ent, p.max(1, keepdims=True)], axis=1)
    else:
        raise TypeError(f"{type(est).__name__} has neither embed() nor predict_proba()")
    if out.ndim != 2 or len(out) != len(x):
        raise ValueError(f"embedding of {len(x)} samples has shape {out.shape}; expected ({len(x)}, d)")
    return out


def window_pool(scores, window, history=None):
    """Mean of each score with the ``window - 1`` scores before it (in order;
    ``history`` holds scores that came before ``scores``, oldest first)."""
    scores = np.asarray(scores, dtype=np.float64)
    if window <= 1 or not len(scores):
        return scores.copy()
    prev = np.asarray(list(history or [])[-(window - 1):], dtype=np.float64)
    full = np.concatenate([prev, scores])
    csum = np.concatenate([[0.0], np.cumsum(full)])
    end = np.arange(len(prev) + 1, len(full) + 1)
    start = np.maximum(end - window, 0)
    return (csum[end] - csum[start]) / (end - start)


# -------------------------------------------------- one group's statistics
def _fit_gaussian(f, shrinkage, max_rank):
    """Mean, per-feature scale and the top principal directions of the
    standardised features: a covariance shrunk towards the identity,
    ``(1 - a) R + a I``, stored in low rank."""
    f = np.asarray(f, dtype=np.float64)
    mean = f.mean(0)
    var = f.var(0)
    scale = np.sqrt(var + 1e-3 * float(np.median(var)) + 1e-12)
    z = (f - mean) / scale
    k = int(max(0, min(max_rank, len(f) - 1, f.shape[1])))
    if k:
        _, sv, vt = np.linalg.svd(z, full_matrices=False)
        comps, evals = vt[:k], (sv[:k] ** 2) / max(len(f) - 1, 1)
    else:
        comps, evals = np.zeros((0, f.shape[1])), np.zeros(0)
    # kept at the precision they are stored with: a restored recogniser scores exactly alike
    g = {"mean": mean, "scale": scale, "comps": comps, "evals": evals}
    g = {k: v.astype(np.float32).astype(np.float64) for k, v in g.items()}
    g["shrinkage"] = float(shrinkage)
    return g


def _gaussian_score(g, f):
    """Squared Mahalanobis distance under the shrunk covariance, per feature."""
    z = (np.asarray(f, dtype=np.float64) - g["mean"]) / g["scale"]
    a = max(g["shrinkage"], 1e-6)
    p = z @ g["comps"].T
    lam = (1.0 - a) * g["evals"] + a
    inside = (p * p / lam).sum(1)
    rest = np.maximum((z * z).sum(1) - (p * p).sum(1), 0.0) / a
    return (inside + rest) / z.shape[1]


def _pack_gaussian(g):
    if g is None:
        return None
    return {"mean": pack_array(g["mean"].astype(np.float32)), "scale": pack_array(g["scale"].astype(np.float32)),
            "comps": pack_array(g["comps"].astype(np.float32)), "evals": pack_array(g["evals"].astype(np.float32)),
            "shrinkage": g["shrinkage"]}


def _unpack_gaussian(d):
    if d is None:
        return None
    g = {k: unpack_array(d[k]).astype(np.float64) for k in ("mean", "scale", "comps", "evals")}
    g["comps"] = g["comps"].reshape(len(g["evals"]), len(g["mean"]))
    g["shrinkage"] = float(d["shrinkage"])
    return g


def _take(x, rows):
    return x[rows] if isinstance(x, np.ndarray) else [x[i] for i in rows]


def _can_embed(model):
    est = getattr(model, "est", model)
    if model is None:
        return False
    return callable(getattr(est, "embed", None)) or callable(getattr(model, "predict_proba", None))


def _kept(raw, cap=_KEEP_CALIBRATION):
    """At most ``cap`` of the raw calibration scores (evenly spaced, in order), to pool with later."""
    raw = np.asarray(raw, dtype=np.float64).ravel()
    return raw if len(raw) <= cap else raw[np.linspace(0, len(raw) - 1, cap).round().astype(int)]


def _log(s):
    return np.log(np.asarray(s, dtype=np.float64) + 1e-9)


def calibrated_threshold(scores, target_fpr):
    """The threshold above which a seen sample is flagged with probability
    ``target_fpr``, from seen samples' ``scores``.

    With enough samples, the ``ceil((n + 1)(1 - target_fpr))``-th smallest
    score: a new seen sample exceeds it with probability at most
    ``target_fpr`` (the split-conformal rank; a plain empirical quantile of a
    few samples sits too low: ~12 % false alarms for a 5 % target at n = 12).
    With fewer (n < 1 / target_fpr - 1), a normal prediction bound on the
    scores (Student t, Cornish-Fisher), and never below the largest score."""
    from math import ceil, sqrt
    from statistics import NormalDist

    v = np.asarray(scores, dtype=np.float64).ravel()
    v = np.sort(v[np.isfinite(v)])
    n, alpha = len(v), float(target_fpr)
    if not n:
        return None
    k = ceil((n + 1) * (1.0 - alpha) - 1e-9)
    if k <= n:
        return float(v[max(k, 1) - 1])
    if n < 3 or alpha <= 0:
        return float(v[-1])
    z, nu = NormalDist().inv_cdf(1.0 - alpha), n - 1
    t = z + (z ** 3 + z) / (4 * nu) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * nu ** 2)
    return float(max(v[-1], v.mean() + t * v.std(ddof=1) * sqrt(1.0 + 1.0 / n)))


# ------------------------------------------------------------------ the plugin
class SampleRecognitionByModel(BaseSampleRecognition):
    """Unseen when the allocated task model's embedding of a sample is far from
    the embeddings of that model's own training samples.

    ``fit(parts, models=None, allocate=None)`` keeps, per task group, the mean,
    per-feature scale and leading principal directions of the embeddings its
    model gives its training samples (``embed`` of the raw estimator, else
    class probabilities); the model score of a sample is its squared
    Mahalanobis distance, under a covariance shrunk towards the identity by
    ``shrinkage``, to its allocated group (``mode="allocated"``; rows without a
    group, or ``allocate=None``: the nearest group; ``mode="min"``: always the
    nearest). When ``fit`` gets no models, the parts are kept and the statistics
    are fitted when :meth:`calibrate` gets them.

    ``combine``: ``"model"`` (the embedding only), ``"appearance"`` (the
    distance of the ``features`` CALLBACK's features, or of numeric ``x``, to
    the nearest group, as :class:`SampleRecognitionByDistance`), ``"sum"``
    (default) or ``"max"`` of both after each is z-normalised (log distance) on
    the calibration samples. :meth:`calibrate` sets the threshold for
    ``target_fpr`` on held-out seen samples, which the models must not have
    trained on (``needs_model_holdout``), by :func:`calibrated_threshold`
    (right on average even from the dozen frames a small job holds out).

    ``window > 1`` pools each sample's score with the ``window - 1`` scores
    before it, across calls (a stream of frames), against a threshold
    calibrated on pooled scores; :meth:`reset` forgets the stream. A pooled
    score lags behind a change of scene: the first seen frames after unseen
    ones inherit their evidence. ``gate`` (a quantile in (0, 1)) then also
    requires the frame's own score to exceed that quantile of the seen
    calibration scores, so a frame that clearly looks seen is never flagged for
    its predecessors (with ``gate=0.9``, at most about 10 % of such frames).
    """

    def __init__(self, task_index=None, threshold=None, target_fpr=0.05, features=None, combine="sum",
                 mode="allocated", window=1, shrinkage=0.5, max_rank=32, gate=None, **kwargs):
        super().__init__(task_index, threshold=threshold, target_fpr=target_fpr, features=features, combine=combine,
                         mode=mode, window=window, shrinkage=shrinkage, max_rank=max_rank, gate=gate, **kwargs)
        if combine not in _COMBINE:
            raise ValueError(f"SampleRecognitionByModel: combine must be one of {', '.join(_COMBINE)}")
        if mode not in _MODES:
            raise ValueError(f"SampleRecognitionByModel: mode must be one of {', '.join(_MODES)}")
        if not 0 <= float(target_fpr) < 1:
            raise ValueError("SampleRecognitionByModel: target_fpr must be in [0, 1)")
        if not 0 < float(shrinkage) <= 1:
            raise ValueError("SampleRecognitionByModel: shrinkage must be in (0, 1]")
        if int(window) < 1 or int(max_rank) < 0:
            raise ValueError("SampleRecognitionByModel: window must be >= 1 and max_rank >= 0")
        if gate is not None and not 0 < float(gate) < 1:
            raise ValueError("SampleRecognitionByModel: gate must be a quantile in (0, 1), or None")
        self.gate = None if gate is None else float(gate)
        self.features, self.combine, self.mode = features, combine, mode
        self.target_fpr, self.shrinkage = float(target_fpr), float(shrinkage)
        self.window, self.max_rank = int(window), int(max_rank)
        self._model_stats = self._app_stats = self._pending = None
        self._norm, self._thresholds, self._components, self._cal_raw = {}, {}, [], {}
        self.threshold = self.window_threshold = self.gate_threshold = None
        self.last_decision = None  # {"score": [per sample], "threshold": t} of the last __call__
        self._history = deque(maxlen=max(self.window - 1, 1))
        cal = ((self.task_index.get("unseen_sample_recognition") or {}).get("calibration") or {})
        if cal.get("kind") == "by_model":
            self._restore(cal)
        if threshold is not None:
            self.threshold = float(threshold)

    @property
    def needs_model_holdout(self):
        return self.combine != "appearance"

    # ----------------------------------------------------------------- fit
    def fit(self, parts, models=None, allocate=None):
        parts = list(parts)
        self._model_stats = self._app_stats = self._pending = None
        if self.combine != "model":
            app = [_fit_gaussian(features_of(p, self.features), self.shrinkage, self.max_rank)
                   if self._app_usable(p) and len(p.x) >= 2 else None for p in parts]
            self._app_stats = app if any(a is not None for a in app) else None
        if self.combine != "appearance":
            if models is None:
                self._pending = parts  # fitted once calibrate() brings the models
            else:
                self._fit_models(parts, models)
        return self

    def _fit_models(self, parts, models):
        models = list(models)
        if len(parts) != len(models):
            LOGGER.warning("SampleRecognitionByModel: %d sample groups but %d models: no model statistics",
                           len(parts), len(models))
            return
        stats = []
        for p, m in zip(parts, models):
            ok = p is not None and p.x is not None and len(p.x) >= 3 and _can_embed(m)
            stats.append(_fit_gaussian(model_embedding(m, p.x), self.shrinkage, self.max_rank) if ok else None)
        self._model_stats = stats if any(s is not None for s in stats) else None

    def _app_usable(self, samples):
        return samples is not None and samples.x is not None and (bool(self.features) or is_numeric(samples))

    # -------------------------------------------------------------- scores
    def component_scores(self, samples, models=None, allocate=None):
        """``{"model": ..., "appearance": ...}``: raw distances per sample, for
        the components that are fitted and can be computed for these inputs."""
        out = {}
        if self._app_stats and self._app_usable(samples):
            f = features_of(samples, self.features)
            out["appearance"] = np.min([_gaussian_score(g, f) for g in self._app_stats if g is not None], axis=0)
        stats = self._model_stats
        if stats and models is not None and len(models) == len(stats) \
                and all(_can_embed(m) for m, g in zip(models, stats) if g is not None):
            out["model"] = self._model_distance(samples, list(models), allocate)
        return out

    def _model_distance(self, samples, models, allocate):
        stats, x = self._model_stats, samples.x
        n = len(x)
        groups = np.full(n, -1, dtype=np.int64)
        if self.mode == "allocated" and allocate is not None:
            groups = np.asarray(allocate(samples), dtype=np.int64)
            fitted = np.array([g is not None for g in stats] + [False])
            groups = np.where((groups >= 0) & (groups < len(stats)), groups, len(stats))
            groups = np.where(fitted[groups], groups, -1)
        out = np.full(n, np.inf)
        for g in sorted(set(groups.tolist()) - {-1}):
            rows = np.flatnonzero(groups == g)
            out[rows] = _gaussian_score(stats[g], model_embedding(models[g], _take(x, rows)))
        rest = np.flatnonzero(groups == -1)
        if len(rest):
            cache, xs = {}, _take(x, rest)
            for g, st in enumerate(stats):
                if st is None:
                    continue
                if id(models[g]) not in cache:  # groups that share a model embed once
                    cache[id(models[g])] = model_embedding(models[g], xs)
                out[rest] = np.minimum(out[rest], _gaussian_score(st, cache[id(models[g])]))
        return out

    def _z(self, name, raw):
        mu, sd = self._norm.get(name, (0.0, 1.0))
        return (_log(raw) - mu) / sd

    def _combined(self, comp, names):
        z = np.stack([self._z(k, comp[k]) for k in names])
        return z.max(0) if self.combine == "max" else z.sum(0)

    def scores(self, samples, models=None, allocate=None):
        """Per-sample unseen score (higher: less like the tasks' training data):
        the calibrated combination of the components, no window pooling.
        Raises ``ValueError`` when a component it was calibrated with cannot be
        computed (e.g. no ``models``), ``None`` before ``fit``."""
        comp = self.component_scores(samples, models, allocate)
        missing = [k for k in self._components if k not in comp]
        if missing:
            raise ValueError(f"SampleRecognitionByModel.scores: calibrated with {self._components}; "
                             f"{missing} cannot be computed here (pass the models)")
        return self._decision(comp)[0]

    def _decision(self, comp):
        """(per-frame score, per-frame threshold, pooled threshold, gate threshold)
        for the components at hand."""
        names = [k for k in self._components if k in comp] if self._components else sorted(comp)
        if not names:
            return None, None, None, None
        if self._components and len(names) < len(self._components):
            # a component calibrated with is missing now: decide on one that is here, by its own threshold
            thr = (list(self._thresholds.get(names[0]) or []) + [None] * 3)[:3]
            return self._z(names[0], comp[names[0]]), thr[0], thr[1], thr[2]
        return self._combined(comp, names), self.threshold, self.window_threshold, self.gate_threshold

    # ----------------------------------------------------------- calibrate
    def calibrate(self, samples, models=None, allocate=None, pool=False):
        """Set the z-normalisation and the threshold(s) for ``target_fpr`` on
        held-out seen ``samples`` (in stream order for the pooled threshold);
        returns :meth:`state` with ``n_calibration`` and ``observed_fpr``.

        ``pool=True`` adds the samples of the last calibration without it (the
        training's holdout, kept as raw component scores in :meth:`state`, for
        the same models): the job's evaluation calibrates on its eval split
        together with the frames the training held out, so a small job's
        threshold rests on both. Pooled samples are not kept for the next pool."""
        if self._pending is not None and models is not None:
            self._fit_models(self._pending, models)
            self._pending = None
        if samples is None or samples.x is None or not len(samples.x):
            return self.state()
        comp = self.component_scores(samples, models, allocate)
        if not comp:
            return {}
        if not pool:
            self._cal_raw = {k: _kept(v) for k, v in comp.items()}
        elif self._cal_raw:
            comp = {k: np.concatenate([self._cal_raw[k], v]) if k in self._cal_raw else v for k, v in comp.items()}
        self._components = sorted(comp)
        self._norm, self._thresholds = {}, {}
        for name, raw in comp.items():
            t = _log(raw)
            t = t[np.isfinite(t)] if np.isfinite(t).any() else np.zeros(1)
            self._norm[name] = (float(t.mean()), float(max(t.std(), 1e-6)))
            z = self._z(name, raw)
            self._thresholds[name] = [calibrated_threshold(z, self.target_fpr),
                                      calibrated_threshold(window_pool(z, self.window), self.target_fpr),
                                      self._gate_of(z)]
        score = self._combined(comp, self._components)
        self.threshold = calibrated_threshold(score, self.target_fpr)
        self.window_threshold = calibrated_threshold(window_pool(score, self.window), self.target_fpr)
        self.gate_threshold = self._gate_of(score)
        self._history.clear()
        return dict(self.state(), n_calibration=int(len(score)),
                    observed_fpr=float((score > self.threshold).mean()))

    def _gate_of(self, scores):
        """The ``gate`` quantile of seen calibration scores, or None (no gate)."""
        v = np.asarray(scores, dtype=np.float64).ravel()
        v = v[np.isfinite(v)]
        return None if self.gate is None or self.window <= 1 or not len(v) else float(np.quantile(v, self.gate))

    def state(self):
        """Statistics, normalisation and thresholds, JSON-ready; {} before fit."""
        if not self._model_stats and not self._app_stats:
            return {}
        return {"kind": "by_model", "threshold": self.threshold, "window_threshold": self.window_threshold,
                "target_fpr": self.target_fpr, "combine": self.combine, "mode": self.mode, "window": self.window,
                "gate": self.gate, "gate_threshold": self.gate_threshold,
                "components": list(self._components), "norm": {k: list(v) for k, v in self._norm.items()},
                "component_thresholds": {k: list(v) for k, v in self._thresholds.items()},
                "calibration_scores": {k: pack_array(v.astype(np.float32)) for k, v in self._cal_raw.items()} or None,
                "model_stats": [_pack_gaussian(g) for g in self._model_stats or []] or None,
                "appearance_stats": [_pack_gaussian(g) for g in self._app_stats or []] or None}

    def _restore(self, cal):
        self._model_stats = [_unpack_gaussian(g) for g in cal["model_stats"]] if cal.get("model_stats") else None
        self._app_stats = [_unpack_gaussian(g) for g in cal["appearance_stats"]] \
            if cal.get("appearance_stats") else None
        self._components = list(cal.get("components") or [])
        self._cal_raw = {k: unpack_array(v).astype(np.float64).ravel()
                         for k, v in (cal.get("calibration_scores") or {}).items()}
        self._norm = {k: (float(v[0]), float(v[1])) for k, v in (cal.get("norm") or {}).items()}
        self._thresholds = {k: list(v) for k, v in (cal.get("component_thresholds") or {}).items()}
        self.threshold = cal.get("threshold")
        self.window_threshold = cal.get("window_threshold")
        self.gate_threshold = cal.get("gate_threshold")
        if cal.get("window") != self.window:  # pooled over another window: not this one's threshold
            self.window_threshold = None
            self._thresholds = {k: [v[0], None, None] for k, v in self._thresholds.items()}
        if cal.get("gate") != self.gate:  # gated at another quantile, or not at all
            self.gate_threshold = None
            self._thresholds = {k: (list(v) + [None] * 3)[:2] + [None] for k, v in self._thresholds.items()}

    # ------------------------------------------------------------- serving
    def reset(self):
        """Forget the stream's earlier scores (window pooling starts afresh)."""
        self._history.clear()

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        n = len(samples.x) if samples.x is not None else 0
        score = thr = None
        if n and self.threshold is not None:
            score, thr, pooled_thr, gate_thr = self._decision(self.component_scores(samples, models, allocate))
        if score is None or thr is None:
            self.last_decision = None
            return split_by_mask(samples, np.zeros(n, dtype=bool))
        own = score
        if self.window > 1:
            pooled = window_pool(score, self.window, self._history)
            self._history.extend(score.tolist())
            if pooled_thr is not None:
                score, thr = pooled, pooled_thr
        flag = score > thr
        if self.window > 1 and gate_thr is not None and score is not own:
            flag &= own > gate_thr  # a frame that looks seen is not flagged for the frames before it
        # what the last call decided on, for a caller that shows it (the robot's dashboard)
        self.last_decision = {"score": [float(v) for v in score], "threshold": float(thr)}
        return split_by_mask(samples, flag)
