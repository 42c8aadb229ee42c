"""CSV files with a header row, and JSON / JSON Lines records."""

import csv
import json
from collections.abc import Mapping

import numpy as np

from sedna.common.exceptions import DataParseError
from sedna.datasources.base import BaseDataSource, _LocalFiles, _func_name, is_sequence, to_array

__all__ = ("CSVDataParse", "JSONDataParse")


def _numeric_column(values):
    """Values as int64, else float64, else the strings unchanged (None)."""
    try:
        return np.array([int(v) for v in values], dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _feature_matrix(rows, ncols):
    """2-D float array when every cell is a number, else a string array."""
    if not rows:
        return np.empty((0, ncols))
    try:
        return np.array([[float(v) for v in row] for row in rows], dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([[str(v) for v in row] for row in rows])


def _label_array(values):
    num = _numeric_column(values)
    return num if num is not None else to_array(values)


class CSVDataParse(BaseDataSource):
    """CSV with a header row (stdlib :mod:`csv`, no pandas).

    ``parse(*files, label=None, usecols=None, strict=True)``: ``x`` is a 2-D
    array of the feature columns (``usecols``, a list or comma-separated
    names, else every column but ``label``), float when every value is a
    number, else strings; ``y`` is the ``label`` column (int, float or str)
    unless the data is test data. ``self.columns`` holds the feature names.

    ``func(row)`` gets each row as a dict and returns the (possibly changed)
    dict, or None to drop the row. A row with the wrong number of cells, or
    a callback failure, is a :class:`DataParseError` (skipped with
    ``strict=False``).
    """

    def __init__(self, data_type="train", func=None):
        super().__init__(data_type=data_type, func=func)
        self.columns = None

    def parse(self, *files, label=None, usecols=None, strict=True, delimiter=",", **kwargs):
        self.skipped = []
        if isinstance(usecols, str):
            usecols = [c.strip() for c in usecols.split(",") if c.strip()]
        usecols = list(usecols) if usecols else None
        header = None
        features, labels = None, []
        rows = []
        want_y = bool(label) and not self.is_test_data
        with _LocalFiles(files, kind="CSV") as local:
            for shown, path in local:
                with open(path, newline="", encoding="utf-8") as fin:
                    reader = csv.reader(fin, delimiter=delimiter)
                    try:
                        file_header = next(reader)
                    except StopIteration:
                        continue
                    except csv.Error as err:
                        raise DataParseError(shown, reader.line_num, f"bad CSV: {err}") from None
                    file_header = [h.strip() for h in file_header]
                    if header is None:
                        header = file_header
                        features = self._feature_names(header, label, usecols, shown)
                    elif file_header != header:
                        raise DataParseError(shown, 1, f"header {file_header} differs from "
                                             f"the first file's {header}")
                    while True:
                        try:
                            cells = next(reader)
                        except StopIteration:
                            break
                        except csv.Error as err:
                            self._bad_record(shown, reader.line_num, f"bad CSV: {err}", strict)
                            continue
                        line = reader.line_num
                        if not cells or all(not c.strip() for c in cells) and len(cells) <= 1:
                            continue
                        if len(cells) != len(header):
                            self._bad_record(shown, line, f"{len(cells)} fields, the header has "
                                             f"{len(header)}", strict)
                            continue
                        row = dict(zip(header, cells))
                        if self.process_func is not None:
                            try:
                                row = self.process_func(row)
                            except Exception as err:  # noqa: BLE001
                                self._bad_record(shown, line, f"callback {_func_name(self.process_func)} "
                                                 f"raised {type(err).__name__}: {err}", strict)
                                continue
                            if row is None:
                                continue
                            if not isinstance(row, Mapping):
                                self._bad_record(shown, line, "callback returned "
                                                 f"{type(row).__name__}, expected a dict", strict)
                                continue
                        try:
                            values = [row[c] for c in features]
                            if want_y:
                                labels.append(row[label])
                        except KeyError as err:
                            self._bad_record(shown, line, f"no column {err}", strict)
                            continue
                        rows.append(values)
        self.columns = features or []
        self.x = _feature_matrix(rows, len(self.columns))
        self.y = _label_array(labels) if want_y else np.array([])
        self.meta_attr = None
        self._report_skipped()
        return self

    @staticmethod
    def _feature_names(header, label, usecols, shown):
        if label and label not in header and usecols is None:
            raise DataParseError(shown, 1, f"label column {label!r} not in header {header}")
        if usecols:
            unknown = [c for c in usecols if c not in header]
            if unknown:
                raise DataParseError(shown, 1, f"usecols {unknown} not in header {header}")
            return [c for c in usecols if c != label]
        return [c for c in header if c != label]


class JSONDataParse(BaseDataSource):
    """JSON Lines (one record a line) or a file holding one JSON array.

    ``parse(*files, x_key="x", label="y", strict=True)``: each record goes
    through ``func(record)`` when given (which returns ``(x, y)`` like the
    txt callback); otherwise ``x`` is ``record[x_key]`` when present, else
    the values of every other field but the label (names in
    ``self.columns``), and ``y`` is ``record.get(label)``. A record that is
    a list gives ``x = record[0]``, ``y = record[1]`` (or 0). Malformed JSON
    is a :class:`DataParseError` with the line number.
    """

    def __init__(self, data_type="train", func=None):
        super().__init__(data_type=data_type, func=func)
        self.columns = None

    def parse(self, *files, x_key="x", label="y", strict=True, **kwargs):
        self.skipped = []
        self.columns = None
        x_data, y_data = [], []
        want_y = not self.is_test_data
        with _LocalFiles(files, kind="JSON") as local:
            for shown, path in local:
                for line, rec in self._records(shown, path, strict):
                    try:
                        x, y = self._split(rec, x_key, label)
                    except (TypeError, ValueError, KeyError, IndexError) as err:
                        self._bad_record(shown, line, str(err) or type(err).__name__, strict)
                        continue
                    x_data.append(x)
                    if want_y:
                        y_data.append(y)
        self.x = to_array(x_data)
        self.y = to_array(y_data)
        self.meta_attr = None
        self._report_skipped()
        return self

    def _split(self, rec, x_key, label):
        if self.process_func is not None:
            name = _func_name(self.process_func)
            try:
                tup = self.process_func(rec)
            except Exception as err:  # noqa: BLE001
                raise ValueError(f"callback {name} raised {type(err).__name__}: {err}") from None
            if not is_sequence(tup) or len(tup) == 0:
                raise ValueError(f"callback {name} returned {type(tup).__name__}, "
                                 "expected a non-empty tuple or list")
            return tup[0], (tup[1] if len(tup) > 1 else 0)
        if isinstance(rec, Mapping):
            if x_key in rec:
                return rec[x_key], rec.get(label)
            cols = [k for k in rec if k != label]
            if self.columns is None:
                self.columns = cols
            elif cols != self.columns:
                raise ValueError(f"fields {cols} differ from the first record's {self.columns}")
            return [rec[k] for k in cols], rec.get(label)
        if isinstance(rec, list) and rec:
            return rec[0], (rec[1] if len(rec) > 1 else 0)
        raise ValueError(f"a record must be an object or a non-empty list, got {rec!r:.60}")

    def _records(self, shown, path, strict):
        with open(path, encoding="utf-8") as fin:
            text = fin.read()
        head = text.lstrip()
        if head.startswith("["):
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as err:
                raise DataParseError(shown, err.lineno, f"bad JSON: {err.msg}") from None
            # line numbers of array elements are not tracked; report the index (1-based)
            for i, rec in enumerate(doc, 1):
                yield i, rec
            return
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                self._bad_record(shown, lineno, f"bad JSON: {err.msg} (column {err.colno})", strict)
                continue
            yield lineno, rec
