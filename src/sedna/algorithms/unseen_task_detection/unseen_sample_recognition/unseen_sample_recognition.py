"""Built-in unseen-sample recognition. All deterministic."""

import numpy as np

from sedna.algorithms._util import features_of, lookup, meta_values, pack_array, subset, unpack_array, value_map_of
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.base_unseen_sample_recognition import (
    BaseSampleRecognition,
)
from sedna.datasources import BaseDataSource

__all__ = ("SampleRecognitionAllSeen", "SampleRecognitionByTaskAttr", "SampleRecognitionByConfidence",
           "SampleRecognitionByDistance", "SampleRecognitionDefault", "split_by_mask", "model_confidence")


_EMPTY = np.zeros(0, dtype=np.int64)


def _view(samples):
    """All rows of ``samples``, sharing its arrays, with their positions."""
    out = BaseDataSource(data_type=samples.data_type)
    out.x, out.y = samples.x, getattr(samples, "y", None)
    out.meta_attr = getattr(samples, "meta_attr", None)
    base = getattr(samples, "index", None)
    out.index = np.asarray(base) if base is not None else np.arange(len(samples.x))
    if hasattr(samples, "columns"):
        out.columns = samples.columns
    return out


def split_by_mask(samples, unseen_mask):
    """``(seen, unseen)`` views of ``samples``; both keep row positions in ``.index``."""
    unseen_mask = np.asarray(unseen_mask, dtype=bool)
    if not unseen_mask.any():
        return _view(samples), subset(samples, _EMPTY)
    return subset(samples, np.flatnonzero(~unseen_mask)), subset(samples, np.flatnonzero(unseen_mask))


def model_confidence(samples, models, allocate=None, mode="max"):
    """Per-sample confidence: the highest class probability of the allocated
    model (``mode="allocated"``) or of any model (``mode="max"``)."""
    n = len(samples.x)
    if not models or n == 0:
        return np.zeros(n)
    if mode == "allocated" and allocate is not None:
        groups = np.asarray(allocate(samples), dtype=int)
        conf = np.zeros(n)
        for g in sorted(set(groups.tolist()) - {-1}):
            rows = np.flatnonzero(groups == g)
            conf[rows] = np.asarray(models[g].predict_proba(samples.x[rows])).max(1)
        return conf
    conf = np.zeros(n)
    for m in models:
        conf = np.maximum(conf, np.asarray(m.predict_proba(samples.x)).max(1))
    return conf


def _has_proba(models):
    return bool(models) and all(getattr(m, "has_proba", hasattr(m, "predict_proba")) for m in models)


class SampleRecognitionAllSeen(BaseSampleRecognition):
    """Every sample is seen (detection off)."""

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        return split_by_mask(samples, np.zeros(len(samples.x), dtype=bool))


class SampleRecognitionByTaskAttr(BaseSampleRecognition):
    """Unseen when the sample's task attribute matches no known task (tabular
    data and anything that carries its attribute); the allocation decides."""

    def __init__(self, task_index=None, attribute=None, **kwargs):
        super().__init__(task_index, attribute=attribute, **kwargs)

    def attribute(self):
        """The attribute the tasks were defined by: this plugin's, else the definition's extractor's."""
        if self.params.get("attribute") is not None:
            return self.params["attribute"]
        ext = self.task_index.get("extractor")
        return ext.get("attribute") if isinstance(ext, dict) and ext.get("kind") == "attribute" else None

    def carries_attribute(self, samples):
        """Whether ``samples`` carry the task attribute (in ``meta_attr`` or as DataFrame columns)."""
        if value_map_of(self.task_index.get("extractor")) is None:
            return False
        return getattr(samples, "meta_attr", None) is not None or \
            meta_values(samples, self.attribute()) is not None

    def unseen_mask(self, samples, allocate=None):
        if allocate is not None:
            return np.asarray(allocate(samples), dtype=int) == -1
        ext = value_map_of(self.task_index.get("extractor"))
        values = meta_values(samples, self.attribute())
        if values is None or ext is None:
            return np.zeros(len(samples.x), dtype=bool)
        return lookup(values, {str(k): 0 for k in ext}) == -1

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        return split_by_mask(samples, self.unseen_mask(samples, allocate))


class SampleRecognitionByConfidence(BaseSampleRecognition):
    """Unseen when no model is confident: the top class probability is below a
    threshold calibrated on held-out seen samples for a target false-positive
    rate (``target_fpr``, default 0.05). ``threshold`` fixes it by hand.
    ``mode``: ``"max"`` (any model, default) or ``"allocated"``. The models
    are trained without the calibration samples (``needs_model_holdout``),
    since a model is over-confident on what it was trained on."""

    needs_model_holdout = True

    def __init__(self, task_index=None, threshold=None, target_fpr=0.05, mode="max", **kwargs):
        super().__init__(task_index, threshold=threshold, target_fpr=target_fpr, mode=mode, **kwargs)
        if mode not in ("max", "allocated"):
            raise ValueError("SampleRecognitionByConfidence: mode must be 'max' or 'allocated'")
        if not 0 <= float(target_fpr) < 1:
            raise ValueError("SampleRecognitionByConfidence: target_fpr must be in [0, 1)")
        self.mode, self.target_fpr = mode, float(target_fpr)
        cal = ((self.task_index.get("unseen_sample_recognition") or {}).get("calibration") or {})
        self.threshold = float(threshold) if threshold is not None else cal.get("threshold")

    def calibrate(self, samples, models, allocate=None):
        conf = model_confidence(samples, models, allocate, self.mode)
        if not len(conf):
            return {}
        thr = float(np.quantile(conf, self.target_fpr))
        return {"threshold": thr, "target_fpr": self.target_fpr, "mode": self.mode,
                "n_calibration": int(len(conf)),
                "observed_fpr": float((conf < thr).mean())}

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        if self.threshold is None or not _has_proba(models):
            return split_by_mask(samples, np.zeros(len(samples.x), dtype=bool))
        conf = model_confidence(samples, models, allocate, self.mode)
        return split_by_mask(samples, conf < self.threshold)


def _numeric(samples):
    return samples is not None and samples.x is not None and np.asarray(samples.x).dtype.kind in "biuf"


def _stored_icov(icov):
    """A full inverse covariance as the index stores it: float32, symmetric (see :func:`_pack_icov`);
    the threshold is calibrated with it, so inference scores exactly as calibration did."""
    icov = np.asarray(icov, dtype=np.float32).astype(np.float64)
    return np.triu(icov) + np.triu(icov, 1).T


def _pack_icov(icov, diag):
    """A task's inverse covariance for the index: the diagonal one as it is; a full one as its
    upper triangle in float32 (a quarter of the matrix's float64 bytes: the index stays small)."""
    if diag:
        return {"icov": pack_array(icov)}
    return {"icov_upper": pack_array(np.asarray(icov, dtype=np.float32)[np.triu_indices(len(icov))]),
            "dim": int(len(icov))}


def _unpack_icov(s):
    if "icov_upper" not in s:  # diagonal, or written before the upper-triangle form
        return unpack_array(s["icov"])
    dim, upper = int(s["dim"]), unpack_array(s["icov_upper"]).astype(np.float64)
    if upper.shape != (dim * (dim + 1) // 2,):
        raise ValueError(f"icov_upper: {upper.shape[0]} values for a {dim}x{dim} matrix")
    icov = np.zeros((dim, dim))
    icov[np.triu_indices(dim)] = upper
    return icov + np.triu(icov, 1).T


class SampleRecognitionByDistance(BaseSampleRecognition):
    """Unseen when a sample lies far from every task's training data.

    ``fit`` keeps, per task, the mean and the (shrunk) inverse covariance of
    the flattened features (diagonal above ``max_full_dim`` features); the
    score of a sample is its smallest Mahalanobis distance to a task, and the
    threshold is calibrated on held-out seen samples for ``target_fpr``. The
    models need no held-out data: the statistics are fitted apart.
    """

    needs_model_holdout = False

    def __init__(self, task_index=None, threshold=None, target_fpr=0.05, shrinkage=0.1, max_full_dim=256,
                 features=None, **kwargs):
        super().__init__(task_index, threshold=threshold, target_fpr=target_fpr, shrinkage=shrinkage,
                         max_full_dim=max_full_dim, features=features, **kwargs)
        self.features = features
        if not 0 <= float(target_fpr) < 1:
            raise ValueError("SampleRecognitionByDistance: target_fpr must be in [0, 1)")
        if not 0 <= float(shrinkage) <= 1:
            raise ValueError("SampleRecognitionByDistance: shrinkage must be in [0, 1]")
        self.target_fpr, self.shrinkage, self.max_full_dim = float(target_fpr), float(shrinkage), int(max_full_dim)
        cal = ((self.task_index.get("unseen_sample_recognition") or {}).get("calibration") or {})
        self._stats = None
        if cal.get("kind") == "distance":
            self._stats = [(unpack_array(s["mean"]), _unpack_icov(s), bool(s["diag"])) for s in cal["stats"]]
        self.threshold = float(threshold) if threshold is not None else cal.get("threshold")

    def fit(self, parts):
        stats = []
        for p in parts:
            if not self._usable(p) or len(p.x) < 2:
                continue
            f = features_of(p, self.features)
            mean = f.mean(0)
            if f.shape[1] > self.max_full_dim:
                var = f.var(0)
                var = (1 - self.shrinkage) * var + self.shrinkage * (var.mean() + 1e-6)
                stats.append((mean, 1.0 / var, True))
            else:
                d = f - mean
                cov = (d.T @ d) / (len(f) - 1)  # np.cov's result, without its checks and copies
                cov = (1 - self.shrinkage) * cov + self.shrinkage * np.eye(len(cov)) * (np.trace(cov) / len(cov) + 1e-6)
                try:  # shrinkage makes it positive definite; pinv only as a fallback
                    icov = np.linalg.inv(cov)
                except np.linalg.LinAlgError:
                    icov = np.linalg.pinv(cov)
                stats.append((mean, _stored_icov(icov), False))
        self._stats = stats or None
        return self

    def _usable(self, samples):
        return samples is not None and samples.x is not None and (bool(self.features) or _numeric(samples))

    def scores(self, samples):
        f = features_of(samples, self.features)
        best = np.full(len(f), np.inf)
        for mean, icov, diag in self._stats:
            d = f - mean
            v = (d * d * icov).sum(1) if diag else ((d @ icov) * d).sum(1)
            best = np.minimum(best, v)
        return best

    def calibrate(self, samples, models=None, allocate=None):
        if not self._stats or not self._usable(samples) or not len(samples.x):
            return {}
        s = self.scores(samples)
        self.threshold = float(np.quantile(s, 1 - self.target_fpr))
        return dict(self.state(), n_calibration=int(len(s)), observed_fpr=float((s > self.threshold).mean()))

    def state(self):
        """The fitted statistics (and threshold, once calibrated), JSON-ready; {} before fit."""
        if not self._stats:
            return {}
        return {"kind": "distance", "threshold": self.threshold, "target_fpr": self.target_fpr,
                "stats": [dict(_pack_icov(ic, dg), mean=pack_array(m), diag=dg) for m, ic, dg in self._stats]}

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        if not self._stats or self.threshold is None or not self._usable(samples) or not len(samples.x):
            return split_by_mask(samples, np.zeros(len(samples.x), dtype=bool))
        return split_by_mask(samples, self.scores(samples) > self.threshold)


class SampleRecognitionDefault(BaseSampleRecognition):
    """Picks the best evidence available, deterministically:

    1. samples that carry the attribute the tasks were defined by ->
       :class:`SampleRecognitionByTaskAttr` (exact);
    2. numeric features -> :class:`SampleRecognitionByDistance`, calibrated;
    3. models with class probabilities -> :class:`SampleRecognitionByConfidence`,
       calibrated;
    4. otherwise every sample is seen.
    """

    def __init__(self, task_index=None, target_fpr=0.05, attribute=None, **kwargs):
        super().__init__(task_index, target_fpr=target_fpr, attribute=attribute, **kwargs)
        self._dist = SampleRecognitionByDistance(task_index, target_fpr=target_fpr)
        self._conf = SampleRecognitionByConfidence(task_index, target_fpr=target_fpr)
        self._attr = SampleRecognitionByTaskAttr(task_index, attribute=attribute)
        self._fitted_numeric = False

    def needs_model_holdout(self, samples):
        return not _numeric(samples)

    def fit(self, parts):
        self._fitted_numeric = all(_numeric(p) for p in parts)
        if self._fitted_numeric:
            self._dist.fit(parts)
        return self

    def state(self):
        return self._dist.state() if self._fitted_numeric else {}

    def calibrate(self, samples, models, allocate=None):
        if self._fitted_numeric and _numeric(samples):
            return self._dist.calibrate(samples)
        if self._dist._stats and _numeric(samples):
            return self._dist.calibrate(samples)
        return self._conf.calibrate(samples, models, allocate) if _has_proba(models) else {}

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        if self._attr.carries_attribute(samples):
            return self._attr(samples, models, allocate)
        if self._dist._stats and self._dist.threshold is not None and _numeric(samples):
            return self._dist(samples)
        if self._conf.threshold is not None and _has_proba(models):
            return self._conf(samples, models, allocate)
        return split_by_mask(samples, np.zeros(len(samples.x), dtype=bool))
