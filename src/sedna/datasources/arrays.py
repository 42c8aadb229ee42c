"""What a data source's columns are made of: arrays (a ragged list kept as a
1-D object array) or pandas data, recognised without importing pandas."""

import numpy as np

__all__ = ("is_pandas", "to_array")


def is_pandas(obj):
    """A pandas DataFrame or Series (without importing pandas)."""
    return type(obj).__module__.split(".")[0] == "pandas" and hasattr(obj, "iloc")


def to_array(items):
    """``np.array(items)``, but a ragged list becomes a 1-D object array."""
    try:
        return np.array(items)
    except ValueError:
        arr = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            arr[i] = item
        return arr
