from .base_task_relation_discovery import BaseTaskRelationDiscover, BaseTaskRelationDiscovery
from .task_relation_discovery import DefaultTaskRelationDiscover

__all__ = ("BaseTaskRelationDiscover", "BaseTaskRelationDiscovery", "DefaultTaskRelationDiscover")
