"""Tar archives a download may bring: recognised, named, and extracted without
letting any member land outside the target folder."""

import os
import tarfile

__all__ = ("TAR_SUFFIXES", "default_folder", "is_tar", "safe_extract")

TAR_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar")


def is_tar(path):
    return tarfile.is_tarfile(path)


def default_folder(archive):
    """Where ``archive`` is extracted by default: its path without the tar suffix
    (``.d`` appended where it has none)."""
    name = os.path.basename(archive)
    for suffix in TAR_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        name += ".d"
    return os.path.join(os.path.dirname(archive), name)


def safe_extract(archive, folder):
    """Extract ``archive`` into ``folder``, refusing absolute paths, ``..`` and
    links that leave ``folder`` (``tarfile.TarError`` names the member)."""
    with tarfile.open(archive) as tar:
        try:
            tar.extractall(folder, filter="data")
            return
        except TypeError:  # Python without extraction filters
            pass
        base = os.path.realpath(folder)
        for member in tar.getmembers():
            dest = os.path.realpath(os.path.join(base, member.name))
            if os.path.commonpath([base, dest]) != base or member.issym() or member.islnk():
                raise tarfile.TarError(f"unsafe member in archive: {member.name}")
        tar.extractall(folder)
