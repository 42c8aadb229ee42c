class BaseSampleReRecognition:
    """Slot ``unseen_sample_re_recognition``: at update time, split the new
    (labelled) training samples into seen and unseen ones.

    ``__init__(task_index, **params)``; ``__call__(samples, models=None,
    allocate=None) -> (seen_samples, unseen_samples)``.
    """

    def __init__(self, task_index=None, **kwargs):
        self.task_index = task_index or {}
        self.params = kwargs

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        raise NotImplementedError
