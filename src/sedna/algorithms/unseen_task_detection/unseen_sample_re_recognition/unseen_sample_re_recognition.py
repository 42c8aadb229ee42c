"""Built-in unseen-sample re-recognition (update time)."""

import numpy as np

from sedna.algorithms.unseen_task_detection.unseen_sample_re_recognition.base_unseen_sample_re_recognition import (
    BaseSampleReRecognition,
)
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition.unseen_sample_recognition import (
    SampleRecognitionDefault,
    split_by_mask,
)
from sedna.common.class_factory import ClassFactory, ClassType

__all__ = ("SampleReRecognitionDefault", "SampleReRecognitionAllSeen")


class SampleReRecognitionDefault(BaseSampleReRecognition):
    """A labelled sample is unseen when the knowledge base's allocation sends it
    to no task; when every sample can be allocated (clustering, classifier),
    the recognizer the knowledge base was calibrated with decides, as at
    inference."""

    def __init__(self, task_index=None, target_fpr=0.05, attribute=None, **kwargs):
        super().__init__(task_index, target_fpr=target_fpr, attribute=attribute, **kwargs)
        self._rec = self._stored_recognizer() or SampleRecognitionDefault(task_index, target_fpr=target_fpr,
                                                                         attribute=attribute)

    def _stored_recognizer(self):
        """The recognizer the knowledge base was calibrated with (its method, params and threshold)."""
        spec = (self.task_index or {}).get("unseen_sample_recognition")
        if not isinstance(spec, dict) or not spec.get("method") or not spec.get("calibration"):
            return None

        try:
            cls = ClassFactory.get_cls(ClassType.UTD, spec["method"])
            return cls(self.task_index, **(spec.get("param") or {}))
        except (KeyError, TypeError, ValueError):
            return None

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        if allocate is not None:
            mask = np.asarray(allocate(samples), dtype=int) == -1
            if mask.any() or not models:
                return split_by_mask(samples, mask)
        return self._rec(samples, models, None)


class SampleReRecognitionAllSeen(BaseSampleReRecognition):
    """Every new sample is treated as seen (the update decision still routes it)."""

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        return split_by_mask(samples, np.zeros(len(samples.x), dtype=bool))
