"""Where a container's image runs from on this machine: ``--image IMAGE=DIR``, a
config file's ``images`` mapping, or ``*`` for every image."""

import os
from pathlib import Path

from sedna.common.exceptions import WorkerError


def _strip_tag(image):
    """``repo:tag`` → ``repo``, ``repo@sha256:..`` → ``repo``; a registry port is kept."""
    image = image.split("@", 1)[0]
    head, sep, tail = image.rpartition(":")
    if sep and "/" not in tail:
        return head
    return image


class ImageMap:
    """Container images → local folders.

    Lookup: the exact image, then the image without its tag or digest
    (``repo:tag`` → ``repo``; an untagged image also tries ``repo:latest``), then
    the ``*`` default when present.
    """

    def __init__(self, mapping=None):
        self.mapping = {}
        for image, folder in (mapping or {}).items():
            if not isinstance(image, str) or not image or folder is None or str(folder) == "":
                raise WorkerError(f"invalid image mapping {image!r} -> {folder!r}")
            self.mapping[image] = Path(os.path.abspath(os.path.expanduser(str(folder))))

    @classmethod
    def from_args(cls, items):
        """From ``--image IMAGE=DIR`` values; relative folders are relative to the current folder."""
        mapping = {}
        for item in items or ():
            image, sep, folder = str(item).partition("=")
            if not sep or not image.strip() or not folder.strip():
                raise WorkerError(f"invalid --image value {item!r}: expected IMAGE=DIR")
            mapping[image.strip()] = folder.strip()
        return cls(mapping)

    @classmethod
    def from_file(cls, path):
        """From a YAML or JSON file with an ``images:`` mapping (a plain mapping is accepted too).

        Relative folders are relative to the file's folder.
        """
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as e:
            raise WorkerError(f"cannot read image map {path}: {e}") from e
        try:
            import yaml

            data = yaml.safe_load(text)
        except Exception as e:  # yaml is a superset of JSON
            raise WorkerError(f"{path}: not valid YAML/JSON: {e}") from e
        if isinstance(data, dict) and "images" in data:
            data = data["images"]
        if data is None:
            data = {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise WorkerError(f"{path}: 'images' must map image names to folders")
        base = path.resolve().parent
        return cls({str(k): str(base / os.path.expanduser(v)) for k, v in data.items()})

    def merge(self, other):
        """A new map with the entries of both; ``other`` wins on equal images."""
        out = ImageMap()
        out.mapping = {**self.mapping, **(other.mapping if other is not None else {})}
        return out

    def lookup(self, image):
        """The folder mapped to ``image``, or None."""
        if image in self.mapping:
            return self.mapping[image]
        bare = _strip_tag(image)
        if bare in self.mapping:
            return self.mapping[bare]
        if bare == image and f"{image}:latest" in self.mapping:
            return self.mapping[f"{image}:latest"]
        return self.mapping.get("*")

    def resolve(self, image, working_dir=None):
        """The folder a container runs in: ``working_dir`` when it is a folder, else the mapped one."""
        if working_dir and os.path.isdir(working_dir):
            return Path(os.path.abspath(working_dir))
        folder = self.lookup(image) if image else None
        if folder is None:
            hint = f" (its workingDir {working_dir} is not a folder here)" if working_dir else ""
            raise WorkerError(f"image {image!r} is not mapped to a local folder{hint}; "
                              f"map it with --image {image or 'IMAGE'}=DIR or an 'images:' entry "
                              "in the config file")
        if not folder.is_dir():
            raise WorkerError(f"image {image!r} is mapped to {folder}, which is not a folder")
        return folder

    def __len__(self):
        return len(self.mapping)

    def __repr__(self):
        return f"ImageMap({ {k: str(v) for k, v in self.mapping.items()} !r})"
