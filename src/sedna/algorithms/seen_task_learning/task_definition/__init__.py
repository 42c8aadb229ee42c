from .base_task_definition import BaseTaskDefinition
from .task_definition import TaskDefinitionByClustering, TaskDefinitionByDataAttr, TaskDefinitionByOrigin

__all__ = ("BaseTaskDefinition", "TaskDefinitionByDataAttr", "TaskDefinitionByOrigin",
           "TaskDefinitionByClustering")
