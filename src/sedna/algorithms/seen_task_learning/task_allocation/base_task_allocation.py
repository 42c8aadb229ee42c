class BaseTaskAllocation:
    """Slot ``task_allocation``: send each sample to a known task.

    ``__init__(task_extractor, **params)``; ``__call__(samples) -> (samples,
    allocations)`` with one task index per sample (``-1``: matches no task).
    An allocation may define ``fit(tasks, task_extractor) -> task_extractor``;
    it is called after task definition at training time and what it returns
    (JSON-serialisable) is stored in the knowledge base.
    """

    def __init__(self, task_extractor=None, **kwargs):
        self.task_extractor = task_extractor
        self.params = kwargs

    def __call__(self, samples, **kwargs):
        raise NotImplementedError
