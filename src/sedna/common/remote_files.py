"""The fsspec side of :class:`~sedna.common.file_ops.FileOps` (``s3://`` and
other object stores): filesystem options from the environment, and folder
downloads that never write outside their target.

Only ``FileOps`` calls this module. Object keys come from whoever controls
the bucket (a knowledge base's model folder, a dataset), so a folder
download checks every key before it writes anything: a key whose path,
once normalised, leaves the download folder (``m/../../x``), a key that is
absolute below the folder (``m//etc/x``) and a key with a NUL byte are
refused with :class:`UnsafeKeyError` naming the key, and nothing of that
download is written.
"""

import os
import posixpath

from sedna.common.exceptions import UnsafeKeyError

__all__ = ("UnsafeKeyError", "scheme", "storage_options", "filesystem", "fetch_tree")

S3_SCHEMES = ("s3", "s3a", "s3n")


def scheme(url):
    """The lower-case URL scheme, or '' for a plain local path."""
    url = str(url)
    if "://" not in url:
        return ""
    return url.split("://", 1)[0].lower()


def storage_options(url):
    """fsspec options for ``url``; S3 credentials come from the environment now."""
    if scheme(url) not in S3_SCHEMES:
        return {}
    opts = {}
    key, secret = os.environ.get("ACCESS_KEY_ID"), os.environ.get("SECRET_ACCESS_KEY")
    if key:
        opts["key"] = key
    if secret:
        opts["secret"] = secret
    endpoint = os.environ.get("S3_ENDPOINT_URL")
    if endpoint:
        if "://" not in endpoint:
            endpoint = "https://" + endpoint
        opts["client_kwargs"] = {"endpoint_url": endpoint}
    return opts


def filesystem(url):
    """(fsspec filesystem, path) for a remote non-HTTP URL."""
    import fsspec.core  # lazy: keeps ``import sedna`` cheap

    if scheme(url) in S3_SCHEMES and scheme(url) != "s3":
        url = "s3://" + str(url).split("://", 1)[1]
    return fsspec.core.url_to_fs(str(url), **storage_options(url))


def relative_key(root, key, shown):
    """The local relative path (``/``-separated, normalised) of object ``key``
    listed below folder ``root``; ``None`` for a folder marker (a key ending
    in ``/``). Raises :class:`UnsafeKeyError` for a key that would land
    outside the folder. ``shown`` names the download in the message."""
    key = str(key)
    why = None
    if "\0" in key:
        why = "contains a NUL byte"
    elif key == root:
        return None
    elif not key.startswith(root + "/"):
        why = "is not below the folder"
    else:
        rel = key[len(root) + 1:]
        if rel.startswith("/"):
            why = "is absolute below the folder"
        elif rel == "" or rel.endswith("/"):
            return None
        else:
            norm = posixpath.normpath(rel)
            if norm in (".", "..") or norm.startswith("../"):
                why = "leaves the download folder"
            else:
                return norm
    raise UnsafeKeyError(f"refusing to download {shown}: object key {key!r} {why}; "
                         "nothing was written")


def fetch_tree(fs, path, staging, shown):
    """Copy every object below ``path`` into the local folder ``staging``.

    All keys are checked before the first byte is written, so a folder with
    one unsafe key downloads nothing."""
    root = str(path).rstrip("/")
    plan = []
    for remote in fs.find(root):
        rel = relative_key(root, remote, shown)
        if rel is not None:
            plan.append((remote, os.path.join(staging, *rel.split("/"))))
    for remote, local in plan:
        os.makedirs(os.path.dirname(local), exist_ok=True)
        fs.get_file(remote, local)
