"""Built-in task relationship discovery."""

from sedna.datasources.ops import concat
from sedna.algorithms.seen_task_learning.artifact import TaskGroup
from sedna.algorithms.seen_task_learning.task_relation_discovery.base_task_relation_discovery import (
    BaseTaskRelationDiscover,
)

__all__ = ("DefaultTaskRelationDiscover",)


class DefaultTaskRelationDiscover(BaseTaskRelationDiscover):
    """Tasks with the same entry share a group (and a model); others get their own."""

    def __call__(self, tasks, **kwargs):
        groups = {}
        for t in tasks:
            groups.setdefault(t.entry, []).append(t)
        out = []
        for entry, members in groups.items():
            g = TaskGroup(entry=entry, tasks=members)
            g.samples = concat([t.samples for t in members], data_type="train")
            out.append(g)
        return out
