"""What a local worker may touch on disk: the paths of its Landlock ruleset.

A worker runs someone else's code as the server's own user, so by default it
could read everything the server can, the admin token included. Where the
kernel offers Landlock (:mod:`sedna.common.landlock`) the wrapper confines the
worker, before its command starts, to:

* read (and execute): the system folders, the Python installation and every
  folder on the worker's ``PYTHONPATH``, and its script's folder;
* read and write: every local path its job's environment or its arguments name (the
  job's round files, knowledge base, outputs and Dataset folder, and whatever
  the template's ``env`` adds: an unseen-sample folder, a model path), as the
  folder or, for a file, its folder (for one that does not exist yet, its
  nearest existing folder); the host folders of its volumes; its own
  scratch folder, which is its ``HOME`` and ``TMPDIR``; ``/dev/shm`` and the
  harmless devices.

Never granted, even beneath a granted folder: the control plane's state folder
(token, database, other workers' logs) and the user's sedna config folder
(contexts and the paths of their tokens); never writable: the code the server
imports. A granted folder that holds one of them is granted entry by entry,
all but the branch that leads to it.

:func:`named_paths` and :func:`worker_paths` decide; they touch nothing but
``stat``/``listdir``.
"""

import os
import sys

__all__ = ("worker_paths", "SYSTEM_READ")

SYSTEM_READ = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/opt", "/sys", "/proc", "/run")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/shm")
_MAX_LISTED = 10_000  # entries granted one by one beside a protected folder


def local_path(value):
    value = value[len("file://"):] if value.startswith("file://") else value
    return os.path.normpath(value) if os.path.isabs(value) else None


def _depth(folder):
    return len([c for c in folder.split(os.sep) if c])


def _holds(folder, protected):
    """Whether a ``protected`` (real) path lies beneath ``folder``."""
    real = _real(folder).rstrip(os.sep) + os.sep
    return any(q.startswith(real) for q in protected)


def _names_a_file(key, path):
    return bool(os.path.splitext(path)[1]) or (key or "").upper().endswith("FILE")


def named_paths(named, protected=()):
    """``(folders, to_make)``: the folders that ``named``, ``(name, value)`` pairs (an env
    variable, or None for an argument), name, and those of them still to be made. An existing
    folder counts as it is, a file as its folder. A path that does not exist yet counts as
    its nearest existing folder, when that is at least two levels deep (never ``/`` or a
    top-level folder: ``/tmp``, ``/home``) and holds none of the ``protected`` folders; where
    it holds one (a state folder inside the project folder), the worker could not create
    anything in it, so the path is to be made for it as a folder, or its folder where it
    names a file (an extension, or a variable whose name ends in ``FILE``)."""
    protected = [_real(p) for p in protected if p]
    folders, to_make = set(), set()
    for key, v in named:
        p = local_path(str(v)) if v else None
        if p is None or _depth(p) < 2:
            continue
        if os.path.isdir(p):
            folders.add(p)
            continue
        if os.path.exists(p):
            folders.add(os.path.dirname(p))
            continue
        near = os.path.dirname(p)
        while not os.path.isdir(near) and near != os.path.dirname(near):
            near = os.path.dirname(near)
        if _depth(near) < 2:
            continue
        if not _holds(near, protected):
            folders.add(near)
        else:
            want = os.path.dirname(p) if _names_a_file(key, p) else p
            folders.add(want)
            if want != near:
                to_make.add(want)
    return folders, to_make


def python_paths(pythonpath=""):
    """The interpreter's installation and the folders code is imported from."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths |= {p for p in sys.path if p and os.path.isabs(p)}
    paths |= {p for p in (pythonpath or "").split(os.pathsep) if p and os.path.isabs(p)}
    return {os.path.normpath(p) for p in paths}


def _real(p):
    return os.path.realpath(p)


def _beside(path, protected, budget):
    """``[path]``, or, where ``path`` holds a protected folder, its entries but that branch."""
    if _real(path) in protected:
        return []
    if not _holds(path, protected):
        return [path]
    out = []
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return []
    for name in names[:budget[0]]:
        budget[0] -= 1
        out.extend(_beside(os.path.join(path, name), protected, budget))
    return out


def _granted(paths, protected):
    budget, out = [_MAX_LISTED], []
    for p in sorted(set(paths)):
        if os.path.exists(p):
            out.extend(_beside(p, protected, budget))
    return out


def worker_paths(named, pythonpath, cwd, volume_hosts, scratch, protected):
    """``(read, write)`` path lists for a worker: ``named`` its job's env (not the inherited
    ``PATH``, ``HOME``...) and its argv as :func:`named_paths` takes them, ``pythonpath`` its ``PYTHONPATH``,
    ``cwd`` its script folder, ``volume_hosts`` the host folders of its volumes, ``scratch``
    its own folder, ``protected`` folders it must never reach. Code the server imports
    (its Python installation and import folders) is never writable. Call after making
    the folders :func:`named_paths` says are to be made."""
    protected = [_real(p) for p in protected if p]
    code = python_paths(pythonpath)
    read = set(SYSTEM_READ) | code | {cwd}
    write = named_paths(named, protected)[0] | set(volume_hosts) | {scratch} | set(DEVICES)
    return _granted(read, protected), _granted(write, protected + [_real(p) for p in code])
