"""Lifelong-learning benchmark on scikit-learn's digits: the learners of bench_lifelong.py, accuracy.

Round 1 learns the seen digit domains (``plain`` and ``flipped``, left-right);
round 2 learns one shift of graded severity, mildest first (a linear model
trained on the seen domains scores about 0.79, 0.61, 0.46, 0.11 and 0.00 on
them): ``noisy`` (Gaussian pixel noise), ``blurred`` (3x3 box blur, contrast
doubled), ``shifted`` (moved one pixel right), ``rotated`` (90 degrees),
``inverted`` (dark on light). Learners, side by side,
each with the same ``SGDClassifier`` (log loss, ``warm_start=True`` so that
training again continues from the current weights, which makes fine-tuning
meaningful): ``sedna`` (the knowledge base with the quickstart's slots and the
engine's defaults), ``isolation`` (the same with ``transfer=False`` when the
engine has that switch), ``finetune`` and ``joint`` (see bench_lifelong.py).
A linear model cannot fit a domain and its inversion at once, so ``joint`` is no
upper bound on ``inverted`` here (the KB's per-domain models are).

    python benchmarks/bench_lifelong_digits.py [--out DIR] [--epochs 30] [--seeds 0,1]
        [--shifts noisy,rotated] [--learners sedna,finetune]
"""

import argparse
import os
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lifelong as bl  # noqa: E402

SEEN = ("plain", "flipped")
SHIFTS = ("noisy", "blurred", "shifted", "rotated", "inverted")


def transform(domain, x, seed=0):
    """Digit images (n, 64; 0..16) seen in ``domain``, scaled to [0, 1]."""
    imgs = np.asarray(x, dtype=np.float64).reshape(-1, 8, 8) / 16.0
    if domain == "plain":
        out = imgs
    elif domain == "flipped":
        out = imgs[:, :, ::-1]
    elif domain == "noisy":
        noise = np.random.default_rng([seed, 7]).normal(0.0, 0.2, imgs.shape)
        out = np.clip(imgs + noise, 0.0, 1.0)
    elif domain == "blurred":
        pad = np.pad(imgs, ((0, 0), (1, 1), (1, 1)))
        out = np.clip(2.0 / 9.0 * sum(pad[:, i:i + 8, j:j + 8] for i in range(3) for j in range(3)), 0.0, 1.0)
    elif domain == "shifted":
        out = np.zeros_like(imgs)
        out[:, :, 1:] = imgs[:, :, :-1]
    elif domain == "inverted":
        out = 1.0 - imgs
    elif domain == "rotated":
        out = np.rot90(imgs, 1, axes=(1, 2))
    else:
        raise ValueError(f"unknown digit domain {domain!r}; domains: {', '.join(SEEN + SHIFTS)}")
    return out.reshape(len(imgs), 64)


class DigitsScenario:
    """The UCI digits in several domains; an SGDClassifier; accuracy."""

    metric = "accuracy"

    def __init__(self, seed=0, epochs=30, shifts=None, train_rows=None):
        from sedna.examples.digits import DigitsDomains

        self.seed, self.epochs = seed, epochs
        self.seen, self.shifts = list(SEEN), list(shifts or SHIFTS)
        self.data = DigitsDomains(seed=seed)
        self.rows = self.data.train_rows if train_rows is None else self.data.train_rows[:train_rows]
        self.slots = dict(task_definition={"method": "TaskDefinitionByDataAttr"},
                          task_allocation={"method": "TaskAllocationByClassifier"})

    def _xy(self, domain, rows):
        # domains see disjoint noise draws in train and test: the seed mixes the rows' first index
        return transform(domain, self.data.x[rows], seed=self.seed * 100003 + int(rows[0])), self.data.y[rows]

    def train_source(self, domains):
        parts = [self._xy(d, self.rows) for d in domains]
        attr = [d for d in domains for _ in self.rows]
        return bl.data_source(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                              attr, "train")

    def test_x(self, domain):
        return self._xy(domain, self.data.test_rows)[0]

    def score(self, preds, domain):
        return float(np.mean(np.asarray(list(preds)) == self.data.y[self.data.test_rows]))

    def estimator(self, seed_offset=0):
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=self.epochs, tol=None, warm_start=True,
                             random_state=self.seed + seed_offset)

    def fit(self, est, src):
        est.fit(src.x, src.y)

    def predict(self, est, x):
        return est.predict(x)

    def untrained(self, domain):
        return 0.1  # ten balanced classes: chance


def run_digits(out, seeds=(0,), shifts=None, learners=bl.LEARNERS, epochs=30, train_rows=None):
    def make(seed, root):
        return DigitsScenario(seed=seed, epochs=epochs, shifts=shifts, train_rows=train_rows)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter without tol: ConvergenceWarning by design
        return bl.run(make, out, seeds=seeds, learners=learners)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=30, help="SGD passes per training (default 30)")
    a = bl.parse_common(p, argv)
    if a.shifts and set(a.shifts) - set(SHIFTS):
        p.error(f"unknown shifts {sorted(set(a.shifts) - set(SHIFTS))}; shifts: {', '.join(SHIFTS)}")
    out = a.out or tempfile.mkdtemp(prefix="bench-lifelong-digits-")
    t = time.perf_counter()
    res = run_digits(out, seeds=a.seeds, shifts=a.shifts, learners=a.learners, epochs=a.epochs)
    print(bl.report(res))
    print(f"\nmatrix.csv and matrix.png in {out} ({time.perf_counter() - t:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
