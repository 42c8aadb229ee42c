"""Models whose fitted state is plain data are written as one .npz
(``sedna.backend.sklearn_plain``): they predict the same after loading, and a
planted or damaged file is refused with one line, never run."""

import io
import json
import os

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sedna.backend import Estimator, sklearn_plain  # noqa: E402
from sedna.common.exceptions import EstimatorError  # noqa: E402

X, Y = load_digits(return_X_y=True)


@pytest.mark.parametrize("est", [LogisticRegression(max_iter=200), GaussianNB(), Ridge(alpha=0.5)],
                         ids=lambda e: type(e).__name__)
def test_a_plain_model_is_one_npz_and_predicts_the_same_after_loading(tmp_path, est):
    est.fit(X, Y)
    path = Estimator(est).save(str(tmp_path / "m"))
    assert path.endswith(".npz") and os.listdir(tmp_path / "m") == ["model.npz"]
    back = Estimator(type(est)()).load(path).est
    assert np.array_equal(back.predict(X), est.predict(X))
    assert back.get_params() == est.get_params()


def test_a_scaler_keeps_its_numpy_scalars(tmp_path):
    sc = StandardScaler().fit(X)
    path = Estimator(sc).save(str(tmp_path / "s"))
    back = Estimator(StandardScaler()).load(path).est
    assert np.allclose(back.transform(X), sc.transform(X))
    assert type(back.n_samples_seen_) is type(sc.n_samples_seen_)


def _plant(path, meta, **arrays):
    buf = io.BytesIO()
    np.savez(buf, __sedna__=np.array(json.dumps(meta)), **{"a:" + k: v for k, v in arrays.items()})
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return str(path)


def _meta(**over):
    meta = {"format": sklearn_plain.FORMAT, "params": {"max_iter": 5}, "scalars": {},
            "class": "sklearn.linear_model._logistic.LogisticRegression"}
    meta.update(over)
    return meta


@pytest.mark.parametrize("meta,arrays,says", [
    (_meta(**{"class": "sklearn.svm._classes.SVC"}), {}, "holds a sklearn.svm._classes.SVC"),
    (_meta(params={"max_iter": {"__class__": "os.system"}}), {}, "refused field"),
    (_meta(scalars={"__class__": "x"}), {}, "refused field"),
    (_meta(params={"no_such_param": 1}), {}, "parameters do not fit"),
    (_meta(format="other"), {}, "not a sedna-sklearn-plain-v1"),
    (_meta(), {"coef_": np.array([object()], dtype=object)}, "not a readable"),
], ids=["other-class", "object-param", "dunder-attribute", "unknown-param", "other-format", "object-array"])
def test_a_planted_file_is_refused_in_one_line(tmp_path, meta, arrays, says):
    path = _plant(tmp_path / "model.npz", meta, **arrays)
    with pytest.raises(EstimatorError) as e:
        Estimator(LogisticRegression()).load(path)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_a_truncated_file_is_refused_in_one_line(tmp_path):
    path = Estimator(LogisticRegression(max_iter=200).fit(X, Y)).save(str(tmp_path / "m"))
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.raises(EstimatorError) as e:
        Estimator(LogisticRegression()).load(path)
    assert "not a readable" in str(e.value) and "\n" not in str(e.value)


def test_a_new_task_model_is_an_unfitted_copy_with_the_templates_parameters():
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline

    from sedna.backend import new_estimator

    template = LogisticRegression(C=0.3, max_iter=77).fit(X[:200], Y[:200])  # even a fitted template
    fresh = new_estimator(template)
    assert type(fresh) is LogisticRegression and fresh is not template
    assert fresh.get_params() == clone(template).get_params()
    assert not hasattr(fresh, "coef_")
    # parameters that are objects, or classes that clone themselves their own way: scikit-learn's clone
    assert sklearn_plain.clone(make_pipeline(StandardScaler(), GaussianNB())) is None
    piped = new_estimator(make_pipeline(StandardScaler(), GaussianNB()).fit(X, Y))
    assert not hasattr(piped[-1], "classes_")


def test_a_models_hits_are_its_per_row_accuracy():
    from sedna.datasources import BaseDataSource

    est = Estimator(LogisticRegression(max_iter=300).fit(X[:600], Y[:600]))
    data = BaseDataSource(data_type="test")
    data.x, data.y = X[600:900], Y[600:900]
    hits = est.hits(data)
    assert hits.shape == (300,) and hits.mean() == est.evaluate(data)["accuracy"]
    assert 0 < hits.mean() < 1
