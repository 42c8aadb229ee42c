"""What algorithm plugins exchange: tasks, task groups and models."""

from typing import Any, List, Optional

__all__ = ("Task", "TaskGroup", "Model")


class Task:
    """A slice of the samples that one model should learn.

    ``entry`` names the task (unique within a knowledge base), ``samples`` is a
    :class:`~sedna.datasources.BaseDataSource`, ``meta_attr`` the attribute
    value that defines it (an origin, a city, a cluster id...).
    """

    def __init__(self, entry, samples, meta_attr=None):
        self.entry = entry
        self.samples = samples
        self.meta_attr = meta_attr
        self.test_samples = None
        self.model = None
        self.result = None

    def __repr__(self):
        n = len(self.samples) if self.samples is not None and self.samples.x is not None else 0
        return f"Task(entry={self.entry!r}, meta_attr={self.meta_attr!r}, samples={n})"


class TaskGroup:
    """Tasks that share one model."""

    def __init__(self, entry, tasks: List[Task]):
        self.entry = entry
        self.tasks = tasks
        self.samples = None
        self.model = None

    def __repr__(self):
        return f"TaskGroup(entry={self.entry!r}, tasks={[t.entry for t in self.tasks]})"


class Model:
    """A trained model of a task group, as used at inference."""

    def __init__(self, index: int, entry, model, result: Optional[Any] = None):
        self.index = index
        self.entry = entry
        self.model = model
        self.result = result
        self.meta_attr = None

    def __repr__(self):
        return f"Model(index={self.index}, entry={self.entry!r})"
