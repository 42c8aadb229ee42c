"""Procedural street and campus scenes in the Cityscapes layout.

The real data of the tutorial (Cityscapes, SYNTHIA) cannot be downloaded
here, so this module renders stand-ins with NumPy: a pinhole camera above a
flat ground plane, a road with curbs and sidewalks, building facades with
windows, poles, signs, traffic lights, cars, persons and trees, each drawn as
a label mask first; the RGB image is then rendered from the labels, a
per-domain palette and texture noise, and the disparity from the same
geometry. Labels are exact class IDs per pixel and are never interpolated.

Domains (``origin/name``; the origin is part of every path):

* ``real/aachen``  -- daylight, clear sky, tall sandstone/cream facades.
* ``real/bremen``  -- overcast, low red-brick facades, grass verges, hedges
  and many trees.
* ``sim/synthia``  -- simulator look: flat saturated colours, no texture
  noise, higher camera (horizon higher in the image), wider lens.
* ``real/garden``  -- HELD OUT: a campus garden path at dusk seen from a robot
  dog (low camera): dark, blue-purple cast, noisy, grass and vegetation, and
  the robot classes stair, curb and ramp in every frame; no cars.

Shift scenarios (:data:`SHIFTS`, mildest first; not part of :data:`DOMAINS`,
rendered only when asked for) for benchmarks of graded severity:

* ``real/zurich``      -- a new city's look: pale grey/ochre/mint facades of
  even height in long blocks, bright sky with clouds, darker blue-grey road,
  yellow lane marks; the seen cities' camera geometry.
* ``real/aachenlow``   -- aachen seen from the robot's own low viewpoint
  (camera 0.65 m above the ground, horizon lower in the image): aachen's
  palette and layout statistics, a different geometry.
* ``real/bremennight`` -- bremen at night in light rain: dark, bluish, lit
  windows, more sensor noise, fog and rain streaks.
* ``real/garden``      -- the held-out garden (above): the strongest shift.

Layout written under ``root`` (``<name>`` is the city or style)::

    leftImg8bit/<split>/<origin>/<name>/<name>_<seq:06d>_leftImg8bit.png
    depth/<split>/<origin>/<name>/<name>_<seq:06d>_disparity.png
    gtFine/<split>/<origin>/<name>/<name>_<seq:06d>_gtFine_labelTrainIds.png
    data.txt                train frames of the seen domains (the Dataset)
    <split>_<name>.txt      one domain, one split (e.g. test_garden.txt)
    <split>_seen.txt        one split, seen domains
    <split>_all.txt         one split, all domains (test_all.txt: a stream)
    dataset.json            what was written (the dict generate() returns)

Every index line is ``rgb depth label``, relative to the index file's folder
(the root), as in the tutorial's ``segmentation_data/data.txt``.

``python -m sedna.examples.robo.datagen ROOT [--frames N] [--size H W] [--domains D ...]``
"""

import argparse
import json
import os
import re
import sys
import time
import zlib

import numpy as np
from PIL import Image

from sedna.common.exceptions import DataFileNotFoundError
from sedna.examples.robo.classes import ID, IGNORE
from sedna.examples.robo.imageio import write_depth, write_label, write_rgb

__all__ = ("DOMAINS", "SEEN", "HELDOUT", "SHIFTS", "ALL_DOMAINS", "SPLITS", "render_frame", "generate",
           "domain_of", "frame_paths", "frame_truth", "domain_name", "main")

DOMAINS = ["real/aachen", "real/bremen", "sim/synthia", "real/garden"]
HELDOUT = "real/garden"
SEEN = [d for d in DOMAINS if d != HELDOUT]
# shift scenarios of graded severity, mildest first (the garden, the strongest, is the held-out domain)
SHIFTS = ["real/zurich", "real/aachenlow", "real/bremennight", "real/garden"]
# every domain the generator renders: DOMAINS, then the shifts that are not among them
ALL_DOMAINS = DOMAINS + [d for d in SHIFTS if d not in DOMAINS]
SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}
ORIGINS = ("real", "sim")

BASELINE = 0.22  # stereo baseline in metres (Cityscapes: 0.22 m)

_C = ID  # short alias: _C["road"] == 0

# ---------------------------------------------------------------------------
# Styles: appearance and layout statistics of each domain.
# ---------------------------------------------------------------------------

_BASE_COLOURS = {
    "road": (92, 90, 94), "sidewalk": (150, 142, 135), "building": (160, 150, 140),
    "wall": (140, 130, 120), "fence": (120, 110, 90), "pole": (105, 108, 112),
    "traffic light": (35, 38, 32), "traffic sign": (40, 90, 190), "vegetation": (60, 105, 40),
    "terrain": (120, 135, 70), "sky": (140, 180, 225), "person": (90, 60, 70), "rider": (90, 60, 70),
    "car": (120, 30, 30), "truck": (90, 90, 100), "bus": (200, 180, 40), "train": (150, 150, 150),
    "motorcycle": (30, 30, 30), "bicycle": (40, 40, 40), "stair": (165, 160, 150),
    "curb": (185, 182, 175), "ramp": (140, 138, 130), "spare1": (128, 128, 128),
    "spare2": (128, 128, 128),
}

_STYLES = {
    "real/aachen": dict(
        horizon=0.40, cam_height=1.35, focal=1.0, road=(3.2, 4.2), curb=0.25, sidewalk=(2.0, 3.5),
        verge=(0.0, 0.0), facade_h=(11.0, 22.0), block=(9.0, 24.0), gap=(0.0, 2.0), gap_prob=0.15,
        facades=[(205, 185, 145), (220, 205, 170), (185, 155, 115), (228, 218, 196), (196, 170, 138)],
        windows=(0.42, (60, 70, 85)), sky=((70, 125, 200), (175, 205, 235)), clouds=0.05,
        cars=(2, 5), persons=(1, 4), poles=(2, 4), trees=(0, 2), bushes=(0, 0), hedge=0.0,
        car_colours=[(30, 30, 35), (200, 200, 205), (120, 20, 25), (25, 45, 110), (140, 140, 145)],
        colours={"road": (88, 86, 92), "sidewalk": (165, 150, 135), "vegetation": (70, 110, 40)},
        brightness=1.0, tint=(1.02, 1.0, 0.96), noise=7.0, lowfreq=0.10, jitter=7.0,
        fog=(0.25, (190, 205, 225)), lane=(235, 235, 235), far="building",
    ),
    "real/bremen": dict(
        horizon=0.44, cam_height=1.25, focal=1.0, road=(2.6, 3.4), curb=0.22, sidewalk=(1.5, 2.5),
        verge=(0.6, 1.6), facade_h=(6.0, 11.0), block=(6.0, 14.0), gap=(3.0, 9.0), gap_prob=0.45,
        facades=[(150, 72, 55), (125, 62, 50), (168, 96, 72), (105, 95, 88), (140, 110, 90)],
        windows=(0.38, (235, 230, 215)), sky=((150, 155, 165), (206, 209, 213)), clouds=0.12,
        cars=(1, 3), persons=(0, 3), poles=(1, 3), trees=(3, 6), bushes=(1, 3), hedge=0.7,
        car_colours=[(40, 40, 45), (180, 182, 185), (70, 90, 60), (150, 120, 60), (60, 60, 90)],
        colours={"road": (78, 80, 82), "sidewalk": (125, 118, 112), "vegetation": (45, 90, 40),
                 "terrain": (95, 125, 60)},
        brightness=0.86, tint=(0.96, 1.0, 1.04), noise=9.0, lowfreq=0.14, jitter=8.0,
        fog=(0.35, (200, 203, 208)), lane=(215, 215, 210), far="vegetation",
    ),
    "sim/synthia": dict(
        horizon=0.30, cam_height=2.3, focal=0.8, road=(3.5, 5.0), curb=0.3, sidewalk=(2.5, 4.0),
        verge=(0.0, 0.0), facade_h=(9.0, 30.0), block=(8.0, 20.0), gap=(1.0, 4.0), gap_prob=0.3,
        facades=[(235, 85, 80), (80, 160, 235), (245, 205, 40), (120, 225, 120), (200, 110, 230)],
        windows=(0.5, (30, 30, 60)), sky=((80, 165, 255), (80, 165, 255)), clouds=0.0,
        cars=(3, 6), persons=(2, 5), poles=(2, 5), trees=(1, 3), bushes=(0, 1), hedge=0.0,
        car_colours=[(255, 30, 30), (30, 90, 255), (255, 220, 0), (20, 200, 60), (250, 250, 250)],
        colours={"road": (70, 70, 80), "sidewalk": (210, 200, 120), "vegetation": (20, 190, 40),
                 "terrain": (150, 230, 80), "pole": (240, 240, 240), "curb": (250, 250, 250),
                 "traffic sign": (0, 60, 255), "traffic light": (20, 20, 20), "person": (255, 120, 0)},
        brightness=1.0, tint=(1.0, 1.0, 1.0), noise=0.0, lowfreq=0.0, jitter=2.0,
        fog=(0.0, (0, 0, 0)), lane=(255, 230, 0), far=None,
    ),
    "real/garden": dict(
        horizon=0.50, cam_height=0.70, focal=1.0, path=(0.9, 1.5), curb=0.25, hedge_dist=(2.0, 4.0),
        hedge_h=(0.9, 2.2), steps=(3, 6), stair_z=(4.0, 8.0), ramp_w=(1.0, 1.5),
        sky=((22, 22, 55), (105, 70, 95)), clouds=0.05, trees=(3, 7), bushes=(3, 7), persons=(0, 1),
        poles=(1, 3), building_prob=0.4,
        colours={"sidewalk": (150, 135, 115), "vegetation": (40, 85, 35), "terrain": (70, 110, 45),
                 "curb": (200, 195, 185), "stair": (175, 168, 155), "ramp": (125, 128, 132),
                 "building": (150, 140, 125), "pole": (60, 62, 66)},
        brightness=0.5, tint=(0.85, 0.88, 1.22), noise=11.0, lowfreq=0.18, jitter=8.0,
        fog=(0.3, (70, 60, 95)), far="vegetation",
    ),
    # a new city's look, the seen cities' camera geometry
    "real/zurich": dict(
        horizon=0.42, cam_height=1.30, focal=1.0, road=(3.0, 3.8), curb=0.18, sidewalk=(2.2, 3.2),
        verge=(0.0, 0.4), facade_h=(14.0, 19.0), block=(18.0, 34.0), gap=(1.0, 3.0), gap_prob=0.1,
        facades=[(214, 214, 206), (196, 190, 150), (178, 196, 188), (226, 200, 150), (170, 176, 186)],
        windows=(0.30, (48, 58, 66)), sky=((95, 150, 215), (215, 228, 240)), clouds=0.18,
        cars=(2, 4), persons=(1, 4), poles=(2, 5), trees=(1, 3), bushes=(0, 1), hedge=0.0,
        car_colours=[(215, 215, 220), (20, 20, 25), (90, 95, 105), (150, 30, 35), (40, 70, 60)],
        colours={"road": (72, 76, 86), "sidewalk": (140, 140, 146), "vegetation": (55, 100, 55),
                 "terrain": (100, 130, 70), "curb": (165, 165, 170)},
        brightness=1.04, tint=(0.98, 1.0, 1.03), noise=6.0, lowfreq=0.08, jitter=6.0,
        fog=(0.2, (205, 215, 228)), lane=(230, 200, 60), far="building",
    ),
}
# aachen from the robot's own low viewpoint: aachen's appearance, the camera 0.65 m high
_STYLES["real/aachenlow"] = dict(_STYLES["real/aachen"], horizon=0.52, cam_height=0.65)
# bremen at night in light rain: dark, bluish, lit windows, noisier, foggy
_STYLES["real/bremennight"] = dict(
    _STYLES["real/bremen"], windows=(0.38, (255, 205, 120)), sky=((8, 10, 26), (48, 52, 78)), clouds=0.08,
    brightness=0.6, tint=(0.82, 0.92, 1.25), noise=12.0, lowfreq=0.2, fog=(0.3, (55, 60, 85)),
    rain=(0.004, 6, 0.35, (170, 180, 205)),
)

# texture noise strength per class, relative to the domain's sigma
_NOISE_GAIN = np.full(256, 0.7, dtype=np.float32)
for _name, _g in (("road", 1.0), ("sidewalk", 0.8), ("building", 0.9), ("vegetation", 1.9),
                  ("terrain", 1.5), ("sky", 0.25), ("car", 0.5), ("stair", 0.8), ("ramp", 0.9),
                  ("curb", 0.6)):
    _NOISE_GAIN[_C[_name]] = _g


def domain_name(domain):
    """``"real/aachen"`` -> ``"aachen"`` (the city or style)."""
    return domain.split("/", 1)[1]


def _check_domain(domain):
    if domain not in _STYLES:
        raise ValueError(f"unknown domain {domain!r}; domains: {', '.join(ALL_DOMAINS)}")


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

class _Scene:
    """Label, base colour and disparity canvases plus the camera."""

    def __init__(self, size, rng, style):
        self.H, self.W = int(size[0]), int(size[1])
        if self.H < 8 or self.W < 8:
            raise ValueError(f"size must be at least 8x8 (H, W), got {size}")
        H, W = self.H, self.W
        self.rng = rng
        self.style = style
        # pixel centres, broadcastable (H, 1) and (1, W)
        self.yy = (np.arange(H, dtype=np.float32) + 0.5)[:, None]
        self.xx = (np.arange(W, dtype=np.float32) + 0.5)[None, :]
        self.f = W * style["focal"] * rng.uniform(0.95, 1.05)
        self.yh = H * (style["horizon"] + rng.uniform(-0.03, 0.03))
        self.hc = style["cam_height"] * rng.uniform(0.93, 1.07)
        self.vx = W * (0.5 + rng.uniform(-0.06, 0.06))
        self.label = np.full((H, W), _C["sky"], dtype=np.uint8)
        self.col = np.zeros((H, W, 3), dtype=np.float32)
        self.disp = np.zeros((H, W), dtype=np.float32)
        # per-frame palette: domain colours + jitter
        jit = style["jitter"]
        self.palette = {}
        for name, c in _BASE_COLOURS.items():
            c = style.get("colours", {}).get(name, c)
            self.palette[name] = np.clip(np.asarray(c, np.float32) + rng.normal(0, jit, 3), 0, 255)

    # geometry -------------------------------------------------------------
    def scale(self, z):
        """Pixels per metre at depth z."""
        return self.f / z

    def row(self, z, h=0.0):
        """Image row of a point at depth z and height h above the ground."""
        return self.yh + (self.hc - h) * self.f / z

    def col_of(self, z, x):
        return self.vx + x * self.f / z

    def dispar(self, z):
        return BASELINE * self.f / z

    # painting -------------------------------------------------------------
    def paint(self, mask, cls, colour, disp):
        if not mask.any():
            return
        self.label[mask] = cls
        colour = np.asarray(colour, dtype=np.float32)
        self.col[mask] = colour[mask] if colour.ndim == 3 else colour
        disp = np.asarray(disp, dtype=np.float32)
        self.disp[mask] = disp[mask] if disp.ndim == 2 else disp

    def rect(self, x0, x1, y0, y1):
        """Axis-aligned box in pixel coordinates; at least one pixel wide."""
        if x1 - x0 < 1.0:
            c = 0.5 * (x0 + x1)
            x0, x1 = c - 0.5, c + 0.5
        if y1 - y0 < 1.0:
            c = 0.5 * (y0 + y1)
            y0, y1 = c - 0.5, c + 0.5
        return ((self.xx >= x0) & (self.xx < x1)) & ((self.yy >= y0) & (self.yy < y1))

    def ellipse(self, cx, cy, rx, ry):
        rx, ry = max(rx, 0.6), max(ry, 0.6)
        return ((self.xx - cx) / rx) ** 2 + ((self.yy - cy) / ry) ** 2 <= 1.0

    def trapezoid(self, y0, y1, xl0, xr0, xl1, xr1):
        """Rows y0..y1 (y0 < y1); left/right edges go linearly from (xl0, xr0) at y0 to (xl1, xr1) at y1."""
        if y1 - y0 < 1e-3:
            return np.zeros((self.H, self.W), dtype=bool)
        t = np.clip((self.yy - y0) / (y1 - y0), 0.0, 1.0)
        xl = xl0 + (xl1 - xl0) * t
        xr = xr0 + (xr1 - xr0) * t
        return (self.yy >= y0) & (self.yy < y1) & (self.xx >= xl) & (self.xx < xr)

    def polygon(self, pts):
        """Convex polygon (any winding)."""
        pts = np.asarray(pts, dtype=np.float32)
        n = len(pts)
        area = 0.5 * sum(pts[i, 0] * pts[(i + 1) % n, 1] - pts[(i + 1) % n, 0] * pts[i, 1] for i in range(n))
        sign = 1.0 if area >= 0 else -1.0
        mask = np.ones((self.H, self.W), dtype=bool)
        for i in range(n):
            (x0, y0), (x1, y1) = pts[i], pts[(i + 1) % n]
            cross = (x1 - x0) * (self.yy - y0) - (y1 - y0) * (self.xx - x0)
            mask &= sign * cross >= 0
        return mask

    def lowfreq(self, cells=8):
        """Smooth noise in [-1, 1] (bilinear upsampling of a coarse grid)."""
        gh, gw = max(2, self.H // cells + 2), max(2, self.W // cells + 2)
        coarse = self.rng.uniform(-1.0, 1.0, (gh, gw)).astype(np.float32)
        return np.asarray(Image.fromarray(coarse, "F").resize((self.W, self.H), Image.BILINEAR))

    def c(self, name):
        return self.palette[name]


def _ground_coords(sc):
    """Lateral position X (m), depth Z (m) and disparity of every ground pixel below the horizon."""
    dy = sc.yy - sc.yh
    below = np.broadcast_to(dy > 0.05, (sc.H, sc.W))
    dyp = np.where(dy > 0.05, dy, np.float32(np.inf))
    X = (sc.xx - sc.vx) * sc.hc / dyp
    Z = sc.hc * sc.f / dyp
    D = np.broadcast_to(np.where(dy > 0.05, BASELINE * dy / sc.hc, 0.0).astype(np.float32), (sc.H, sc.W))
    return below, np.broadcast_to(X, (sc.H, sc.W)), np.broadcast_to(Z, (sc.H, sc.W)), D


def _sky(sc):
    st = sc.style
    top, hor = (np.asarray(c, np.float32) for c in st["sky"])
    t = np.clip(sc.yy / max(sc.yh, 1.0), 0.0, 1.0)[..., None]  # (H,1,1)
    grad = top + (hor - top) * t
    col = np.broadcast_to(grad, (sc.H, sc.W, 3)).copy()
    if st["clouds"] > 0:
        col *= (1.0 + st["clouds"] * sc.lowfreq(cells=12))[..., None]
    col += sc.rng.normal(0, 0.3 * st["jitter"], 3).astype(np.float32)
    sc.col[:] = col
    sc.label[:] = _C["sky"]


def _far_band(sc, kind):
    """A band of distant trees or buildings on the horizon."""
    if kind is None:
        return
    rng = sc.rng
    h = np.zeros(sc.W, dtype=np.float32)
    x = 0
    while x < sc.W:
        w = int(rng.integers(max(2, sc.W // 20), max(3, sc.W // 6)))
        h[x:x + w] = rng.uniform(0.01, 0.06 if kind == "building" else 0.04) * sc.H
        x += w
    if kind == "vegetation":
        h += (sc.lowfreq(cells=4)[0] * 0.015 * sc.H).astype(np.float32)
    mask = (sc.yy >= sc.yh - h[None, :]) & (sc.yy < sc.yh + 1.0)
    d = sc.dispar(300.0)
    sc.paint(mask, _C[kind], sc.c(kind) * 0.9, d)


def _street_ground(sc, road_l, road_r, curb, side_l, side_r):
    st = sc.style
    below, X, Z, D = _ground_coords(sc)
    # terrain everywhere beyond the sidewalks (visible in gaps)
    sc.paint(below, _C["terrain"], sc.c("terrain"), D)
    side = below & (X > -(road_l + curb + side_l)) & (X < road_r + curb + side_r)
    tiles = (np.mod(Z, 0.8) < 0.08) | (np.mod(X, 0.8) < 0.08)
    side_col = np.where(tiles[..., None], sc.c("sidewalk") * 0.82, sc.c("sidewalk"))
    sc.paint(side, _C["sidewalk"], side_col, D)
    curb_m = below & (X > -(road_l + curb)) & (X < road_r + curb)
    sc.paint(curb_m, _C["curb"], sc.c("curb"), D)
    road = below & (X > -road_l) & (X < road_r)
    road_col = np.broadcast_to(sc.c("road"), (sc.H, sc.W, 3)).copy()
    # lane markings (colour only: they are road)
    lane_x = road_r - (road_l + road_r) * 0.5 + 0.0
    dashes = (np.abs(X - lane_x) < 0.08) & (np.mod(Z, 9.0) < 4.5 if st["noise"] > 0 else True)
    road_col[dashes] = np.asarray(st["lane"], np.float32)
    sc.paint(road, _C["road"], road_col, D)
    return X, Z, D


def _facades(sc, x_line, side, hedge):
    """Building blocks along the street on one side (side = -1 left, +1 right)."""
    st, rng = sc.style, sc.rng
    dx = sc.xx[0] - sc.vx  # (W,)
    on_side = (dx * side) > 0.5
    zcol = np.full(sc.W, np.inf, dtype=np.float32)
    zcol[on_side] = abs(x_line) * sc.f / np.abs(dx[on_side])
    zmin = float(zcol[on_side].min()) if on_side.any() else 5.0
    # blocks along the street from the nearest visible depth to far away
    height = np.zeros(sc.W, dtype=np.float32)
    colour = np.zeros((sc.W, 3), dtype=np.float32)
    win_sp = np.ones(sc.W, dtype=np.float32)
    z = zmin - rng.uniform(0, 10.0)
    while z < 140.0:
        if rng.random() < st["gap_prob"]:
            z += rng.uniform(*st["gap"])
        length = rng.uniform(*st["block"])
        sel = (zcol >= z) & (zcol < z + length)
        height[sel] = rng.uniform(*st["facade_h"])
        base = np.asarray(st["facades"][int(rng.integers(len(st["facades"])))], np.float32)
        colour[sel] = np.clip(base + rng.normal(0, st["jitter"], 3), 0, 255)
        win_sp[sel] = rng.uniform(2.2, 3.6)
        z += length
    valid = on_side & (height > 0) & np.isfinite(zcol)
    zc = np.where(valid, zcol, 1.0)
    base_row = sc.yh + sc.hc * sc.f / zc
    top_row = sc.yh + (sc.hc - height) * sc.f / zc
    disp = np.where(valid, BASELINE * sc.f / zc, 0.0).astype(np.float32)
    mask = valid[None, :] & (sc.yy >= top_row[None, :]) & (sc.yy < base_row[None, :])
    if mask.any():
        # windows: in facade coordinates (along-street u = depth, v = height)
        v = (base_row[None, :] - sc.yy) * zc[None, :] / sc.f
        u = zc[None, :]
        wfrac, wcol = st["windows"]
        win = ((np.mod(u, win_sp[None, :]) < win_sp[None, :] * wfrac)
               & (np.mod(v, 3.2) > 1.0) & (np.mod(v, 3.2) < 2.5) & (v > 3.0)
               & (v < height[None, :] - 0.8))
        col = np.broadcast_to(colour[None, :, :], (sc.H, sc.W, 3)).copy()
        col[win] = np.asarray(wcol, np.float32) + sc.rng.normal(0, 4, 3).astype(np.float32)
        sc.paint(mask, _C["building"], col, np.broadcast_to(disp[None, :], (sc.H, sc.W)))
    if hedge:
        hh = rng.uniform(0.8, 1.4)
        hon = on_side & np.isfinite(zcol) & (zcol < 80)
        zh = np.where(hon, zcol, 1.0)
        top = sc.yh + (sc.hc - hh) * sc.f / zh
        hbase = sc.yh + sc.hc * sc.f / zh
        hmask = hon[None, :] & (sc.yy >= top[None, :]) & (sc.yy < hbase[None, :])
        sc.paint(hmask, _C["vegetation"], sc.c("vegetation") * 0.85,
                 np.broadcast_to((BASELINE * sc.f / zh)[None, :], (sc.H, sc.W)))


# objects: each is (depth, painter); painted far to near ----------------------

def _car(sc, z, x, colour):
    s = sc.scale(z)
    yb, xc, d = sc.row(z), sc.col_of(z, x), sc.dispar(z)
    body = sc.rect(xc - 0.9 * s, xc + 0.9 * s, yb - 0.85 * s, yb)
    cabin = sc.rect(xc - 0.72 * s, xc + 0.72 * s, yb - 1.45 * s, yb - 0.8 * s)
    mask = body | cabin
    col = np.broadcast_to(np.asarray(colour, np.float32), (sc.H, sc.W, 3)).copy()
    glass = sc.rect(xc - 0.62 * s, xc + 0.62 * s, yb - 1.38 * s, yb - 0.9 * s)
    col[glass] = (35, 45, 55)
    wheels = sc.rect(xc - 0.9 * s, xc + 0.9 * s, yb - 0.3 * s, yb) & (np.abs(sc.xx - xc) > 0.5 * s)
    col[wheels] = (18, 18, 20)
    lights = sc.rect(xc - 0.85 * s, xc + 0.85 * s, yb - 0.7 * s, yb - 0.55 * s) & (np.abs(sc.xx - xc) > 0.6 * s)
    col[lights] = (200, 25, 20)
    sc.paint(mask, _C["car"], col, d)


def _person(sc, z, x, shirt, trousers):
    s = sc.scale(z)
    yb, xc, d = sc.row(z), sc.col_of(z, x), sc.dispar(z)
    legs = sc.rect(xc - 0.2 * s, xc + 0.2 * s, yb - 0.85 * s, yb) & (np.abs(sc.xx - xc) > 0.03 * s)
    torso = sc.rect(xc - 0.25 * s, xc + 0.25 * s, yb - 1.45 * s, yb - 0.82 * s)
    head = sc.ellipse(xc, yb - 1.57 * s, 0.11 * s, 0.13 * s)
    col = np.empty((sc.H, sc.W, 3), np.float32)
    col[:] = np.asarray(trousers, np.float32)
    col[torso] = shirt
    col[head] = (190, 150, 120)
    sc.paint(legs | torso | head, _C["person"], col, d)


def _pole(sc, z, x, height, attach):
    s = sc.scale(z)
    yb, xc, d = sc.row(z), sc.col_of(z, x), sc.dispar(z)
    sc.paint(sc.rect(xc - 0.08 * s, xc + 0.08 * s, yb - height * s, yb), _C["pole"], sc.c("pole"), d)
    rng = sc.rng
    if attach == "sign":
        cy = yb - (height - 0.5) * s
        if rng.random() < 0.5:
            m = sc.ellipse(xc, cy, 0.32 * s, 0.32 * s)
        else:
            m = sc.rect(xc - 0.3 * s, xc + 0.3 * s, cy - 0.3 * s, cy + 0.3 * s)
        colours = [(30, 80, 200), (210, 30, 30), (235, 200, 20), (240, 240, 240)]
        base = np.asarray(colours[int(rng.integers(len(colours)))], np.float32)
        col = np.broadcast_to(base, (sc.H, sc.W, 3)).copy()
        inner = sc.ellipse(xc, cy, 0.15 * s, 0.15 * s)
        col[inner] = (245, 245, 245) if base[0] < 200 or base[1] < 200 else (30, 30, 30)
        sc.paint(m, _C["traffic sign"], col, d * 1.01)
    elif attach == "light":
        y0 = yb - height * s
        m = sc.rect(xc - 0.18 * s, xc + 0.18 * s, y0 - 0.2 * s, y0 + 0.75 * s)
        col = np.broadcast_to(sc.c("traffic light"), (sc.H, sc.W, 3)).copy()
        k = int(rng.integers(3))
        lamp = sc.ellipse(xc, y0 + (0.05 + 0.25 * k) * s, 0.1 * s, 0.1 * s)
        col[lamp] = [(255, 40, 30), (255, 190, 20), (40, 255, 120)][k]
        sc.paint(m, _C["traffic light"], col, d * 1.01)
    elif attach == "lamp":
        y0 = yb - height * s
        sc.paint(sc.ellipse(xc, y0, 0.2 * s, 0.12 * s), _C["pole"], (255, 225, 160), d)


def _tree(sc, z, x, size):
    s = sc.scale(z)
    yb, xc, d = sc.row(z), sc.col_of(z, x), sc.dispar(z)
    sc.paint(sc.rect(xc - 0.15 * s, xc + 0.15 * s, yb - 2.6 * s, yb), _C["vegetation"], (70, 55, 40), d)
    crown = sc.ellipse(xc, yb - (2.4 + size) * s, 0.85 * size * s, size * s)
    crown |= sc.ellipse(xc + 0.5 * size * s, yb - (2.2 + 0.7 * size) * s, 0.6 * size * s, 0.6 * size * s)
    col = np.broadcast_to(sc.c("vegetation") * sc.rng.uniform(0.8, 1.15), (sc.H, sc.W, 3))
    sc.paint(crown, _C["vegetation"], col, d)


def _bush(sc, z, x, size):
    s = sc.scale(z)
    yb, xc, d = sc.row(z), sc.col_of(z, x), sc.dispar(z)
    m = sc.ellipse(xc, yb - 0.4 * size * s, size * s, 0.5 * size * s) & (sc.yy < yb + 0.5)
    sc.paint(m, _C["vegetation"], sc.c("vegetation") * sc.rng.uniform(0.85, 1.2), d)


def _random_people(sc, n, xs_range, zs=(5.0, 40.0)):
    rng, objs = sc.rng, []
    for _ in range(n):
        z = rng.uniform(*zs)
        x = rng.uniform(*xs_range) * (1 if rng.random() < 0.5 else -1)
        shirt = np.clip(rng.uniform(20, 230, 3), 0, 255)
        trousers = np.clip(rng.uniform(15, 90, 3), 0, 255)
        objs.append((z, lambda z=z, x=x, a=shirt, b=trousers: _person(sc, z, x, a, b)))
    return objs


def _render_street(sc):
    st, rng = sc.style, sc.rng
    road_l, road_r = rng.uniform(*st["road"]), rng.uniform(*st["road"])
    curb = st["curb"] * rng.uniform(0.9, 1.1)
    side_l, side_r = rng.uniform(*st["sidewalk"]), rng.uniform(*st["sidewalk"])
    verge_l, verge_r = rng.uniform(*st["verge"]), rng.uniform(*st["verge"])
    _sky(sc)
    _far_band(sc, st["far"])
    _street_ground(sc, road_l, road_r, curb, side_l, side_r)
    xl = -(road_l + curb + side_l + verge_l)
    xr = road_r + curb + side_r + verge_r
    objs = []
    # trees behind/along the facade line go first (they are farther than the street objects)
    for _ in range(int(rng.integers(st["trees"][0], st["trees"][1] + 1))):
        z = rng.uniform(8.0, 45.0)
        sgn = -1 if rng.random() < 0.5 else 1
        edge = xl if sgn < 0 else xr
        x = edge + sgn * rng.uniform(-0.6, 1.5)
        size = rng.uniform(1.4, 2.6)
        objs.append((z + 0.01, lambda z=z, x=x, size=size: _tree(sc, z, x, size)))
    for _ in range(int(rng.integers(st["bushes"][0], st["bushes"][1] + 1))):
        z = rng.uniform(6.0, 30.0)
        sgn = -1 if rng.random() < 0.5 else 1
        x = (xl if sgn < 0 else xr) - sgn * rng.uniform(0.2, 0.8)
        size = rng.uniform(0.5, 1.0)
        objs.append((z, lambda z=z, x=x, size=size: _bush(sc, z, x, size)))
    hedge = rng.random() < st["hedge"]
    _facades(sc, xl, -1, hedge)
    _facades(sc, xr, +1, hedge and rng.random() < 0.7)
    for _ in range(int(rng.integers(st["cars"][0], st["cars"][1] + 1))):
        z = rng.uniform(6.0, 50.0)
        lane = rng.uniform(-road_l + 1.0, road_r - 1.0)
        colour = np.asarray(st["car_colours"][int(rng.integers(len(st["car_colours"])))], np.float32)
        colour = np.clip(colour + rng.normal(0, st["jitter"], 3), 0, 255)
        objs.append((z, lambda z=z, x=lane, c=colour: _car(sc, z, x, c)))
    # persons on the sidewalks
    objs += _random_people(sc, int(rng.integers(st["persons"][0], st["persons"][1] + 1)),
                           (min(road_l, road_r) + curb + 0.4, min(road_l, road_r) + curb + 1.4), (5.0, 35.0))
    for _ in range(int(rng.integers(st["poles"][0], st["poles"][1] + 1))):
        z = rng.uniform(6.0, 40.0)
        sgn = -1 if rng.random() < 0.5 else 1
        x = sgn * ((road_l if sgn < 0 else road_r) + curb + rng.uniform(0.3, 0.7))
        attach = rng.choice(["sign", "light", "none"], p=[0.5, 0.3, 0.2])
        h = rng.uniform(3.0, 4.5) if attach != "none" else rng.uniform(5.0, 8.0)
        objs.append((z, lambda z=z, x=x, h=h, a=attach: _pole(sc, z, x, h, a)))
    for _, draw in sorted(objs, key=lambda o: -o[0]):
        draw()


def _garden_hedge(sc, sgn, edge):
    """A hedge (a vegetation wall with a gap) on side ``sgn`` beyond ``edge`` metres from the path's middle."""
    st, rng = sc.style, sc.rng
    xh = sgn * (edge + rng.uniform(*st["hedge_dist"]))
    hh = rng.uniform(*st["hedge_h"])
    dx = sc.xx[0] - sc.vx
    on = (dx * sgn) > 0.5
    zc = np.where(on, abs(xh) * sc.f / np.maximum(np.abs(dx), 0.5), 1.0)
    gap0 = rng.uniform(8.0, 25.0)
    on &= ~((zc > gap0) & (zc < gap0 + rng.uniform(2.0, 6.0)))
    base = sc.yh + sc.hc * sc.f / zc
    top = sc.yh + (sc.hc - hh) * sc.f / zc
    m = on[None, :] & (sc.yy >= top[None, :]) & (sc.yy < base[None, :])
    col = np.broadcast_to(sc.c("vegetation") * 0.8, (sc.H, sc.W, 3)) * \
        (1.0 + 0.3 * sc.lowfreq(cells=3))[..., None]
    sc.paint(m, _C["vegetation"], col, np.broadcast_to((BASELINE * sc.f / zc)[None, :], (sc.H, sc.W)))


def _dusk_building(sc):
    """A far building with lit windows: ``(distance, draw)`` for the painter's order."""
    rng = sc.rng
    zb = rng.uniform(30.0, 60.0)
    xb = rng.uniform(-8.0, 8.0)
    s = sc.scale(zb)
    xc, yb = sc.col_of(zb, xb), sc.row(zb)
    m = sc.rect(xc - rng.uniform(5, 12) * s, xc + rng.uniform(5, 12) * s, yb - rng.uniform(4, 8) * s, yb)
    col = np.broadcast_to(sc.c("building"), (sc.H, sc.W, 3)).copy()
    lit = m & (np.mod(sc.xx - xc, 2.5 * s + 1) < 0.9 * s + 0.5) & (np.mod(sc.yy - yb, 3.0 * s + 1) < 1.2 * s + 0.5)
    col[lit] = (255, 210, 130)  # lit windows at dusk
    return zb, lambda: sc.paint(m, _C["building"], col, sc.dispar(zb))


def _render_garden(sc):
    st, rng = sc.style, sc.rng
    _sky(sc)
    _far_band(sc, st["far"])
    below, X, Z, D = _ground_coords(sc)
    path_l, path_r = rng.uniform(*st["path"]), rng.uniform(*st["path"])
    curb = st["curb"] * rng.uniform(0.9, 1.2)
    # grass everywhere, then the curbs and the paved path
    grass = np.broadcast_to(sc.c("terrain"), (sc.H, sc.W, 3)) * (1.0 + 0.25 * sc.lowfreq(cells=6))[..., None]
    sc.paint(below, _C["terrain"], grass, D)
    sc.paint(below & (X > -(path_l + curb)) & (X < path_r + curb), _C["curb"], sc.c("curb"), D)
    slabs = (np.mod(Z, 0.6) < 0.06)
    path_col = np.where(slabs[..., None], sc.c("sidewalk") * 0.75, sc.c("sidewalk"))
    sc.paint(below & (X > -path_l) & (X < path_r), _C["sidewalk"], path_col, D)
    objs = []
    # trees behind the hedges (painted first: they are farther)
    trees = []
    for _ in range(int(rng.integers(st["trees"][0], st["trees"][1] + 1))):
        z = rng.uniform(6.0, 35.0)
        sgn = -1 if rng.random() < 0.5 else 1
        trees.append((z, sgn * rng.uniform(3.5, 9.0), rng.uniform(1.5, 3.0)))
    for z, x, size in sorted(trees, key=lambda t: -t[0]):
        _tree(sc, z, x, size)
    # hedges left and right (vegetation walls), bushes on the grass
    for sgn in (-1, 1):
        _garden_hedge(sc, sgn, (path_l if sgn < 0 else path_r) + curb)
    if rng.random() < st["building_prob"]:
        objs.append(_dusk_building(sc))
    for _ in range(int(rng.integers(st["bushes"][0], st["bushes"][1] + 1))):
        z = rng.uniform(2.5, 20.0)
        sgn = -1 if rng.random() < 0.5 else 1
        x = sgn * ((path_l if sgn < 0 else path_r) + curb + rng.uniform(0.5, 2.0))
        size = rng.uniform(0.3, 0.8)
        objs.append((z, lambda z=z, x=x, size=size: _bush(sc, z, x, size)))
    for _ in range(int(rng.integers(st["poles"][0], st["poles"][1] + 1))):
        z = rng.uniform(4.0, 25.0)
        sgn = -1 if rng.random() < 0.5 else 1
        x = sgn * ((path_l if sgn < 0 else path_r) + curb + rng.uniform(0.3, 0.8))
        objs.append((z, lambda z=z, x=x, h=rng.uniform(2.8, 3.6): _pole(sc, z, x, h, "lamp")))
    objs += _random_people(sc, int(rng.integers(st["persons"][0], st["persons"][1] + 1)), (0.0, 0.8),
                           (9.0, 25.0))
    # stairs up the path, with a ramp beside them
    z1 = rng.uniform(*st["stair_z"])
    n = int(rng.integers(st["steps"][0], st["steps"][1] + 1))
    tread, riser = rng.uniform(0.3, 0.4), rng.uniform(0.13, 0.17)
    ramp_side = -1 if rng.random() < 0.5 else 1
    ramp_w = rng.uniform(*st["ramp_w"])
    xs0, xs1 = -(path_l + curb), path_r + curb
    if ramp_side < 0:
        xr0, xr1 = xs0 - ramp_w, xs0
    else:
        xr0, xr1 = xs1, xs1 + ramp_w
    objs.append((z1, lambda: _stairs_and_ramp(sc, z1, n, tread, riser, xs0, xs1, xr0, xr1, ramp_side)))
    for _, draw in sorted(objs, key=lambda o: -o[0]):
        draw()


def _stairs_and_ramp(sc, z1, n, tread, riser, xs0, xs1, xr0, xr1, ramp_side):
    light = sc.c("stair")
    dark = light * 0.62
    zn = z1 + n * tread
    top_h = n * riser
    # landing at the top of the stairs (path, elevated), far part first
    zl = zn + 4.0
    m = sc.trapezoid(sc.row(zl, top_h), sc.row(zn, top_h), sc.col_of(zl, xs0 + sc.style["curb"]),
                     sc.col_of(zl, xs1 - sc.style["curb"]), sc.col_of(zn, xs0 + sc.style["curb"]),
                     sc.col_of(zn, xs1 - sc.style["curb"]))
    sc.paint(m, _C["sidewalk"], sc.c("sidewalk") * 0.9, sc.dispar(zn))
    # steps from the top down: tread (light band) then riser (dark band)
    for k in range(n - 1, -1, -1):
        zf, zb = z1 + k * tread, z1 + (k + 1) * tread
        h = (k + 1) * riser
        if h < sc.hc:  # treads above eye level are not visible
            m = sc.trapezoid(sc.row(zb, h), sc.row(zf, h), sc.col_of(zb, xs0), sc.col_of(zb, xs1),
                             sc.col_of(zf, xs0), sc.col_of(zf, xs1))
            sc.paint(m, _C["stair"], light, sc.dispar(zf))
        m = sc.rect(sc.col_of(zf, xs0), sc.col_of(zf, xs1), sc.row(zf, h), sc.row(zf, k * riser))
        sc.paint(m, _C["stair"], dark, sc.dispar(zf))
    # the ramp: a sloped surface from the ground at z_a up to the landing at zn
    za = max(z1 - 1.5, 1.2)
    y_far, y_near = sc.row(zn, top_h), sc.row(za, 0.0)
    m = sc.trapezoid(y_far, y_near, sc.col_of(zn, xr0), sc.col_of(zn, xr1), sc.col_of(za, xr0), sc.col_of(za, xr1))
    t = np.clip((sc.yy - y_far) / max(y_near - y_far, 1e-3), 0, 1)[..., None]
    col = np.broadcast_to(sc.c("ramp") * (0.8 + 0.35 * t), (sc.H, sc.W, 3))
    # its side wall facing the path: a triangle
    x_in = xr1 if ramp_side < 0 else xr0
    wall = sc.polygon([(sc.col_of(za, x_in), y_near), (sc.col_of(zn, x_in), sc.row(zn, 0.0)),
                       (sc.col_of(zn, x_in), y_far)])
    sc.paint(wall, _C["ramp"], sc.c("ramp") * 0.6, sc.dispar(zn))
    sc.paint(m, _C["ramp"], col, sc.dispar(0.5 * (za + zn)))
    # handrail posts are left out: the ramp, stairs and curbs stay unoccluded


def _finish(sc):
    """Labels and geometry done: render the RGB image."""
    st, rng = sc.style, sc.rng
    col = sc.col
    if st["lowfreq"] > 0:
        lf = sc.lowfreq(cells=6)
        notsky = (sc.label != _C["sky"])
        col *= np.where(notsky, 1.0 + st["lowfreq"] * lf, 1.0)[..., None]
    fog_amt, fog_col = st["fog"]
    if fog_amt > 0:
        d = sc.disp
        dmax = BASELINE * (sc.H - sc.yh) / sc.hc
        a = np.where(d > 0, fog_amt * np.exp(-4.0 * d / max(dmax, 1e-3)), 0.0).astype(np.float32)[..., None]
        col = col * (1.0 - a) + np.asarray(fog_col, np.float32) * a
    col = col * (np.asarray(st["tint"], np.float32) * st["brightness"] * rng.uniform(0.92, 1.08))
    if st["noise"] > 0:
        sigma = st["noise"] * _NOISE_GAIN[sc.label]
        col += rng.standard_normal((sc.H, sc.W, 3), dtype=np.float32) * sigma[..., None]
        col += rng.standard_normal((sc.H, sc.W, 1), dtype=np.float32) * (0.5 * st["noise"])
    if st.get("rain"):
        col = _rain(sc, col, *st["rain"])
    # ego vehicle / robot body at the bottom: ignore, no disparity
    ego = max(1, sc.H // 64)
    sc.label[-ego:] = IGNORE
    sc.disp[-ego:] = 0.0
    col[-ego:] = (22, 22, 24)
    rgb = np.clip(col + 0.5, 0, 255).astype(np.uint8)
    return rgb, sc.disp.astype(np.float32), sc.label


def _rain(sc, col, density, length, alpha, colour):
    """Rain streaks: ``density`` x H x W short slanted bright lines of ``length`` pixels (at 128 rows)."""
    rng = sc.rng
    n = int(round(density * sc.H * sc.W))
    if n <= 0:
        return col
    ln = max(2, int(round(length * sc.H / 128)))
    y0 = rng.uniform(-ln, sc.H, n)
    x0 = rng.uniform(0, sc.W, n)
    slope = rng.uniform(0.15, 0.3)
    t = np.arange(ln, dtype=np.float64)
    ys = np.floor(y0[:, None] + t[None, :]).astype(np.int64).ravel()
    xs = np.floor(x0[:, None] + slope * t[None, :]).astype(np.int64).ravel()
    ok = (ys >= 0) & (ys < sc.H) & (xs >= 0) & (xs < sc.W)
    ys, xs = ys[ok], xs[ok]
    col[ys, xs] = col[ys, xs] * (1.0 - alpha) + np.asarray(colour, np.float32) * alpha
    return col


def render_frame(domain, seed, size=(128, 256)):
    """Render one frame in memory: ``(rgb uint8 HxWx3, disparity float32 HxW, label uint8 HxW)``.

    Deterministic: the same ``(domain, seed, size)`` gives identical arrays.
    """
    _check_domain(domain)
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(domain.encode())]))
    sc = _Scene(size, rng, _STYLES[domain])
    if domain == "real/garden":
        _render_garden(sc)
    else:
        _render_street(sc)
    return _finish(sc)


# ---------------------------------------------------------------------------
# Files and indexes
# ---------------------------------------------------------------------------

def _relpaths(split, domain, seq):
    origin, name = domain.split("/", 1)
    stem = f"{name}_{seq:06d}"
    sub = f"{split}/{origin}/{name}"
    return (f"leftImg8bit/{sub}/{stem}_leftImg8bit.png",
            f"depth/{sub}/{stem}_disparity.png",
            f"gtFine/{sub}/{stem}_gtFine_labelTrainIds.png")


def _frame_seed(seed, seq):
    return int(seed) * 1_000_003 + int(seq)


def _plan_counts(domains, frames_per_domain, splits, split_counts):
    """{domain: {split: n}}."""
    if isinstance(frames_per_domain, dict):
        unknown = set(frames_per_domain) - set(ALL_DOMAINS)
        if unknown:
            raise ValueError(f"unknown domains {sorted(unknown)}; domains: {', '.join(ALL_DOMAINS)}")
    plan = {}
    for dom in domains:
        total = frames_per_domain.get(dom, 0) if isinstance(frames_per_domain, dict) else frames_per_domain
        total = int(total)
        if total < 0:
            raise ValueError(f"frames for {dom} must be >= 0, got {total}")
        spec = split_counts
        if isinstance(spec, dict) and spec and set(spec) <= set(ALL_DOMAINS):
            spec = spec.get(dom)  # per-domain counts; a domain left out gets the default fractions
        fr = {s: DEFAULT_FRACTIONS.get(s, 0.2) for s in splits}
        if spec is None:
            spec = fr
        unknown = set(spec) - set(splits)
        if unknown:
            raise ValueError(f"split_counts names splits {sorted(unknown)} not in splits {list(splits)}")
        vals = [spec.get(s, 0) for s in splits]
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals) \
                and spec is not fr:
            counts = {s: int(spec.get(s, 0)) for s in splits}
        else:
            tot_fr = float(sum(vals))
            if tot_fr <= 0:
                raise ValueError(f"split fractions for {dom} sum to {tot_fr}")
            counts = {s: int(np.floor(total * spec.get(s, 0) / tot_fr)) for s in splits}
            counts[splits[0]] += total - sum(counts.values())  # remainder to the first split
        if any(v < 0 for v in counts.values()):
            raise ValueError(f"negative split count for {dom}: {counts}")
        plan[dom] = counts
    return plan


def _write_frame(job):
    root, domain, split, seq, fseed, size = job
    rgb, disp, label = render_frame(domain, fseed, size)
    rels = _relpaths(split, domain, seq)
    write_rgb(os.path.join(root, rels[0]), rgb)
    write_depth(os.path.join(root, rels[1]), disp)
    write_label(os.path.join(root, rels[2]), label)
    return rels


def _write_index(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as fout:
        for line in lines:
            fout.write(" ".join(line) + "\n")


def _checked(splits, domains, heldout, frames_per_domain):
    """``(splits, domains)`` of :func:`generate`, checked (ValueError naming the bad one)."""
    splits = tuple(splits)
    if not splits or len(set(splits)) != len(splits):
        raise ValueError(f"splits must be distinct names, got {splits}")
    for s in splits:
        if not re.fullmatch(r"[A-Za-z0-9-]+", s):
            raise ValueError(f"split name {s!r}: letters, digits and '-' only")
    if domains is None:
        domains = [d for d in ALL_DOMAINS if d in frames_per_domain] if isinstance(frames_per_domain, dict) \
            else list(DOMAINS)
    domains = list(domains)
    for d in domains:
        _check_domain(d)
    if heldout is not None:
        _check_domain(heldout)
    return splits, domains


def _write_indexes(root, by, splits, domains, seen):
    """The index files of a generated tree (``data.txt``: the seen scenes' train
    frames; per split: per scene, seen, all): ``{name: absolute path}``."""
    index = {}

    def emit(name, lines):
        path = os.path.join(root, name)
        _write_index(path, lines)
        index[name] = path

    if "train" in splits:
        emit("data.txt", [r for d in seen for r in by[d]["train"]])
    for s in splits:
        for d in domains:
            emit(f"{s}_{domain_name(d)}.txt", by[d][s])
        emit(f"{s}_seen.txt", [r for d in seen for r in by[d][s]])
        emit(f"{s}_all.txt", [r for d in domains for r in by[d][s]])
    return index


def generate(root, frames_per_domain=100, size=(128, 256), seed=0, splits=SPLITS, split_counts=None,
             domains=None, heldout=HELDOUT, workers=1):
    """Render a data set under ``root`` and write its index files.

    ``frames_per_domain``: an int, or ``{domain: n}`` (then ``domains``
    defaults to its keys); split by
    ``split_counts`` -- ``None`` (60/20/20 % train/val/test), ``{split:
    fraction}``, ``{split: int}`` (exact counts per domain, ignoring
    ``frames_per_domain``), or ``{domain: {...}}`` per domain. ``domains``
    defaults to all of :data:`DOMAINS`; ``heldout`` is kept out of
    ``data.txt`` and of the ``*_seen.txt`` files. ``workers > 1`` renders in
    that many processes (same bytes). Same arguments -> byte-identical files.

    Returns a dict (also written as ``dataset.json``, without ``root`` and
    with index paths relative to the root): ``root``, ``size``,
    ``seed``, ``domains``, ``seen``, ``heldout``, ``splits``, ``counts``
    (``{domain: {split: n}}``), ``frames``, ``index`` (``{name: path}`` of
    every index file, absolute) and ``files`` (``{domain: {split: [rgb
    relpaths]}}``); the return value also has ``seconds``.
    """
    start = time.perf_counter()
    root = os.path.abspath(os.fspath(root))
    size = (int(size[0]), int(size[1]))
    splits, domains = _checked(splits, domains, heldout, frames_per_domain)
    plan = _plan_counts(domains, frames_per_domain, splits, split_counts)
    jobs = []
    for dom in domains:
        seq = 0
        for s in splits:
            for _ in range(plan[dom][s]):
                jobs.append((root, dom, s, seq, _frame_seed(seed, seq), size))
                seq += 1
    os.makedirs(root, exist_ok=True)
    if workers and workers > 1 and len(jobs) > 1:
        import concurrent.futures as cf
        with cf.ProcessPoolExecutor(max_workers=int(workers)) as pool:
            rels = list(pool.map(_write_frame, jobs, chunksize=max(1, len(jobs) // (8 * workers))))
    else:
        rels = [_write_frame(j) for j in jobs]
    by = {dom: {s: [] for s in splits} for dom in domains}
    for job, rel in zip(jobs, rels):
        by[job[1]][job[2]].append(rel)
    seen = [d for d in domains if d != heldout]
    index = _write_indexes(root, by, splits, domains, seen)
    info = {
        "root": root, "size": list(size), "seed": int(seed), "domains": domains, "seen": seen,
        "heldout": heldout if heldout in domains else None, "splits": list(splits), "counts": plan,
        "frames": len(jobs), "index": index,
        "files": {d: {s: [r[0] for r in by[d][s]] for s in splits} for d in domains},
    }
    # on disk: relocatable (no absolute paths), so the file too is identical for identical arguments
    stored = dict(info, index={name: name for name in index})
    del stored["root"]
    with open(os.path.join(root, "dataset.json"), "w", encoding="utf-8", newline="\n") as fout:
        json.dump(stored, fout, indent=1, sort_keys=True)
        fout.write("\n")
    info["seconds"] = time.perf_counter() - start
    return info


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------

_STEM = re.compile(r"([A-Za-z][A-Za-z0-9]*)_(\d{6})_leftImg8bit")
_CITY = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_\d+")


def domain_of(path):
    """The domain of a frame from its path: ``.../real/aachen/...`` -> ``"real/aachen"``.

    Looks for an ``real|sim/<name>`` folder pair; without one, a file named
    ``<name>_<digits>...`` maps to a known domain of that name, or to
    ``real/<name>`` (Cityscapes names files after their city). Raises
    ``ValueError`` when the path says nothing about its domain.
    """
    text = os.fspath(path).replace("\\", "/")
    parts = [p for p in text.split("/") if p]
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in ORIGINS and i + 1 < len(parts) - 1:
            return f"{parts[i]}/{parts[i + 1]}"
    if parts:
        m = _CITY.match(parts[-1])
        if m:
            name = m.group(1)
            for d in ALL_DOMAINS:
                if domain_name(d) == name:
                    return d
            return f"real/{name}"
    raise ValueError(f"cannot tell the domain of {path!r}: no real/<city> or sim/<style> folder in it")


def _rel_to_root(root, path):
    root = os.path.abspath(os.fspath(root))
    path = os.fspath(path)
    if os.path.isabs(path):
        rel = os.path.relpath(path, root)
        if rel.startswith(".."):
            return None
        return rel.replace(os.sep, "/")
    return path.replace("\\", "/")


def frame_paths(root, rgb_path):
    """``(rgb, depth, label)`` paths relative to ``root`` of a generated frame.

    ``rgb_path``: relative to ``root``, absolute, or only a file name that
    contains ``<name>_<seq:06d>_leftImg8bit`` (e.g. a saved copy of an unseen
    frame). Raises ``DataFileNotFoundError`` when the frame's ground truth is
    not under ``root``.
    """
    root = os.path.abspath(os.fspath(root))
    rel = _rel_to_root(root, rgb_path)
    if rel and rel.startswith("leftImg8bit/") and rel.endswith("_leftImg8bit.png"):
        rest = rel[len("leftImg8bit/"):-len("_leftImg8bit.png")]
        cand = (rel, f"depth/{rest}_disparity.png", f"gtFine/{rest}_gtFine_labelTrainIds.png")
        if os.path.isfile(os.path.join(root, cand[2])):
            return cand
    m = _STEM.search(os.path.basename(os.fspath(rgb_path)))
    if m:
        name, seq = m.group(1), int(m.group(2))
        try:
            domain = domain_of(rgb_path)
        except ValueError:
            domain = None
        doms = [domain] if domain and domain_name(domain) == name else \
            [d for d in ALL_DOMAINS if domain_name(d) == name]
        gt_root = os.path.join(root, "gtFine")
        splits = sorted(os.listdir(gt_root)) if os.path.isdir(gt_root) else []
        for d in doms:
            for s in splits:
                cand = _relpaths(s, d, seq)
                if os.path.isfile(os.path.join(root, cand[2])):
                    return cand
    raise DataFileNotFoundError(f"no ground truth under {root} for frame {rgb_path}")


def frame_truth(root, rgb_path):
    """The label path (relative to ``root``) of a generated frame; see :func:`frame_paths`."""
    return frame_paths(root, rgb_path)[2]


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m sedna.examples.robo.datagen",
                                 description="Render the robot-dog scenes in the Cityscapes layout.")
    ap.add_argument("root", help="output folder")
    ap.add_argument("--frames", type=int, default=100, help="frames per domain (default 100)")
    ap.add_argument("--size", type=int, nargs=2, default=(128, 256), metavar=("H", "W"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                    help="processes (default: the CPUs, at most 4); the files do not depend on it")
    ap.add_argument("--domains", nargs="+", default=None, choices=ALL_DOMAINS,
                    help="default: the four of DOMAINS; the shift scenarios (SHIFTS) only when named")
    args = ap.parse_args(argv)
    info = generate(args.root, frames_per_domain=args.frames, size=tuple(args.size), seed=args.seed,
                    domains=args.domains, workers=args.workers)
    print(f"wrote {info['frames']} frames of {args.size[0]}x{args.size[1]} under {info['root']} "
          f"in {info['seconds']:.1f} s ({info['frames'] / max(info['seconds'], 1e-9):.1f} frames/s)")
    print(f"{'domain':<14}" + "".join(f"{s:>7}" for s in info["splits"]) + "  ")
    for d in info["domains"]:
        tag = "  (held out)" if d == info["heldout"] else ""
        print(f"{d:<14}" + "".join(f"{info['counts'][d][s]:>7}" for s in info["splits"]) + tag)
    if "data.txt" in info["index"]:
        print(f"dataset index: {info['index']['data.txt']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
