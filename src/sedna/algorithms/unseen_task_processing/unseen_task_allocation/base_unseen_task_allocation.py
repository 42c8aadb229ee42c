class BaseUnseenTaskAllocation:
    """Slot ``unseen_task_allocation``: send unseen samples to an unseen-task model.

    ``__init__(task_extractor, **params)``; ``__call__(samples) -> (samples, allocations)``.
    """

    def __init__(self, task_extractor=None, **kwargs):
        self.task_extractor = task_extractor
        self.params = kwargs

    def __call__(self, samples, **kwargs):
        raise NotImplementedError
