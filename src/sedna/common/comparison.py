"""The comparison operators manifests and workers name (``>``, ``>=``, ``=``,
``==``, ``!=``, ``<=``, ``<``): the training trigger's condition and the
evaluation drop rule read the same table."""

import operator as _op

__all__ = ("COMPARISONS",)

COMPARISONS = {">": _op.gt, ">=": _op.ge, "=": _op.eq, "==": _op.eq, "!=": _op.ne, "<=": _op.le, "<": _op.lt}
