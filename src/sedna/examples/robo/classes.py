"""The 24 classes: the 19 Cityscapes train IDs, then stair, curb, ramp and two
spares. One table; index = train ID = position. 255 is "ignore"."""

import numpy as np

IGNORE = 255

CLASSES = [
    # (train id, name, RGB colour)
    (0, "road", (128, 64, 128)),
    (1, "sidewalk", (244, 35, 232)),
    (2, "building", (70, 70, 70)),
    (3, "wall", (102, 102, 156)),
    (4, "fence", (190, 153, 153)),
    (5, "pole", (153, 153, 153)),
    (6, "traffic light", (250, 170, 30)),
    (7, "traffic sign", (220, 220, 0)),
    (8, "vegetation", (107, 142, 35)),
    (9, "terrain", (152, 251, 152)),
    (10, "sky", (70, 130, 180)),
    (11, "person", (220, 20, 60)),
    (12, "rider", (255, 0, 0)),
    (13, "car", (0, 0, 142)),
    (14, "truck", (0, 0, 70)),
    (15, "bus", (0, 60, 100)),
    (16, "train", (0, 80, 100)),
    (17, "motorcycle", (0, 0, 230)),
    (18, "bicycle", (119, 11, 32)),
    (19, "stair", (255, 140, 0)),
    (20, "curb", (190, 90, 255)),
    (21, "ramp", (0, 200, 200)),
    (22, "spare1", (90, 90, 0)),
    (23, "spare2", (0, 90, 90)),
]
NUM_CLASSES = len(CLASSES)
NAMES = [name for _, name, _ in CLASSES]
ID = {name: i for i, name, _ in CLASSES}
PALETTE = np.array([c for _, _, c in CLASSES], dtype=np.uint8)

assert [i for i, _, _ in CLASSES] == list(range(NUM_CLASSES))


def colorize(label):
    """Label map (H, W) of train IDs -> RGB (H, W, 3); ignore (255) is black."""
    label = np.asarray(label)
    out = np.zeros(label.shape + (3,), dtype=np.uint8)
    ok = label < NUM_CLASSES
    out[ok] = PALETTE[label[ok]]
    return out
