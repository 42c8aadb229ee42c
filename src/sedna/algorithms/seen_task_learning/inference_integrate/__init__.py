"""Alias of :mod:`sedna.algorithms.seen_task_learning.inference_integration` (older name)."""
from sedna.algorithms.seen_task_learning.inference_integration import *  # noqa: F401,F403
from sedna.algorithms.seen_task_learning.inference_integration import BaseInferenceIntegrate, DefaultInferenceIntegrate  # noqa: F401
