"""Files the control plane reads or writes on behalf of a job, opened so that
nothing a worker leaves behind can hang or fool the controller.

Who calls it: the index watcher (:mod:`sedna.control.rounds`) and the local
controller (unseen-sample counts, the deployed index). Workers run as the same
user as the controller and write into the same folders, so any of these paths
may have been replaced by a FIFO (``open()`` would block the controller thread
for ever), a device, a folder, or a symlink to somewhere else.

* :func:`open_regular` opens without blocking (``O_NONBLOCK``) and keeps the
  file only if ``fstat`` says it is a regular file; otherwise
  :class:`NotRegularFile` names the path and what it is.
* :func:`publish_copy` copies a file into a job's ``outputDir`` only from a
  source inside that same ``outputDir`` (after resolving symlinks, checked
  again on the opened descriptor), atomically, with mode 0640.
"""

import os
import tempfile

from sedna.common.confine import is_below
from sedna.common.exceptions import NotRegularFile, OutsideOutputDir
from sedna.common.regular_files import describe_mode, open_regular

__all__ = ("NotRegularFile", "OutsideOutputDir", "open_regular", "describe_mode", "publish_copy",
           "DEPLOY_MODE")

#: Mode of the files the controller publishes (the deployed index): never world-readable.
DEPLOY_MODE = 0o640
_COPY_CHUNK = 1 << 20


def _opened_path(fd):
    """The path the kernel has for an open descriptor (Linux), or None."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def publish_copy(source, target, output_dir, mode=DEPLOY_MODE):
    """Copy ``source`` to ``target`` atomically with ``mode``; both must lie in ``output_dir``.

    Both are checked after ``realpath`` (no symlink leads out), the source is
    opened as a regular file without following a last symlink, and the
    descriptor's own path is checked again (a swap between check and open is
    caught). The target is written to a temporary sibling created 0600,
    chmod'ed to ``mode``, fsync'ed and renamed over ``target``, so it is never
    readable by others, not even for a moment. Raises
    :class:`OutsideOutputDir`, :class:`NotRegularFile` or ``OSError``.
    """
    root = os.path.realpath(output_dir)
    real_source = os.path.realpath(source)
    if not is_below(real_source, root):
        raise OutsideOutputDir(f"refusing to deploy {source}: it lies outside the job's outputDir {output_dir}"
                               + (f" (it resolves to {real_source})" if real_source != os.path.abspath(source) else ""))
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    if not is_below(os.path.realpath(folder), root):
        raise OutsideOutputDir(f"refusing to deploy to {target}: its folder resolves outside the job's "
                               f"outputDir {output_dir}")
    fd = open_regular(real_source, follow_symlinks=False)
    try:
        opened = _opened_path(fd)
        if opened is not None and not is_below(opened, root):
            raise OutsideOutputDir(f"refusing to deploy {source}: it was replaced by a link to {opened}, "
                                   f"outside the job's outputDir {output_dir}")
        _write_from_fd(fd, target, folder, mode)
    finally:
        os.close(fd)
    return target


def _write_from_fd(src_fd, target, folder, mode):
    tmp_fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(tmp_fd, mode)
        with os.fdopen(tmp_fd, "wb") as out:
            tmp_fd = None
            while True:
                chunk = os.read(src_fd, _COPY_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        if tmp_fd is not None:
            os.close(tmp_fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
