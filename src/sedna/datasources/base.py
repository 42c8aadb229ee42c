"""The data-source base class and helpers shared by the parsers."""

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from inspect import isclass

import numpy as np

from sedna.common.class_factory import ClassFactory, ClassType
from sedna.common.exceptions import DataFileNotFoundError, DataParseError
from sedna.common.file_ops import FileOps
from sedna.common.log import LOGGER
from sedna.datasources import frames
from sedna.datasources.arrays import is_pandas, to_array  # noqa: F401 - to_array re-exported

__all__ = ("BaseDataSource",)


def _resolve_func(func):
    """A per-line callback from a callable or a registered CALLBACK name."""
    if func is None or func == "":
        return None
    if callable(func):
        return func
    if isinstance(func, str):
        obj = ClassFactory.get_cls(ClassType.CALLBACK, func)  # UnknownPluginError lists names
        inst = obj() if isclass(obj) else obj
        if not callable(inst):
            raise TypeError(
                f"callback {func!r} ({obj!r}) is not callable; a registered callback "
                "must be a function or a class whose instances are callable")
        return inst
    raise TypeError(f"func must be a callable or a registered callback name, got {func!r}")


def _func_name(func):
    return getattr(func, "__qualname__", None) or type(func).__name__


def is_sequence(obj):
    """A tuple/list/array-like result of a callback (str and bytes do not count)."""
    if isinstance(obj, (str, bytes, bytearray, Mapping)):
        return False
    return isinstance(obj, (Sequence, np.ndarray))


class _LocalFiles:
    """Context manager: the given names as local paths, remote ones downloaded.

    Empty names and files that do not exist are skipped with a warning; when
    none of the names is usable, :class:`DataFileNotFoundError` names them.
    """

    def __init__(self, files, kind="dataset index"):
        self.files = list(files)
        self.kind = kind
        self._tmp = None

    def __enter__(self):
        out, missing = [], []
        for f in self.files:
            if f is None or str(f).strip() == "":
                continue
            f = os.fspath(f) if not isinstance(f, str) else f
            if FileOps.is_local(f):
                path = FileOps._local(f) if hasattr(FileOps, "_local") else f
                if os.path.isfile(path):
                    out.append((f, path))
                else:
                    why = "is a folder" if os.path.isdir(path) else "does not exist"
                    LOGGER.warning("%s file %s %s; skipped", self.kind, f, why)
                    missing.append(f)
                continue
            try:
                ok = FileOps.exists(f)
            except Exception as err:  # noqa: BLE001 - report, keep going
                LOGGER.warning("cannot check %s file %s: %s; skipped", self.kind, f, err)
                ok = False
            if not ok:
                LOGGER.warning("%s file %s does not exist; skipped", self.kind, f)
                missing.append(f)
                continue
            if self._tmp is None:
                self._tmp = tempfile.mkdtemp(prefix="sedna-data-")
            dst = os.path.join(self._tmp, f"{len(out)}_{os.path.basename(f.split('?')[0]) or 'data'}")
            out.append((f, FileOps.download(f, dst)))
        if not out:
            self.__exit__(None, None, None)
            given = ", ".join(repr(f) for f in self.files) or "none"
            raise DataFileNotFoundError(f"no {self.kind} file found among: {given}")
        return out

    def __exit__(self, *exc):
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        return False


class BaseDataSource:
    """A data set: ``x`` (features), ``y`` (labels), ``meta_attr``.

    Subclasses implement :meth:`parse`. ``data_type`` is ``train``, ``eval``
    or ``test`` (test data has no labels). ``func`` is a per-record callback:
    a callable, or the name of a class/function registered as
    ``ClassType.CALLBACK`` (a class is instantiated).
    """

    def __init__(self, data_type="train", func=None):
        self.data_type = data_type
        self.process_func = _resolve_func(func)
        self.x = None
        self.y = None
        self.meta_attr = None
        self.skipped = []

    def num_examples(self) -> int:
        return 0 if self.x is None else len(self.x)

    def __len__(self):
        return self.num_examples()

    def parse(self, *args, **kwargs):
        raise NotImplementedError

    @property
    def is_test_data(self):
        return self.data_type == "test"

    # -------------------------------------------------------------- malformed
    def _bad_record(self, path, line, reason, strict):
        if strict:
            raise DataParseError(path, line, reason)
        self.skipped.append((path, line, reason))

    def _report_skipped(self):
        if self.skipped:
            path, line, reason = self.skipped[0]
            LOGGER.warning("%s: skipped %d malformed record(s); first at %s:%s: %s",
                           type(self).__name__, len(self.skipped), path, line, reason)

    # ------------------------------------------------------------ save / load
    def save(self, output):
        """Write ``x``, ``y``, ``meta_attr`` without pickle and return the path.

        ``*.json`` gives JSON; anything else an ``.npz`` archive (object arrays
        are stored as JSON text inside it; pandas data as one array per column
        with its schema, see :mod:`sedna.datasources.frames`). A remote ``output`` is uploaded.
        """
        if not output:
            raise ValueError("save() needs an output path")
        output = str(output)
        if FileOps.is_local(output) and os.path.isdir(output):
            output = os.path.join(output, "datasource.npz")
        remote = FileOps.is_remote(output)
        tmpdir = tempfile.mkdtemp(prefix="sedna-save-") if remote else None
        try:
            target = os.path.join(tmpdir, os.path.basename(output)) if remote else output
            parent = os.path.dirname(os.path.abspath(target))
            os.makedirs(parent, exist_ok=True)
            meta = {"data_type": self.data_type, "class": type(self).__name__,
                    "meta_attr": _jsonable(self.meta_attr)}
            if target.endswith(".json"):
                doc = dict(meta, x=_jsonable(self.x), y=_jsonable(self.y))
                with open(target, "w", encoding="utf-8") as f:
                    json.dump(doc, f)
            else:
                arrays = {"__meta__": np.array(json.dumps(meta))}
                for name in ("x", "y"):
                    val = getattr(self, name)
                    if val is None:
                        continue
                    if is_pandas(val):  # columns and dtypes kept (sedna.datasources.frames)
                        arrays.update(frames.pack(name, val))
                        continue
                    arr = np.asarray(val) if not isinstance(val, np.ndarray) else val
                    if arr.dtype == object:
                        arrays[name + "__json"] = np.array(json.dumps(_jsonable(arr)))
                    else:
                        arrays[name] = arr
                with open(target, "wb") as f:
                    np.savez(f, **arrays)
            if remote:
                FileOps.upload(target, output)
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
        return output

    @classmethod
    def load(cls, path):
        """Read what :meth:`save` wrote (never unpickles)."""
        ds = cls.__new__(cls)
        BaseDataSource.__init__(ds)
        if str(path).endswith(".json"):
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            x = doc.get("x")
            if isinstance(x, list) and x and all(isinstance(r, dict) for r in x):
                import pandas as pd  # records: what a DataFrame was saved as

                ds.x = pd.DataFrame.from_records(x)
            else:
                ds.x = None if x is None else to_array(x)
            ds.y = None if doc.get("y") is None else to_array(doc["y"])
        else:
            with np.load(path, allow_pickle=False) as z:
                doc = json.loads(str(z["__meta__"]))
                for name in ("x", "y"):
                    if f"{name}__schema" in z.files:
                        setattr(ds, name, frames.unpack(z, name))
                    elif name in z.files:
                        setattr(ds, name, z[name])
                    elif name + "__json" in z.files:
                        setattr(ds, name, to_array(json.loads(str(z[name + "__json"]))))
        ds.data_type = doc.get("data_type", "train")
        ds.meta_attr = doc.get("meta_attr")
        return ds


def _jsonable(obj):
    if is_pandas(obj):  # a DataFrame as its records, a Series as its values
        if hasattr(obj, "columns"):
            return [{str(k): _jsonable(v) for k, v in r.items()} for r in obj.to_dict(orient="records")]
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj] if obj.dtype == object else obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj
