"""Alias of :mod:`sedna.algorithms.seen_task_learning.task_relation_discovery` (the original's older name)."""
from sedna.algorithms.seen_task_learning.task_relation_discovery import (BaseTaskRelationDiscover,
                                                                         BaseTaskRelationDiscovery,
                                                                         DefaultTaskRelationDiscover)

__all__ = ("BaseTaskRelationDiscover", "BaseTaskRelationDiscovery", "DefaultTaskRelationDiscover")
