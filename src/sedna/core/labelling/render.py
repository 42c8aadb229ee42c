"""Sample renderers: how a job's samples and predictions look in the dashboard.

A renderer turns a sample (what the inference worker was given: an image
path, a list of paths whose first is the image, or an array) and its
prediction into pictures: :meth:`SampleRenderer.image` (the sample itself,
``uint8 (H, W, 3)``) and :meth:`SampleRenderer.overlay` (the prediction drawn
over it, or None when the prediction is not a picture). The inference worker
hands them to :class:`~sedna.core.labelling.previews.PreviewRing`; the
dashboard only reads the PNGs written, so the control plane never runs a
job's code.

Renderers are plugins of the ``sample_renderer`` kind::

    @ClassFactory.register(ClassType.SAMPLE_RENDERER, alias="my_scans")
    class ScanRenderer(ImageRenderer):
        def palette(self, mask): ...

and a worker picks one with :func:`renderer` (its name, e.g. from the
``SAMPLE_RENDERER`` variable of the job's deploy template; default
``image``). ``image`` draws pictures (paths Pillow reads, or arrays) and
integer masks (a class per value, 255 = none) in a fixed palette.

Pillow is imported only when a picture is read or written: it is an optional
dependency (``sedna[robo]``), and the control plane never needs it.
"""

import io
import os

import numpy as np

from sedna.common.class_factory import ClassFactory, ClassType

DEFAULT_RENDERER = "image"
RENDERER_ENV = "SAMPLE_RENDERER"
IGNORE = 255          # a mask value without a class
PNG_COMPRESS_LEVEL = 1  # fast and deterministic


def _default_palette(n=IGNORE):
    """``n`` distinct colours: hues around the wheel by the golden ratio."""
    hues = (np.arange(n) * 0.618033988749895) % 1.0
    out = np.zeros((n, 3), dtype=np.uint8)
    for i, h in enumerate(hues):
        k = (np.array([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
        rgb = 0.85 - 0.7 * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
        out[i] = np.rint(rgb * 255)
    return out


PALETTE = _default_palette()


def _resize(arr, hw, nearest=False):
    from PIL import Image  # optional dependency: see the module's docstring

    h, w = hw
    if arr.shape[:2] == (h, w):
        return arr
    resample = Image.NEAREST if nearest else Image.BILINEAR
    return np.asarray(Image.fromarray(arr).resize((w, h), resample=resample))


def to_png(rgb, bounds):
    """PNG bytes of ``uint8 (H, W, 3)``, shrunk to fit ``bounds`` (width, height)."""
    from PIL import Image  # optional dependency

    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    img.thumbnail(bounds)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def first_of(sample):
    """The picture of a sample: the first of a row of paths, else the sample itself."""
    if isinstance(sample, (list, tuple)) or (isinstance(sample, np.ndarray) and sample.dtype.kind in "US"):
        return str(list(np.ravel(sample))[0])
    return sample


class SampleRenderer:
    """The interface; subclasses give :meth:`image` and may refine the rest."""

    alpha = 0.5  # the prediction's weight over the picture

    def image(self, sample):
        """The sample as ``uint8 (H, W, 3)``."""
        raise NotImplementedError

    def palette(self, mask):
        """``(colours uint8 (H, W, 3), classless bool (H, W))`` of an integer mask."""
        mask = np.asarray(mask)
        none = (mask < 0) | (mask >= len(PALETTE))
        return PALETTE[np.where(none, 0, mask).astype(np.intp)], none

    def overlay(self, sample, prediction):
        """The prediction's colours over the picture, at the prediction's size;
        None when the prediction is not an integer mask."""
        mask = np.asarray(prediction) if prediction is not None else None
        if mask is None or mask.ndim != 2 or mask.dtype.kind not in "iub" or 0 in mask.shape:
            return None
        base = _resize(self.image(sample), mask.shape).astype(np.float32)
        colours, none = self.palette(mask)
        out = (1.0 - self.alpha) * base + self.alpha * colours.astype(np.float32)
        out[none] = base[none]
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@ClassFactory.register(ClassType.SAMPLE_RENDERER, alias=DEFAULT_RENDERER)
class ImageRenderer(SampleRenderer):
    """Pictures: a path (or a sequence of paths, the first the picture) Pillow
    reads, or an array (grey ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``)."""

    def image(self, sample):
        sample = first_of(sample)
        if isinstance(sample, (str, bytes, os.PathLike)):
            from PIL import Image  # optional dependency

            with Image.open(sample) as im:
                return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
        arr = np.asarray(sample)
        if arr.dtype.kind == "f":
            arr = np.clip(arr * (255.0 if arr.max(initial=0) <= 1.0 else 1.0), 0, 255)
        arr = arr.astype(np.uint8)
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise ValueError(f"image renderer: a sample of shape {arr.shape} is not a picture")
        return arr[:, :, :3]


def renderer(name=None):
    """An instance of the ``sample_renderer`` plugin ``name`` (default ``image``)."""
    return ClassFactory.get_cls(ClassType.SAMPLE_RENDERER, name or DEFAULT_RENDERER)()
