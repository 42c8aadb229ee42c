"""What the robot saw last: the inference worker's previews for the dashboard.

The inference worker (``predict.py``) calls :meth:`FrameRing.add` for every
frame it serves; the dashboard (``sedna.server.dashboard.robot``) reads them
back with :func:`latest` and :func:`unseen_previews`. Everything lives in one
folder under the worker's ``OUTPUT_URL`` (the job's ``outputDir/deploy``), so
the dashboard serves it from inside the job's outputDir:

``frames/latest/<seq>.json`` with ``<seq>.thumb.png`` and ``<seq>.overlay.png``
    the last :data:`RING_SIZE` frames served: a small thumbnail, the
    segmentation's class colours over the frame, and ``{"seq", "frame",
    "task", "unseen", "score", "threshold", "kb_version", "time"}``;
``frames/unseen/<stem>.json`` with ``<stem>.thumb.png``
    one preview per frame flagged unseen (the frame's own files are in
    ``unseen_save_url``), at most :data:`UNSEEN_PREVIEWS`, oldest dropped.

Each file is written to a temporary name and renamed (0600), the JSON last,
so a reader that lists JSON files never sees half an entry; nothing is
pickled. Pillow is imported by the writer only: the server reads JSON.
"""

import io
import json
import os
import re

from sedna.common.atomic_files import write_private

RING_SIZE = 24          # frames kept in frames/latest
UNSEEN_PREVIEWS = 500   # previews kept in frames/unseen (the oldest go first)
THUMB_SIZE = (160, 80)  # (width, height) bounds of a thumbnail
OVERLAY_SIZE = (320, 160)
FRAMES = "frames"
RGB_SUFFIX = "_leftImg8bit.png"
_SEQ = re.compile(r"^(\d{12})\.json$")
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


def frames_dir(deploy_output):
    """The previews' folder for a job whose inference ``OUTPUT_URL`` is ``deploy_output``."""
    return os.path.join(os.fspath(deploy_output), FRAMES)


def frame_stem(frame_name):
    """``aachen_000001_leftImg8bit.png`` -> ``aachen_000001``; None for a name
    that is not a plain file name (separators, leading dot, odd characters)."""
    name = str(frame_name)
    stem = name[:-len(RGB_SUFFIX)] if name.endswith(RGB_SUFFIX) else os.path.splitext(name)[0]
    return stem if _STEM.match(stem) else None


def _png(rgb, bounds):
    from PIL import Image

    from sedna.examples.robo.imageio import PNG_COMPRESS_LEVEL

    img = Image.fromarray(rgb, "RGB")
    img.thumbnail(bounds)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def _remove(paths):
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


class FrameRing:
    """Previews of served frames under ``folder`` (see the module's docstring).
    A worker that replaces an earlier one continues its numbering."""

    def __init__(self, folder, size=RING_SIZE, unseen_cap=UNSEEN_PREVIEWS):
        self.latest_dir = os.path.join(folder, "latest")
        self.unseen_dir = os.path.join(folder, "unseen")
        for d in (folder, self.latest_dir, self.unseen_dir):
            os.makedirs(d, mode=0o700, exist_ok=True)
        self.size, self.unseen_cap = int(size), int(unseen_cap)
        seqs = _seqs(self.latest_dir)
        self.seq = seqs[-1] if seqs else 0

    def add(self, frame_name, rgb, label, *, task=None, unseen=False, score=None, threshold=None,
            kb_version=None, when=None):
        """Record one served frame: ``rgb`` ``uint8 (H, W, 3)``, ``label`` the
        predicted train IDs (any size; the overlay is drawn at the label's)."""
        import numpy as np
        from PIL import Image

        from sedna.examples.robo.imageio import _resize, overlay

        label = np.asarray(label, dtype=np.uint8)
        shown = _resize(rgb, label.shape, Image.BILINEAR)
        thumb = _png(rgb, THUMB_SIZE)
        meta = {"frame": os.path.basename(str(frame_name)), "task": task, "unseen": bool(unseen),
                "score": None if score is None else float(score),
                "threshold": None if threshold is None else float(threshold),
                "kb_version": kb_version, "time": when}
        self.seq += 1
        base = os.path.join(self.latest_dir, f"{self.seq:012d}")
        write_private(base + ".thumb.png", thumb)
        write_private(base + ".overlay.png", _png(overlay(shown, label), OVERLAY_SIZE))
        write_private(base + ".json", json.dumps(dict(meta, seq=self.seq)).encode())
        self._trim()
        stem = frame_stem(frame_name)
        if unseen and stem:
            write_private(os.path.join(self.unseen_dir, stem + ".thumb.png"), thumb)
            write_private(os.path.join(self.unseen_dir, stem + ".json"), json.dumps(meta).encode())
            self._trim_unseen()

    def _trim(self):
        for seq in _seqs(self.latest_dir):
            if seq > self.seq - self.size:
                break
            base = os.path.join(self.latest_dir, f"{seq:012d}")
            _remove([base + ".json", base + ".thumb.png", base + ".overlay.png"])

    def _trim_unseen(self):
        names = [n for n in os.listdir(self.unseen_dir) if n.endswith(".json")]
        if len(names) <= self.unseen_cap:
            return
        by_age = sorted(names, key=lambda n: os.stat(os.path.join(self.unseen_dir, n)).st_mtime_ns)
        for n in by_age[:len(names) - self.unseen_cap]:
            stem = os.path.join(self.unseen_dir, n[:-len(".json")])
            _remove([stem + ".json", stem + ".thumb.png"])


def _seqs(folder):
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for m in map(_SEQ.match, names) if m)


def _read_json(path):
    """A JSON object from a small regular file, or None (missing, not regular, not an object)."""
    from sedna.control.files import NotRegularFile, open_regular

    try:
        fd = open_regular(path, follow_symlinks=False)
    except (OSError, NotRegularFile):
        return None
    with os.fdopen(fd, "rb") as f:
        raw = f.read(64 * 1024)
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


_FIELDS = {"frame": str, "task": str, "unseen": bool, "score": (int, float), "threshold": (int, float),
           "kb_version": (int, str), "time": (int, float)}


def _clean(doc):
    """Only the known fields, each of its type (else None): the files are the worker's, not trusted blindly."""
    out = {k: doc.get(k) if isinstance(doc.get(k), t) and not (t is not bool and isinstance(doc.get(k), bool))
           else None for k, t in _FIELDS.items()}
    out["unseen"] = bool(out["unseen"])
    return out


def latest(folder, limit=RING_SIZE):
    """The last frames served, newest first: dicts of the JSON fields plus
    ``thumb`` and ``overlay``, their paths relative to ``folder``."""
    out = []
    latest_dir = os.path.join(folder, "latest")
    for seq in reversed(_seqs(latest_dir)[-limit:]):
        doc = _read_json(os.path.join(latest_dir, f"{seq:012d}.json"))
        if doc is None or frame_stem(doc.get("frame", "")) is None:
            continue
        out.append(dict(_clean(doc), seq=seq, thumb=f"latest/{seq:012d}.thumb.png",
                        overlay=f"latest/{seq:012d}.overlay.png"))
    return out


def unseen_previews(folder):
    """``{frame name: preview}`` of the frames flagged unseen; a preview has the
    JSON fields plus ``thumb`` (relative to ``folder``)."""
    out = {}
    unseen_dir = os.path.join(folder, "unseen")
    try:
        names = os.listdir(unseen_dir)
    except FileNotFoundError:
        return out
    for n in names:
        if not n.endswith(".json"):
            continue
        doc = _read_json(os.path.join(unseen_dir, n))
        stem = n[:-len(".json")]
        if doc is None or frame_stem(doc.get("frame", "")) != stem:
            continue
        out[doc["frame"]] = dict(_clean(doc), thumb=f"unseen/{stem}.thumb.png")
    return out


def forget_unseen(folder, frame_names):
    """Drop the previews of frames that were labelled or discarded."""
    for name in frame_names:
        stem = frame_stem(name)
        if stem:
            base = os.path.join(folder, "unseen", stem)
            _remove([base + ".json", base + ".thumb.png"])
