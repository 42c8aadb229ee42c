"""Plugin names of the original system's examples that are not built in here,
each with the closest built-in and why it differs, so a worker written for the
original fails with a pointer instead of a bare "no plugin named ...".

:class:`~sedna.core.lifelong_learning.LifelongLearning` consults this table
when a slot names an unknown plugin. The names are model-specific plugins of
the original's examples (RFNet, a pickled OOD classifier, bounding boxes) or
hard-coded demos (a path containing "garden").
"""

__all__ = ("ORIGINAL_ONLY", "EARLIER_KEYWORDS", "explain", "slot_keywords")

#: the original's earlier constructor keywords and the slots they are now
EARLIER_KEYWORDS = {"task_mining": "task_allocation", "unseen_task_detect": "unseen_sample_recognition"}

#: {name: (closest built-in here, why the original's plugin is not built in)}
ORIGINAL_ONLY = {
    "SampleRegonitionByRFNet": ("SampleRecognitionByModel",
                                "the original's is tied to the RFNet segmentation model's own outputs"),
    "OodIdentification": ("SampleRecognitionByModel",
                          "the original loads a pickled out-of-distribution classifier (OOD_model)"),
    "SampleRegonitionRobotic": ("SampleRecognitionByModel", "the original's is tied to its robot-dog RFNet model"),
    "InferenceIntegrateByType": ("DefaultInferenceIntegrate",
                                 "the original's merges RFNet outputs by the robot's skill type"),
    "BBoxInferenceIntegrate": ("DefaultInferenceIntegrate", "the original's merges detector bounding boxes"),
    "TaskAllocationSimple": ("TaskAllocationByOrigin",
                             "the original's sends paths containing 'garden' to task 1; pass "
                             "param origins={<task>: ['garden']} for the same rule"),
    "TaskDefinitionSimple": ("TaskDefinitionByOrigin", "the original's is a hard-coded demo split"),
}


def explain(slot, method):
    """A sentence for an unknown ``method`` in ``slot``, or ``None`` when the
    name is not one of the original's."""
    if method not in ORIGINAL_ONLY:
        return None
    closest, why = ORIGINAL_ONLY[method]
    return (f"{slot}: {method} is a plugin of the original system that is not built in here ({why}); "
            f"the closest built-in is {closest}, or register your own class under this name")


def slot_keywords(given, **earlier):
    """``given`` (``{slot: spec}``) with the earlier API's keywords (``task_mining``,
    ``unseen_task_detect``) moved to their slots; naming a slot both ways is refused."""
    out = dict(given)
    for keyword, spec in earlier.items():
        slot = EARLIER_KEYWORDS[keyword]
        if spec is None:
            continue
        if out.get(slot) is not None:
            raise TypeError(f"LifelongLearning: {keyword} is the earlier name of {slot}; give one of them")
        out[slot] = spec
    return out
