"""What a user gets for a mistake: a clear error at the right moment, and a knowledge
base left as it was.

Constructor slot specs, estimators and data sources that do not fit; a knowledge
base whose files were truncated or deleted; evaluate arguments that make no
sense; a trainer that crashes half-way through writing a version.
"""

import json
import os

import numpy as np
import pytest

from sedna.common.class_factory import ClassFactory, ClassType
from sedna.common.exceptions import (CorruptKnowledgeBaseError, EstimatorError, PluginParamError,
                                     UnknownPluginError)
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import BaseDataSource
from sedna.examples.digits import make_estimator
from sedna.knowledge import KnowledgeBase

SEEN = ["plain", "inverted"]
N = 150  # training rows per domain


def version_folders(root):
    """Everything under root/versions (version folders, staging folders, lock files)."""
    path = os.path.join(str(root), "versions")
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


@pytest.fixture
def trained(tmp_path, digits):
    """A job trained on two digit domains into tmp_path/kb (version 1)."""
    root = tmp_path / "kb"
    ll = LifelongLearning(make_estimator(), output_url=str(root))
    res = ll.train(digits.source(SEEN, rows=digits.train_rows[:N]))
    assert res["version"] == 1
    return root, res


# ============================================================ constructor: slots
def test_unknown_plugin_name_names_the_slot_and_lists_only_its_plugins():
    with pytest.raises(UnknownPluginError) as err:
        LifelongLearning(make_estimator(), task_allocation={"method": "TaskAllocationByCity"})
    msg = str(err.value)
    assert "TaskAllocationByCity" in msg and "task_allocation" in msg
    assert ClassType.STP not in msg  # the slot, not the registry's internal type name
    assert "TaskAllocationByOrigin" in msg and "TaskAllocationDefault" in msg
    assert "TaskDefinition" not in msg and "DefaultTaskRemodeling" not in msg  # other slots of that type
    assert "did you mean" not in msg  # no near miss: no guess
    assert isinstance(err.value, ValueError)


def test_unknown_plugin_name_near_miss_gets_a_suggestion():
    with pytest.raises(UnknownPluginError) as err:
        LifelongLearning(make_estimator(), task_allocation={"method": "TaskAllocationByDataAtr"})
    assert "did you mean 'TaskAllocationByDataAttr'?" in str(err.value)
    with pytest.raises(UnknownPluginError) as err:
        LifelongLearning(make_estimator(), unseen_sample_recognition="SampleRecognitionByDistanse")
    msg = str(err.value)
    assert "unseen_sample_recognition" in msg and "did you mean 'SampleRecognitionByDistance'?" in msg
    assert "SampleReRecognitionDefault" not in msg  # the re-recognition slot shares the type, not the list
    assert "Regonition" not in msg  # the original's spellings work, but are not offered


def test_unknown_plugin_name_in_a_slot_of_another_type():
    with pytest.raises(UnknownPluginError) as err:
        LifelongLearning(make_estimator(), task_update_decision={"method": "UpdateStrategyByMagic"})
    msg = str(err.value)
    assert "task_update_decision" in msg and "UpdateStrategyDefault" in msg and "UpdateStrategyByFinetune" in msg


def test_a_bare_string_spec_is_a_plugin_name():
    ll = LifelongLearning(make_estimator(), task_definition="TaskDefinitionByClustering")
    assert ll.slots["task_definition"].method == "TaskDefinitionByClustering"
    with pytest.raises(UnknownPluginError, match="NoSuchDefinition"):
        LifelongLearning(make_estimator(), task_definition="NoSuchDefinition")


class StrictTaskDefinition:
    """A user's definition that takes exactly one parameter."""

    def __init__(self, attribute=None):
        self.attribute = attribute

    def __call__(self, samples, **kwargs):
        raise NotImplementedError


class StrictAllocation:
    """A user's allocation: the engine passes the extractor first."""

    def __init__(self, task_extractor=None, default=None):
        self.task_extractor, self.default = task_extractor, default

    def __call__(self, samples, **kwargs):
        return samples, [0] * len(samples.x)


@pytest.fixture
def strict_plugins():
    ClassFactory.register_cls(StrictTaskDefinition, ClassType.STP, alias="BadInputStrictTaskDefinition")
    ClassFactory.register_cls(StrictAllocation, ClassType.STP, alias="BadInputStrictAllocation")
    yield
    ClassFactory.unregister(ClassType.STP, "BadInputStrictTaskDefinition")
    ClassFactory.unregister(ClassType.STP, "BadInputStrictAllocation")


def test_a_param_the_plugin_does_not_take_is_named(strict_plugins):
    with pytest.raises(PluginParamError) as err:
        LifelongLearning(make_estimator(), task_definition={"method": "BadInputStrictTaskDefinition",
                                                            "param": {"atribute": "domain"}})
    msg = str(err.value)
    assert "task_definition.param.atribute" in msg
    assert "attribute" in msg.split("task_definition.param.atribute", 1)[1]  # says what is accepted
    # the extractor is the engine's to pass, not a user parameter
    with pytest.raises(PluginParamError, match=r"task_allocation\.param\.task_extractor"):
        LifelongLearning(make_estimator(), task_allocation={"method": "BadInputStrictAllocation",
                                                            "param": {"task_extractor": {}}})
    ok = LifelongLearning(make_estimator(), task_allocation={"method": "BadInputStrictAllocation",
                                                             "param": {"default": "sim"}})
    assert ok.slots["task_allocation"].param == {"default": "sim"}


def test_a_misspelt_param_of_a_built_in_plugin_is_named():
    with pytest.raises(PluginParamError, match=r"task_definition\.param\.atribute"):
        LifelongLearning(make_estimator(), task_definition={"method": "TaskDefinitionByDataAttr",
                                                            "param": {"atribute": "domain"}})


def test_param_as_invalid_json_names_the_slot_param():
    with pytest.raises(PluginParamError) as err:
        LifelongLearning(make_estimator(), task_definition={"method": "TaskDefinitionByClustering",
                                                            "param": '{"n_clusters": 3,'})
    assert "task_definition.param" in str(err.value)
    assert "JSON" in str(err.value)


def test_param_as_json_that_is_not_an_object_is_refused():
    with pytest.raises(PluginParamError, match=r"task_definition\.param"):
        LifelongLearning(make_estimator(), task_definition={"method": "TaskDefinitionByClustering",
                                                            "param": "[3]"})


def test_param_as_valid_json_string_is_used(tmp_path, digits):
    ll = LifelongLearning(make_estimator(), output_url=str(tmp_path / "kb"),
                          task_definition={"method": "TaskDefinitionByClustering", "param": '{"n_clusters": 3}'},
                          task_allocation={"method": "TaskAllocationByClustering"})
    assert ll.slots["task_definition"].param == {"n_clusters": 3}
    res = ll.train(digits.source(SEEN, rows=digits.train_rows[:N]))
    assert len(res["tasks"]) == 3
    doc = KnowledgeBase(str(tmp_path / "kb")).current().doc
    assert doc["task_definition"] == {"method": "TaskDefinitionByClustering", "param": {"n_clusters": 3}}


def test_whole_spec_as_a_json_string_is_accepted():
    ll = LifelongLearning(make_estimator(),
                          task_definition='{"method": "TaskDefinitionByClustering", "param": {"n_clusters": 4}}')
    assert ll.slots["task_definition"].method == "TaskDefinitionByClustering"
    assert ll.slots["task_definition"].param == {"n_clusters": 4}


@pytest.mark.parametrize("spec", [["TaskDefinitionByDataAttr"], 3, ("TaskDefinitionByDataAttr", {})])
def test_a_spec_that_is_not_a_dict_names_the_slot(spec):
    with pytest.raises(PluginParamError) as err:
        LifelongLearning(make_estimator(), task_definition=spec)
    assert "task_definition" in str(err.value) and "dict" in str(err.value)


def test_an_unknown_key_in_the_spec_is_named():
    with pytest.raises(PluginParamError) as err:
        LifelongLearning(make_estimator(), task_remodeling={"method": "DefaultTaskRemodeling", "params": {}})
    assert "task_remodeling.params" in str(err.value)


def test_a_method_that_is_not_a_string_is_refused():
    with pytest.raises(PluginParamError, match=r"unseen_sample_recognition\.method"):
        LifelongLearning(make_estimator(), unseen_sample_recognition={"method": ["SampleRegonitionDefault"]})


def test_a_bad_param_value_fails_train_with_the_slot_named_and_writes_nothing(tmp_path, digits):
    ll = LifelongLearning(make_estimator(), output_url=str(tmp_path / "kb"),
                          task_definition={"method": "TaskDefinitionByClustering", "param": {"n_clusters": "many"}})
    with pytest.raises(PluginParamError, match="task_definition"):
        ll.train(digits.source(SEEN, rows=digits.train_rows[:N]))
    assert version_folders(tmp_path / "kb") == []


# ======================================================= constructor: estimator
class FitOnly:
    def fit(self, x, y):
        return self


class PredictOnly:
    def predict(self, x):
        return np.zeros(len(x))


def test_an_estimator_without_predict_is_refused():
    with pytest.raises(EstimatorError, match="predict") as err:
        LifelongLearning(FitOnly())
    assert isinstance(err.value, TypeError)
    with pytest.raises(EstimatorError, match="predict"):
        LifelongLearning(estimator=FitOnly)  # a class is checked the same way


def test_an_estimator_that_cannot_learn_is_refused():
    with pytest.raises(EstimatorError, match="train"):
        LifelongLearning(PredictOnly())


def test_no_estimator_at_all_is_refused():
    with pytest.raises(EstimatorError, match="estimator"):
        LifelongLearning()


def test_seen_estimator_is_the_original_name_of_the_estimator():
    ll = LifelongLearning(seen_estimator=make_estimator())
    assert hasattr(ll.estimator, "predict")


# ================================================================ train: data
def test_train_with_no_samples_fails_and_writes_nothing(tmp_path):
    ll = LifelongLearning(make_estimator(), output_url=str(tmp_path / "kb"))
    empty = BaseDataSource(data_type="train")
    empty.x, empty.y = np.array([]), np.array([])
    with pytest.raises(ValueError, match="no samples"):
        ll.train(empty)
    never_parsed = BaseDataSource(data_type="train")
    with pytest.raises(ValueError, match="train_data"):
        ll.train(never_parsed)
    with pytest.raises(ValueError, match="train_data"):
        ll.train([[0.0] * 64])  # not a data source
    assert version_folders(tmp_path / "kb") == []


# ========================================================== corrupt knowledge base
def test_a_truncated_version_index_is_skipped_and_named(trained, digits, monkeypatch):
    root, res = trained
    index = root / "versions" / "0001" / "index.json"
    assert res["index_url"] == str(index)
    raw = index.read_bytes()
    index.write_bytes(raw[: len(raw) // 2])

    kb = KnowledgeBase(str(root))
    assert kb.versions() == []
    assert kb.latest() is None
    with pytest.raises(CorruptKnowledgeBaseError) as err:
        KnowledgeBase.open_index(str(index))
    assert str(index) in str(err.value)

    before = version_folders(root)
    monkeypatch.setenv("CLOUD_KB_INDEX", str(index))
    ll = LifelongLearning(make_estimator(), output_url=str(root))
    with pytest.raises(CorruptKnowledgeBaseError) as err:
        ll.update(digits.source("rotated", rows=digits.train_rows[:N]))
    assert str(index) in str(err.value)
    after = version_folders(root)
    assert after == before == ["0001"]  # no new version, no staging left behind
    assert not [f for f in after if f.startswith(".tmp-")]


def test_an_update_from_a_truncated_second_version_leaves_the_first_alone(trained, digits, monkeypatch):
    root, _ = trained
    ll = LifelongLearning(make_estimator(), output_url=str(root))
    res2 = ll.update(digits.source("rotated", rows=digits.train_rows[:N]))
    assert res2["version"] == 2
    index2 = root / "versions" / "0002" / "index.json"
    index2.write_text('{"schema_version": 1, "version": 2, "task_gr')
    assert KnowledgeBase(str(root)).versions() == [1]
    monkeypatch.setenv("CLOUD_KB_INDEX", str(index2))
    with pytest.raises(CorruptKnowledgeBaseError, match="0002"):
        LifelongLearning(make_estimator(), output_url=str(root)).update(
            digits.source("flipped", rows=digits.train_rows[:N]))
    assert version_folders(root) == ["0001", "0002"]
    assert KnowledgeBase(str(root)).load(1).number == 1


def test_a_deleted_model_file_is_named_by_evaluate(trained, digits):
    root, res = trained
    version = KnowledgeBase(str(root)).current()
    group = version.doc["task_groups"][1]
    model_path = version.resolve(group["model"]["url"])
    assert os.path.isfile(model_path)
    os.remove(model_path)
    ll = LifelongLearning(make_estimator(), output_url=str(root))
    with pytest.raises(CorruptKnowledgeBaseError) as err:
        ll.evaluate(digits.source(SEEN, "test"), index_url=res["index_url"])
    assert model_path in str(err.value)
    assert group["entry"] in str(err.value)
    assert not (root / "evaluations").exists()  # no deployable index written


def test_a_deleted_model_file_is_named_at_inference(trained, digits, monkeypatch):
    root, res = trained
    version = KnowledgeBase(str(root)).current()
    model_path = version.resolve(version.doc["task_groups"][0]["model"]["url"])
    os.remove(model_path)
    monkeypatch.setenv("MODEL_URLS", res["index_url"])
    ll = LifelongLearning(make_estimator())
    try:
        with pytest.raises(CorruptKnowledgeBaseError) as err:
            ll.inference(digits.source("plain", "test", with_attr=False, data_type="test"))
    finally:
        ll.close()
    assert model_path in str(err.value)


# =========================================================== evaluate arguments
def test_evaluate_with_an_unknown_operator_names_operator(trained, digits, monkeypatch):
    root, res = trained
    ll = LifelongLearning(make_estimator(), output_url=str(root))
    data = digits.source(SEEN, "test", rows=digits.test_rows[:50])
    with pytest.raises(PluginParamError) as err:
        ll.evaluate(data, index_url=res["index_url"], operator="~")
    assert "operator" in str(err.value) and "'~'" in str(err.value)
    monkeypatch.setenv("operator", "=>")  # the same mistake through the worker's environment
    with pytest.raises(PluginParamError, match="operator"):
        ll.evaluate(data, index_url=res["index_url"])
    assert not (root / "evaluations").exists()


def test_evaluate_with_a_threshold_that_is_not_a_number_names_model_threshold(trained, digits, monkeypatch):
    root, res = trained
    ll = LifelongLearning(make_estimator(), output_url=str(root))
    data = digits.source(SEEN, "test", rows=digits.test_rows[:50])
    with pytest.raises(PluginParamError) as err:
        ll.evaluate(data, index_url=res["index_url"], model_threshold="abc")
    assert "model_threshold" in str(err.value) and "abc" in str(err.value)
    monkeypatch.setenv("model_threshold", "high")
    with pytest.raises(PluginParamError, match="model_threshold"):
        ll.evaluate(data, index_url=res["index_url"])
    assert not (root / "evaluations").exists()
    # a valid pair works
    monkeypatch.setenv("model_threshold", "0.5")
    out = ll.evaluate(data, index_url=res["index_url"], operator="<")
    assert out["dropped"] == [] and os.path.isfile(out["index_url"])


def test_evaluate_with_an_empty_data_source_is_refused(trained):
    root, res = trained
    empty = BaseDataSource(data_type="eval")
    empty.x, empty.y = np.zeros((0, 64)), np.zeros(0)
    with pytest.raises(ValueError, match="no samples"):
        LifelongLearning(make_estimator(), output_url=str(root)).evaluate(empty, index_url=res["index_url"])


# ====================================================== a crash in the middle of train
class NearestMeanSavingOnce:
    """A small real estimator whose save() fails after the first model (a full disk)."""

    saves = 0

    def fit(self, x, y):
        x, y = np.asarray(x, dtype=float), np.asarray(y)
        self.classes_ = np.unique(y)
        self.means_ = np.stack([x[y == c].mean(0) for c in self.classes_])
        return self

    def predict(self, x):
        d = ((np.asarray(x, dtype=float)[:, None, :] - self.means_[None]) ** 2).sum(-1)
        return self.classes_[d.argmin(1)]

    def save(self, model_path):
        type(self).saves += 1
        if type(self).saves > 1:
            raise OSError(28, "No space left on device", model_path)
        np.savez(model_path + ".npz", classes=self.classes_, means=self.means_)
        return model_path + ".npz"

    def load(self, model_url):
        with np.load(model_url) as z:
            self.classes_, self.means_ = z["classes"], z["means"]


def test_a_crash_mid_train_leaves_no_version_and_the_previous_one_current(trained, digits):
    root, _ = trained
    before = version_folders(root)
    NearestMeanSavingOnce.saves = 0
    ll = LifelongLearning(NearestMeanSavingOnce, output_url=str(root))
    with pytest.raises(OSError, match="No space left"):
        ll.train(digits.source(SEEN, rows=digits.train_rows[N:2 * N]))
    assert NearestMeanSavingOnce.saves == 2  # it did crash after writing the first model
    assert version_folders(root) == before == ["0001"]
    kb = KnowledgeBase(str(root))
    assert kb.versions() == [1]
    assert kb.current().number == 1
    assert kb.catalog.version_numbers() == {1}
    # the previous version still serves
    served = LifelongLearning(make_estimator(), output_url=str(root))
    test = digits.source("plain", "test", with_attr=False, data_type="test")
    result, unseen, _ = served.inference(test)
    pred = np.array([r for r, u in zip(result, unseen) if not u])
    assert (~unseen).mean() > 0.8
    assert (pred == test.y[~unseen]).mean() > 0.9
    # and a later train that works gets the next number
    NearestMeanSavingOnce.saves = -100
    res = ll.train(digits.source(SEEN, rows=digits.train_rows[N:2 * N]))
    assert res["version"] == 2
    assert json.load(open(res["index_url"]))["version"] == 2


class RecognizerThatCrashes:
    """A user's unseen-sample recognizer whose fit dies (out of memory, a bug...)."""

    def __init__(self, task_index=None):
        self.task_index = task_index or {}

    def fit(self, parts):
        raise RuntimeError("recognizer crashed while fitting")

    def __call__(self, samples, models=None, allocate=None, **kwargs):
        raise NotImplementedError


@pytest.fixture
def crashing_recognizer():
    ClassFactory.register_cls(RecognizerThatCrashes, ClassType.UTD, alias="BadInputCrashingRecognizer")
    yield "BadInputCrashingRecognizer"
    ClassFactory.unregister(ClassType.UTD, "BadInputCrashingRecognizer")


def test_a_crash_mid_update_leaves_no_version_and_the_previous_one_current(trained, digits, crashing_recognizer):
    root, res = trained
    ll = LifelongLearning(make_estimator(), output_url=str(root),
                          unseen_sample_recognition={"method": crashing_recognizer})
    with pytest.raises(RuntimeError, match="recognizer crashed"):
        ll.update(digits.source("rotated", rows=digits.train_rows[:N]), index_url=res["index_url"])
    assert version_folders(root) == ["0001"]
    kb = KnowledgeBase(str(root))
    assert kb.versions() == [1] and kb.current().number == 1
    assert kb.catalog.version_numbers() == {1}


def test_a_plugin_of_another_slot_is_refused_when_the_job_is_built():
    # DefaultTaskRemodeling is registered under the same type as task definitions
    with pytest.raises(PluginParamError, match="task_definition"):
        LifelongLearning(make_estimator(), task_definition={"method": "DefaultTaskRemodeling"})
