"""Built-in task definitions: by data attribute, by origin, by clustering."""

import numpy as np

from sedna.algorithms._util import (as_features, attribute_names, frame_columns, is_pandas, meta_values, parse_list,
                                    path_parts, sample_paths, split_attribute, subset)
from sedna.algorithms.seen_task_learning.artifact import Task
from sedna.algorithms.seen_task_learning.task_definition.base_task_definition import BaseTaskDefinition
from sedna.common.log import LOGGER

__all__ = ("TaskDefinitionByDataAttr", "TaskDefinitionByOrigin", "TaskDefinitionByClustering",
           "group_by_values")


def group_by_values(samples, values, order=None):
    """Tasks from one value per row: ``(tasks, {value: task_index})``.

    ``order`` ranks the values that are present (the others follow in order of
    first appearance). Only values that some row has get a task and an index,
    so every index in the extractor names a returned task.
    """
    keys = np.asarray(values).ravel()
    if keys.dtype.kind != "U":  # str(v) per row, in C (text arrays are keys already)
        keys = keys.astype(object).astype(str)
    names, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    by_key = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
    rows = {str(names[k]): by_key[k] for k in np.argsort(first, kind="stable")}
    ranked = [str(v) for v in (order or []) if str(v) in rows] + [v for v in rows if v not in set(map(str, order or []))]
    extractor = {v: i for i, v in enumerate(ranked)}
    tasks = []
    for v, idx in sorted(rows.items(), key=lambda kv: extractor[kv[0]]):
        tasks.append(Task(entry=f"{v}.model", samples=subset(samples, idx), meta_attr=v))
    return tasks, extractor


class TaskDefinitionByDataAttr(BaseTaskDefinition):
    """One task per value of a data attribute.

    With a pandas DataFrame ``x`` (the original's tabular data), the value is
    that of the ``attribute`` column(s) (several are joined with ``_``), and
    those columns are dropped from each task's ``x`` (their values go to its
    ``meta_attr``), so the estimator never sees them, as in the original. The
    task extractor is then ``{"kind": "attribute", "attribute": [...],
    "base": {value: task_index}}``, so the default allocation reads the same
    columns. Otherwise the value comes from ``samples.meta_attr`` (1-D, or the
    columns of a 2-D array named by ``attribute`` as indices: the extractor
    then names them as for a DataFrame), or from the feature columns named by
    ``attribute`` when the source has column names; the extractor is
    ``{value: task_index}``. Samples without any attribute
    form a single task ``default``.
    """

    def __init__(self, attribute=None, **kwargs):
        super().__init__(attribute=attribute, **kwargs)
        self.attribute = attribute

    def __call__(self, samples, **kwargs):
        frame = frame_columns(samples, self.attribute)
        values = meta_values(samples, self.attribute)
        if values is None:
            self._check_frame(samples)
            LOGGER.info("task definition: samples carry no attribute %r, one task 'default'",
                        self.attribute)
            values = ["default"] * len(samples.x)
        tasks, extractor = group_by_values(samples, values)
        if frame is not None:
            for t in tasks:
                split_attribute(t.samples, frame)
            extractor = {"kind": "attribute", "attribute": frame, "base": extractor}
        elif self._selects_meta_columns(samples):
            extractor = {"kind": "attribute", "attribute": attribute_names(self.attribute), "base": extractor}
        return tasks, extractor, samples

    def _selects_meta_columns(self, samples):
        """The attribute picks some columns of a 2-D ``meta_attr``: the allocation must pick the same."""
        meta = getattr(samples, "meta_attr", None)
        return bool(attribute_names(self.attribute)) and meta is not None and np.ndim(meta) == 2

    def _check_frame(self, samples):
        """A DataFrame without the attribute's columns is a mistake, not one task."""
        names = attribute_names(self.attribute)
        x = samples.x
        if names and is_pandas(x) and hasattr(x, "columns"):
            missing = [a for a in names if a not in set(x.columns)]
            raise ValueError(f"TaskDefinitionByDataAttr: attribute column(s) {missing} not in the "
                             f"data's columns {list(x.columns)}")


class TaskDefinitionByOrigin(BaseTaskDefinition):
    """One task per origin, read from the sample's paths.

    ``attribute``: the origins, e.g. ``"real, sim"`` or a list. A sample's
    origin is the first origin that appears as a folder name in its paths
    (``real/<city>/...``). ``city`` (optional, as in the tutorial): samples
    whose paths contain it belong to the first origin, the others to the last.
    ``default``: the origin of samples that match none (default: the last).
    """

    def __init__(self, attribute="real, sim", city=None, default=None, **kwargs):
        super().__init__(attribute=attribute, city=city, default=default, **kwargs)
        self.origins = parse_list(attribute)
        if not self.origins:
            raise ValueError("TaskDefinitionByOrigin: 'attribute' must name at least one origin")
        self.city = city
        self.default = default if default is not None else self.origins[-1]

    def origin_of(self, samples, i):
        paths = sample_paths(samples, i)
        if self.city:
            return self.origins[0] if any(self.city in p for p in paths) else self.origins[-1]
        for p in paths:
            parts = path_parts(p)
            for o in self.origins:
                if o in parts:
                    return o
        return self.default

    def __call__(self, samples, **kwargs):
        values = [self.origin_of(samples, i) for i in range(len(samples.x))]
        tasks, extractor = group_by_values(samples, values, order=self.origins)
        return tasks, extractor, samples


def _kmeans(x, k, seed=0, iters=50):
    rng = np.random.default_rng(seed)
    n = len(x)
    k = max(1, min(k, n))
    centers = [x[rng.integers(n)]]
    d2 = ((x - centers[0]) ** 2).sum(1)
    for _ in range(1, k):  # k-means++ seeding
        p = d2 / d2.sum() if d2.sum() > 0 else None
        c = x[rng.choice(n, p=p)]
        centers.append(c)
        d2 = np.minimum(d2, ((x - c) ** 2).sum(1))
    c = np.array(centers)
    labels = np.zeros(n, dtype=int)
    for _ in range(iters):
        dist = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
        new = dist.argmin(1)
        if _ and (new == labels).all():
            break
        labels = new
        for j in range(k):
            if (labels == j).any():
                c[j] = x[labels == j].mean(0)
    return c, labels


class TaskDefinitionByClustering(BaseTaskDefinition):
    """Tasks found by k-means on the (standardised) features.

    ``n_clusters`` tasks; deterministic for a given ``random_state``. The task
    extractor holds the centroids and the scaling, so allocation is
    nearest-centroid.
    """

    def __init__(self, n_clusters=2, random_state=0, **kwargs):
        super().__init__(n_clusters=n_clusters, random_state=random_state, **kwargs)
        self.n_clusters = int(n_clusters)
        self.random_state = int(random_state)
        if self.n_clusters < 1:
            raise ValueError("TaskDefinitionByClustering: n_clusters must be >= 1")

    def __call__(self, samples, **kwargs):
        x = as_features(samples.x)
        mean, std = x.mean(0), x.std(0) + 1e-8
        centers, labels = _kmeans((x - mean) / std, self.n_clusters, self.random_state)
        tasks = []
        for j in range(len(centers)):
            idx = np.flatnonzero(labels == j)
            if len(idx):
                tasks.append(Task(entry=f"cluster{j}.model", samples=subset(samples, idx), meta_attr=f"cluster{j}"))
        extractor = {"kind": "centroids", "mean": mean.tolist(), "scale": std.tolist(),
                     "centroids": centers.tolist(),
                     "tasks": [j for j in range(len(centers)) if (labels == j).any()]}
        # map centroid -> task index (empty clusters have no task)
        extractor["centroid_task"] = [extractor["tasks"].index(j) if j in extractor["tasks"] else -1
                                      for j in range(len(centers))]
        return tasks, extractor, samples
