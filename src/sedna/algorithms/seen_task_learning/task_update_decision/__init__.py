from .base_task_update_decision import BaseTaskUpdateDecision
from .task_update_decision import UpdateStrategyByFinetune, UpdateStrategyDefault

__all__ = ("BaseTaskUpdateDecision", "UpdateStrategyDefault", "UpdateStrategyByFinetune")
