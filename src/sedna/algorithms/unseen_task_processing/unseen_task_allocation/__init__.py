from .base_unseen_task_allocation import BaseUnseenTaskAllocation
from .unseen_task_allocation import UnseenTaskAllocationDefault

__all__ = ("BaseUnseenTaskAllocation", "UnseenTaskAllocationDefault")
