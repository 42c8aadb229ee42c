"""Versioned knowledge base: index documents plus artifact folders, and a catalog.

Layout under ``root`` (a local folder or an fsspec URL)::

    root/index.json              the CURRENT pointer: the current version's doc + "base_url"
    root/versions/0001/index.json + artifact files
    root/versions/0002/...
    root/versions/.tmp-<uuid>/   staging of a version being written (local roots)
    root/catalog.sqlite          SQLite mirror, made by its first reader (local roots; remote roots
                                 cache it locally)

Publishing is atomic: a local version appears by one ``os.rename`` of its
complete staging folder, and the pointer is replaced atomically afterwards.
On a remote root the artifacts are uploaded first, the version's
``index.json`` last, then the pointer; a folder without a valid
``index.json`` is not a version.
"""

import datetime
import json
import os
import shutil
import sqlite3
import tempfile
import time
import uuid

from sedna.common.exceptions import (CorruptKnowledgeBaseError, DataFileNotFoundError,
                                     KnowledgeBaseError)
from sedna.common.file_ops import FileOps, _fsync_dir, _json_default
from sedna.common.log import sedna_logger
from sedna.knowledge._paths import default_catalog_path
from sedna.knowledge.catalog import Catalog, sample_rows
from sedna.knowledge.index import (INDEX_NAME, INDEX_SCHEMA_VERSION, KBVersion, is_absolute,
                                   read_index, validate_doc)

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX: staging cleanup falls back to age only
    fcntl = None

__all__ = ("KnowledgeBase", "VersionWriter", "SAMPLES_NAME")

LOG = sedna_logger(__name__)
SAMPLES_NAME = "samples.json"
STAGING_PREFIX = ".tmp-"
STALE_STAGING_SECONDS = 3600
_RESERVED = {INDEX_NAME, SAMPLES_NAME}


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def _json_bytes(doc):
    # no indent: an indented dump takes json's pure-Python encoder, about ten times slower
    # on an index holding a detector's calibration (100+ KB); ASCII with \u escapes: a third
    # faster than encoding the text as UTF-8 afterwards
    return json.dumps(doc, default=_json_default).encode("ascii")


class _StagingLock:
    """An advisory lock file next to a staging folder, held while its writer lives.

    A crashed process releases its flock, so cleanup can tell a dead
    writer's staging from a live one.
    """

    def __init__(self, path):
        self.path = path
        self._fd = None

    def acquire(self, blocking=True):
        """Take the lock; False when ``blocking=False`` and another holder has it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:
            self._fd = fd
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self, remove=True):
        if self._fd is None:
            return
        if remove:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass
        os.close(self._fd)  # closing drops the flock
        self._fd = None


class VersionWriter:
    """Stages the files of one new version; ``commit`` publishes it, ``abort`` drops it.

    Use as a context manager to abort automatically when the block raises.
    """

    def __init__(self, kb, number, parent=None):
        self.kb = kb
        self.number = number
        self.parent = parent
        self._lock = None
        self._made = set()
        if kb.is_remote:
            self.staging = tempfile.mkdtemp(prefix="sedna-kb-stage-")
        else:
            name = f"{STAGING_PREFIX}{uuid.uuid4().hex}"
            self.staging = os.path.join(kb._versions_url, name)
            os.makedirs(kb._versions_url, exist_ok=True)
            self._lock = _StagingLock(self.staging + ".lock")
            self._lock.acquire()
            os.makedirs(self.staging)
        self._open = True

    # ------------------------------------------------------------------ paths
    def _staged(self, relpath):
        """Absolute staging path of ``relpath``; refuses paths leaving the version folder."""
        if not self._open:
            raise KnowledgeBaseError(f"version {self.number} writer is closed")
        rel = os.path.normpath(str(relpath).replace("/", os.sep))
        if is_absolute(relpath) or rel == os.curdir or rel.split(os.sep)[0] == os.pardir:
            raise ValueError(f"artifact path must stay inside the version folder: {relpath!r}")
        if rel in _RESERVED:
            raise ValueError(f"{relpath!r} is reserved for the knowledge base")
        return os.path.join(self.staging, rel)

    def artifact_dir(self, relpath):
        """A local folder (created) for this version's files under ``relpath``."""
        path = self._staged(relpath)
        self._makedirs(path)
        return path

    def path(self, relpath):
        """Local path of a file inside the staging folder (parent folders created)."""
        path = self._staged(relpath)
        self._makedirs(os.path.dirname(path))
        return path

    def _makedirs(self, folder):
        if folder not in self._made:  # a version writes many files into few folders
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)

    def copy_from(self, version, relpath, dst_relpath=None):
        """Copy an artifact (file or folder) of another version into this one."""
        target = self._staged(dst_relpath or relpath)
        FileOps.upload(version.local_path(relpath), target)
        return target

    # ---------------------------------------------------------------- commit
    def _prepare(self, doc):
        """The document to publish and its bytes: ``doc`` plus the KB's own fields, as JSON
        reads it back (one encode, one decode)."""
        if not isinstance(doc, dict):
            raise CorruptKnowledgeBaseError("index document must be a JSON object")
        doc = {k: v for k, v in doc.items() if k != "base_url"}
        doc.update(schema_version=INDEX_SCHEMA_VERSION, version=self.number,
                   created_at=_utc_now(),
                   parent_version=self.parent.number if self.parent is not None else None)
        try:
            raw = _json_bytes(doc)
            doc = json.loads(raw)
        except (TypeError, ValueError) as err:
            raise KnowledgeBaseError(f"index document is not JSON-serializable: {err}") from err
        problem = validate_doc(doc)
        if problem:
            raise CorruptKnowledgeBaseError(f"index document of version {self.number}: {problem}")
        for group in doc["task_groups"]:
            url = group["model"]["url"]
            if not is_absolute(url) and not os.path.exists(self._staged(url)):
                raise CorruptKnowledgeBaseError(
                    f"version {self.number}: model of task group {group['entry']!r} "
                    f"was not written: {url} (expected {self._staged(url)})")
        return doc, raw

    def commit(self, doc, samples=None):
        """Validate, publish atomically, point the root at it, mirror it in the catalog."""
        rows = sample_rows(samples) if samples else None
        if rows:
            doc = dict(doc, samples_url=SAMPLES_NAME)
        doc, raw = self._prepare(doc)
        if rows:
            FileOps.write_atomic(os.path.join(self.staging, SAMPLES_NAME), _json_bytes(rows))
        FileOps.write_atomic(os.path.join(self.staging, INDEX_NAME), raw)
        hook = getattr(self.kb, "_before_publish", None)
        if hook is not None:  # test seam: simulate a crash between staging and publish
            hook(self)
        version = self.kb._publish(self, doc)
        self._close()
        self.kb._set_pointer(version, raw)
        self.kb._mirror(version, rows)
        return version

    def abort(self):
        """Drop the staging folder; nothing is published."""
        if self._open:
            shutil.rmtree(self.staging, ignore_errors=True)
            self._close()

    def _close(self):
        self._open = False
        if self._lock is not None:
            self._lock.release()
        if self.kb.is_remote:
            shutil.rmtree(self.staging, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False


class KnowledgeBase:
    """A versioned knowledge base rooted at a local folder or an fsspec URL."""

    def __init__(self, root_url, catalog_path=None):
        root_url = str(root_url)
        self.is_remote = FileOps.is_remote(root_url)
        self.root_url = (root_url.rstrip("/") if self.is_remote
                         else os.path.abspath(FileOps._local(root_url)))
        self._versions_url = FileOps.join_path(self.root_url, "versions")
        if catalog_path is None:
            catalog_path = (default_catalog_path(self.root_url) if self.is_remote
                            else os.path.join(self.root_url, "catalog.sqlite"))
        self.catalog_path = catalog_path
        self._catalog = None
        self._before_publish = None  # test seam, see VersionWriter.commit

    @property
    def index_url(self):
        """URL of the root pointer ``root/index.json`` (what inference workers watch)."""
        return FileOps.join_path(self.root_url, INDEX_NAME)

    def version_url(self, number):
        """URL of a version folder."""
        return FileOps.join_path(self._versions_url, f"{int(number):04d}")

    # --------------------------------------------------------------- reading
    @staticmethod
    def open_index(url, check_files=True):
        """Read and validate an index document (a version's or a root pointer) at any URL."""
        return read_index(url, check_files=check_files)

    def _folders(self):
        """{number: folder name} of every all-digit folder under root/versions."""
        try:
            names = FileOps.listdir(self._versions_url)
        except DataFileNotFoundError:
            return {}
        return {int(n): n for n in names if n.isdigit()}

    def _try_load(self, number, folder):
        url = FileOps.join_path(self._versions_url, folder, INDEX_NAME)
        try:
            return read_index(url)
        except (CorruptKnowledgeBaseError, DataFileNotFoundError) as err:
            LOG.warning("skipping knowledge-base version %s: %s", folder, err)
            return None

    def versions(self):
        """Committed, valid version numbers, ascending."""
        return [n for n, f in sorted(self._folders().items()) if self._try_load(n, f) is not None]

    def latest(self):
        """The highest valid committed version, or None."""
        for n, folder in sorted(self._folders().items(), reverse=True):
            version = self._try_load(n, folder)
            if version is not None:
                return version
        return None

    def load(self, number=None):
        """A version by number (None: the current one); raises if absent or corrupt."""
        if number is None:
            version = self.current()
            if version is None:
                raise DataFileNotFoundError(f"knowledge base {self.root_url} has no version")
            return version
        folder = self._folders().get(int(number), f"{int(number):04d}")
        return read_index(FileOps.join_path(self._versions_url, folder, INDEX_NAME))

    def current(self):
        """The version the root pointer names (read from its own folder).

        Without a pointer (a crash right after the first publish) it is the
        latest version; an empty knowledge base gives None.
        """
        try:
            pointer = read_index(self.index_url, check_files=False)
        except DataFileNotFoundError:
            return self.latest()
        return self.load(pointer.number)

    # --------------------------------------------------------------- writing
    def begin_version(self, parent=None):
        """Start writing version ``max(existing, parent) + 1``."""
        if not self.is_remote:
            self._clean_staging()
        numbers = list(self._folders())
        if parent is not None:
            numbers.append(parent.number)
        return VersionWriter(self, max(numbers, default=0) + 1, parent)

    def _clean_staging(self):
        """Remove staging folders of dead writers.

        A staging folder whose lock file is held belongs to a live writer and
        is kept; one whose lock is free (its writer died) is removed; one
        without a lock file is removed once older than an hour.
        """
        try:
            entries = list(os.scandir(self._versions_url))
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.name.startswith(STAGING_PREFIX) and not entry.name.endswith(".lock"):
                self._clean_one_staging(entry)
            elif entry.name.startswith(STAGING_PREFIX) and not os.path.exists(entry.path[:-5]):
                lock = _StagingLock(entry.path)  # orphan lock file of a writer that died early
                if lock.acquire(blocking=False):
                    lock.release()

    @staticmethod
    def _clean_one_staging(entry):
        lock = _StagingLock(entry.path + ".lock")
        if os.path.exists(lock.path):
            if not lock.acquire(blocking=False):
                return  # a live writer
        elif time.time() - entry.stat().st_mtime < STALE_STAGING_SECONDS:
            return
        LOG.info("removing abandoned knowledge-base staging %s", entry.path)
        shutil.rmtree(entry.path, ignore_errors=True)
        lock.release()

    def _publish(self, writer, doc):
        """Make the staged version (index document ``doc``) visible; returns it as a KBVersion."""
        target = self.version_url(writer.number)
        if self.is_remote:
            self._upload_version(writer.staging, target)
            return read_index(FileOps.join_path(target, INDEX_NAME), check_files=False)
        if os.path.exists(target):
            raise KnowledgeBaseError(f"version {writer.number} already exists: {target}")
        os.rename(writer.staging, target)
        _fsync_dir(self._versions_url)
        target = os.path.abspath(target)
        return KBVersion(os.path.join(target, INDEX_NAME), target, doc)

    def _upload_version(self, staging, target):
        """Upload every artifact, then the version's index.json last."""
        if FileOps.exists(FileOps.join_path(target, INDEX_NAME)):
            raise KnowledgeBaseError(f"version already exists: {target}")
        for folder, _dirs, files in os.walk(staging):
            rel = os.path.relpath(folder, staging)
            parts = [] if rel == os.curdir else rel.split(os.sep)
            for name in sorted(files):
                if parts or name != INDEX_NAME:
                    FileOps.upload(os.path.join(folder, name),
                                   FileOps.join_path(target, *parts, name))
        FileOps.upload(os.path.join(staging, INDEX_NAME), FileOps.join_path(target, INDEX_NAME))

    def _set_pointer(self, version, raw=None):
        """Atomically point ``root/index.json`` at ``version`` (``raw``: its index's bytes,
        when the caller has them)."""
        if raw is None:
            raw = _json_bytes({k: v for k, v in version.doc.items() if k != "base_url"})
        # the version's document plus its folder: one field spliced in, not a second encode
        FileOps.write_atomic(self.index_url, raw[:raw.rindex(b"}")] + b', "base_url": '
                             + _json_bytes(version.base_url) + b"}")

    def rollback(self, number):
        """Point the root at an existing version (nothing is deleted); returns it."""
        version = self.load(number)
        self._set_pointer(version)
        return version

    # --------------------------------------------------------------- catalog
    @property
    def catalog(self):
        """The :class:`Catalog`, synchronized with the version folders on first use."""
        if self._catalog is None:
            self._catalog = self._open_catalog()
        return self._catalog

    def _open_catalog(self, fresh=None):
        """A synchronized :class:`Catalog`; ``fresh``: ``{number: (KBVersion, rows)}`` of
        versions just written, recorded from memory instead of read back."""
        catalog = Catalog(self.catalog_path)
        try:
            known = catalog.ensure_schema()
        except sqlite3.DatabaseError as err:
            LOG.warning("catalog %s is unreadable (%s); rebuilding it", self.catalog_path, err)
            catalog.reset()
            known = set()
        self._sync(catalog, known, fresh)
        return catalog

    def sync_catalog(self):
        """Bring the catalog in line with the version folders now; returns it."""
        catalog = self.catalog
        self._sync(catalog, catalog.version_numbers())
        return catalog

    def _sync(self, catalog, known, fresh=None):
        """Ingest versions missing from the catalog; drop rows of vanished versions."""
        fresh = fresh or {}
        on_disk = {}
        for n, folder in self._folders().items():
            version = fresh[n][0] if n in fresh else self._try_load(n, folder)
            if version is not None:
                on_disk[n] = version
        for n in known - set(on_disk):
            catalog.forget(n)
        for n in sorted(set(on_disk) - known):
            rows = fresh[n][1] if n in fresh else self._stored_samples(on_disk[n])
            catalog.record(on_disk[n], rows)

    @staticmethod
    def _stored_samples(version):
        """The samples file of a version, if it has one."""
        rel = version.doc.get("samples_url")
        if not rel:
            return None
        try:
            return FileOps.load(version.resolve(rel))
        except (DataFileNotFoundError, ValueError) as err:
            LOG.warning("samples of version %s unreadable: %s", version.number, err)
            return None

    def _mirror(self, version, rows):
        """Record a freshly published version in a catalog that exists; a catalog that
        does not exist yet is built from the version folders by its first reader
        (:attr:`catalog`), so a job that never queries it does not pay for one.
        A catalog failure is logged, not fatal: the version is committed and the
        catalog resynchronizes on next use."""
        if self._catalog is None and not os.path.exists(self.catalog_path):
            return
        try:
            if self._catalog is None:  # first use here: the sync records this version from memory
                self._catalog = self._open_catalog({version.number: (version, rows)})
            else:
                self._catalog.record(version, rows)
        except sqlite3.Error as err:
            LOG.error("catalog %s not updated for version %s: %s",
                      self.catalog_path, version.number, err)
            self._catalog = None

    def rebuild_catalog(self):
        """Recreate the catalog from the version folders; returns it."""
        self._catalog = None
        catalog = Catalog(self.catalog_path)
        catalog.reset(keep_copy=False)
        self._sync(catalog, set())
        self._catalog = catalog
        return catalog
