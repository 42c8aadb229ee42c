"""Built-in unseen-sample recognition. All deterministic."""

import numpy as np

from sedna.algorithms._util import meta_values, subset
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.base_unseen_sample_recognition import (
    BaseSampleRegonition,
)

__all__ = ("SampleRegonitionAllSeen", "SampleRegonitionByTaskAttr", "SampleRegonitionByConfidence",
           "SampleRegonitionDefault", "split_by_mask", "model_confidence")


def split_by_mask(samples, unseen_mask):
    unseen_mask = np.asarray(unseen_mask, dtype=bool)
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


class SampleRegonitionAllSeen(BaseSampleRegonition):
    """Every sample is seen (detection off)."""

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        return split_by_mask(samples, np.zeros(len(samples.x), dtype=bool))


class SampleRegonitionByTaskAttr(BaseSampleRegonition):
    """Unseen when the sample's task attribute matches no known task (tabular
    data and anything that carries its attribute); the allocation decides."""

    def unseen_mask(self, samples, allocate=None):
        if allocate is not None:
            return np.asarray(allocate(samples), dtype=int) == -1
        ext = self.task_index.get("extractor")
        values = meta_values(samples, self.params.get("attribute"))
        if values is None or not isinstance(ext, dict):
            return np.zeros(len(samples.x), dtype=bool)
        return np.array([str(v) not in ext for v in values], dtype=bool)

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        return split_by_mask(samples, self.unseen_mask(samples, allocate))


class SampleRegonitionByConfidence(BaseSampleRegonition):
    """Unseen when no model is confident: the top class probability is below a
    threshold calibrated on held-out seen samples for a target false-positive
    rate (``target_fpr``, default 0.05). ``threshold`` fixes it by hand.
    ``mode``: ``"max"`` (any model, default) or ``"allocated"``."""

    def __init__(self, task_index=None, threshold=None, target_fpr=0.05, mode="max", **kwargs):
        super().__init__(task_index, threshold=threshold, target_fpr=target_fpr, mode=mode, **kwargs)
        if mode not in ("max", "allocated"):
            raise ValueError("SampleRegonitionByConfidence: mode must be 'max' or 'allocated'")
        if not 0 <= float(target_fpr) < 1:
            raise ValueError("SampleRegonitionByConfidence: target_fpr must be in [0, 1)")
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


class SampleRegonitionDefault(BaseSampleRegonition):
    """Picks the best evidence available, deterministically:

    1. a calibrated confidence threshold in the knowledge base and models with
       class probabilities -> :class:`SampleRegonitionByConfidence`;
    2. samples that carry the attribute the tasks were defined by ->
       :class:`SampleRegonitionByTaskAttr`;
    3. otherwise every sample is seen.
    """

    def __init__(self, task_index=None, **kwargs):
        super().__init__(task_index, **kwargs)
        self._conf = SampleRegonitionByConfidence(task_index, **{
            k: v for k, v in kwargs.items() if k in ("threshold", "target_fpr", "mode")})
        self._attr = SampleRegonitionByTaskAttr(task_index, **{
            k: v for k, v in kwargs.items() if k == "attribute"})

    def calibrate(self, samples, models, allocate=None):
        return self._conf.calibrate(samples, models, allocate) if _has_proba(models) else {}

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        if self._conf.threshold is not None and _has_proba(models):
            return self._conf(samples, models, allocate)
        ext = self.task_index.get("extractor")
        if isinstance(ext, dict) and "kind" not in ext and getattr(samples, "meta_attr", None) is not None:
            return self._attr(samples, models, allocate)
        return split_by_mask(samples, np.zeros(len(samples.x), dtype=bool))
