"""Built-in task remodeling."""

import numpy as np

from sedna.datasources.ops import subset
from sedna.algorithms.seen_task_learning.task_remodeling.base_task_remodeling import BaseTaskRemodeling

__all__ = ("DefaultTaskRemodeling",)


class DefaultTaskRemodeling(BaseTaskRemodeling):
    """One batch per model that received samples; rows keep their positions."""

    def __call__(self, samples, mappings, **kwargs):
        m = np.asarray(mappings, dtype=np.int64)
        if len(m) == 0:
            return [], []
        if len(m) == 1 or (m == m[0]).all():
            keys = [int(m[0])]
            parts = [subset(samples, np.arange(len(m)))]
        else:
            keys = np.flatnonzero(np.bincount(m)).tolist() if m.min() >= 0 else [int(k) for k in np.unique(m)]
            parts = [subset(samples, np.flatnonzero(m == k)) for k in keys]
        models = []
        for k in keys:
            if not 0 <= k < len(self.models):
                raise IndexError(f"task remodeling: allocation {k} names no model "
                                 f"(the knowledge base has {len(self.models)})")
            models.append(self.models[k])
        return parts, models
