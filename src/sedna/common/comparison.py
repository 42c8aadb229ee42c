"""The comparison operators manifests and workers name (``>``, ``>=``, ``=``,
``==``, ``!=``, ``<=``, ``<``): the training trigger's condition and the
evaluation drop rule read the same table.

The original system also accepts the words ``gt ge lt le eq ne`` (any case);
:func:`canonical` maps them to the symbols, and :data:`COMPARISONS` answers
for both so a worker's ``operator=ge`` works too. :data:`SYMBOLS` is what
error messages list."""

import operator as _op

__all__ = ("COMPARISONS", "SYMBOLS", "ALIASES", "canonical")

SYMBOLS = (">", ">=", "=", "==", "!=", "<=", "<")
ALIASES = {"gt": ">", "ge": ">=", "eq": "==", "ne": "!=", "le": "<=", "lt": "<"}

_FUNCS = {">": _op.gt, ">=": _op.ge, "=": _op.eq, "==": _op.eq, "!=": _op.ne, "<=": _op.le, "<": _op.lt}


class _Comparisons(dict):
    """``{symbol: function}``; lookups and ``in`` also take the aliases (any
    case), while iteration lists the symbols only (for messages)."""

    def __contains__(self, key):
        return canonical(key) is not None

    def __getitem__(self, key):
        sym = canonical(key)
        if sym is None:
            raise KeyError(key)
        return dict.__getitem__(self, sym)

    def get(self, key, default=None):
        return self[key] if key in self else default


def canonical(op):
    """The symbol for ``op`` (a symbol or an alias, any case), else ``None``."""
    if not isinstance(op, str):
        return None
    op = op.strip()
    if op in _FUNCS:
        return op
    return ALIASES.get(op.lower())


COMPARISONS = _Comparisons(_FUNCS)
