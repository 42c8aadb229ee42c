"""The deployed index, ``outputDir/deploy/index.json``: what a job's inference
worker serves (``MODEL_URLS``) and polls, hot-reloading whatever it names.

Two things write it, both through :func:`publish_deployment`:

* the deploy stage (the local controller and the Kubernetes operator carry out
  the reconciler's ``publish_deployment`` action): round r's eval output
  ``outputDir/eval/<r>/index.json`` becomes the deployed index;
* a rollback (:func:`roll_back`: the dashboard's button, ``sedna kb rollback
  --deploy``): the knowledge base's current pointer moves to an earlier
  version, and that version's eval output becomes the deployed index again.

A local copy is :func:`sedna.control.files.publish_copy`: from inside the job's
``outputDir`` only (symlinks resolved), atomic, mode 0640.
"""

import json
import os
import posixpath

from sedna.common.confine import inside
from sedna.common.exceptions import DataFileNotFoundError, KnowledgeBaseError, NoSuchVersion, NotDeployable, SednaError  # noqa: F401 - NoSuchVersion, NotDeployable re-exported
from sedna.common.file_ops import FileOps
from sedna.common.regular_files import read_regular
from sedna.control.files import NotRegularFile, publish_copy
from sedna.control.rounds import RoundFiles
from sedna.knowledge import KnowledgeBase
from sedna.knowledge.index import MAX_INDEX_BYTES

__all__ = ("NotDeployable", "NoSuchVersion", "publish_deployment", "deploy_index_of", "deployable_indexes",
           "deployable_index", "served_version", "roll_back")


def _local(url):
    return url[len("file://"):] if url.startswith("file://") else url


def _remote(url):
    return "://" in url and not url.startswith("file://")


def _join(url):
    return posixpath.join if _remote(url) else os.path.join


def deploy_index_of(output_dir):
    """The deployed index of the job whose ``outputDir`` is ``output_dir``."""
    out = output_dir.rstrip("/")
    return _join(out)(RoundFiles(out).deploy_output(), "index.json")


def publish_deployment(source, target, output_dir):
    """Publish the eval output ``source`` as the deployed index ``target`` of the
    job whose ``outputDir`` is ``output_dir``; returns ``target``.

    Local: :func:`publish_copy` (source and target confined to ``output_dir``,
    atomic, 0640). An object store (``s3://``): the source must lie in
    ``output_dir`` too, and the object is written whole. Raises
    :class:`~sedna.common.exceptions.OutsideOutputDir`, ``ValueError``, or
    ``FileNotFoundError`` naming the missing eval output.
    """
    if _remote(output_dir):
        if not inside(source, output_dir) or not inside(target, output_dir):
            raise ValueError(f"eval output {source} is not inside outputDir {output_dir}")
        FileOps.write_atomic(target, FileOps.read_bytes(source))
        return target
    try:
        return publish_copy(_local(source), _local(target), os.path.abspath(_local(output_dir)))
    except FileNotFoundError:
        raise FileNotFoundError(f"eval output {source} is missing") from None


def _read_doc(url):
    """An index document as a dict, or None (missing, not a regular file, not JSON)."""
    try:
        if _remote(url):
            raw = FileOps.read_bytes(url)
        else:
            raw = read_regular(_local(url), MAX_INDEX_BYTES, follow_symlinks=False)
        doc = json.loads(raw)
    except (OSError, NotRegularFile, ValueError, UnicodeDecodeError, SednaError):
        return None
    return doc if isinstance(doc, dict) else None


def served_version(output_dir):
    """The knowledge-base version the deployed index names, or None (nothing deployed)."""
    doc = _read_doc(deploy_index_of(output_dir))
    if doc is None:
        return None
    n = (doc.get("evaluation") or {}).get("source_version", doc.get("version"))
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def deployable_indexes(output_dir):
    """``{knowledge-base version: its eval output}``: the versions that can be
    served, each with the ``outputDir/eval/<r>/index.json`` that evaluated it
    (the latest round's if several did)."""
    out = output_dir.rstrip("/")
    files, join = RoundFiles(out), _join(out)
    try:
        rounds = sorted(int(n) for n in FileOps.listdir(join(out, "eval")) if n.isdigit())
    except (OSError, SednaError, ValueError):
        return {}
    found = {}
    for r in rounds:
        index = join(files.eval_output(r), "index.json")
        v = ((_read_doc(index) or {}).get("evaluation") or {}).get("source_version")
        if isinstance(v, int) and not isinstance(v, bool):
            found[v] = index
    return found


def deployable_index(output_dir, version):
    """The eval output that evaluated knowledge-base version ``version``, or None."""
    return deployable_indexes(output_dir).get(version)


def roll_back(output_dir, version):
    """Make knowledge-base version ``version`` of the job whose ``outputDir`` is
    ``output_dir`` both current (the next round trains from it) and served (its
    eval output becomes the deployed index, which a running inference worker
    reloads). Nothing changes when the version is missing or cannot be served
    (checked before anything is written; the deployed index is written first).

    Returns ``(KBVersion, deployed index)``. Raises :class:`NoSuchVersion`,
    :class:`NotDeployable` when no eval output evaluated the version, and what
    :func:`publish_deployment` raises.
    """
    out = output_dir.rstrip("/")
    root = RoundFiles(out).knowledge_base()
    kb = KnowledgeBase(root)
    versions = kb.versions()
    if version not in versions:
        raise NoSuchVersion(f"version: no version {version} in {root}; versions: {versions}")
    source = deployable_index(out, version)
    if source is None:
        raise NotDeployable(f"version: version {version} was never evaluated (no eval output under "
                            f"{out}/eval names it), so there is no index of it to serve")
    try:  # it must load: a version whose models are gone is refused before anything moves
        KnowledgeBase.open_index(source, check_files=True)
    except (KnowledgeBaseError, DataFileNotFoundError) as e:
        raise NotDeployable(f"version: version {version} cannot be served: {e}") from None
    target = publish_deployment(source, deploy_index_of(out), out)
    return kb.rollback(version), target
