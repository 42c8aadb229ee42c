"""The lifelong-learning slots of the robot-dog job, shared by its workers and
the benchmark. One task per scene; frames are allocated to a task from their
appearance (the ``robo_image_stats`` plugin) and flagged unseen when the
allocated scene model's own features of the frame (``Estimator.embed``) lie far
from those of its training frames (``benchmarks/bench_unseen.py``: higher AUROC
than the appearance distance on every shift, at the same false-alarm rate).
A frame's score is pooled with the two before it (a robot sees a new place for
many frames in a row), and a frame whose own score is below the 90th percentile
of the seen calibration frames is never flagged for its predecessors (``gate``:
the first frames of a known scene after a new one)."""

TASK_DEFINITION = {"method": "TaskDefinitionByDataAttr"}
TASK_ALLOCATION = {"method": "TaskAllocationByClassifier", "param": {"features": "robo_image_stats"}}
UNSEEN_RECOGNITION = {"method": "SampleRegonitionByModel",
                      "param": {"combine": "model", "target_fpr": 0.05, "window": 3, "gate": 0.9}}
# a scene the robot already knows is retrained only for 8 or more new frames; fewer are stored
TASK_UPDATE_DECISION = {"method": "UpdateStrategyDefault", "param": {"min_samples": 8}}
