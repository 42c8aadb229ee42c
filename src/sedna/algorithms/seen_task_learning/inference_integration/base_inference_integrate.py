class BaseInferenceIntegrate:
    """Slot ``inference_integrate``: merge the per-task results.

    ``__init__(models, **params)``; ``__call__(tasks) -> results`` where each
    task carries ``samples`` (with ``.index``) and ``result``.
    """

    def __init__(self, models=None, **kwargs):
        self.models = models or []
        self.params = kwargs

    def __call__(self, tasks, **kwargs):
        raise NotImplementedError
