"""``TaskAllocationBySVC``: the allocation that pairs with
:class:`~sedna.algorithms.seen_task_learning.task_definition.by_svc.TaskDefinitionBySVC`.

The original stores a fitted scikit-learn SVC as the task extractor (pickled
into the knowledge base). Our knowledge base holds JSON only, so the pair
works on the clustering's centroids: a sample goes to the task of its nearest
centroid in the standardised feature space.
"""

from sedna.algorithms.seen_task_learning.task_allocation.task_allocation import TaskAllocationByClustering

__all__ = ("TaskAllocationBySVC",)


class TaskAllocationBySVC(TaskAllocationByClustering):
    """Nearest centroid of :class:`TaskDefinitionBySVC`'s extractor."""
