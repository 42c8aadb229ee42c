class BaseSampleRecognition:
    """Slot ``unseen_sample_recognition``: split inference samples into seen and unseen.

    ``__init__(task_index, **params)`` with the deployed knowledge-base index
    document (a dict). ``__call__(samples, models=None, allocate=None) ->
    (seen_samples, unseen_samples)``; both keep their rows' positions in
    ``.index``. ``models`` are the loaded per-group estimators, ``allocate``
    maps samples to group indices (``-1``: no task).

    A recognizer that needs a threshold may define ``calibrate(samples,
    models, allocate) -> dict``: it is called on held-out *seen* samples and
    what it returns is stored in the index under
    ``unseen_sample_recognition.calibration``.
    """

    def __init__(self, task_index=None, **kwargs):
        self.task_index = task_index or {}
        self.params = kwargs

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        raise NotImplementedError
