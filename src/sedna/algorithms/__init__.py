"""Algorithm plugins for lifelong learning, one folder per slot.

Importing this package registers the built-ins with the
:class:`~sedna.common.class_factory.ClassFactory`, in one explicit place:
:mod:`sedna.algorithms.registry`.
"""

from sedna.algorithms import registry  # noqa: F401  (registers the built-in plugins)
