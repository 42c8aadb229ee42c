"""Paths as a worker sees them (its volume mounts) and as the host has them.

A local worker's ``hostPath`` volumes are not mounted: the paths in its
environment, arguments and working folder are rewritten from the mount path to
the host path instead (:func:`rewrite`). The dashboard maps a job's folders the
same way. ``emptyDir`` volumes are folders made for the worker (:func:`mount_volumes`).
"""

import os
import re
import shutil

from sedna.common.exceptions import WorkerError
from sedna.common.log import sedna_logger

__all__ = ("under", "rewrite", "mount_volumes", "safe_name")

LOG = sedna_logger(__name__)


def safe_name(text):
    """``text`` as one path component (anything but letters, digits, ``_.-`` becomes ``_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(text)) or "_"


def under(value, mount):
    """True when path ``value`` is ``mount`` or inside it."""
    mount = mount.rstrip("/") or "/"
    return value == mount or value.startswith(mount if mount.endswith("/") else mount + "/")


def rewrite(value, rewrites):
    """Rewrite a path value (each ``;``-separated part) from mount paths to host paths."""
    if not isinstance(value, str) or not rewrites:
        return value
    parts = value.split(";")
    for i, part in enumerate(parts):
        for mount, host in rewrites:  # longest mount first
            if under(part, mount):
                parts[i] = host + part[len(mount.rstrip("/")):] if mount != "/" else host.rstrip("/") + part
                break
    return ";".join(parts)


def _host_path(worker, vname, hp, sub):
    host = os.path.join(hp.get("path") or "", sub) if sub else hp.get("path")
    if not host:
        raise WorkerError(f"worker {worker}: volume {vname!r} hostPath has no path")
    host = os.path.abspath(host)
    kind = hp.get("type") or ""
    try:
        if kind == "DirectoryOrCreate":
            os.makedirs(host, exist_ok=True)
        elif kind == "FileOrCreate" and not os.path.exists(host):
            os.makedirs(os.path.dirname(host), exist_ok=True)
            open(host, "a").close()
    except OSError as e:
        raise WorkerError(f"worker {worker}: cannot create hostPath {host} of volume {vname!r}: {e}") from e
    if kind == "Directory" and not os.path.isdir(host):
        raise WorkerError(f"worker {worker}: hostPath {host} of volume {vname!r} is not a folder")
    if kind == "File" and not os.path.isfile(host):
        raise WorkerError(f"worker {worker}: hostPath {host} of volume {vname!r} is not a file")
    if not os.path.exists(host):
        LOG.warning("worker %s: hostPath %s of volume %r does not exist", worker, host, vname)
    return host


def mount_volumes(worker, pod, container, empty_root):
    """``(rewrites, made)`` for ``container`` of ``pod`` (worker ``worker``): the mount -> host path
    pairs, longest mount first, and the ``emptyDir`` folders made for it in ``empty_root``.
    ``WorkerError`` names what cannot be mounted locally (only hostPath and emptyDir can)."""
    volumes = {v.get("name"): v for v in pod.get("volumes") or [] if isinstance(v, dict)}
    rewrites, made = [], []
    for vm in container.get("volumeMounts") or []:
        vname, mount = vm.get("name"), vm.get("mountPath")
        if not mount:
            raise WorkerError(f"worker {worker}: volumeMount {vname!r} has no mountPath")
        vol = volumes.get(vname)
        if vol is None:
            raise WorkerError(f"worker {worker}: volumeMount names unknown volume {vname!r}")
        sub = vm.get("subPath") or ""
        if "hostPath" in vol:
            host = _host_path(worker, vname, vol["hostPath"] or {}, sub)
        elif "emptyDir" in vol:
            host = os.path.join(str(empty_root), safe_name(vname))
            shutil.rmtree(host, ignore_errors=True)
            os.makedirs(host)
            made.append(host)
            if sub:
                host = os.path.join(host, sub)
                os.makedirs(host, exist_ok=True)
        else:
            kinds = [k for k in vol if k != "name"]
            raise WorkerError(f"worker {worker}: volume {vname!r} of kind {kinds} is not supported "
                              "locally (hostPath and emptyDir are)")
        if os.path.normpath(mount) != os.path.normpath(host):
            rewrites.append((os.path.normpath(mount), host))
    rewrites.sort(key=lambda r: len(r[0]), reverse=True)
    return rewrites, made
