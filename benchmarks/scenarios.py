"""Random lifelong-learning scenarios for the robot job, drawn from a seed (issue 18).

A *place* is a scene style of the shipped generator (``sedna.examples.robo.datagen``):
a street scene whose camera, layout, palette, light, sensor, weather and object
densities are drawn from wide ranges. Each place starts from one of the shipped
street styles and redraws each group of parameters with probability one half
(at least one group), so a scenario mixes near shifts (a new palette) with far
ones (another camera, night, rain, fog).

A *scenario* is ``N_INITIAL`` places learned first, then ``N_ROUNDS`` rounds, each
bringing 1 to 4 new places at once. It depends only on its index.

    Scenarios 0-7  : the development half; tune on these.
    Scenarios 8-15 : the reported half. Never run them before the defaults are
                     frozen; the benchmark refuses them without ``--reported``.

The generator has no public way to render a custom style: :func:`registered`
adds the drawn styles to ``datagen._STYLES`` for the time of the rendering and
removes them afterwards (``render_frame`` looks styles up by domain name).
Only street scenes can be drawn: the garden layout (stairs, ramps, paths) is
chosen by the domain name ``real/garden``, not by a style parameter.

    python benchmarks/scenarios.py 0-7      # print what the development scenarios contain
"""

import colorsys
import contextlib
import copy
import dataclasses
import os
import sys

import numpy as np

N_INITIAL = 2
N_ROUNDS = 4
NEW_PER_ROUND = (1, 4)
DEVELOPMENT = tuple(range(8))
REPORTED = tuple(range(8, 16))
BASES = ("real/aachen", "real/bremen", "sim/synthia", "real/zurich", "real/aachenlow", "real/bremennight")
GROUPS = ("camera", "layout", "palette", "light", "sensor", "weather", "objects")
_SALT = 18  # issue 18: changing it changes every scenario


@dataclasses.dataclass(frozen=True)
class Place:
    """One drawn scene style: ``domain`` (``real/s03p04``), the ``base`` style it
    started from, the parameter ``groups`` redrawn, the full ``style`` dict."""

    domain: str
    base: str
    groups: tuple
    style: dict = dataclasses.field(repr=False, compare=False)

    @property
    def name(self):
        return self.domain.split("/", 1)[1]

    def describe(self):
        st = self.style
        weather = []
        if st["fog"][0] >= 0.3:
            weather.append("fog")
        if st.get("rain"):
            weather.append("rain")
        return (f"{self.name}: {self.base.split('/')[1]}+{'/'.join(self.groups)}; cam {st['cam_height']:.2f} m, "
                f"horizon {st['horizon']:.2f}, focal {st['focal']:.2f}, brightness {st['brightness']:.2f}, "
                f"noise {st['noise']:.0f}" + (f", {'+'.join(weather)}" if weather else ""))


@dataclasses.dataclass(frozen=True)
class Scenario:
    index: int
    initial: tuple
    rounds: tuple  # one tuple of new places per round

    @property
    def places(self):
        return list(self.initial) + [p for r in self.rounds for p in r]

    @property
    def reported(self):
        return self.index in REPORTED

    def describe(self):
        lines = [(f"scenario {self.index} ({'REPORTED' if self.reported else 'development'}): "
                  f"{len(self.places)} places, new per round {[len(r) for r in self.rounds]}"),
                 "  initial: " + "; ".join(p.describe() for p in self.initial)]
        for k, r in enumerate(self.rounds, 1):
            lines += [f"  round {k}: " + "; ".join(p.describe() for p in r)]
        return "\n".join(lines)


# ------------------------------------------------------------------ drawing
def _colour(rng, sat=(0.1, 0.8), val=(0.25, 0.95)):
    h, s, v = rng.uniform(0, 1), rng.uniform(*sat), rng.uniform(*val)
    return tuple(round(255 * c) for c in colorsys.hsv_to_rgb(h, s, v))


def _shifted(rng, colour, spread):
    return tuple(int(np.clip(c + rng.normal(0, spread), 0, 255)) for c in colour)


def _int_range(rng, lo, hi, extra):
    a = int(rng.integers(lo, hi + 1))
    return (a, a + int(rng.integers(0, extra + 1)))


def _span(rng, lo, hi, width):
    a = float(rng.uniform(lo, hi))
    return (round(a, 3), round(a + float(rng.uniform(*width)), 3))


def _camera(rng, st):
    st["cam_height"] = round(float(np.exp(rng.uniform(np.log(0.5), np.log(2.6)))), 3)
    # a high camera sees the horizon higher in the image; a wide spread around that
    st["horizon"] = round(float(np.clip(0.52 - 0.09 * (st["cam_height"] - 0.6) + rng.normal(0, 0.05), 0.26, 0.58)), 3)
    st["focal"] = round(float(rng.uniform(0.7, 1.3)), 3)


def _layout(rng, st):
    st["road"] = _span(rng, 1.8, 4.2, (0.3, 1.5))
    st["curb"] = round(float(rng.uniform(0.12, 0.35)), 3)
    st["sidewalk"] = _span(rng, 1.2, 3.5, (0.3, 1.5))
    st["verge"] = (0.0, 0.0) if rng.random() < 0.5 else _span(rng, 0.2, 1.2, (0.2, 1.0))
    st["facade_h"] = _span(rng, 4.0, 18.0, (2.0, 14.0))
    st["block"] = _span(rng, 5.0, 22.0, (3.0, 16.0))
    st["gap"] = _span(rng, 0.0, 5.0, (1.0, 6.0))
    st["gap_prob"] = round(float(rng.uniform(0.0, 0.5)), 3)


def _palette(rng, st):
    st["facades"] = [_colour(rng) for _ in range(5)]
    st["windows"] = (round(float(rng.uniform(0.2, 0.55)), 3), _colour(rng, sat=(0.0, 0.5), val=(0.1, 1.0)))
    top = _colour(rng, sat=(0.0, 0.7), val=(0.3, 1.0))
    st["sky"] = (top, _shifted(rng, top, 30))
    st["car_colours"] = [_colour(rng, sat=(0.0, 1.0), val=(0.1, 1.0)) for _ in range(5)]
    colours = dict(st.get("colours", {}))
    for name, base in (("road", (85, 85, 90)), ("sidewalk", (150, 142, 135)), ("vegetation", (55, 100, 40)),
                       ("terrain", (115, 130, 70)), ("curb", (180, 178, 172))):
        colours[name] = _shifted(rng, colours.get(name, base), 35)
    st["colours"] = colours
    st["lane"] = _colour(rng, sat=(0.0, 0.9), val=(0.7, 1.0))


def _light(rng, st):
    st["brightness"] = round(float(rng.uniform(0.45, 1.15)), 3)
    st["tint"] = tuple(round(float(rng.uniform(0.8, 1.25)), 3) for _ in range(3))
    st["clouds"] = round(float(rng.uniform(0.0, 0.2)), 3)


def _sensor(rng, st):
    st["noise"] = round(float(rng.uniform(0.0, 13.0)), 2)
    st["lowfreq"] = round(float(rng.uniform(0.0, 0.22)), 3)
    st["jitter"] = round(float(rng.uniform(2.0, 9.0)), 2)


def _weather(rng, st):
    st["fog"] = (round(float(rng.uniform(0.0, 0.45)), 3), _colour(rng, sat=(0.0, 0.3), val=(0.2, 0.9)))
    if rng.random() < 0.35:
        st["rain"] = (round(float(rng.uniform(0.001, 0.006)), 4), int(rng.integers(4, 9)),
                      round(float(rng.uniform(0.2, 0.45)), 3), _colour(rng, sat=(0.0, 0.2), val=(0.6, 0.9)))
    else:
        st.pop("rain", None)


def _objects(rng, st):
    st["cars"] = _int_range(rng, 0, 4, 3)
    st["persons"] = _int_range(rng, 0, 3, 3)
    st["poles"] = _int_range(rng, 0, 3, 3)
    st["trees"] = _int_range(rng, 0, 4, 4)
    st["bushes"] = _int_range(rng, 0, 2, 3)
    st["hedge"] = round(float(rng.uniform(0.0, 0.8)), 3)
    st["far"] = [None, "building", "vegetation"][int(rng.integers(3))]


_DRAW = {"camera": _camera, "layout": _layout, "palette": _palette, "light": _light, "sensor": _sensor,
         "weather": _weather, "objects": _objects}


def draw_place(rng, domain):
    """One place from ``rng``: a shipped street style, each parameter group redrawn
    with probability 1/2 (at least one)."""
    from sedna.examples.robo import datagen

    base = BASES[int(rng.integers(len(BASES)))]
    flips = rng.random(len(GROUPS)) < 0.5
    if not flips.any():
        flips[int(rng.integers(len(GROUPS)))] = True
    style = copy.deepcopy(datagen._STYLES[base])
    groups = tuple(g for g, f in zip(GROUPS, flips) if f)
    for g in GROUPS:  # every group draws, so a place's draws do not depend on which groups flipped
        drawn = copy.deepcopy(style)
        _DRAW[g](rng, drawn)
        if g in groups:
            style = drawn
    return Place(domain=domain, base=base, groups=groups, style=style)


def draw_scenario(index):
    """Scenario ``index`` (0-15): the same places for the same index, on any machine."""
    index = int(index)
    if not 0 <= index < 16:
        raise ValueError(f"scenario index must be in 0-15, got {index}")
    rng = np.random.default_rng([_SALT, index])
    counter = iter(range(100))

    def place():
        return draw_place(rng, f"real/s{index:02d}p{next(counter):02d}")

    initial = tuple(place() for _ in range(N_INITIAL))
    rounds = tuple(tuple(place() for _ in range(int(rng.integers(NEW_PER_ROUND[0], NEW_PER_ROUND[1] + 1))))
                   for _ in range(N_ROUNDS))
    return Scenario(index=index, initial=initial, rounds=rounds)


def parse_indices(text):
    """``"0-7"``, ``"0,3,5"`` or ``"0-2,9"`` -> sorted list of ints."""
    out = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = (int(v) for v in part.split("-", 1))
            out.update(range(a, b + 1))
        else:
            out.add(int(part))
    return sorted(out)


REPORTED_BANNER = """
*****************************************************************************
*  REPORTED SCENARIOS (8-15). Their results are the issue's evidence: every  *
*  default of the engine and of this benchmark must be FROZEN before this    *
*  run, and nothing may be tuned after looking at it.                        *
*****************************************************************************
"""


def check_reported(indices, reported):
    """Refuse scenarios 8-15 unless ``reported`` (raise ValueError); print the banner when running them."""
    bad = [i for i in indices if i not in DEVELOPMENT + REPORTED]
    if bad:
        raise ValueError(f"scenario indices {bad}: scenarios are 0-15")
    rep = [i for i in indices if i in REPORTED]
    if rep and not reported:
        raise ValueError(f"scenarios {rep} are the REPORTED half (8-15): they run only with --reported, "
                         "after the defaults are frozen. Develop on 0-7.")
    if rep:
        print(REPORTED_BANNER, file=sys.stderr, flush=True)
        print(REPORTED_BANNER, flush=True)


# ------------------------------------------------------------------ rendering
@contextlib.contextmanager
def registered(places):
    """The places' styles known to ``datagen`` for the time of the block."""
    from sedna.examples.robo import datagen

    added = [p.domain for p in places if p.domain not in datagen._STYLES]
    for p in places:
        if p.domain in datagen._STYLES and datagen._STYLES[p.domain] is not p.style:
            raise ValueError(f"style {p.domain} already registered with other parameters")
    for p in places:
        datagen._STYLES[p.domain] = p.style
    try:
        yield
    finally:
        for d in added:
            datagen._STYLES.pop(d, None)


def render(scenario, root, seed, counts, size):
    """Render every place of ``scenario`` under ``root`` with the shipped generator:
    ``counts`` ``{split: n}`` frames per place (the same for each), index files
    ``<split>_<name>.txt``. One process (the CPUs are shared)."""
    from sedna.examples.robo import datagen

    os.makedirs(root, exist_ok=True)
    with registered(scenario.places):
        for p in scenario.places:
            if all(os.path.isfile(os.path.join(root, f"{s}_{p.name}.txt")) for s in counts):
                continue
            datagen.generate(os.path.join(root), split_counts=dict(counts), splits=tuple(counts), size=size,
                             seed=seed, domains=[p.domain], heldout=None, workers=1)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for i in parse_indices(argv[0] if argv else "0-7"):
        if i in REPORTED:
            print(f"scenario {i}: reported half, not shown")
            continue
        print(draw_scenario(i).describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
