"""Whether a path or URL lies inside a folder: the one check for every place
that takes a location from someone less trusted (worker reports, deploy copies)."""

import os
import posixpath
from urllib.parse import urlsplit

__all__ = ("inside", "is_below")


def is_below(path, root, sep=os.sep):
    """Whether ``path`` is ``root`` or lies under it, comparing the strings as
    given (both already resolved or normalised; no file system access)."""
    root = root.rstrip(sep) or sep
    return path == root or path.startswith(root if root == sep else root + sep)


def _remote(url):
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc, parts.path


def inside(url, root):
    """True when ``url`` names ``root`` itself or something below it.

    Local paths are compared after ``realpath`` (symbolic links and ``..``
    resolved); ``file://`` counts as local. Remote URLs (``s3://bucket/key``)
    must have ``root``'s scheme and bucket, no ``..`` segment, and a key below
    ``root``'s. Anything else (empty, NUL, a remote URL against a local root)
    is outside."""
    if not isinstance(url, str) or not isinstance(root, str) or not url or not root or "\0" in url + root:
        return False
    if url.startswith("file://"):
        url = url[len("file://"):]
    if root.startswith("file://"):
        root = root[len("file://"):]
    url_remote, root_remote = "://" in url, "://" in root
    if url_remote != root_remote:
        return False
    if not url_remote:
        return is_below(os.path.realpath(url), os.path.realpath(root))
    (us, un, up), (rs, rn, rp) = _remote(url), _remote(root)
    if (us, un) != (rs, rn) or ".." in up.split("/"):
        return False
    return is_below(posixpath.normpath("/" + up), posixpath.normpath("/" + rp), "/")
