"""A scikit-learn model started from another (``warm_start``) learns the new data it is given."""

import numpy as np
import pytest


def test_a_warm_started_mlp_learns_new_data():
    sklearn = pytest.importorskip("sklearn.neural_network")
    from sedna.backend.transfer import start_from

    rng = np.random.default_rng(0)
    x_old = rng.normal(size=(400, 8))
    y_old = (x_old[:, 0] > 0).astype(int)
    x_new = rng.normal(size=(400, 8))
    y_new = (x_new[:, 1] > 0).astype(int)  # another rule: the old model is wrong on half the rows
    old = sklearn.MLPClassifier((16,), max_iter=200, random_state=0).fit(x_old, y_old)
    warm, _ = start_from(sklearn.MLPClassifier((16,), max_iter=200, random_state=0), old)
    warm.fit(x_new, y_new)
    assert warm.n_iter_ > 20  # it did not stop after 10 epochs without "improvement" on the old data's loss
    assert (warm.predict(x_new) == y_new).mean() > 0.9
