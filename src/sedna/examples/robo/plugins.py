"""Plugins of the robot-dog job, registered when a worker imports this module.

``robo_image_stats``: a frame's appearance as a small feature vector (mean
colour and spread over a 4 x 8 grid, plus mean disparity per grid row), used
by the task allocation (which task model serves a frame) and by unseen-frame
detection (how far a frame lies from every known scene). It reads the frames
from their paths, so samples stay paths end to end.
"""

from functools import lru_cache

import numpy as np

from sedna.common.class_factory import ClassFactory, ClassType
from sedna.core.labelling.naming import LabelNaming
from sedna.core.labelling.render import ImageRenderer, first_of

GRID = (4, 8)


@lru_cache(maxsize=4096)
def _frame_features(rgb_path, depth_path):
    from PIL import Image

    with Image.open(rgb_path) as im:
        small = np.asarray(im.convert("RGB").resize((GRID[1] * 4, GRID[0] * 4), Image.BILINEAR), dtype=np.float64)
    h, w = GRID
    cells = small.reshape(h, 4, w, 4, 3)
    means = cells.mean(axis=(1, 3)).ravel() / 255.0
    spread = cells.std(axis=(1, 3)).mean(axis=-1).ravel() / 255.0
    feats = [means, spread]
    if depth_path:
        with Image.open(depth_path) as im:
            d = np.asarray(im.resize((w * 4, h * 4), Image.NEAREST), dtype=np.float64)
        feats.append(d.reshape(h, 4, w * 4).mean(axis=(1, 2)) / 65535.0)
    return np.concatenate(feats)


def _rows(samples):
    x = np.asarray(samples.x)
    if x.ndim == 1:
        return [(str(p), None) for p in x]
    return [(str(r[0]), str(r[1]) if len(r) > 1 else None) for r in x]


@ClassFactory.register(ClassType.CALLBACK, alias="robo_image_stats")
def image_stats(samples):
    """Features of every frame of ``samples`` (x rows are [rgb, depth] paths)."""
    return np.stack([_frame_features(rgb, depth) for rgb, depth in _rows(samples)])


# The robot's file naming (Cityscapes'), as its job declares it to the labelling
# loop: FRAME_SUFFIX and LABEL_SUFFIX in the inference worker's env (manifests/job.yaml).
FRAME_SUFFIX = "_leftImg8bit.png"
LABEL_SUFFIXES = ("_gtFine_labelTrainIds.png", "_label.png")
NAMING = LabelNaming(FRAME_SUFFIX, LABEL_SUFFIXES)


@ClassFactory.register(ClassType.SAMPLE_RENDERER, alias="robo")
class RoboRenderer(ImageRenderer):
    """The robot's frames (``[rgb, depth]`` paths) and its segmentations in the
    Cityscapes class colours (train IDs; 255 and beyond: no class)."""

    def image(self, sample):
        from sedna.examples.robo.imageio import read_rgb  # lazy: pillow ([robo] extra)

        sample = first_of(sample)
        return read_rgb(sample) if isinstance(sample, str) else super().image(sample)

    def palette(self, mask):
        from sedna.examples.robo.classes import (  # lazy: [robo] extra
            NUM_CLASSES,
            colorize,
        )

        mask = np.asarray(mask)
        return colorize(mask), mask >= NUM_CLASSES
