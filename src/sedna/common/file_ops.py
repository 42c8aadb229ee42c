"""File operations over local paths, ``http(s)://`` and fsspec URLs (``s3://`` ...).

Rules every method follows:

* Local writes are atomic: data goes to a temporary file in the target's
  folder, is flushed and fsynced, then ``os.replace``-d over the target. A
  writer that fails half-way leaves neither a partial target nor a temp file.
* A missing source raises :class:`DataFileNotFoundError` naming it; nothing
  ever turns a missing source into an empty file.
* ``upload`` never deletes its source unless ``clean=True``.
* ``dump`` writes JSON (dict/list), raw bytes or text. Nothing is pickled.
* ``http(s)://`` is read with the standard library (no extra dependency,
  bounded timeout, no retries); other schemes go through fsspec, imported
  lazily. ``s3://`` options come from ``S3_ENDPOINT_URL``, ``ACCESS_KEY_ID``
  and ``SECRET_ACCESS_KEY``, read at call time (:mod:`sedna.common.remote_files`).
* A remote folder download refuses, before writing anything, any object key
  that would land outside the target (``..``, absolute, NUL):
  :class:`~sedna.common.remote_files.UnsafeKeyError` names the key.
"""

import io
import json
import os
import shutil
import tempfile

from sedna.common import archives, remote_files
from sedna.common.atomic_files import AtomicWriter as _AtomicWriter
from sedna.common.atomic_files import fsync_dir as _fsync_dir
from sedna.common.atomic_files import temp_name as _temp_name
from sedna.common.exceptions import DataFileNotFoundError, DataParseError
from sedna.common.regular_files import open_regular
from sedna.common.remote_files import UnsafeKeyError
from sedna.common.remote_files import scheme as _scheme

__all__ = ("FileOps", "UnsafeKeyError")

_HTTP_SCHEMES = ("http", "https")


def _json_default(obj):
    """Let numpy scalars/arrays (anything with ``tolist``) into JSON."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serializable")


class FileOps:
    """Class methods for files and folders at local paths or URLs."""

    #: seconds an HTTP request may take before it fails (no retries)
    http_timeout = 30.0

    # ------------------------------------------------------------------ kinds
    @classmethod
    def is_local(cls, url):
        """True for a plain path or a ``file://`` URL."""
        return _scheme(url) in ("", "file")

    @classmethod
    def is_remote(cls, url):
        """True for any URL with a scheme other than ``file://``."""
        return not cls.is_local(url)

    @classmethod
    def _local(cls, url):
        """The filesystem path of a local path or ``file://`` URL."""
        url = str(url)
        return url[len("file://"):] if url.lower().startswith("file://") else url

    @classmethod
    def _is_http(cls, url):
        return _scheme(url) in _HTTP_SCHEMES

    @classmethod
    def _storage_options(cls, url):
        """fsspec options for ``url``; S3 credentials come from the environment now."""
        return remote_files.storage_options(url)

    @classmethod
    def _fs(cls, url):
        """(fsspec filesystem, path) for a remote non-HTTP URL."""
        return remote_files.filesystem(url)

    @classmethod
    def _http(cls, url, method="GET"):
        """Open an HTTP request; 404/410 become DataFileNotFoundError."""
        import urllib.error  # lazy: urllib.request pulls in http, email and ssl
        import urllib.request

        req = urllib.request.Request(url, method=method)
        try:
            return urllib.request.urlopen(req, timeout=cls.http_timeout)
        except urllib.error.HTTPError as err:
            if err.code in (404, 410):
                raise DataFileNotFoundError(f"not found: {url} (HTTP {err.code})") from err
            raise

    # ------------------------------------------------------------------ paths
    @classmethod
    def join_path(cls, *parts):
        """Join path parts; URL-aware.

        ``join_path("s3://b/x", "y", "z.json") == "s3://b/x/y/z.json"``. For
        local paths the parts go through ``os.path.join`` after stripping the
        leading separators of every part but the first, so a later part never
        silently discards the ones before it.
        """
        parts = [str(p) for p in parts if p is not None and str(p) != ""]
        if not parts:
            return ""
        first, rest = parts[0], parts[1:]
        if cls.is_remote(first):
            out = first
            for part in rest:
                part = part.strip("/")
                if part:
                    out = out.rstrip("/") + "/" + part
            return out
        rest = [p.lstrip("/\\") for p in rest]
        return os.path.join(first, *[p for p in rest if p])

    @classmethod
    def dirname(cls, url):
        """The parent folder of a path or URL."""
        url = str(url)
        if cls.is_remote(url):
            scheme, rest = url.split("://", 1)
            rest = rest.rstrip("/")
            return f"{scheme}://{rest.rsplit('/', 1)[0]}" if "/" in rest else url
        return os.path.dirname(os.path.abspath(cls._local(url)))

    @classmethod
    def basename(cls, url):
        """The last component of a path or URL."""
        url = str(url).rstrip("/")
        if cls.is_remote(url):
            return url.rsplit("/", 1)[-1].split("?", 1)[0]
        return os.path.basename(cls._local(url).rstrip(os.sep))

    # ------------------------------------------------------------- inspection
    @classmethod
    def exists(cls, url):
        """Whether a file or folder exists at ``url`` (HTTP: a HEAD/GET below 400)."""
        if cls._is_http(url):
            return cls._http_exists(url)
        return cls._probe(url, "exists")

    @classmethod
    def isdir(cls, url):
        """Whether ``url`` is a folder (always False for HTTP)."""
        if cls._is_http(url):
            return False
        return cls._probe(url, "isdir")

    @classmethod
    def _probe(cls, url, name):
        """``os.path.<name>`` on a local path, the filesystem's ``<name>`` on a remote one."""
        if cls.is_local(url):
            return getattr(os.path, name)(cls._local(url))
        fs, path = cls._fs(url)
        return getattr(fs, name)(path)

    @classmethod
    def _http_exists(cls, url):
        import urllib.error  # lazy: HTTP only

        for method in ("HEAD", "GET"):
            try:
                with cls._http(url, method):
                    return True
            except DataFileNotFoundError:
                return False
            except urllib.error.HTTPError as err:
                if err.code != 405 or method == "GET":
                    raise
        return False

    @classmethod
    def listdir(cls, url):
        """Names (not paths) of the entries of a folder, sorted."""
        if cls._is_http(url):
            raise ValueError(f"cannot list an HTTP URL: {url}")
        if cls.is_local(url):
            path = cls._local(url)
            if not os.path.isdir(path):
                raise DataFileNotFoundError(f"folder not found: {url}")
            return sorted(os.listdir(path))
        fs, path = cls._fs(url)
        if not fs.isdir(path):
            raise DataFileNotFoundError(f"folder not found: {url}")
        names = (str(p).rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(path, detail=False))
        return sorted(n for n in names if n)

    # ---------------------------------------------------------------- reading
    @classmethod
    def read_bytes(cls, url):
        """The whole content of a file (a local one must be a regular file: a FIFO is refused, never
        waited on)."""
        if cls.is_local(url):
            try:
                with os.fdopen(open_regular(cls._local(url)), "rb") as f:
                    return f.read()
            except (FileNotFoundError, NotADirectoryError) as err:
                raise DataFileNotFoundError(f"file not found: {url}") from err
        if cls._is_http(url):
            with cls._http(url) as resp:
                return resp.read()
        fs, path = cls._fs(url)
        try:
            return fs.cat_file(path)
        except FileNotFoundError as err:
            raise DataFileNotFoundError(f"file not found: {url}") from err

    @classmethod
    def read_text(cls, url, encoding="utf-8"):
        """The whole content of a text file."""
        return cls.read_bytes(url).decode(encoding)

    @classmethod
    def load(cls, url):
        """Read a JSON document."""
        raw = cls.read_bytes(url)
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            raise DataParseError(url, 1, f"not UTF-8 text: {err}") from err
        except json.JSONDecodeError as err:
            raise DataParseError(url, err.lineno, f"not valid JSON: {err.msg}") from err

    @classmethod
    def open(cls, url, mode="r"):
        """Open a file like ``open``.

        Local ``w``/``x`` modes return an atomic writer: the target appears
        only when the file is closed without error (use it in a ``with``
        block). Append and ``+`` modes are plain, non-atomic ``open``. HTTP
        URLs are read-only.
        """
        if cls.is_local(url):
            path = cls._local(url)
            if ("w" in mode or "x" in mode) and "+" not in mode:
                if "x" in mode and os.path.exists(path):
                    raise FileExistsError(path)
                return _AtomicWriter(path, mode.replace("x", "w"))
            if "r" in mode and "+" not in mode and not os.path.exists(path):
                raise DataFileNotFoundError(f"file not found: {url}")
            return open(path, mode, **({} if "b" in mode else {"encoding": "utf-8"}))
        if cls._is_http(url):
            if "r" not in mode or "+" in mode:
                raise ValueError(f"HTTP URLs are read-only: {url}")
            resp = cls._http(url)
            return resp if "b" in mode else io.TextIOWrapper(resp, encoding="utf-8")
        fs, path = cls._fs(url)
        if "r" in mode and not fs.exists(path):
            raise DataFileNotFoundError(f"file not found: {url}")
        return fs.open(path, mode)

    # ---------------------------------------------------------------- writing
    @classmethod
    def write_atomic(cls, path, data):
        """Write ``data`` (bytes, str, or an iterable of bytes/str chunks) to ``path``.

        Locally: temp file in the same folder, fsync, ``os.replace``; if
        producing or writing the data raises, the target is untouched and the
        temp file removed. Remote object stores write whole objects.
        """
        chunks = [data] if isinstance(data, (bytes, bytearray, memoryview, str)) else data
        if cls.is_remote(path):
            blob = b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in chunks)
            cls._write_remote(path, blob)
            return path
        with _AtomicWriter(cls._local(path), "wb") as f:
            for chunk in chunks:
                f.write(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk))
        return path

    @classmethod
    def _writable_fs(cls, url, verb):
        """The filesystem and path of a remote URL that can be written (not HTTP)."""
        if cls._is_http(url):
            raise ValueError(f"cannot {verb} an HTTP URL: {url}")
        return cls._fs(url)

    @classmethod
    def _write_remote(cls, url, blob):
        fs, path = cls._writable_fs(url, "write to")
        parent = path.rstrip("/").rsplit("/", 1)[0]
        if parent:
            fs.makedirs(parent, exist_ok=True)
        fs.pipe_file(path, blob)

    @classmethod
    def dump(cls, obj, url):
        """Write ``obj``: dict/list as JSON, bytes raw, str as UTF-8 text.

        Any other type is a ``TypeError`` (nothing is ever pickled). Numpy
        values nested in a dict/list are converted with ``tolist()``.
        """
        if isinstance(obj, (bytes, bytearray, memoryview)):
            data = bytes(obj)
        elif isinstance(obj, str):
            data = obj.encode("utf-8")
        elif isinstance(obj, (dict, list)):
            data = json.dumps(obj, ensure_ascii=False, default=_json_default).encode("utf-8")
        else:
            raise TypeError(f"FileOps.dump writes dict/list (JSON), bytes or str, "
                            f"not {type(obj).__name__}")
        cls.write_atomic(url, data)
        return url

    @classmethod
    def make_dir(cls, path):
        """Create a folder and its parents (no error if it exists)."""
        if cls.is_local(path):
            os.makedirs(cls._local(path), exist_ok=True)
        elif not cls._is_http(path):
            fs, p = cls._fs(path)
            fs.makedirs(p, exist_ok=True)
        return path

    @classmethod
    def delete(cls, url):
        """Remove a file or a folder tree; a missing one is not an error."""
        if cls.is_local(url):
            path = cls._local(url)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.remove(path)
            return
        if cls._is_http(url):
            raise ValueError(f"cannot delete an HTTP URL: {url}")
        fs, path = cls._fs(url)
        if fs.exists(path):
            fs.rm(path, recursive=True)

    # ---------------------------------------------------------- copy helpers
    @classmethod
    def _target(cls, src, dst, dst_is_dir):
        """Where a file lands: inside ``dst`` when it is a folder, else ``dst``."""
        if dst_is_dir or str(dst).endswith(("/", os.sep)):
            return cls.join_path(dst, cls.basename(src))
        return dst

    @classmethod
    def _copy_file_local(cls, src, dst):
        """Atomic local file copy."""
        with open(src, "rb") as fin, _AtomicWriter(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
        shutil.copymode(src, dst)

    @classmethod
    def _copy_tree_local(cls, src, dst):
        """Copy a folder: a new ``dst`` appears whole (temp folder + rename);
        an existing one is merged file by file, each file atomically."""
        if not os.path.exists(dst):
            parent = os.path.dirname(os.path.abspath(dst))
            os.makedirs(parent, exist_ok=True)
            tmp = _temp_name(dst)
            try:
                shutil.copytree(src, tmp)
                os.rename(tmp, dst)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            _fsync_dir(parent)
            return
        for folder, _dirs, files in os.walk(src):
            rel = os.path.relpath(folder, src)
            for name in files:
                cls._copy_file_local(os.path.join(folder, name),
                                     os.path.normpath(os.path.join(dst, rel, name)))

    @classmethod
    def _copy_local(cls, src, dst):
        """Copy a local file or folder to a local destination; returns the path written."""
        if os.path.isdir(src):
            cls._copy_tree_local(src, dst)
            return dst
        dst = cls._target(src, dst, os.path.isdir(dst))
        if os.path.exists(dst) and os.path.samefile(src, dst):
            return dst
        cls._copy_file_local(src, dst)
        return dst

    # -------------------------------------------------------------- download
    @classmethod
    def download(cls, src, dst=None, untar=False):
        """Make ``src`` (file or folder) available locally and return its local path.

        ``dst=None``: a local ``src`` is returned as is; a remote one goes to
        a new temporary folder. A file whose ``dst`` is an existing folder (or
        ends with a separator) lands inside it under its own name; a folder
        is copied so that ``dst`` mirrors it. With ``untar=True`` a tar
        archive is extracted (safely, no paths outside the target) into a
        folder named like the archive without its suffix, whose path is
        returned.
        """
        if cls.is_local(src):
            path = cls._local(src)
            if not os.path.exists(path):
                raise DataFileNotFoundError(f"source not found: {src}")
            local = path if dst is None else cls._copy_local(path, cls._local(dst))
            extract_to = tempfile.mkdtemp(prefix="sedna-untar-") if dst is None else None
        else:
            if dst is None:
                dst = tempfile.mkdtemp(prefix="sedna-download-") + os.sep
            local = cls._fetch_remote(src, cls._local(dst))
            extract_to = None
        if untar and os.path.isfile(local) and archives.is_tar(local):
            return cls._untar(local, extract_to)
        return local

    @classmethod
    def _fetch_remote(cls, src, dst):
        """Copy a remote file or folder to a local path; returns the path written."""
        if cls._is_http(src):
            target = cls._target(src, dst, os.path.isdir(dst))
            with cls._http(src) as resp, _AtomicWriter(target, "wb") as out:
                shutil.copyfileobj(resp, out, 1 << 20)
            return target
        fs, path = cls._fs(src)
        if not fs.exists(path):
            raise DataFileNotFoundError(f"source not found: {src}")
        if not fs.isdir(path):
            target = cls._target(src, dst, os.path.isdir(dst))
            with fs.open(path, "rb") as fin, _AtomicWriter(target, "wb") as out:
                shutil.copyfileobj(fin, out, 1 << 20)
            return target
        staging = tempfile.mkdtemp(prefix="sedna-download-")
        try:
            remote_files.fetch_tree(fs, path, staging, src)
            cls._copy_tree_local(staging, dst)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return dst

    @classmethod
    def _untar(cls, archive, folder=None):
        """Extract ``archive`` into ``folder`` (default: archive path minus suffix)."""
        folder = folder or archives.default_folder(archive)
        tmp = _temp_name(folder)
        try:
            archives.safe_extract(archive, tmp)
            if os.path.isdir(folder):
                cls._copy_tree_local(tmp, folder)
            else:
                os.rename(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    # ---------------------------------------------------------------- upload
    @classmethod
    def upload(cls, src, dst, clean=False):
        """Copy a local file or folder to ``dst`` (local path or URL) and return ``dst``.

        The source is kept unless ``clean=True``. A file whose ``dst`` is an
        existing folder (or ends with ``/``) lands inside it; a folder is
        copied so that ``dst`` mirrors it.
        """
        if cls.is_remote(src):
            raise ValueError(f"upload needs a local source, got {src}")
        path = cls._local(src)
        if not os.path.exists(path):
            raise DataFileNotFoundError(f"source not found: {src}")
        if cls.is_local(dst):
            written = cls._copy_local(path, cls._local(dst))
        else:
            written = cls._put_remote(path, dst)
        if clean:
            cls.delete(path)
        return written

    @classmethod
    def _put_remote(cls, path, dst):
        """Upload a local file or folder to a remote URL; returns the URL written."""
        fs, rpath = cls._writable_fs(dst, "upload to")
        if os.path.isfile(path):
            dst_is_dir = str(dst).endswith("/") or fs.isdir(rpath)
            target = cls._target(path, dst, dst_is_dir)
            fs_t, tpath = cls._fs(target)
            parent = tpath.rstrip("/").rsplit("/", 1)[0]
            if parent:
                fs_t.makedirs(parent, exist_ok=True)
            fs_t.put_file(path, tpath)
            return target
        for folder, _dirs, files in os.walk(path):
            rel = os.path.relpath(folder, path)
            for name in sorted(files):
                parts = [] if rel == "." else rel.split(os.sep)
                cls._put_remote(os.path.join(folder, name), cls.join_path(dst, *parts, name))
        return dst
