from typing import Any, List, Tuple

from sedna.algorithms.seen_task_learning.artifact import Task


class BaseTaskDefinition:
    """Slot ``task_definition``: split training samples into tasks.

    ``__call__(samples) -> (tasks, task_extractor, samples)``: ``tasks`` is a
    list of :class:`Task`; ``task_extractor`` is a JSON-serialisable object
    (typically ``{attribute_value: task_index}``) that the task allocation
    plugin receives at inference to send new samples to these tasks.
    """

    def __init__(self, **kwargs):
        self.params = kwargs

    def __call__(self, samples, **kwargs) -> Tuple[List[Task], Any, Any]:
        raise NotImplementedError
