"""The robot job's inputs as its Estimator takes them: index rows of paths
(``rgb depth``), frames as arrays, or dicts ``{"rgb"|"image", "depth"}``, each
turned into the model's arrays at a given size. Pillow, no torch."""

import os

import numpy as np


def as_str(p):
    if isinstance(p, bytes):
        return p.decode()
    return str(p) if isinstance(p, str) else os.fspath(p)


def as_items(data):
    """Any accepted input -> a list of items (path rows, arrays or dicts)."""
    if hasattr(data, "x") and not isinstance(data, np.ndarray):
        data = data.x
    if isinstance(data, np.ndarray):
        if data.dtype.kind in "uif" and data.ndim == 3 and data.shape[-1] in (3, 4):
            return [data]  # one frame
        return list(data)
    if isinstance(data, (str, bytes, os.PathLike, dict)):
        return [data]
    return list(data)


def is_frame(item):
    return isinstance(item, np.ndarray) and item.dtype.kind in "uif" and item.ndim == 3


def row_paths(item):
    if isinstance(item, (str, bytes, os.PathLike, np.str_)):
        return as_str(item).split()
    return [as_str(p) for p in list(item)]


def resize_rgb(rgb, size):
    from PIL import Image

    if size is None or rgb.shape[:2] == tuple(size):
        return rgb
    return np.asarray(Image.fromarray(rgb, "RGB").resize((size[1], size[0]), Image.BILINEAR))


def frame_to_uint8(frame):
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[-1] == 4:
        frame = frame[..., :3]
    if frame.dtype != np.uint8:
        frame = np.clip(np.rint(frame * (255.0 if frame.max() <= 1.0 else 1.0)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(frame)


def depth_array(depth, size):
    """A depth array or path -> normalised float32 (1, H, W) at ``size``, as load_sample does."""
    from PIL import Image

    from sedna.examples.robo.imageio import (  # lazy: pillow ([robo] extra)
        normalise_depth,
        png_to_disparity,
        read_depth,
    )

    if isinstance(depth, (str, bytes, os.PathLike, np.str_)):
        disp = read_depth(as_str(depth))
    else:
        depth = np.asarray(depth)
        if depth.ndim == 3:
            depth = depth[0] if depth.shape[0] == 1 else depth[..., 0]
        disp = png_to_disparity(depth) if depth.dtype == np.uint16 else depth.astype(np.float32)
    if size is not None and disp.shape != tuple(size):
        disp = np.asarray(Image.fromarray(disp.astype(np.float32), "F").resize((size[1], size[0]),
                                                                               Image.BILINEAR))
    return normalise_depth(disp)[None]


def load_input(item, size):
    """One item -> (rgb float32 (3,h,w), depth float32 (1,h,w) or None, original (H, W))."""
    from sedna.examples.robo.imageio import read_rgb  # lazy: pillow ([robo] extra)

    if isinstance(item, dict):
        rgb = item.get("rgb", item.get("image", item.get("img")))
        if rgb is None:
            raise ValueError(f"frame dict without 'rgb'/'image': keys {sorted(item)}")
        rgb = read_rgb(as_str(rgb)) if isinstance(rgb, (str, bytes, os.PathLike, np.str_)) \
            else frame_to_uint8(rgb)
        depth = item.get("depth")
        orig = rgb.shape[:2]
        rgb_t = np.ascontiguousarray(resize_rgb(rgb, size).transpose(2, 0, 1), dtype=np.float32) / 255.0
        return rgb_t, (None if depth is None else depth_array(depth, size)), orig
    if is_frame(item):
        rgb = frame_to_uint8(item)
        rgb_t = np.ascontiguousarray(resize_rgb(rgb, size).transpose(2, 0, 1), dtype=np.float32) / 255.0
        return rgb_t, None, rgb.shape[:2]
    paths = row_paths(item)
    if len(paths) >= 2 and paths[1] != paths[0]:  # [rgb, rgb] = "no depth" (predict.py's fallback)
        from PIL import Image

        from sedna.examples.robo.imageio import load_sample  # lazy: pillow ([robo] extra)

        with Image.open(paths[0]) as img:  # header only: the original size
            w, h = img.size
        rgb_t, depth_t, _ = load_sample(paths[:2], size=size)
        return rgb_t, depth_t, (h, w)
    if paths:
        rgb = read_rgb(paths[0])
        rgb_t = np.ascontiguousarray(resize_rgb(rgb, size).transpose(2, 0, 1), dtype=np.float32) / 255.0
        return rgb_t, None, rgb.shape[:2]
    raise ValueError(f"cannot read a frame from {item!r}")


def label_array(y):
    """A label map given as an array or a path -> ``uint8 (H, W)``."""
    from sedna.examples.robo.imageio import read_label  # lazy: pillow ([robo] extra)

    if isinstance(y, np.ndarray) and y.ndim == 2:
        return y
    return read_label(as_str(y))
