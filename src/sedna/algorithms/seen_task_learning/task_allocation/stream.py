"""``TaskAllocationStream``: the name the original's robot-dog inference
worker asks for.

The original's class allocates every sample to task 0 (a placeholder marked
"just for demonstrate"), a known defect. Here the name follows the knowledge
base's task extractor exactly as :class:`TaskAllocationDefault` does, so a
worker written for the original gets a real allocation.
"""

from sedna.algorithms.seen_task_learning.task_allocation.task_allocation import TaskAllocationDefault

__all__ = ("TaskAllocationStream",)


class TaskAllocationStream(TaskAllocationDefault):
    """Stream allocation: each incoming sample goes to the task its evidence
    names (see :class:`TaskAllocationDefault`); unknown samples get ``-1``."""
