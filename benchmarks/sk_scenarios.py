"""Random shift scenarios for the scikit-learn benchmark (issue 18): data, shifts, sequences.

Used by ``bench_sklearn_scenarios.py``. A *scenario* (an id) fixes what nobody
may tune to: the data set (even ids: scikit-learn's digits, odd ids: a seeded
``make_classification`` table), which shift families arrive in which round (1 or
2 new tasks in each of 3 rounds, families drawn without replacement) and each
shift's parameters, drawn from wide ranges. A *seed* fixes the rest: the
train/test split, which rows each task gets, the noise draws and the
estimators' ``random_state``.

Shift families (one task each; the task attribute is the task's name):

=============  ==========================================  ====================================================
family         digits (8x8, 0..16)                         table (20 features)
=============  ==========================================  ====================================================
translation    moved 1 pixel in one of 8 directions        3-8 features offset by +-0.5..1.5 std
noise          Gaussian, sigma 1.5..4 (clipped to 0..16)   Gaussian, sigma 0.3..1.0 std per feature
inversion      16 - x                                      every feature mirrored about its mean
rotation       10..25 degrees either way (bilinear)        3 disjoint feature planes rotated by 15..40 degrees
scaling        per-pixel gain, log-uniform in [1/s, s],    per-feature gain, log-uniform in [1/s, s],
               s in 1.5..3                                 s in 1.5..3
missing        one inner pixel row or column stuck at      one informative feature stuck at its mean
               0 or 16 (a dead sensor line)
=============  ==========================================  ====================================================
"""

import math

import numpy as np

__all__ = ("DEV", "FAMILIES", "REPORTED", "ROUNDS", "TRAIN_ROWS", "ScenarioData", "scenario_spec")

FAMILIES = ("translation", "noise", "inversion", "rotation", "scaling", "missing")
DEV = tuple(range(8))        # development scenarios: tune on these
REPORTED = tuple(range(8, 16))  # reported scenarios: never looked at before the defaults are frozen
ROUNDS = 3                      # update rounds after the initial (plain) task
TRAIN_ROWS = 800                # training rows per task (above the replay budget, so memory matters)
TABLE = {"n_samples": 3000, "n_features": 20, "n_informative": 8, "n_redundant": 4, "n_classes": 4,
         "n_clusters_per_class": 2, "class_sep": 1.0, "flip_y": 0.01}
TABLE_TEST = 1000


def _draw(rng, family, dataset):
    """The parameters of one shift of ``family``: plain numbers (they go into the JSON)."""
    if family == "translation":
        if dataset == "digits":
            dirs = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
            dy, dx = dirs[int(rng.integers(len(dirs)))]
            return {"dy": dy, "dx": dx}
        k = int(rng.integers(3, 9))
        feats = sorted(rng.choice(TABLE["n_features"], k, replace=False).tolist())
        return {"features": feats, "offset": [float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)) for _ in feats]}
    if family == "noise":
        return {"sigma": float(rng.uniform(1.5, 4.0) if dataset == "digits" else rng.uniform(0.3, 1.0))}
    if family == "inversion":
        return {}
    if family == "rotation":
        if dataset == "digits":
            return {"degrees": float(rng.choice([-1, 1]) * rng.uniform(10, 25))}
        pairs = rng.choice(TABLE["n_features"], 6, replace=False).reshape(3, 2).tolist()
        return {"planes": pairs, "degrees": float(rng.uniform(15, 40))}
    if family == "scaling":
        s = float(rng.uniform(1.5, 3.0))
        d = 64 if dataset == "digits" else TABLE["n_features"]
        return {"s": s, "log_gain": rng.uniform(-math.log(s), math.log(s), d).round(4).tolist()}
    if family == "missing":
        if dataset == "digits":
            return {"axis": str(rng.choice(["row", "column"])), "line": int(rng.integers(1, 7)),
                    "value": float(rng.choice([0.0, 16.0]))}
        return {"informative": int(rng.integers(TABLE["n_informative"]))}
    raise ValueError(f"unknown shift family {family!r}; families: {', '.join(FAMILIES)}")


def scenario_spec(scenario):
    """What scenario ``scenario`` is, from its id alone: ``{"dataset", "rounds": [[task, ...] per round]}``,
    round 0 being the plain task; each task ``{"name", "family", "params"}``."""
    rng = np.random.default_rng([18, int(scenario)])
    dataset = "digits" if scenario % 2 == 0 else "table"
    counts = [int(rng.integers(1, 3)) for _ in range(ROUNDS)]
    families = rng.permutation(FAMILIES)[:sum(counts)].tolist()
    rounds, k = [[{"name": "plain", "family": "plain", "params": {}}]], 0
    for c in counts:
        rounds.append([{"name": f"{f}", "family": f, "params": _draw(rng, f, dataset)} for f in families[k:k + c]])
        k += c
    return {"scenario": int(scenario), "dataset": dataset, "rounds": rounds}


# ------------------------------------------------------------------ transforms
def _rotate_digits(imgs, degrees):
    from scipy.ndimage import rotate

    return rotate(imgs, degrees, axes=(2, 1), reshape=False, order=1, mode="constant", cval=0.0)


def shift_digits(x, family, params, rng):
    """Digits (n, 64; 0..16) under one shift; ``rng`` draws the noise."""
    imgs = np.asarray(x, dtype=np.float64).reshape(-1, 8, 8)
    if family == "plain":
        out = imgs
    elif family == "translation":
        out = np.zeros_like(imgs)
        dy, dx = params["dy"], params["dx"]
        src = imgs[:, max(0, -dy):8 - max(0, dy), max(0, -dx):8 - max(0, dx)]
        out[:, max(0, dy):8 - max(0, -dy), max(0, dx):8 - max(0, -dx)] = src
    elif family == "noise":
        out = imgs + rng.normal(0.0, params["sigma"], imgs.shape)
    elif family == "inversion":
        out = 16.0 - imgs
    elif family == "rotation":
        out = _rotate_digits(imgs, params["degrees"])
    elif family == "scaling":
        out = imgs * np.exp(np.asarray(params["log_gain"])).reshape(1, 8, 8)
    elif family == "missing":
        out = imgs.copy()
        if params["axis"] == "row":
            out[:, params["line"], :] = params["value"]
        else:
            out[:, :, params["line"]] = params["value"]
    else:
        raise ValueError(f"unknown shift family {family!r}")
    return np.clip(out, 0.0, 16.0).reshape(len(imgs), 64)


def shift_table(x, family, params, rng, mean, std, informative):
    """Table rows under one shift; ``mean``/``std``: the plain training pool's, per feature."""
    x = np.asarray(x, dtype=np.float64).copy()
    if family == "plain":
        return x
    if family == "translation":
        x[:, params["features"]] += np.asarray(params["offset"]) * std[params["features"]]
    elif family == "noise":
        x += rng.normal(0.0, 1.0, x.shape) * params["sigma"] * std
    elif family == "inversion":
        x = 2 * mean - x
    elif family == "rotation":
        a = math.radians(params["degrees"])
        c, s = math.cos(a), math.sin(a)
        for i, j in params["planes"]:
            zi, zj = (x[:, i] - mean[i]) / std[i], (x[:, j] - mean[j]) / std[j]
            x[:, i], x[:, j] = mean[i] + std[i] * (c * zi - s * zj), mean[j] + std[j] * (s * zi + c * zj)
    elif family == "scaling":
        x *= np.exp(np.asarray(params["log_gain"]))
    elif family == "missing":
        f = informative[params["informative"]]
        x[:, f] = mean[f]
    else:
        raise ValueError(f"unknown shift family {family!r}")
    return x


class ScenarioData:
    """One scenario's tasks for one seed: ``train(task)`` and ``test(task)`` as ``(x, y)``.

    Every task sees the same test rows (shifted, with its own noise draws) and
    :data:`TRAIN_ROWS` rows of the training pool drawn for it."""

    def __init__(self, scenario, seed):
        self.spec = scenario_spec(scenario)
        self.scenario, self.seed, self.dataset = int(scenario), int(seed), self.spec["dataset"]
        self.tasks = {t["name"]: t for r in self.spec["rounds"] for t in r}
        rng = np.random.default_rng([seed, scenario, 0])
        if self.dataset == "digits":
            from sklearn.datasets import load_digits

            d = load_digits()
            x, y = d.data.astype(np.float64), d.target
            n_test = len(x) // 3
        else:
            from sklearn.datasets import make_classification

            x, y = make_classification(shuffle=False, random_state=seed, **TABLE)
            perm = rng.permutation(x.shape[1])  # informative columns come first unshuffled: hide them
            x = x[:, perm]
            self.informative = [int(np.flatnonzero(perm == i)[0]) for i in range(TABLE["n_informative"])]
            n_test = TABLE_TEST
        order = rng.permutation(len(x))
        self.x, self.y = x[order], y[order]
        self.test_rows = np.arange(len(x) - n_test, len(x))
        self.pool = np.arange(0, len(x) - n_test)
        self.mean, self.std = self.x[self.pool].mean(0), self.x[self.pool].std(0) + 1e-9

    def _shift(self, name, rows, split):
        t = self.tasks[name]
        rng = np.random.default_rng([self.seed, self.scenario, 1 + list(self.tasks).index(name), split == "test"])
        if self.dataset == "digits":
            return shift_digits(self.x[rows], t["family"], t["params"], rng)
        return shift_table(self.x[rows], t["family"], t["params"], rng, self.mean, self.std, self.informative)

    def train_rows(self, name):
        rng = np.random.default_rng([self.seed, self.scenario, 100 + list(self.tasks).index(name)])
        return np.sort(rng.choice(self.pool, min(TRAIN_ROWS, len(self.pool)), replace=False))

    def train(self, name):
        rows = self.train_rows(name)
        return self._shift(name, rows, "train"), self.y[rows]

    def test(self, name):
        return self._shift(name, self.test_rows, "test"), self.y[self.test_rows]


def describe(spec):
    """One line per round: ``round 1: noise(sigma=2.3), rotation(degrees=-14)``."""
    def short(t):
        p = {k: v for k, v in t["params"].items() if not isinstance(v, list)}
        inner = ", ".join(f"{k}={v:.2g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.items())
        return f"{t['name']}({inner})" if inner else t["name"]
    return [f"round {i}: " + ", ".join(short(t) for t in r) for i, r in enumerate(spec["rounds"])]
