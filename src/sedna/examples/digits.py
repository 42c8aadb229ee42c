"""Handwritten digits seen in different domains: a lifelong job in seconds.

scikit-learn ships the UCI digits (1,797 8x8 images). Each *domain* is a
transformation of them that a model trained on another domain handles badly:
``plain``, ``inverted`` (16 - pixel), ``rotated`` (90 degrees), ``flipped``
(left-right). A domain is the task attribute, like a city or a scene for the
robot.
"""

import time

import numpy as np

from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import BaseDataSource

DOMAINS = ("plain", "inverted", "rotated", "flipped")


def transform(domain, x):
    imgs = np.asarray(x, dtype=np.float64).reshape(-1, 8, 8)
    if domain == "plain":
        out = imgs
    elif domain == "inverted":
        out = 16.0 - imgs
    elif domain == "rotated":
        out = np.rot90(imgs, 1, axes=(1, 2))
    elif domain == "flipped":
        out = imgs[:, :, ::-1]
    else:
        raise ValueError(f"unknown domain {domain!r}; domains: {', '.join(DOMAINS)}")
    return out.reshape(len(imgs), 64)


class DigitsDomains:
    """Deterministic train/test splits of the digits, per domain."""

    def __init__(self, seed=0, test_share=0.33):
        from sklearn.datasets import load_digits

        d = load_digits()
        perm = np.random.default_rng(seed).permutation(len(d.data))
        self.x, self.y = d.data[perm], d.target[perm]
        n_test = int(len(self.x) * test_share)
        self.test_rows = np.arange(len(self.x) - n_test, len(self.x))
        self.train_rows = np.arange(0, len(self.x) - n_test)

    def source(self, domains, split="train", with_attr=True, rows=None, data_type=None):
        """A data source of ``domains`` (x, y and, optionally, the domain as ``meta_attr``)."""
        if isinstance(domains, str):
            domains = [domains]
        rows = (self.train_rows if split == "train" else self.test_rows) if rows is None else rows
        src = BaseDataSource(data_type=data_type or ("train" if split == "train" else "eval"))
        src.x = np.concatenate([transform(d, self.x[rows]) for d in domains])
        src.y = np.concatenate([self.y[rows] for _ in domains])
        if with_attr:
            src.meta_attr = np.array([d for d in domains for _ in rows])
        return src


def make_estimator():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def accuracy(ll, data):
    """Accuracy of ``ll.inference`` over the samples it recognises as seen, and the unseen share."""
    res, unseen, _ = ll.inference(data)
    seen = ~unseen
    pred = np.array([r for r, u in zip(res, unseen) if not u])
    acc = float((pred == data.y[seen]).mean()) if seen.any() else float("nan")
    return acc, float(unseen.mean())


def run_quickstart(output_url, seen=("plain", "inverted"), unseen="rotated", out=print):
    """Train on two domains, evaluate, infer on all three, learn the third; print a table."""
    import os

    data = DigitsDomains()
    os.environ.setdefault("unseen_save_url", os.path.join(output_url, "unseen_samples"))
    ll = LifelongLearning(make_estimator(), task_definition={"method": "TaskDefinitionByDataAttr"},
                          task_allocation={"method": "TaskAllocationByClassifier"}, output_url=output_url)
    domains = list(seen) + [unseen]
    rows, stages = [], []
    t = time.perf_counter()
    ll.train(data.source(list(seen)))
    stages.append(("train (round 1)", time.perf_counter() - t))
    t = time.perf_counter()
    ev = ll.evaluate(data.source(list(seen), "test"))
    stages.append(("evaluate", time.perf_counter() - t))
    before = {d: accuracy(ll, data.source(d, "test", with_attr=False, data_type="test")) for d in domains}
    t = time.perf_counter()
    upd = ll.update(data.source(unseen, rows=data.train_rows))
    stages.append(("update (round 2)", time.perf_counter() - t))
    after = {d: accuracy(ll, data.source(d, "test", with_attr=False, data_type="test")) for d in domains}
    for d in domains:
        rows.append((d, "seen" if d in seen else "new", before[d][1], before[d][0], after[d][1], after[d][0]))
    out(f"knowledge base: {upd['index_url']}  (round-1 eval dropped: {ev['dropped'] or 'none'})")
    out("| domain | in round 1 | flagged unseen r1 | accuracy r1 | flagged unseen r2 | accuracy r2 |")
    out("|---|---|---|---|---|---|")
    for d, kind, u1, a1, u2, a2 in rows:
        def acc(a):
            return "—" if a != a else f"{a:.3f}"  # NaN: every sample was flagged unseen

        out(f"| {d} | {kind} | {u1:.1%} | {acc(a1)} | {u2:.1%} | {acc(a2)} |")
    out("| stage | seconds |\n|---|---|")
    for name, sec in stages:
        out(f"| {name} | {sec:.2f} |")
    return {"before": before, "after": after, "update": upd, "evaluate": ev}
