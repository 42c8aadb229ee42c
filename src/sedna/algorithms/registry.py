"""The one place where built-in plugins are registered, and the slot table.

``SLOTS`` maps each :class:`~sedna.core.lifelong_learning.LifelongLearning`
constructor slot to its registry type, its base class and its default plugin.
``BUILTINS`` lists every built-in as ``(type, name, class)``; aliases keep the
original system's (misspelt) names working.
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
from sedna.algorithms.unseen_task_detection.unseen_sample_re_recognition import (BaseSampleReRegonition,
                                                                                 SampleReRegonitionAllSeen,
                                                                                 SampleReRegonitionDefault)
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition import (BaseSampleRegonition,
                                                                              SampleRegonitionAllSeen,
                                                                              SampleRegonitionByConfidence,
                                                                              SampleRegonitionByDistance,
                                                                              SampleRegonitionByModel,
                                                                              SampleRegonitionByTaskAttr,
                                                                              SampleRegonitionDefault)
from sedna.algorithms.unseen_task_processing.unseen_task_allocation import (BaseUnseenTaskAllocation,
                                                                            UnseenTaskAllocationDefault)
from sedna.common.class_factory import ClassType

Slot = namedtuple("Slot", "type base default")

SLOTS = {
    "task_definition": Slot(ClassType.STP, BaseTaskDefinition, "TaskDefinitionByDataAttr"),
    "task_relationship_discovery": Slot(ClassType.STP, BaseTaskRelationDiscover, "DefaultTaskRelationDiscover"),
    "task_allocation": Slot(ClassType.STP, BaseTaskAllocation, "TaskAllocationDefault"),
    "task_remodeling": Slot(ClassType.STP, BaseTaskRemodeling, "DefaultTaskRemodeling"),
    "inference_integrate": Slot(ClassType.STP, BaseInferenceIntegrate, "DefaultInferenceIntegrate"),
    "task_update_decision": Slot(ClassType.KM, BaseTaskUpdateDecision, "UpdateStrategyDefault"),
    "unseen_task_allocation": Slot(ClassType.UTP, BaseUnseenTaskAllocation, "UnseenTaskAllocationDefault"),
    "unseen_sample_recognition": Slot(ClassType.UTD, BaseSampleRegonition, "SampleRegonitionDefault"),
    "unseen_sample_re_recognition": Slot(ClassType.UTD, BaseSampleReRegonition, "SampleReRegonitionDefault"),
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
    (ClassType.UTD, "SampleRegonitionDefault", SampleRegonitionDefault),
    (ClassType.UTD, "SampleRecognitionDefault", SampleRegonitionDefault),
    (ClassType.UTD, "SampleRegonitionAllSeen", SampleRegonitionAllSeen),
    (ClassType.UTD, "SampleRegonitionByTaskAttr", SampleRegonitionByTaskAttr),
    (ClassType.UTD, "SampleRegonitionByConfidence", SampleRegonitionByConfidence),
    (ClassType.UTD, "SampleRegonitionByDistance", SampleRegonitionByDistance),
    (ClassType.UTD, "SampleRegonitionByModel", SampleRegonitionByModel),
    (ClassType.UTD, "SampleReRegonitionDefault", SampleReRegonitionDefault),
    (ClassType.UTD, "SampleReRecognitionDefault", SampleReRegonitionDefault),
    (ClassType.UTD, "SampleReRegonitionAllSeen", SampleReRegonitionAllSeen),
    # unseen task allocation
    (ClassType.UTP, "UnseenTaskAllocationDefault", UnseenTaskAllocationDefault),
]


def register_builtins(factory):
    for type_name, name, cls in BUILTINS:
        factory.register_cls(cls, type_name=type_name, alias=name)


def slot_of(name):
    try:
        return SLOTS[name]
    except KeyError:
        raise KeyError(f"unknown slot {name!r}; slots: {', '.join(SLOTS)}") from None
