"""Alias of :mod:`sedna.algorithms.seen_task_learning.inference_integration` (the original's older name)."""
from sedna.algorithms.seen_task_learning.inference_integration import BaseInferenceIntegrate, DefaultInferenceIntegrate

__all__ = ("BaseInferenceIntegrate", "DefaultInferenceIntegrate")
