"""The one place where built-in plugins are registered, and the slot table.

``SLOTS`` maps each :class:`~sedna.core.lifelong_learning.LifelongLearning`
constructor slot to its registry type, its base class and its default plugin.
``BUILTINS`` lists every built-in as ``(type, name, class)`` under its own
name; ``ORIGINAL_NAMES`` the other names the same classes answer to: the
original system's spellings ("Regonition") and its earlier API's plugin
names (``TaskMiningByDataAttr``, ``TaskAttrFilter``). Importing
:mod:`sedna.algorithms` registers both with the
:class:`~sedna.common.class_factory.ClassFactory`; the registry itself does
not import this package.
"""

from collections import namedtuple

from sedna.algorithms.seen_task_learning.inference_integration import (BaseInferenceIntegrate,
                                                                        DefaultInferenceIntegrate)
from sedna.algorithms.seen_task_learning.task_allocation import (BaseTaskAllocation, TaskAllocationByClassifier,
                                                                  TaskAllocationByClustering, TaskAllocationByDataAttr,
                                                                  TaskAllocationByOrigin, TaskAllocationDefault)
from sedna.algorithms.seen_task_learning.task_allocation.by_svc import TaskAllocationBySVC
from sedna.algorithms.seen_task_learning.task_allocation.stream import TaskAllocationStream
from sedna.algorithms.seen_task_learning.task_definition import (BaseTaskDefinition, TaskDefinitionByClustering,
                                                                  TaskDefinitionByDataAttr, TaskDefinitionByOrigin)
from sedna.algorithms.seen_task_learning.task_definition.by_svc import TaskDefinitionBySVC
from sedna.algorithms.seen_task_learning.task_relation_discovery import (BaseTaskRelationDiscover,
                                                                         DefaultTaskRelationDiscover)
from sedna.algorithms.seen_task_learning.task_remodeling import BaseTaskRemodeling, DefaultTaskRemodeling
from sedna.algorithms.seen_task_learning.task_update_decision import (BaseTaskUpdateDecision,
                                                                       UpdateStrategyByFinetune,
                                                                       UpdateStrategyDefault)
from sedna.algorithms.unseen_task_detection.unseen_sample_re_recognition import (BaseSampleReRecognition,
                                                                                 SampleReRecognitionAllSeen,
                                                                                 SampleReRecognitionDefault)
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition import (BaseSampleRecognition,
                                                                              SampleRecognitionAllSeen,
                                                                              SampleRecognitionByConfidence,
                                                                              SampleRecognitionByDistance,
                                                                              SampleRecognitionByModel,
                                                                              SampleRecognitionByTaskAttr,
                                                                              SampleRecognitionDefault)
from sedna.algorithms.unseen_task_processing.unseen_task_allocation import (BaseUnseenTaskAllocation,
                                                                            UnseenTaskAllocationDefault)
from sedna.common.class_factory import ClassFactory, ClassType

Slot = namedtuple("Slot", "type base default")

SLOTS = {
    "task_definition": Slot(ClassType.STP, BaseTaskDefinition, "TaskDefinitionByDataAttr"),
    "task_relationship_discovery": Slot(ClassType.STP, BaseTaskRelationDiscover, "DefaultTaskRelationDiscover"),
    "task_allocation": Slot(ClassType.STP, BaseTaskAllocation, "TaskAllocationDefault"),
    "task_remodeling": Slot(ClassType.STP, BaseTaskRemodeling, "DefaultTaskRemodeling"),
    "inference_integrate": Slot(ClassType.STP, BaseInferenceIntegrate, "DefaultInferenceIntegrate"),
    "task_update_decision": Slot(ClassType.KM, BaseTaskUpdateDecision, "UpdateStrategyDefault"),
    "unseen_task_allocation": Slot(ClassType.UTP, BaseUnseenTaskAllocation, "UnseenTaskAllocationDefault"),
    "unseen_sample_recognition": Slot(ClassType.UTD, BaseSampleRecognition, "SampleRecognitionDefault"),
    "unseen_sample_re_recognition": Slot(ClassType.UTD, BaseSampleReRecognition, "SampleReRecognitionDefault"),
}

BUILTINS = [
    # task definition
    (ClassType.STP, "TaskDefinitionByDataAttr", TaskDefinitionByDataAttr),
    (ClassType.STP, "TaskDefinitionByOrigin", TaskDefinitionByOrigin),
    (ClassType.STP, "TaskDefinitionByClustering", TaskDefinitionByClustering),
    (ClassType.STP, "TaskDefinitionBySVC", TaskDefinitionBySVC),  # the original's name; k-means here
    # relationship discovery
    (ClassType.STP, "DefaultTaskRelationDiscover", DefaultTaskRelationDiscover),
    # allocation
    (ClassType.STP, "TaskAllocationDefault", TaskAllocationDefault),
    (ClassType.STP, "TaskAllocationByDataAttr", TaskAllocationByDataAttr),
    (ClassType.STP, "TaskAllocationByOrigin", TaskAllocationByOrigin),
    (ClassType.STP, "TaskAllocationByClassifier", TaskAllocationByClassifier),
    (ClassType.STP, "TaskAllocationByClustering", TaskAllocationByClustering),
    (ClassType.STP, "TaskAllocationBySVC", TaskAllocationBySVC),  # pairs with TaskDefinitionBySVC
    (ClassType.STP, "TaskAllocationStream", TaskAllocationStream),  # the original's name; follows the extractor
    # remodeling, integration
    (ClassType.STP, "DefaultTaskRemodeling", DefaultTaskRemodeling),
    (ClassType.STP, "DefaultInferenceIntegrate", DefaultInferenceIntegrate),
    # task update decision
    (ClassType.KM, "UpdateStrategyDefault", UpdateStrategyDefault),
    (ClassType.KM, "UpdateStrategyByFinetune", UpdateStrategyByFinetune),
    # unseen sample recognition / re-recognition
    (ClassType.UTD, "SampleRecognitionDefault", SampleRecognitionDefault),
    (ClassType.UTD, "SampleRecognitionAllSeen", SampleRecognitionAllSeen),
    (ClassType.UTD, "SampleRecognitionByTaskAttr", SampleRecognitionByTaskAttr),
    (ClassType.UTD, "SampleRecognitionByConfidence", SampleRecognitionByConfidence),
    (ClassType.UTD, "SampleRecognitionByDistance", SampleRecognitionByDistance),
    (ClassType.UTD, "SampleRecognitionByModel", SampleRecognitionByModel),
    (ClassType.UTD, "SampleReRecognitionDefault", SampleReRecognitionDefault),
    (ClassType.UTD, "SampleReRecognitionAllSeen", SampleReRecognitionAllSeen),
    # unseen task allocation
    (ClassType.UTP, "UnseenTaskAllocationDefault", UnseenTaskAllocationDefault),
]

#: other names of built-ins: the original system's spellings and earlier API
ORIGINAL_NAMES = [(ClassType.UTD, name.replace("Recognition", "Regonition"), cls)
                  for _, name, cls in BUILTINS if "Recognition" in name] + [
    (ClassType.STP, "TaskMiningByDataAttr", TaskAllocationByDataAttr),  # the earlier API's task_mining
    (ClassType.UTD, "TaskAttrFilter", SampleRecognitionByTaskAttr),  # the earlier API's unseen_task_detect
]

ClassFactory.register_builtins(BUILTINS + ORIGINAL_NAMES)


def slot_plugins(slot, aliases=True):
    """The names registered for ``slot``: under its type, a subclass of its base
    (a plain function registered under the type counts for every slot of it).
    ``aliases=False``: without the other names of a class registered under its own."""
    info = SLOTS[slot]
    found = {name: ClassFactory.get_cls(info.type, name) for name in ClassFactory.list(info.type)}
    found = {n: c for n, c in found.items() if not isinstance(c, type) or issubclass(c, info.base)}
    if not aliases:
        found = {n: c for n, c in found.items()
                 if n == getattr(c, "__name__", n) or found.get(getattr(c, "__name__", None)) is not c}
    return sorted(found)


def slot_of(name):
    try:
        return SLOTS[name]
    except KeyError:
        raise KeyError(f"unknown slot {name!r}; slots: {', '.join(SLOTS)}") from None
