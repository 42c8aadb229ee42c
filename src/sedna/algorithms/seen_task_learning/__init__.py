"""Seen-task learning: the slots that define, group, allocate and combine tasks."""

from .artifact import Model, Task, TaskGroup

__all__ = ("Task", "TaskGroup", "Model")
