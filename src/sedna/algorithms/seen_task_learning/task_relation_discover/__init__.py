"""Alias of :mod:`sedna.algorithms.seen_task_learning.task_relation_discovery` (older name)."""
from sedna.algorithms.seen_task_learning.task_relation_discovery import (  # noqa: F401
    BaseTaskRelationDiscover, BaseTaskRelationDiscovery, DefaultTaskRelationDiscover)
