"""The lifelong-learning slots of the robot-dog job, shared by its workers and
the benchmark. One task per scene; frames are allocated to a task, and
flagged unseen, from their appearance (the ``robo_image_stats`` plugin)."""

TASK_DEFINITION = {"method": "TaskDefinitionByDataAttr"}
TASK_ALLOCATION = {"method": "TaskAllocationByClassifier", "param": {"features": "robo_image_stats"}}
UNSEEN_RECOGNITION = {"method": "SampleRegonitionByDistance",
                      "param": {"features": "robo_image_stats", "target_fpr": 0.05, "shrinkage": 0.3}}
# a scene the robot already knows is retrained only for 8 or more new frames; fewer are stored
TASK_UPDATE_DECISION = {"method": "UpdateStrategyDefault", "param": {"min_samples": 8}}
