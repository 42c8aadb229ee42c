class BaseTaskRemodeling:
    """Slot ``task_remodeling``: turn per-sample allocations into per-model batches.

    ``__init__(models, **params)``; ``__call__(samples, mappings) -> (data,
    models)``: ``data[i]`` is the batch for ``models[i]``; each batch keeps the
    rows' positions in ``.index`` so results can be put back in input order.
    """

    def __init__(self, models=None, **kwargs):
        self.models = models or []
        self.params = kwargs

    def __call__(self, samples, mappings, **kwargs):
        raise NotImplementedError
