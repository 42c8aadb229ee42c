"""A scikit-learn user's usual models persist through a knowledge-base version
with skops (a plain-state model as one .npz): saved by training, loaded by a new process, same predictions; no
code runs on load (untrusted types are refused), and an estimator skops cannot
take gets a one-line error naming save()/load()."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("sklearn")
sio = pytest.importorskip("skops.io")

from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402

from sedna.backend import Estimator, sklearn_io  # noqa: E402
from sedna.common.exceptions import EstimatorError  # noqa: E402

MODELS = {
    "LogisticRegression": "from sklearn.linear_model import LogisticRegression as M; est = M(max_iter=500)",
    "SVC": "from sklearn.svm import SVC as M; est = M()",
    "MLPClassifier": "from sklearn.neural_network import MLPClassifier as M; est = M(hidden_layer_sizes=(8,), "
                     "max_iter=300, random_state=0)",
    "RandomForestClassifier": "from sklearn.ensemble import RandomForestClassifier as M; "
                              "est = M(n_estimators=10, random_state=0)",
    "HistGradientBoostingClassifier": "from sklearn.ensemble import HistGradientBoostingClassifier as M; "
                                      "est = M(max_iter=20)",
    "Pipeline": "from sklearn.pipeline import make_pipeline; from sklearn.preprocessing import StandardScaler; "
                "from sklearn.linear_model import LogisticRegression; "
                "est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))",
}

DATA = """
import numpy as np
from sedna.datasources import BaseDataSource

def data(data_type="train"):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 4))
    src = BaseDataSource(data_type=data_type)
    src.x = x
    src.y = ((x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)).astype(int)
    src.meta_attr = np.array(["north"] * 120 + ["south"] * 120)
    return src
"""


def _ns(code):
    ns = {}
    exec(DATA + "\n" + code, ns)  # the model table above, shared with the new process
    return ns


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from sedna.core.lifelong_learning import LifelongLearning

    root = tmp_path_factory.mktemp("skops_kbs")
    out = {}
    for name, code in MODELS.items():
        ns = _ns(code)
        ll = LifelongLearning(ns["est"], output_url=str(root / name), calibration_split=0,
                              task_definition={"method": "TaskDefinitionByDataAttr"})
        ll.train(ns["data"]())
        res, _, _ = ll.inference(ns["data"]("test"), recognize_unseen=False)
        out[name] = (str(root / name), np.asarray(res).tolist())
    return out


def test_usual_models_round_trip_through_a_kb_version_in_a_new_process(trained):
    script = textwrap.dedent("""
        import json, sys
        import numpy as np
        from sedna.core.lifelong_learning import LifelongLearning
        models, kbs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
        out = {}
        for name, code in models.items():
            ns = {}
            exec(sys.argv[3] + "\\n" + code, ns)
            ll = LifelongLearning(ns["est"], output_url=kbs[name])
            res, _, _ = ll.inference(ns["data"]("test"), recognize_unseen=False)
            out[name] = np.asarray(res).tolist()
        print(json.dumps(out))
    """)
    kbs = {name: url for name, (url, _) in trained.items()}
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    run = subprocess.run([sys.executable, "-c", script, json.dumps(MODELS), json.dumps(kbs), DATA],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = json.loads(run.stdout.strip().splitlines()[-1])
    for name, (_, before) in trained.items():
        assert loaded[name] == before, name
    for name, (url, _) in trained.items():  # through skops files, or plain .npz for a plain state
        models = [f for folder, _, fs in os.walk(url) for f in fs if os.sep + "models" + os.sep in folder + os.sep]
        want = ".npz" if name == "LogisticRegression" else ".skops"
        assert models and all(f.endswith(want) for f in models), (name, models)


class MeanClassifier(ClassifierMixin, BaseEstimator):
    """A user's own scikit-learn-style class: skops does not trust it."""

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        self.means_ = np.stack([np.asarray(x)[np.asarray(y) == c].mean(0) for c in self.classes_])
        return self

    def predict(self, x):
        d = ((np.asarray(x)[:, None] - self.means_[None]) ** 2).sum(-1)
        return self.classes_[d.argmin(1)]


def _fitted(est):
    ns = _ns("")
    src = ns["data"]()
    return est.fit(src.x, src.y)


def test_an_estimator_skops_cannot_take_gets_one_line_naming_save_load(tmp_path):
    est = Estimator(_fitted(MeanClassifier()))
    with pytest.raises(EstimatorError) as e:
        est.save(str(tmp_path / "m"))
    msg = str(e.value)
    assert "\n" not in msg and "save()/load()" in msg and "MeanClassifier" in msg
    assert not os.listdir(tmp_path / "m")  # nothing half-written left behind

    from sklearn.preprocessing import FunctionTransformer

    with pytest.raises(EstimatorError) as e:
        Estimator(FunctionTransformer(lambda v: v + 1).fit(np.ones((3, 2)))).save(str(tmp_path / "f"))
    assert "\n" not in str(e.value) and "save()/load()" in str(e.value)


def test_a_file_with_untrusted_types_is_refused_on_load(tmp_path):
    path = str(tmp_path / "planted.skops")
    sio.dump(_fitted(MeanClassifier()), path)  # not written by us: holds a user class
    with pytest.raises(EstimatorError) as e:
        sklearn_io.load(MeanClassifier(), path)
    assert "MeanClassifier" in str(e.value) and "\n" not in str(e.value)


def test_a_model_written_by_the_old_json_format_still_loads(tmp_path):
    from sklearn.linear_model import LogisticRegression

    est = _fitted(LogisticRegression(max_iter=500))
    arrays = {"a0": est.classes_, "a1": est.coef_, "a2": est.intercept_, "a3": est.n_iter_}
    fitted = {"classes_": {"array": "a0"}, "coef_": {"array": "a1"}, "intercept_": {"array": "a2"},
              "n_iter_": {"array": "a3"}, "n_features_in_": {"v": int(est.n_features_in_)}}
    doc = {"format": "sedna-sklearn-v1", "class": "sklearn.linear_model._logistic.LogisticRegression",
           "params": {k: {"v": v} for k, v in est.get_params(deep=False).items()}, "fitted": fitted}
    np.savez(str(tmp_path / "model.npz"), **arrays)
    (tmp_path / "model.json").write_text(json.dumps(doc))
    back = Estimator(LogisticRegression()).load(str(tmp_path / "model.json")).est
    x = _ns("")["data"]("test").x
    assert (back.predict(x) == est.predict(x)).all()
