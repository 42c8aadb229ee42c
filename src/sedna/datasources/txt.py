"""Index files of whitespace-separated fields, one sample a line."""

import numpy as np

from sedna.datasources import _txtscan
from sedna.datasources.base import BaseDataSource, _LocalFiles, _func_name, is_sequence, to_array

__all__ = ("TxtDataParse",)


class TxtDataParse(BaseDataSource):
    """Parse txt index files: one sample a line.

    Each non-empty line is stripped and split on whitespace, or passed to
    ``func``. ``x`` gets the first field (all fields with ``use_raw=True``),
    ``y`` the second, or ``0`` when a line has one field; test data has no
    ``y`` (an empty array).

    ``func(line)`` must return a tuple or list: ``x`` gets its first item and
    ``y`` its second. A callback that raises or returns something else makes
    a :class:`~sedna.common.exceptions.DataParseError` naming the file and
    line; with ``strict=False`` such lines are skipped, listed in
    ``self.skipped`` as ``(path, line, reason)`` and counted in one warning.
    """

    def __init__(self, data_type="train", func=None):
        super().__init__(data_type=data_type, func=func)

    def parse(self, *files, use_raw=False, strict=True, **kwargs):
        self.skipped = []
        with _LocalFiles(files) as local:
            if self.process_func is None:
                scans = [_txtscan.FileScan(path, raw=bool(use_raw), need_y=not self.is_test_data,
                                           name=shown)
                         for shown, path in local]
                if use_raw:
                    self.x, self.y = _txtscan.build_raw(scans), np.array([])
                else:
                    self.x, self.y = _txtscan.build_arrays(scans, not self.is_test_data)
            else:
                self._parse_with_func(local, bool(use_raw), strict)
        self._report_skipped()
        return self

    def _parse_with_func(self, local, use_raw, strict):
        func = self.process_func
        name = _func_name(func)
        x_data, y_data = [], []
        want_y = not (use_raw or self.is_test_data)
        for shown, path in local:
            lineno = 0
            with open(path, encoding="utf-8", newline=None) as fin:
                while True:
                    try:
                        line = next(fin)
                    except StopIteration:
                        break
                    except UnicodeDecodeError as err:
                        self._bad_record(shown, lineno + 1, f"not valid UTF-8 ({err.reason})", True)
                    lineno += 1
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        tup = func(line)
                    except Exception as err:  # noqa: BLE001 - becomes a DataParseError
                        self._bad_record(shown, lineno,
                                         f"callback {name} raised {type(err).__name__}: {err}", strict)
                        continue
                    if not is_sequence(tup):
                        self._bad_record(shown, lineno, f"callback {name} returned "
                                         f"{type(tup).__name__}, expected a tuple or list", strict)
                        continue
                    if len(tup) == 0:
                        self._bad_record(shown, lineno, f"callback {name} returned an empty "
                                         "sequence", strict)
                        continue
                    if use_raw:
                        x_data.append(tup)
                        continue
                    x_data.append(tup[0])
                    if want_y:
                        y_data.append(tup[1] if len(tup) > 1 else 0)
        self.x = _bounded_array(x_data)
        self.y = _bounded_array(y_data)


def _bounded_array(items):
    """``to_array(items)``, but an object array when a fixed-width string
    array would be mostly padding (one very long string among many short
    ones), so memory stays linear in the input."""
    width = count = total = 0
    for item in items:
        leaves = (item,) if isinstance(item, str) else item if isinstance(item, (list, tuple)) else ()
        for leaf in leaves:
            if isinstance(leaf, str):
                n = len(leaf)
                width, count, total = max(width, n), count + 1, total + n
    if count * width <= max(_txtscan._FIXED_BUDGET, _txtscan._PAD_FACTOR * total):
        return to_array(items)
    arr = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        arr[i] = list(item) if isinstance(item, tuple) else item
    return arr
