"""Algorithm plugins for lifelong learning, one folder per slot.

Built-ins are registered in one explicit place, :mod:`sedna.algorithms.registry`,
the first time :class:`~sedna.common.class_factory.ClassFactory` is consulted.
"""
