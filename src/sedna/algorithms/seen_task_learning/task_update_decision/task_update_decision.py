"""Built-in task update decisions.

``min_samples``: an existing task that receives fewer new samples keeps its
model this round and only stores them (strategy ``"absorb"``), so a handful of
samples never triggers a full retraining; they count at its next one.

New samples go to the task they belong to: by their own task attribute when
they carry one and the tasks are defined by it (``route_by_attribute``:
labelled frames say which scene they are of), else by the knowledge base's own
task allocation; samples that match no task are grouped by the knowledge base's
task definition into new tasks. The default retrains a task that received
samples on its stored samples plus the new ones; the fine-tune variant
continues training the task's current model on the new samples only.
"""

import numpy as np

from sedna.algorithms._util import as_features, lookup, meta_values, value_map_of
from sedna.algorithms.seen_task_learning.artifact import Task
from sedna.algorithms.seen_task_learning.task_update_decision.base_task_update_decision import BaseTaskUpdateDecision
from sedna.common.class_factory import ClassFactory, ClassType
from sedna.datasources.ops import subset

__all__ = ("UpdateStrategyDefault", "UpdateStrategyByFinetune")


def _plugin(type_name, spec, *args):
    spec = spec or {}
    return ClassFactory.get_cls(type_name, spec["method"])(*args, **(spec.get("param") or {}))


class UpdateStrategyDefault(BaseTaskUpdateDecision):
    """Route new samples to their tasks; unknown ones become new tasks; retrain."""

    existing_strategy = "retrain"

    def __init__(self, task_index=None, min_samples=1, route_by_attribute=True, **kwargs):
        super().__init__(task_index, min_samples=min_samples, route_by_attribute=route_by_attribute, **kwargs)
        if int(min_samples) < 1:
            raise ValueError("min_samples must be >= 1")
        self.min_samples = int(min_samples)
        self.route_by_attribute = bool(route_by_attribute)
        self.known = [t["entry"] for t in self.task_index.get("tasks", [])]
        self._new_meta = {}  # tasks this update created: their attribute value

    def by_attribute(self, samples):
        """Task index per sample from the samples' own task attribute (labelled
        data says which scene it is of): ``-1`` for a value no task has; None when
        the samples carry no attribute or the knowledge base's tasks are not
        defined by one."""
        if not self.route_by_attribute:
            return None
        vmap = value_map_of(self.task_extractor)
        values = meta_values(samples)
        if not vmap or values is None:
            return None
        return lookup(values, {str(k): int(v) for k, v in vmap.items()})

    def allocate(self, samples):
        spec = self.task_index.get("task_allocation") or {"method": "TaskAllocationDefault"}
        try:
            alloc = _plugin(ClassType.STP, spec, self.task_extractor)
            _, ids = alloc(samples)
        except (ValueError, TypeError):
            return np.full(len(samples.x), -1)
        return np.asarray(ids, dtype=int)

    def define(self, samples):
        spec = self.task_index.get("task_definition") or {"method": "TaskDefinitionByDataAttr"}
        tasks, extractor, _ = _plugin(ClassType.STP, spec)(samples)
        return tasks, extractor

    def _extend_extractor(self, task, new_extractor, new_index):
        ext = self.task_extractor
        if isinstance(ext, dict) and ext.get("kind") == "centroids" and isinstance(new_extractor, dict) \
                and new_extractor.get("kind") == "centroids":
            z = (as_features(task.samples.x) - np.asarray(ext["mean"])) / np.asarray(ext["scale"])
            ext["centroids"].append(z.mean(0).tolist())
            ext["centroid_task"].append(new_index)
        elif isinstance(ext, dict) and "kind" not in ext:
            ext[str(task.meta_attr)] = new_index
        elif isinstance(ext, dict) and ext.get("kind") == "classifier":
            base = ext.get("base")
            if isinstance(base, dict) and "kind" not in base:
                base[str(task.meta_attr)] = new_index

    def __call__(self, samples, task_type="seen_task", **kwargs):
        n = len(samples.x) if samples is not None and samples.x is not None else 0
        if n == 0:
            return [], {}
        ids = self.by_attribute(samples)
        if ids is None:
            ids = self.allocate(samples) if task_type == "seen_task" else np.full(n, -1)
        tasks, strategies = [], {}
        stored = self.task_index.get("tasks", [])
        for t in sorted(set(ids.tolist()) - {-1}):
            entry = self.known[t]
            rows = np.flatnonzero(ids == t)
            if t >= len(stored):  # a task this update created (an earlier call): still new
                tasks.append(Task(entry=entry, samples=subset(samples, rows), meta_attr=self._new_meta[entry]))
                strategies[entry] = "new"
                continue
            tasks.append(Task(entry=entry, samples=subset(samples, rows), meta_attr=stored[t].get("meta_attr")))
            # an existing task retrains only for enough new samples; fewer are stored ("absorb")
            strategies[entry] = self.existing_strategy if len(rows) >= self.min_samples else "absorb"
        rest = np.flatnonzero(ids == -1)
        if len(rest):
            new_tasks, new_extractor = self.define(subset(samples, rest))
            for nt in new_tasks:
                if nt.entry in self.known:  # unseen by appearance, but of a task we have
                    enough = len(nt.samples.x) >= self.min_samples
                    strategies[nt.entry] = self.existing_strategy if enough else "absorb"
                else:
                    self.known.append(nt.entry)
                    self._new_meta[nt.entry] = nt.meta_attr
                    self._extend_extractor(nt, new_extractor, len(self.known) - 1)
                    strategies[nt.entry] = "new"
                tasks.append(nt)
        return tasks, strategies


class UpdateStrategyByFinetune(UpdateStrategyDefault):
    """As the default, but existing tasks fine-tune their current model on the new samples."""

    existing_strategy = "finetune"
