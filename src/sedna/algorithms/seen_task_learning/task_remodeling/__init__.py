from .base_task_remodeling import BaseTaskRemodeling
from .task_remodeling import DefaultTaskRemodeling

__all__ = ("BaseTaskRemodeling", "DefaultTaskRemodeling")
