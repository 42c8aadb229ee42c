from .lifelong_learning import LifelongLearning

__all__ = ("LifelongLearning",)
