from .base_task_allocation import BaseTaskAllocation
from .task_allocation import (TaskAllocationByClassifier, TaskAllocationByClustering, TaskAllocationByDataAttr,
                              TaskAllocationByOrigin, TaskAllocationDefault)

__all__ = ("BaseTaskAllocation", "TaskAllocationDefault", "TaskAllocationByDataAttr", "TaskAllocationByOrigin",
           "TaskAllocationByClassifier", "TaskAllocationByClustering")
