"""Built-in unseen-task allocation."""

from sedna.algorithms.unseen_task_processing.unseen_task_allocation.base_unseen_task_allocation import (
    BaseUnseenTaskAllocation,
)

__all__ = ("UnseenTaskAllocationDefault",)


class UnseenTaskAllocationDefault(BaseUnseenTaskAllocation):
    """Every unseen sample goes to the single unseen-task model (index 0)."""

    def __call__(self, samples, **kwargs):
        return samples, [0] * len(samples.x)
