"""Paths as a worker sees them (its volume mounts) and as the host has them.

A local worker's ``hostPath`` volumes are not mounted: the paths in its
environment, arguments and working folder are rewritten from the mount path to
the host path instead (:func:`rewrite`). The dashboard maps a job's folders the
same way.
"""

__all__ = ("under", "rewrite")


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
