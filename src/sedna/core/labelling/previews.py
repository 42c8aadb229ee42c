"""What the inference worker served last, for the dashboard: previews on disk.

The inference worker calls :meth:`PreviewRing.add` for every sample it serves
(:func:`worker_ring` makes its ring), with the job's sample renderer (:mod:`.render`); the dashboard reads them back
with :func:`latest` and :func:`unseen_previews`. Everything lives in one
folder under the worker's ``OUTPUT_URL`` (the job's ``outputDir/deploy``,
:func:`frames_dir`), so the dashboard serves it from inside the outputDir:

``frames/latest/<seq>.json`` with ``<seq>.thumb.png`` and ``<seq>.overlay.png``
    the last :data:`RING_SIZE` samples served: a small thumbnail, the
    prediction drawn over the sample (when the renderer draws one), and
    ``{"seq", "frame", "task", "unseen", "score", "threshold", "kb_version", "time"}``;
``frames/unseen/<frame>.json`` with ``<frame>.thumb.png``
    one preview per sample flagged unseen (its own files are in the unseen
    store), at most :data:`UNSEEN_PREVIEWS`, the oldest dropped.

Each file is written to a temporary name and renamed (0600), the JSON last, so
a reader that lists JSON files never sees half an entry; nothing is pickled.
The readers take the worker's files as untrusted: regular files only, bounded,
known fields of known types. Only the writer needs Pillow.
"""

import json
import os
import re

from sedna.common.atomic_files import write_private
from sedna.common.regular_files import open_regular
from sedna.core.labelling.render import renderer, to_png
from sedna.core.unseen_store import is_plain_name

RING_SIZE = 24          # samples kept in frames/latest
UNSEEN_PREVIEWS = 500   # previews kept in frames/unseen (the oldest go first)
THUMB_SIZE = (160, 80)  # (width, height) bounds of a thumbnail
OVERLAY_SIZE = (320, 160)
FRAMES = "frames"
MAX_JSON_BYTES = 64 * 1024
_SEQ = re.compile(r"^(\d{12})\.json$")


def frames_dir(deploy_output):
    """The previews' folder for a job whose inference ``OUTPUT_URL`` is ``deploy_output``."""
    return os.path.join(os.fspath(deploy_output), FRAMES)


def _remove(paths):
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


class PreviewRing:
    """Previews of served samples under ``folder`` (see the module's docstring),
    drawn by ``renderer`` (a :class:`~.render.SampleRenderer`). A worker that
    replaces an earlier one continues its numbering."""

    def __init__(self, folder, renderer, size=RING_SIZE, unseen_cap=UNSEEN_PREVIEWS):
        self.latest_dir = os.path.join(folder, "latest")
        self.unseen_dir = os.path.join(folder, "unseen")
        for d in (folder, self.latest_dir, self.unseen_dir):
            os.makedirs(d, mode=0o700, exist_ok=True)
        self.renderer = renderer
        self.size, self.unseen_cap = int(size), int(unseen_cap)
        seqs = _seqs(self.latest_dir)
        self.seq = seqs[-1] if seqs else 0

    def add(self, frame_name, sample, prediction=None, *, task=None, unseen=False, score=None, threshold=None,
            kb_version=None, when=None):
        """Record one served sample (named ``frame_name``) and its prediction."""
        thumb = to_png(self.renderer.image(sample), THUMB_SIZE)
        drawn = self.renderer.overlay(sample, prediction)
        meta = {"frame": os.path.basename(str(frame_name)), "task": task, "unseen": bool(unseen),
                "score": None if score is None else float(score),
                "threshold": None if threshold is None else float(threshold),
                "kb_version": kb_version, "time": when, "overlay": drawn is not None}
        self.seq += 1
        base = os.path.join(self.latest_dir, f"{self.seq:012d}")
        write_private(base + ".thumb.png", thumb)
        if drawn is not None:
            write_private(base + ".overlay.png", to_png(drawn, OVERLAY_SIZE))
        write_private(base + ".json", json.dumps(dict(meta, seq=self.seq)).encode())
        self._trim()
        if unseen and is_plain_name(meta["frame"]):
            write_private(os.path.join(self.unseen_dir, meta["frame"] + ".thumb.png"), thumb)
            write_private(os.path.join(self.unseen_dir, meta["frame"] + ".json"), json.dumps(meta).encode())
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


def worker_ring(output_url, renderer_name=None):
    """The :class:`PreviewRing` an inference worker keeps under its ``OUTPUT_URL``,
    drawn by the ``sample_renderer`` plugin ``renderer_name`` (the job's
    ``SAMPLE_RENDERER``; default ``image``); None when ``output_url`` is not a local folder."""
    if not output_url or "://" in str(output_url):
        return None
    return PreviewRing(frames_dir(output_url), renderer(renderer_name))


def _seqs(folder):
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for m in map(_SEQ.match, names) if m)


def _read_json(path):
    """A JSON object from a small regular file, or None (missing, not regular, not an object)."""
    try:
        fd = open_regular(path, follow_symlinks=False)
    except OSError:  # NotRegularFile is an OSError
        return None
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_JSON_BYTES)
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


_FIELDS = {"frame": str, "task": str, "unseen": bool, "score": (int, float), "threshold": (int, float),
           "kb_version": (int, str), "time": (int, float), "overlay": bool}


def _clean(doc):
    """Only the known fields, each of its type (else None): the files are the worker's, not trusted blindly."""
    out = {k: doc.get(k) if isinstance(doc.get(k), t) and not (t is not bool and isinstance(doc.get(k), bool))
           else None for k, t in _FIELDS.items()}
    out["unseen"] = bool(out["unseen"])
    out["overlay"] = out["overlay"] is not False  # written before the field existed: drawn
    return out


def latest(folder, limit=RING_SIZE):
    """The last samples served, newest first: dicts of the JSON fields plus
    ``thumb`` and ``overlay`` (None when not drawn), their paths relative to ``folder``."""
    out = []
    latest_dir = os.path.join(folder, "latest")
    for seq in reversed(_seqs(latest_dir)[-limit:]):
        doc = _read_json(os.path.join(latest_dir, f"{seq:012d}.json"))
        if doc is None or not is_plain_name(doc.get("frame")):
            continue
        entry = _clean(doc)
        out.append(dict(entry, seq=seq, thumb=f"latest/{seq:012d}.thumb.png",
                        overlay=f"latest/{seq:012d}.overlay.png" if entry["overlay"] else None))
    return out


def unseen_previews(folder):
    """``{frame name: preview}`` of the samples flagged unseen; a preview has the
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
        frame = n[:-len(".json")]
        if doc is None or doc.get("frame") != frame or not is_plain_name(frame):
            continue
        out[frame] = dict(_clean(doc), thumb=f"unseen/{frame}.thumb.png")
    return out


def has_previews(folder):
    """Whether the inference worker wrote any preview there."""
    return bool(_seqs(os.path.join(folder, "latest"))) or bool(unseen_previews(folder))


def forget_unseen(folder, frame_names):
    """Drop the previews of samples that were labelled or discarded."""
    for name in frame_names:
        if is_plain_name(name):
            base = os.path.join(folder, "unseen", name)
            _remove([base + ".json", base + ".thumb.png"])
