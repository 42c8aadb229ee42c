"""The original system's example worker code runs unchanged: its plugin names,
its no-parameter defaults, its inference callbacks, its logging and the
manifest leniencies it accepts."""

import numpy as np
import pytest

from sedna.algorithms.seen_task_learning.task_allocation import TaskAllocationByOrigin
from sedna.algorithms.seen_task_learning.task_definition import TaskDefinitionByOrigin
from sedna.common.class_factory import ClassFactory, ClassType
from sedna.datasources import BaseDataSource


def _paths(xs, data_type="test"):
    src = BaseDataSource(data_type=data_type)
    src.x = np.array(xs)
    return src


# ------------------------------------------------------------ task allocation
CITYSCAPES_STYLE = [
    "leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png",
    "leftImg8bit/val/frankfurt/frankfurt_000001_012345_leftImg8bit.png",
    "leftImg8bit/test/munich/munich_000002_000100_leftImg8bit.png",
    "leftImg8bit/test/berlin/berlin_000100_000019_leftImg8bit.png",
]
SIM_STYLE = ["synthia/RAND_CITYSCAPES/RGB/0000123.png", "carla/town01/frame_0042.png"]


def test_origin_allocation_without_params_maps_cityscapes_cities_to_real():
    # the original's tutorial passes {"method": "TaskAllocationByOrigin"} and no param
    alloc = TaskAllocationByOrigin({"real": 0, "sim": 1})
    _, ids = alloc(_paths(CITYSCAPES_STYLE + ["sim/town01/0001.png"]))
    assert list(ids) == [0, 0, 0, 0, 1]
    # naming neither: left to unseen recognition here (the original forces "sim")
    _, ids = alloc(_paths(SIM_STYLE))
    assert list(ids) == [-1, -1]
    _, ids = TaskAllocationByOrigin({"real": 0, "sim": 1}, default="sim")(_paths(CITYSCAPES_STYLE[:1] + SIM_STYLE))
    assert list(ids) == [0, 1, 1]


def test_origin_allocation_knows_every_cityscapes_city():
    cities = ("aachen bochum bremen cologne darmstadt dusseldorf erfurt hamburg hanover jena krefeld "
              "monchengladbach strasbourg stuttgart tubingen ulm weimar zurich frankfurt lindau munster "
              "berlin bielefeld bonn leverkusen mainz munich").split()
    xs = [f"leftImg8bit/x/{c}/{c}_000000_000001_leftImg8bit.png" for c in cities]
    _, ids = TaskAllocationByOrigin({"real": 0, "sim": 1})(_paths(xs))
    assert list(ids) == [0] * len(cities)


def test_origin_allocation_list_x_as_the_original_feeds_it():
    # the original's workers give x as [[image_path, depth_path], ...]
    src = BaseDataSource(data_type="test")
    src.x = [["data/bremen/bremen_01.png", "depth/bremen_01.png"], ["sim/a/001.png", "sim/a/001_d.png"]]
    _, ids = TaskAllocationByOrigin({"real": 0, "sim": 1})(src)
    assert list(ids) == [0, 1]


def test_origin_allocation_folder_names_still_win_and_explicit_origins_replace_the_cities():
    alloc = TaskAllocationByOrigin({"real": 0, "sim": 1})
    _, ids = alloc(_paths(["sim/aachen/img.png", "real/somewhere/img.png"]))
    assert list(ids) == [1, 0]
    # other task names: no city default, unknown stays unallocated
    _, ids = TaskAllocationByOrigin({"indoor": 0, "outdoor": 1})(_paths(["x/aachen/aachen_1.png"]))
    assert list(ids) == [-1]
    alloc = TaskAllocationByOrigin({"real": 0, "sim": 1}, origins={"real": ["garden"]})
    _, ids = alloc(_paths(["x/aachen/aachen_1.png", "x/garden/1.png"]))
    assert list(ids) == [-1, 0]


def test_origin_definition_and_allocation_agree_on_the_tutorial_layout():
    train = _paths([f"real/{c}/{c}_1.png" for c in ("bremen", "ulm")] + ["sim/s1/1.png", "sim/s2/2.png"], "train")
    tasks, extractor, _ = TaskDefinitionByOrigin()(train)
    _, ids = TaskAllocationByOrigin(extractor)(_paths(CITYSCAPES_STYLE[:1] + SIM_STYLE[:1]))
    assert [tasks[i].meta_attr for i in ids] == ["real", "sim"]


@pytest.mark.parametrize("name", ["TaskAllocationStream", "TaskAllocationBySVC", "TaskDefinitionBySVC"])
def test_original_example_plugin_names_are_registered(name):
    from sedna.core.lifelong_learning.slots import parse_slot

    assert name in ClassFactory.list(ClassType.STP)
    slot = "task_definition" if name.startswith("TaskDefinition") else "task_allocation"
    assert parse_slot(slot, {"method": name}).cls is ClassFactory.get_cls(ClassType.STP, name)


def test_task_allocation_stream_follows_the_extractor():
    # the original's TaskAllocationStream sends every sample to task 0; ours allocates
    alloc = ClassFactory.get_cls(ClassType.STP, "TaskAllocationStream")({"real": 0, "sim": 1})
    _, ids = alloc(_paths(["sim/a/1.png", "real/b/2.png"]))
    assert list(ids) == [1, 0]


def test_svc_definition_and_allocation_pair():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.3, (30, 3)), rng.normal(5, 0.3, (30, 3))])
    train = BaseDataSource(data_type="train")
    train.x, train.y = x, np.r_[np.zeros(30), np.ones(30)].astype(int)
    define = ClassFactory.get_cls(ClassType.STP, "TaskDefinitionBySVC")(n_class="2")
    tasks, extractor, _ = define(train)
    assert len(tasks) == 2
    _, ids = ClassFactory.get_cls(ClassType.STP, "TaskAllocationBySVC")(extractor)(train)
    ids = np.asarray(ids)
    assert len(set(ids[:30])) == 1 and len(set(ids[30:])) == 1 and ids[0] != ids[-1]


# ------------------------------------------------------- inference callbacks
class OriginLabelEstimator:
    """Predicts the label its task saw most often (JSON on disk)."""

    def __init__(self):
        self.label = None

    def train(self, train_data, valid_data=None, **kwargs):
        values, counts = np.unique(np.asarray(train_data.y), return_counts=True)
        self.label = str(values[counts.argmax()])

    def predict(self, x, **kwargs):
        return np.array([self.label] * len(x))

    def save(self, model_path):
        import json

        with open(model_path, "w") as f:
            json.dump({"label": self.label}, f)
        return model_path

    def load(self, model_url):
        import json

        with open(model_url) as f:
            self.label = json.load(f)["label"]


def _train_origin_kb(tmp_path):
    from sedna.core.lifelong_learning import LifelongLearning

    xs = [f"indoor/room{i}/img.png" for i in range(12)] + [f"outdoor/street{i}/img.png" for i in range(12)]
    train = BaseDataSource(data_type="train")
    train.x = np.array(xs)
    train.y = np.array(["in"] * 12 + ["out"] * 12)
    definition = {"method": "TaskDefinitionByOrigin", "param": {"attribute": "indoor, outdoor"}}
    ll = LifelongLearning(OriginLabelEstimator(), output_url=str(tmp_path / "kb"), calibration_split=0,
                          task_definition=definition, task_allocation={"method": "TaskAllocationByOrigin"})
    ll.train(train)
    return str(tmp_path / "kb")


def _worker(kb_url, **kw):
    from sedna.core.lifelong_learning import LifelongLearning

    kw.setdefault("unseen_sample_recognition", {"method": "SampleRegonitionByTaskAttr"})
    return LifelongLearning(OriginLabelEstimator(), output_url=kb_url, **kw)


def test_plain_function_as_unseen_estimator_is_called_like_predict(tmp_path):
    kb = _train_origin_kb(tmp_path)
    calls = []

    def unseen(x):
        calls.append(list(x))
        return ["?" + str(p)[:4] for p in x]

    res, is_unseen, _ = _worker(kb, unseen_estimator=unseen).inference(
        ["indoor/r/a.png", "mars/a.png", "venus/b.png"])
    assert list(res) == ["in", "?mars", "?venu"]
    assert list(is_unseen) == [False, True, True]
    assert calls == [["mars/a.png", "venus/b.png"]]


def test_function_of_no_arguments_answers_every_unseen_sample(tmp_path):
    # the original's robot-dog worker: def unseen_task_processing(): return "Warning: ..."
    kb = _train_origin_kb(tmp_path)

    def unseen_task_processing():
        return "Warning: unseen sample detected."

    res, _, _ = _worker(kb, unseen_estimator=unseen_task_processing).inference(["mars/a.png", "outdoor/s/b.png"])
    assert list(res) == ["Warning: unseen sample detected.", "out"]


def test_unseen_sample_postprocess_is_called_once_per_unseen_sample(tmp_path, monkeypatch):
    kb = _train_origin_kb(tmp_path)
    monkeypatch.setenv("unseen_save_url", str(tmp_path / "unseen"))
    got = []
    _worker(kb).inference(["mars/a.png", "indoor/r/a.png", "venus/b.png"],
                          unseen_sample_postprocess=lambda sample, url: got.append((str(sample), url)))
    assert got == [("mars/a.png", str(tmp_path / "unseen")), ("venus/b.png", str(tmp_path / "unseen"))]


class _EverythingOutdoor:
    def __init__(self, task_extractor=None, **kwargs):
        self.task_extractor = task_extractor

    def __call__(self, samples, **kwargs):
        return samples, [self.task_extractor["outdoor"]] * len(samples.x)


def test_worker_task_allocation_wins_over_the_knowledge_bases(tmp_path):
    ClassFactory.register_cls(_EverythingOutdoor, ClassType.STP, alias="CompatTestEverythingOutdoor", force=True)
    kb = _train_origin_kb(tmp_path)
    res, _, _ = _worker(kb).inference(["indoor/r/a.png"])
    assert list(res) == ["in"]  # no allocation given: the KB's (by origin)
    own = _worker(kb, task_allocation={"method": "CompatTestEverythingOutdoor"})
    res, _, _ = own.inference(["indoor/r/a.png"])
    assert list(res) == ["out"]


# -------------------------------------------------------------------- logging
def _stderr_of(code, **env):
    import os
    import subprocess
    import sys

    full = {k: v for k, v in os.environ.items() if k != "LOG_LEVEL"}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stderr


def test_a_worker_that_only_logs_shows_its_info_lines_on_stderr():
    err = _stderr_of("from sedna.common.log import LOGGER, sedna_logger\n"
                     "LOGGER.info('training round %d', 1)\nLOGGER.debug('detail')\n"
                     "sedna_logger('sedna.knowledge.base').info('child line')")
    assert "[sedna][INFO]: training round 1" in err
    assert "child line" in err and "detail" not in err


def test_log_level_env_is_respected():
    code = "from sedna.common.log import LOGGER\nLOGGER.info('info line')\nLOGGER.debug('debug line')"
    err = _stderr_of(code, LOG_LEVEL="WARNING")
    assert "info line" not in err
    err = _stderr_of(code, LOG_LEVEL="debug")
    assert "info line" in err and "debug line" in err


def test_no_line_is_printed_twice_and_a_library_user_can_silence_it():
    once = "from sedna.common.log import LOGGER\nLOGGER.info('the line')"
    assert _stderr_of("import logging\nlogging.basicConfig(level=logging.INFO)\n" + once).count("the line") == 1
    assert _stderr_of("from sedna.common.log import setup\nsetup()\nsetup()\n" + once).count("the line") == 1
    assert _stderr_of("import importlib, sedna.common.log as m\nimportlib.reload(m)\n" + once).count("the line") == 1
    assert "the line" not in _stderr_of("from sedna.common.log import silence\nsilence()\n" + once)
    assert "the line" not in _stderr_of("import logging\nlogging.getLogger('sedna').setLevel(logging.WARNING)\n" + once)


# ------------------------------------------------------ manifest leniencies
def _manifest(name):
    import os

    from sedna.control.resources import load_manifests

    from support.paths import MANIFESTS

    with open(MANIFESTS / name) as f:
        return load_manifests(f.read())[0]


def _set(doc, path, value):
    import copy

    d = copy.deepcopy(doc)
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return d


CONDITION = ["spec", "trainSpec", "trigger", "condition", "operator"]


@pytest.mark.parametrize("word,symbol", [("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("eq", "=="),
                                         ("ne", "!="), ("GE", ">=")])
def test_trigger_operator_words_are_aliases(word, symbol):
    from sedna.common.comparison import COMPARISONS
    from sedna.control.resources import validate

    out = validate(_set(_manifest("tutorial-job.yaml"), CONDITION, word))
    assert out["spec"]["trainSpec"]["trigger"]["condition"]["operator"] == symbol
    assert COMPARISONS[word](2, 1) == COMPARISONS[symbol](2, 1)  # a worker's operator=ge works too


def test_unknown_operator_still_refused_naming_the_field():
    from sedna.common.exceptions import ManifestError
    from sedna.control.resources import validate

    with pytest.raises(ManifestError) as e:
        validate(_set(_manifest("tutorial-job.yaml"), CONDITION, "=>"))
    assert "spec.trainSpec.trigger.condition.operator: must be one of > >= = == != <= <" in str(e.value)


@pytest.mark.parametrize("fmt", ["CSV", "Csv", "TXT", "csv"])
def test_dataset_format_in_any_case_is_normalised(fmt):
    from sedna.control.resources import validate

    out = validate(_set(_manifest("tutorial-dataset.yaml"), ["spec", "format"], fmt))
    assert out["spec"]["format"] == fmt.lower()


@pytest.mark.parametrize("source", ["persistentVolumeClaim", "configMap", "secret"])
def test_cluster_volume_sources_are_refused_naming_the_field_and_what_runs_here(source):
    from sedna.common.exceptions import ManifestError
    from sedna.control.resources import validate

    job = _manifest("tutorial-job.yaml")
    vols = [{"name": "data", source: {"claimName": "x"} if source == "persistentVolumeClaim" else {"name": "x"}}]
    with pytest.raises(ManifestError) as e:
        validate(_set(job, ["spec", "trainSpec", "template", "spec", "volumes"], vols))
    text = str(e.value)
    assert f"spec.trainSpec.template.spec.volumes[0].{source}: unsupported volume source" in text
    assert "hostPath" in text and "emptyDir" in text and "local runtime" in text


def test_generate_name_on_create_makes_a_kubernetes_style_name(tmp_path):
    import json
    import os
    import re
    import sys
    import urllib.request

    from support.ctlplane import ControlPlane
    from sedna.common.exceptions import ManifestError
    from sedna.control.resources import validate

    ds = _manifest("tutorial-dataset.yaml")
    ds["metadata"] = {"generateName": "robo-data-"}
    with pytest.raises(ManifestError) as e:  # apply (PUT) needs a name, as in Kubernetes
        validate(ds)
    assert "metadata.name" in str(e.value) and "generateName" in str(e.value)
    cp = ControlPlane(str(tmp_path)).start()
    try:
        token = open(os.path.join(cp.state_dir, "token")).read().strip()
        names = []
        for _ in range(2):
            req = urllib.request.Request(cp.url + "/apis/sedna.io/v1alpha1/namespaces/default/datasets",
                                         method="POST", data=json.dumps(ds).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req, timeout=10) as r:
                assert r.status == 201
                names.append(json.loads(r.read())["object"]["metadata"]["name"])
    finally:
        cp.stop()
    assert all(re.fullmatch(r"robo-data-[a-z0-9]{5}", n) for n in names), names
    assert names[0] != names[1]


@pytest.mark.parametrize("slot,name,closest", [
    ("unseen_sample_recognition", "SampleRegonitionByRFNet", "SampleRecognitionByModel"),
    ("unseen_sample_recognition", "OodIdentification", "SampleRecognitionByModel"),
    ("inference_integrate", "InferenceIntegrateByType", "DefaultInferenceIntegrate"),
    ("task_allocation", "TaskAllocationSimple", "TaskAllocationByOrigin"),
])
def test_the_originals_model_specific_plugins_are_refused_with_the_closest_built_in(slot, name, closest):
    from sedna.common.exceptions import UnknownPluginError
    from sedna.core.lifelong_learning import LifelongLearning

    with pytest.raises(UnknownPluginError) as e:
        LifelongLearning(OriginLabelEstimator(), **{slot: {"method": name}})
    msg = str(e.value)
    assert name in msg and f"closest built-in is {closest}" in msg and "\n" not in msg
    ClassFactory.get_cls(ClassType.STP if slot != "unseen_sample_recognition" else ClassType.UTD, closest)


# ------------------------------------------------- the original's names, as aliases
MISSPELT = [("SampleRegonitionDefault", "SampleRecognitionDefault"),
            ("SampleRegonitionAllSeen", "SampleRecognitionAllSeen"),
            ("SampleRegonitionByTaskAttr", "SampleRecognitionByTaskAttr"),
            ("SampleRegonitionByConfidence", "SampleRecognitionByConfidence"),
            ("SampleRegonitionByDistance", "SampleRecognitionByDistance"),
            ("SampleRegonitionByModel", "SampleRecognitionByModel"),
            ("SampleReRegonitionDefault", "SampleReRecognitionDefault"),
            ("SampleReRegonitionAllSeen", "SampleReRecognitionAllSeen")]


@pytest.mark.parametrize("alias,real", MISSPELT)
def test_the_originals_spelling_is_an_alias_of_the_correctly_spelt_class(alias, real):
    from sedna.algorithms.unseen_task_detection import unseen_sample_re_recognition as rr
    from sedna.algorithms.unseen_task_detection import unseen_sample_recognition as r

    pkg = rr if "ReRe" in real else r
    cls = getattr(pkg, real)
    assert getattr(pkg, alias) is cls and cls.__name__ == real  # importable, the same class, named right
    assert ClassFactory.get_cls(ClassType.UTD, alias) is cls is ClassFactory.get_cls(ClassType.UTD, real)
    assert r.BaseSampleRegonition is r.BaseSampleRecognition  # the bases too
    assert rr.BaseSampleReRegonition is rr.BaseSampleReRecognition


def test_the_earlier_apis_plugin_names_are_registered_aliases():
    from sedna.algorithms.seen_task_learning.task_allocation import TaskAllocationByDataAttr
    from sedna.algorithms.unseen_task_detection.unseen_sample_recognition import SampleRecognitionByTaskAttr

    assert ClassFactory.get_cls(ClassType.STP, "TaskMiningByDataAttr") is TaskAllocationByDataAttr
    assert ClassFactory.get_cls(ClassType.UTD, "TaskAttrFilter") is SampleRecognitionByTaskAttr


def test_the_earlier_apis_keywords_map_to_the_slots():
    from sedna.core.lifelong_learning import LifelongLearning

    ll = LifelongLearning(estimator=OriginLabelEstimator, task_definition=None, task_relationship_discovery=None,
                          task_mining={"method": "TaskMiningByDataAttr", "param": '{"attribute": ["Season"]}'},
                          task_remodeling=None, inference_integrate=None,
                          unseen_task_detect={"method": "TaskAttrFilter", "param": {}})
    assert ll.slots["task_allocation"].method == "TaskMiningByDataAttr"
    assert ll.slots["task_allocation"].param == {"attribute": ["Season"]}
    assert ll.slots["unseen_sample_recognition"].method == "TaskAttrFilter"
    with pytest.raises(TypeError, match="task_mining.*task_allocation"):
        LifelongLearning(OriginLabelEstimator, task_mining={"method": "TaskMiningByDataAttr"},
                         task_allocation={"method": "TaskAllocationByDataAttr"})
