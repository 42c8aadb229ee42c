"""The knowledge-base index document and :class:`KBVersion`.

An index document is JSON::

    {
      "schema_version": 1,
      "version": 3,
      "created_at": "2024-05-01T10:00:00.000000+00:00",
      "parent_version": 2,                    # or null
      "task_groups": [
        {"entry": "g0",
         "model": {"url": "models/g0.model",  # relative to the version folder, or absolute
                   "metrics": {"acc": 0.9}},  # optional
         "n_samples": 120,                    # optional
         "tasks": [{"entry": "t0", "meta_attr": "city-a", "n_samples": 120}]},  # optional
        ...
      ],
      "samples_url": "samples.json",          # optional, written by commit
      "base_url": "/kb/versions/0003"         # only in the root pointer
    }

Anything else the caller puts in the document is kept as is.
"""

import json
import os
import shutil

from sedna.common.exceptions import CorruptKnowledgeBaseError, DataFileNotFoundError, FileTooLarge, NotRegularFile
from sedna.common.file_ops import FileOps
from sedna.common.regular_files import read_regular
from sedna.knowledge._paths import artifact_cache_dir

__all__ = ("INDEX_NAME", "INDEX_SCHEMA_VERSION", "MAX_INDEX_BYTES", "KBVersion", "validate_doc", "read_index",
           "is_absolute")

INDEX_NAME = "index.json"
INDEX_SCHEMA_VERSION = 1
MAX_INDEX_BYTES = 64 << 20  # an index document over this is refused unread (tens of thousands of tasks fit)


def is_absolute(url):
    """True for URLs with a scheme and absolute local paths."""
    url = str(url)
    return "://" in url or os.path.isabs(url)


def _problem_with_group(i, group):
    """What is wrong with ``task_groups[i]``, or None."""
    where = f"task_groups[{i}]"
    if not isinstance(group, dict):
        return f"{where} is not an object"
    if not isinstance(group.get("entry"), str):
        return f"{where} has no string 'entry'"
    model = group.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("url"), str) or not model["url"]:
        return f"{where} ({group['entry']!r}) has no 'model' object with a string 'url'"
    if "tasks" in group and not isinstance(group["tasks"], list):
        return f"{where} ({group['entry']!r}) has 'tasks' that is not a list"
    for j, task in enumerate(group.get("tasks") or ()):
        if not isinstance(task, (dict, str)) or (isinstance(task, dict)
                                                 and not isinstance(task.get("entry"), str)):
            return f"{where}.tasks[{j}] has no string 'entry'"
    return None


def validate_doc(doc):
    """Return a description of what is wrong with an index document, or None."""
    if not isinstance(doc, dict):
        return "the index document is not a JSON object"
    schema = doc.get("schema_version")
    if schema != INDEX_SCHEMA_VERSION or isinstance(schema, bool):
        return f"schema_version is {schema!r}, expected {INDEX_SCHEMA_VERSION}"
    number = doc.get("version")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        return f"version is {number!r}, expected a positive integer"
    groups = doc.get("task_groups")
    if not isinstance(groups, list):
        return "task_groups is missing or not a list"
    for i, group in enumerate(groups):
        problem = _problem_with_group(i, group)
        if problem:
            return problem
    return None


class KBVersion:
    """One committed knowledge-base version, as read from an index document.

    ``url`` is the index document it was read from, ``base_url`` the version
    folder that relative artifact paths are resolved against.
    """

    def __init__(self, url, base_url, doc):
        self.url = url
        self.base_url = base_url
        self.doc = doc

    number = property(lambda self: self.doc["version"], doc="version number (int)")
    created_at = property(lambda self: self.doc.get("created_at"), doc="ISO UTC commit time")
    parent_version = property(lambda self: self.doc.get("parent_version"),
                              doc="number of the version this one was derived from, or None")
    task_groups = property(lambda self: self.doc["task_groups"], doc="doc['task_groups']")

    @property
    def key(self):
        """What identifies this version's content: (number, created_at, base_url)."""
        return (self.number, self.created_at, self.base_url)

    def resolve(self, relpath_or_url):
        """Absolute path/URL of an artifact (relative paths are under ``base_url``)."""
        if is_absolute(relpath_or_url):
            return str(relpath_or_url)
        if FileOps.is_local(self.base_url):
            return os.path.normpath(os.path.join(FileOps._local(self.base_url), relpath_or_url))
        return FileOps.join_path(self.base_url, str(relpath_or_url).replace(os.sep, "/"))

    def local_path(self, relpath):
        """A local path of an artifact (a file or a folder), downloading a remote
        one into the cache once.

        Version folders are immutable, so a cached copy is reused; the cache is
        keyed by the version's URL and creation time, so a knowledge base made
        again at the same URL (a re-run job, a recreated bucket) is fetched anew.
        """
        url = self.resolve(relpath)
        if FileOps.is_local(url):
            return FileOps._local(url)
        if is_absolute(relpath):  # it may live in another version: keyed by its own URL, and this version
            target = os.path.join(artifact_cache_dir(f"{url}@{self.created_at}"), FileOps.basename(url))
        else:
            target = os.path.join(artifact_cache_dir(f"{self.base_url}@{self.created_at}"),
                                  *str(relpath).split("/"))
        if not os.path.exists(target):
            # fetch beside the target, then rename: a crash never leaves a half copy in the cache
            os.makedirs(os.path.dirname(target), exist_ok=True)
            tmp = f"{target}.part-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            got = FileOps.download(url, tmp)
            try:
                os.replace(got, target)
            except OSError:  # another process filled the cache first
                if not os.path.exists(target):
                    raise
                shutil.rmtree(got, ignore_errors=True) if os.path.isdir(got) else os.remove(got)
        return target

    def model_urls(self):
        """{task group entry: absolute model url}."""
        return {g["entry"]: self.resolve(g["model"]["url"]) for g in self.task_groups}

    def __eq__(self, other):
        return isinstance(other, KBVersion) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"KBVersion(number={self.number}, base_url={self.base_url!r})"


def read_index(url, check_files=True):
    """Read and validate the index document at ``url`` and return a :class:`KBVersion`.

    Errors name ``url``: a missing file raises ``DataFileNotFoundError``;
    bad JSON, a wrong schema or (for local indexes, with ``check_files``)
    a model file missing on disk raises ``CorruptKnowledgeBaseError``.
    """
    if FileOps.is_local(url):
        url = os.path.abspath(FileOps._local(url))
        try:  # a worker writes this file: a FIFO must not block, a sparse gigabyte must not be read
            raw = read_regular(url, MAX_INDEX_BYTES)
        except (FileNotFoundError, NotADirectoryError) as err:
            raise DataFileNotFoundError(f"file not found: {url}") from err
        except (NotRegularFile, FileTooLarge) as err:
            raise CorruptKnowledgeBaseError(str(err)) from None
    else:
        raw = FileOps.read_bytes(url)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise CorruptKnowledgeBaseError(f"{url}: not a valid JSON document ({err})") from err
    problem = validate_doc(doc)
    if problem:
        raise CorruptKnowledgeBaseError(f"{url}: {problem}")
    base_url = doc.get("base_url") or FileOps.dirname(url)
    if not isinstance(base_url, str):
        raise CorruptKnowledgeBaseError(f"{url}: base_url is not a string")
    version = KBVersion(url, base_url, doc)
    if check_files:
        _check_model_files(version)
    return version


def _check_model_files(version):
    """Raise if a local model file named by the index does not exist."""
    for group in version.task_groups:
        path = version.resolve(group["model"]["url"])
        if FileOps.is_local(path) and not os.path.exists(FileOps._local(path)):
            raise CorruptKnowledgeBaseError(
                f"{version.url}: model of task group {group['entry']!r} not found: {path}")
