"""Built-in inference integration."""

import numpy as np

from sedna.algorithms.seen_task_learning.inference_integration.base_inference_integrate import (
    BaseInferenceIntegrate,
)

__all__ = ("DefaultInferenceIntegrate",)


class DefaultInferenceIntegrate(BaseInferenceIntegrate):
    """Put every task's results back at their samples' positions (input order).

    ``n``: length of the output (default: the number of rows given). Results
    that are arrays of one shape give an array; anything else gives a list.
    """

    def __call__(self, tasks, n=None, **kwargs):
        tasks = [t for t in tasks if t.samples is not None and len(t.samples.x)]
        if n is None:
            n = sum(len(t.samples.x) for t in tasks)
        if len(tasks) == 1 and len(tasks[0].samples.x) == n:
            idx = np.asarray(tasks[0].samples.index)
            res = tasks[0].result
            if isinstance(res, np.ndarray) and (idx == np.arange(n)).all():
                return res
        arrays = all(isinstance(t.result, np.ndarray) and len(t.result) == len(t.samples.x) for t in tasks)
        if arrays and tasks and len({t.result.shape[1:] for t in tasks}) == 1:
            dtype = np.result_type(*[t.result.dtype for t in tasks])
            out = np.empty((n,) + tasks[0].result.shape[1:], dtype=dtype)
            for t in tasks:
                out[np.asarray(t.samples.index)] = t.result
            return out
        out = [None] * n
        for t in tasks:
            for pos, r in zip(np.asarray(t.samples.index).tolist(), list(t.result)):
                out[pos] = r
        return out
