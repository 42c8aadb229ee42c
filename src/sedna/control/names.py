"""Names: Kubernetes' rules, and the lengths the local runtime can really use.

Object names are DNS-1123 subdomains (at most 253 characters, dot-separated
parts of at most 63, lowercase letters, digits and '-', each part starting and
ending with a letter or digit); namespaces and container/volume names are
DNS-1123 labels (one such part). That is what a Kubernetes API server accepts.

A LifelongLearningJob's name is also the stem of its workers' names,
``<job>-<stage>-<round>[-<attempt>]`` (:func:`sedna.control.reconcile.worker_name`),
and the local runtime names files after ``<namespace>_<worker>``: the log
``<namespace>_<worker>.log`` and the exit file
``<namespace>_<worker>-<12 hex digits>.exit``
(:mod:`sedna.runtimes.local.workers`). One path component holds at most 255
bytes (NAME_MAX on Linux file systems), so a job name that Kubernetes accepts
can make every start fail with ENAMETOOLONG. :func:`job_name_problem` refuses
those names at apply, with the reason, reserving room for rounds up to
:data:`MAX_ROUND_DIGITS` digits and attempts up to :data:`MAX_ATTEMPT_DIGITS`.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_SUBDOMAIN = 253
MAX_LABEL = 63

SUBDOMAIN_MSG = ("must be a DNS-1123 subdomain (lowercase letters, digits, '-', '.'; at most 253 characters, "
                 "at most 63 between dots, each part starting and ending with a letter or digit)")
LABEL_MSG = "must be a DNS-1123 label (lowercase letters, digits, '-'; at most 63 characters)"

#: Longest file name (one path component) on Linux file systems, in bytes.
NAME_MAX = 255
#: Digits reserved for the round number in a worker name (a round a minute for 1900 years).
MAX_ROUND_DIGITS = 9
#: Digits reserved for the attempt suffix of a retried worker.
MAX_ATTEMPT_DIGITS = 3
#: The longest stage word in a worker name (``-deploy-``).
_STAGE_PART = len("-deploy-")
#: What the local runtime adds around ``<namespace>`` and ``<worker>`` in its longest file name:
#: ``_`` + ``-`` + 12 hex digits + ``.exit``.
_LOCAL_FILE_EXTRA = 1 + 1 + 12 + len(".exit")


def dns_problem(value: str, label: bool = False) -> str | None:
    """Why ``value`` is not a DNS-1123 subdomain (or label), or None."""
    if label:
        if len(value) > MAX_LABEL or not _LABEL.match(value):
            return LABEL_MSG + (f"; got {len(value)}" if len(value) > MAX_LABEL else "")
        return None
    if len(value) > MAX_SUBDOMAIN:
        return f"{SUBDOMAIN_MSG}; got {len(value)} characters"
    for part in value.split("."):
        if not _LABEL.match(part):
            return SUBDOMAIN_MSG
        if len(part) > MAX_LABEL:
            return f"{SUBDOMAIN_MSG}; the part {part[:12]}... has {len(part)} characters"
    return None


def worker_suffix_max() -> int:
    """Characters the longest worker name adds to its job's name."""
    return _STAGE_PART + MAX_ROUND_DIGITS + 1 + MAX_ATTEMPT_DIGITS


def max_job_name_length(namespace: str) -> int:
    """The longest job name whose workers' files fit in NAME_MAX in ``namespace``."""
    return NAME_MAX - _LOCAL_FILE_EXTRA - worker_suffix_max() - len(namespace.encode("utf-8"))


def job_name_problem(name: str, namespace: str) -> str | None:
    """Why the local runtime could not run the workers of job ``name``, or None."""
    limit = max_job_name_length(namespace)
    if len(name.encode("utf-8")) <= limit:
        return None
    return (f"is {len(name)} characters long; in namespace {namespace!r} a job name may have at most {limit}: "
            f"its workers are named '<job>-deploy-<round>-<attempt>' and the local runtime keeps each "
            f"worker's exit status in a file '<namespace>_<worker>-<id>.exit', which must fit in "
            f"{NAME_MAX} bytes (the file-name limit, NAME_MAX)")
