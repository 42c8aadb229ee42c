"""``TaskDefinitionBySVC``: the name the original's tabular examples use for
"find ``n_class`` groups in the numeric features".

The original clusters with agglomerative clustering and fits an SVC on the
clusters as its (pickled) task extractor. Here the groups come from k-means on
the standardised numeric features (:class:`TaskDefinitionByClustering`), and
the extractor is the centroids (JSON), read by :class:`TaskAllocationBySVC`.
``n_class`` keeps the original's meaning and default (at least 2).
"""

from sedna.algorithms.seen_task_learning.task_definition.task_definition import TaskDefinitionByClustering

__all__ = ("TaskDefinitionBySVC",)


class TaskDefinitionBySVC(TaskDefinitionByClustering):
    """``n_class`` tasks (default 2, as the original) from k-means clustering."""

    def __init__(self, n_class=2, random_state=0, **kwargs):
        n = int(n_class) if str(n_class).strip().isdigit() else 2
        super().__init__(n_clusters=max(2, n), random_state=random_state, **kwargs)
        self.n_class = self.n_clusters
