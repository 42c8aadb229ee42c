"""CSV files with a header row (pandas), and JSON / JSON Lines records."""

import json
from collections.abc import Mapping

from sedna.common.exceptions import DataParseError
from sedna.datasources.base import BaseDataSource, _LocalFiles, _func_name, is_sequence, to_array

__all__ = ("CSVDataParse", "JSONDataParse")


def _pandas():
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError("CSVDataParse reads CSV with pandas: pip install 'sedna[tabular]'") from None
    return pd


def _typed(frame):
    """Columns of strings that all read as numbers become numbers, as when the
    same values are read from a CSV file (records from a CSV reader are strings)."""
    pd = _pandas()
    for col in frame.columns:
        values = frame[col]
        if values.dtype.kind in "biufcmMb":
            continue
        if not all(isinstance(v, str) for v in values):
            continue
        try:  # an empty field is a missing value, as read_csv reads it
            frame[col] = pd.to_numeric(values.astype(object).where(values != "", None))
        except (TypeError, ValueError):
            pass
    return frame


class CSVDataParse(BaseDataSource):
    """CSV files (with a header row) read with pandas, as in the original.

    ``parse(*files, label=None, usecols=None, strict=True, delimiter=",", **kw)``
    reads every file into one DataFrame (``kw`` go to ``pandas.read_csv``);
    a dict (one record, as the original's inference worker feeds them) or a
    list of dicts is taken as rows. ``func`` (a callable or a registered
    CALLBACK name) is then called once with the whole DataFrame and returns
    the DataFrame to use: it may add, drop or convert columns, or drop rows.
    ``x`` is that DataFrame without the ``label`` column, ``y`` the ``label``
    column as a Series (also for test data when the column is there; test
    data without a ``label`` has ``y`` None; train and eval data without
    one is a :class:`DataParseError` naming the columns). ``usecols`` (a list or comma-separated
    names) restricts the columns read; the label is always read. A row with
    the wrong number of fields is a :class:`DataParseError` (skipped with
    ``strict=False``). ``self.columns`` holds the feature names.
    """

    def __init__(self, data_type="train", func=None):
        super().__init__(data_type=data_type, func=func)
        self.columns = None

    def parse(self, *files, label=None, usecols=None, strict=True, delimiter=",", **kwargs):
        pd = _pandas()
        self.skipped = []
        if isinstance(usecols, str):
            usecols = [c.strip() for c in usecols.split(",") if c.strip()]
        usecols = list(usecols) if usecols else None
        if usecols and label and label not in usecols:
            usecols.append(label)
        records = [f for f in files if isinstance(f, (dict, list))]
        paths = [f for f in files if not isinstance(f, (dict, list))]
        frames = [self._records(r, usecols) for r in records]
        if paths or not records:
            with _LocalFiles(paths, kind="CSV") as local:
                for shown, path in local:
                    frames.append(self._read(pd, shown, path, usecols, strict, delimiter, kwargs))
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        frame = self._callback(pd, frame, ", ".join(map(str, paths)) or "<records>")
        if label and label in frame.columns:
            self.y = frame[label].reset_index(drop=True)
            frame = frame.drop(columns=[label])
        elif not self.is_test_data:
            raise DataParseError(", ".join(map(str, paths)) or "<records>", 1, _no_label(label, frame.columns))
        else:
            self.y = None
        self.x = frame.reset_index(drop=True)
        self.columns = list(self.x.columns)
        self.meta_attr = None
        self._report_skipped()
        return self

    @staticmethod
    def _records(rec, usecols):
        pd = _pandas()
        frame = _typed(pd.DataFrame.from_records([rec] if isinstance(rec, dict) else list(rec)))
        if usecols:
            frame = frame[[c for c in frame.columns if c in usecols]]
        return frame

    def _read(self, pd, shown, path, usecols, strict, delimiter, kwargs):
        skip = []
        for line, reason in _bad_rows(path, delimiter):
            self._bad_record(shown, line, reason, strict)
            skip.append(line - 1)  # read_csv counts lines from 0, the header included
        try:
            return pd.read_csv(path, sep=delimiter, usecols=usecols, skipinitialspace=True,
                               skiprows=skip or None, **kwargs)
        except pd.errors.EmptyDataError:
            return pd.DataFrame(columns=usecols or [])
        except pd.errors.ParserError as err:
            raise DataParseError(shown, _line_of(str(err)), f"bad CSV: {err}") from None
        except ValueError as err:  # usecols naming columns the file lacks
            raise DataParseError(shown, 1, str(err)) from None

    def _callback(self, pd, frame, shown):
        if self.process_func is None:
            return frame
        name = _func_name(self.process_func)
        try:
            out = self.process_func(frame)
        except Exception as err:  # noqa: BLE001 - the user's callback, reported with its name
            raise DataParseError(shown, None, f"callback {name} raised "
                                 f"{type(err).__name__}: {err}") from err
        if out is None:
            out = frame  # the original's callbacks may change the frame in place
        if not isinstance(out, pd.DataFrame):
            raise DataParseError(shown, None, f"callback {name} returned {type(out).__name__}, "
                                 "expected a pandas DataFrame")
        return out


def _no_label(label, columns):
    """Why train/eval data has no label column: none named, or not among ``columns``."""
    if label:
        return f"label column {label!r} not among the columns {list(columns)}"
    return (f"no label column named: train and eval data need parse(..., label=<column>), "
            f"one of the columns {list(columns)}")


def _bad_rows(path, delimiter):
    """``(line, reason)`` of each row whose number of fields is not the header's
    (pandas would pad a short row with NaN)."""
    import csv

    out = []
    with open(path, newline="", encoding="utf-8") as fin:
        reader = csv.reader(fin, delimiter=delimiter)
        try:
            width = len(next(reader))
            for cells in reader:
                if cells and len(cells) != width and not (len(cells) == 1 and not cells[0].strip()):
                    out.append((reader.line_num, f"{len(cells)} fields, the header has {width}"))
        except StopIteration:
            pass
        except csv.Error as err:
            out.append((reader.line_num, f"bad CSV: {err}"))
    return out


def _line_of(message):
    """The line number in a pandas parser error (``... in line 3, saw 2``)."""
    import re

    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


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
