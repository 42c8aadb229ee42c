"""Reading and writing the robot-dog images in the Cityscapes conventions.

* RGB: 8-bit PNG/JPEG, returned as ``uint8 (H, W, 3)``.
* Label: 8-bit PNG (mode ``L`` or ``P``) of train IDs, ``255`` = ignore,
  returned as ``uint8 (H, W)``. Labels are never interpolated: writers store
  them as they are, and :func:`load_sample` resizes them with NEAREST.
* Depth: 16-bit PNG of disparity as Cityscapes stores it,
  ``value = disparity * 256 + 1`` and ``0`` = invalid; :func:`read_depth`
  returns the disparity in pixels (``float32``), ``0`` where invalid.

:func:`load_sample` turns one index record (``[rgb, depth]`` or
``[rgb, depth, label]`` paths) into the tensors-to-be of the model. It does
not assume any folder layout: any paths work.

A missing file raises :class:`~sedna.common.exceptions.DataFileNotFoundError`,
an unreadable or malformed one :class:`ImageFileError` (a ``ValueError``);
both name the file.
"""

import os

import numpy as np
from PIL import Image

from sedna.common.exceptions import DataFileNotFoundError, SednaError
from sedna.examples.robo.classes import IGNORE, NUM_CLASSES, colorize

__all__ = ("ImageFileError", "read_rgb", "read_label", "read_depth", "write_rgb", "write_label",
           "write_depth", "write_color", "overlay", "load_sample", "normalise_depth",
           "disparity_to_png", "png_to_disparity")

# zlib level of every PNG we write: 1 is several times faster than the
# default on noisy images and the files stay deterministic.
PNG_COMPRESS_LEVEL = 1


class ImageFileError(SednaError, ValueError):
    """An image file exists but cannot be read, or holds the wrong kind of image."""

    def __init__(self, path, reason):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def _open(path, what):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataFileNotFoundError(f"{what} file not found: {path}")
    try:
        img = Image.open(path)
        img.load()
    except FileNotFoundError:
        raise DataFileNotFoundError(f"{what} file not found: {path}") from None
    except (OSError, SyntaxError, ValueError) as err:
        # PIL.UnidentifiedImageError is an OSError; truncated data raises OSError
        raise ImageFileError(path, f"not a readable {what} image ({type(err).__name__}: {err})") from None
    return img


def read_rgb(path):
    """RGB image as ``uint8 (H, W, 3)``; grey, palette and RGBA images are converted."""
    img = _open(path, "rgb")
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        raise ImageFileError(path, f"expected an 8-bit colour image, got mode {img.mode}")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def read_label(path):
    """Label map of train IDs as ``uint8 (H, W)`` (255 = ignore).

    Accepts 8-bit grey (``L``) and palette (``P``, the indices are the IDs)
    PNGs, and 16/32-bit grey ones whose values all fit in 0..255. A colour
    image is refused: colours are not class IDs.
    """
    img = _open(path, "label")
    if img.mode in ("L", "P"):
        return np.asarray(img, dtype=np.uint8).copy()
    if img.mode in ("I", "I;16", "I;16B", "I;16L"):
        arr = np.asarray(img)
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ImageFileError(path, f"label values out of 0..255 (mode {img.mode})")
        return arr.astype(np.uint8)
    raise ImageFileError(path, f"expected a single-channel label image (mode L or P), got mode {img.mode}")


def png_to_disparity(raw):
    """Cityscapes 16-bit values -> disparity in pixels (0 where invalid)."""
    raw = np.asarray(raw)
    disp = (raw.astype(np.float32) - 1.0) / 256.0
    disp[raw <= 0] = 0.0
    return disp


def disparity_to_png(disp):
    """Disparity in pixels -> Cityscapes 16-bit values (``d*256+1``; 0 where ``d <= 0`` or NaN)."""
    disp = np.asarray(disp, dtype=np.float64)
    valid = np.isfinite(disp) & (disp > 0)
    out = np.zeros(disp.shape, dtype=np.uint16)
    out[valid] = np.clip(np.rint(disp[valid] * 256.0) + 1.0, 1, 65535).astype(np.uint16)
    return out


def read_depth(path):
    """Disparity in pixels as ``float32 (H, W)``, 0 where invalid.

    16-bit PNGs are decoded the Cityscapes way (``(v - 1) / 256``, ``v = 0``
    invalid). An 8-bit grey image is taken as a plain depth map: its values
    are returned unchanged.
    """
    img = _open(path, "depth")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return png_to_disparity(np.asarray(img))
    if img.mode == "F":
        return np.nan_to_num(np.asarray(img, dtype=np.float32)).copy()
    if img.mode == "L":
        return np.asarray(img, dtype=np.float32).copy()
    raise ImageFileError(path, f"expected a 16-bit disparity PNG, got mode {img.mode}")


def _prepare(path):
    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    return path


def write_rgb(path, rgb):
    """Write ``uint8 (H, W, 3)`` as a PNG (parent folders are created)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"{path}: expected an (H, W, 3) image, got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        rgb = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(_prepare(path), compress_level=PNG_COMPRESS_LEVEL)


def _check_label(path, label):
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f"{path}: expected an (H, W) label map, got shape {label.shape}")
    if label.size:
        if np.issubdtype(label.dtype, np.floating) and not np.all(label == np.round(label)):
            raise ValueError(f"{path}: label map holds non-integer values")
        bad = (label < 0) | ((label >= NUM_CLASSES) & (label != IGNORE))
        if bad.any():
            vals = np.unique(label[bad])[:5].tolist()
            raise ValueError(f"{path}: label values {vals} are neither a train ID (0..{NUM_CLASSES - 1}) "
                             f"nor ignore ({IGNORE})")
    return label.astype(np.uint8)


def write_label(path, label):
    """Write train IDs as an 8-bit grey PNG, exactly as given (never resized)."""
    label = _check_label(path, label)
    Image.fromarray(label, "L").save(_prepare(path), compress_level=PNG_COMPRESS_LEVEL)


def write_depth(path, disparity):
    """Write disparity (pixels, 0/NaN = invalid) as a Cityscapes 16-bit PNG."""
    raw = disparity_to_png(disparity)
    if raw.ndim != 2:
        raise ValueError(f"{path}: expected an (H, W) disparity map, got shape {raw.shape}")
    Image.fromarray(raw).save(_prepare(path), compress_level=PNG_COMPRESS_LEVEL)


def write_color(path, label):
    """Write the label map in the class colours (ignore = black)."""
    label = _check_label(path, label)
    Image.fromarray(colorize(label), "RGB").save(_prepare(path), compress_level=PNG_COMPRESS_LEVEL)


def overlay(rgb, label, alpha=0.5):
    """Blend class colours over an image: ``uint8 (H, W, 3)``; ignore pixels keep the image."""
    rgb = np.asarray(rgb)
    label = np.asarray(label)
    if rgb.shape[:2] != label.shape:
        raise ValueError(f"overlay: image {rgb.shape[:2]} and label {label.shape} differ in size")
    base = rgb.astype(np.float32)
    out = (1.0 - alpha) * base + alpha * colorize(label).astype(np.float32)
    ignore = label >= NUM_CLASSES
    out[ignore] = base[ignore]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def normalise_depth(disparity):
    """Disparity -> ``[0, 1]``: divided by the frame's largest disparity (0 stays invalid).

    Per-frame scaling keeps the input independent of image size (disparity in
    pixels grows with the width) and of the camera's baseline.
    """
    disparity = np.nan_to_num(np.asarray(disparity, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    disparity = np.maximum(disparity, 0.0)
    top = float(disparity.max()) if disparity.size else 0.0
    if top > 0:
        disparity = disparity / top
    return disparity.astype(np.float32)


def _resize(arr, size, resample, mode=None):
    h, w = size
    if arr.shape[:2] == (h, w):
        return arr
    img = Image.fromarray(arr, mode) if mode else Image.fromarray(arr)
    return np.asarray(img.resize((w, h), resample=resample))


def load_sample(paths, size=None):
    """One record -> ``(rgb, depth, label)`` arrays ready for a model.

    ``paths``: ``[rgb, depth]`` or ``[rgb, depth, label]`` (any paths; a
    NumPy row of an index works). Returns ``rgb`` float32 ``(3, H, W)`` in
    ``[0, 1]``, ``depth`` float32 ``(1, H, W)`` normalised by
    :func:`normalise_depth`, ``label`` int64 ``(H, W)`` or ``None`` without a
    label path. ``size=(H, W)`` resizes: bilinear for rgb and depth, NEAREST
    for the label, whose values are thus never interpolated.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise ValueError(f"load_sample: expected [rgb, depth] or [rgb, depth, label] paths, got {paths!r}")
    paths = [str(os.fspath(p)) for p in list(paths)]
    if len(paths) not in (2, 3):
        raise ValueError(f"load_sample: expected [rgb, depth] or [rgb, depth, label] paths, got {paths!r}")
    rgb = read_rgb(paths[0])
    disp = read_depth(paths[1])
    label = read_label(paths[2]) if len(paths) == 3 and paths[2] else None
    if disp.shape != rgb.shape[:2]:
        raise ValueError(f"depth {paths[1]} is {disp.shape[1]}x{disp.shape[0]} but rgb {paths[0]} "
                         f"is {rgb.shape[1]}x{rgb.shape[0]}")
    if label is not None and label.shape != rgb.shape[:2]:
        raise ValueError(f"label {paths[2]} is {label.shape[1]}x{label.shape[0]} but rgb {paths[0]} "
                         f"is {rgb.shape[1]}x{rgb.shape[0]}")
    if size is not None:
        size = (int(size[0]), int(size[1]))
        if size[0] <= 0 or size[1] <= 0:
            raise ValueError(f"load_sample: size must be positive (H, W), got {size}")
        rgb = _resize(rgb, size, Image.BILINEAR, "RGB")
        disp = _resize(disp.astype(np.float32), size, Image.BILINEAR, "F")
        if label is not None:
            label = _resize(label, size, Image.NEAREST, "L")
    rgb_t = np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) / 255.0
    depth_t = normalise_depth(disp)[None]
    label_t = None if label is None else label.astype(np.int64)
    return rgb_t, depth_t, label_t
