from typing import List

from sedna.algorithms.seen_task_learning.artifact import Task, TaskGroup


class BaseTaskRelationDiscover:
    """Slot ``task_relationship_discovery``: group tasks that share a model.

    ``__call__(tasks) -> List[TaskGroup]``; every task appears in exactly one group.
    """

    def __init__(self, **kwargs):
        self.params = kwargs

    def __call__(self, tasks: List[Task], **kwargs) -> List[TaskGroup]:
        raise NotImplementedError


BaseTaskRelationDiscovery = BaseTaskRelationDiscover
