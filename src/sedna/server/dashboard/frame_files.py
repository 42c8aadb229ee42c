"""Which files of an image job the dashboard may show or change, decided from
the job's spec and checked against what a form or URL asks for.

Called by :mod:`.frames` (the page, the image endpoint, label and discard).
Everything here is about paths; nothing is written.

* the previews the inference worker keeps (:mod:`sedna.core.labelling.previews`)
  are under ``outputDir/deploy/frames``; images are served only from inside
  the job's ``outputDir`` (:func:`image_path`);
* the job's file naming (label file from frame name) is what its deploy
  template declares (:class:`~sedna.core.labelling.naming.LabelNaming`);
* the saved unseen frames are in the deploy template's ``unseen_save_url``,
  mapped to the host through the template's ``hostPath`` volumes as the local
  runtime maps it for the worker. Discarding removes files only inside it;
* label PNGs (``labels`` mode) are read only from a folder inside the
  Dataset's folder or the job's ``outputDir`` (:func:`labels_folder`).

Errors are :class:`FieldError` (400, naming the field) or ``NotFound`` (404).
"""

import dataclasses
import os
from typing import Optional

from sedna.common.confine import inside, is_below
from sedna.common.exceptions import LabelError, NotFound
from sedna.control.rounds import RoundFiles
from sedna.core.labelling.naming import LabelNaming
from sedna.core.labelling.previews import frames_dir, has_previews
from sedna.core.unseen_store import pending
from sedna.runtimes.local.mounts import rewrite, under

MAX_SELECTED = 500  # frames one label/discard may name
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class FieldError(ValueError):
    """Bad input in a form or query field: ``str(e)`` starts with the field's name."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclasses.dataclass(frozen=True)
class FrameFiles:
    """Where one job's frames live (real paths), its naming, and why a part is missing."""

    output_dir: str
    frames: str
    unseen: Optional[str]
    index: Optional[str]
    naming: Optional[LabelNaming] = None  # None: the job declares a naming that is not valid
    note: str = ""   # why there is no unseen gallery (empty when there is one)

    @property
    def data_root(self):
        """The Dataset's folder: the generated truth's root and a place for label PNGs."""
        return os.path.dirname(self.index) if self.index else None


def _local(url):
    if not isinstance(url, str) or not url:
        return None
    if url.startswith("file://"):
        url = url[len("file://"):]
    return None if "://" in url else os.path.realpath(url)


def host_path(template, path):
    """``path`` as the deploy ``template``'s first container sees it, mapped to
    the host through its ``hostPath`` mounts (the local runtime's rule); None
    when it lies in a volume of another kind."""
    spec = (template or {}).get("spec") or {}
    containers = spec.get("containers") or [{}]
    volumes = {v.get("name"): v for v in spec.get("volumes") or [] if isinstance(v, dict)}
    rewrites = []
    for vm in containers[0].get("volumeMounts") or []:
        vol = volumes.get(vm.get("name")) or {}
        mount = os.path.normpath(vm.get("mountPath") or "/")
        if "hostPath" in vol:
            host = os.path.join((vol["hostPath"] or {}).get("path") or "", vm.get("subPath") or "")
            rewrites.append((mount, os.path.abspath(host)))
        elif under(path, mount):
            return None
    rewrites.sort(key=lambda r: len(r[0]), reverse=True)
    return rewrite(path, rewrites)


def _deploy_env(job):
    try:
        container = job["spec"]["deploySpec"]["template"]["spec"]["containers"][0]
    except (KeyError, IndexError, TypeError):
        return {}
    return {e.get("name"): e.get("value") for e in container.get("env") or [] if isinstance(e, dict)}


def frame_files(job, dataset):
    """The :class:`FrameFiles` of ``job`` (its Dataset ``dataset``, or None)."""
    out = _local(job["spec"].get("outputDir"))
    if out is None:
        raise NotFound(f"job {job['metadata']['name']}: outputDir is not a local folder; "
                       "the dashboard shows local jobs' frames only")
    index = _local(((dataset or {}).get("spec") or {}).get("url"))
    frames = frames_dir(RoundFiles(out).deploy_output())
    env = _deploy_env(job)
    save_url = env.get("unseen_save_url")
    note, unseen = "", None
    if not save_url:
        note = "the inference worker's template sets no unseen_save_url: it saves no unseen frames"
    else:
        mapped = host_path(job["spec"]["deploySpec"].get("template"), save_url)
        unseen = _local(mapped)
        if unseen is None:
            note = f"unseen_save_url {save_url} is not a folder on this machine"
    try:
        naming = LabelNaming.from_env(env)
    except LabelError as e:
        naming, note = None, f"the inference worker's template declares {e}"
    return FrameFiles(output_dir=out, frames=frames, unseen=unseen, index=index, naming=naming, note=note)


def shows_images(files):
    """Whether the job's samples are pictures: the inference worker drew previews,
    or its saved unseen samples are image files. A tabular job's are neither."""
    if has_previews(files.frames):
        return True
    try:
        todo = pending(files.unseen) if files.unseen else []
    except LabelError:
        return False
    return any(name.lower().endswith(IMAGE_EXTENSIONS) for name, _ in todo)


def image_path(files, rel):
    """The real path of the PNG ``rel`` (relative to ``outputDir``): 400 for an
    absolute path, ``..``, or not a PNG; 404 for anything outside ``outputDir``
    (a symbolic link out included) or missing."""
    if not isinstance(rel, str) or not rel or "\0" in rel or "\\" in rel:
        raise FieldError("path", "give a file of the job's outputDir, relative to it")
    if os.path.isabs(rel) or ".." in rel.split("/"):
        raise FieldError("path", "must be relative to the job's outputDir, without '..'")
    if not rel.endswith(".png"):
        raise FieldError("path", "only PNG images are served")
    real = os.path.realpath(os.path.join(files.output_dir, rel))
    if not is_below(real, files.output_dir):
        raise NotFound(f"path: {rel} is not a file of the job's outputDir")
    return real


def selected_frames(values, pending_names):
    """The checked frames, each a saved unseen frame still to label (in the gallery's order)."""
    names = [v for v in values or [] if isinstance(v, str)]
    if not names:
        raise FieldError("frame", "select at least one frame")
    if len(names) > MAX_SELECTED:
        raise FieldError("frame", f"at most {MAX_SELECTED} frames at a time")
    known = set(pending_names)
    strange = [n for n in names if n not in known]
    if strange:
        shown = ", ".join(repr(n[:80]) for n in strange[:3])
        raise FieldError("frame", f"{shown}: not a saved unseen frame of this job still to label "
                                  "(labelled or discarded already?)")
    wanted = set(names)
    return [n for n in pending_names if n in wanted]


def labels_folder(files, value):
    """The folder of label PNGs the user named: absolute, or relative to the
    Dataset's folder; it must exist inside the Dataset's folder or ``outputDir``."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError("labels", "name the folder of label files")
    value = value.strip()
    if "\0" in value or len(value) > 4096:
        raise FieldError("labels", "not a path")
    roots = [r for r in (files.data_root, files.output_dir) if r]
    path = value if os.path.isabs(value) else os.path.join(roots[0], value)
    if not any(inside(path, r) for r in roots):
        raise FieldError("labels", f"{value}: must be a folder inside {' or '.join(roots)}")
    real = os.path.realpath(path)
    if not os.path.isdir(real):
        raise FieldError("labels", f"{value}: no such folder")
    return real
