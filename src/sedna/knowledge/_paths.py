"""Where the knowledge base keeps local things for remote roots (read at call time)."""

import hashlib
import os


def cache_root():
    """``$XDG_CACHE_HOME/sedna`` or ``~/.cache/sedna``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sedna")


def url_hash(url):
    """A short stable name for a URL."""
    return hashlib.sha256(str(url).encode("utf-8")).hexdigest()[:20]


def default_catalog_path(root_url):
    """The catalog of a remote root: ``<cache>/kb/<hash of root>.sqlite``."""
    return os.path.join(cache_root(), "kb", url_hash(root_url) + ".sqlite")


def artifact_cache_dir(base_url):
    """Local copies of a remote version folder's artifacts."""
    return os.path.join(cache_root(), "kb-artifacts", url_hash(base_url))
