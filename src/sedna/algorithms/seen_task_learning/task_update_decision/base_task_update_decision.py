class BaseTaskUpdateDecision:
    """Slot ``task_update_decision``: decide how new samples change the KB.

    ``__init__(task_index, **params)`` where ``task_index`` is the previous
    knowledge-base index document (a dict). ``__call__(samples,
    task_type="seen_task") -> (tasks, strategies)``: ``tasks`` lists the tasks
    that receive new samples (existing entries or new ones) and ``strategies``
    maps each entry to ``"retrain"``, ``"finetune"``, ``"new"`` or
    ``"absorb"`` (keep the model, store the samples). The updated
    task extractor is left in ``self.task_extractor``.
    """

    STRATEGIES = ("retrain", "finetune", "new", "absorb")

    def __init__(self, task_index=None, **kwargs):
        self.task_index = task_index or {}
        self.params = kwargs
        self.task_extractor = (self.task_index or {}).get("extractor")

    def __call__(self, samples, task_type="seen_task", **kwargs):
        raise NotImplementedError
