"""Resources: the tutorial's manifests, a table of invalid ones, a fuzz, quantities."""

import copy
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sedna.common.exceptions import ManifestError
from sedna.control.resources import (
    API_VERSION, KINDS, LABEL_MSG, ROOT, SUBDOMAIN_MSG, load_manifests, new_object, parse_cpu,
    parse_memory, plural, resolve_kind, validate,
)
from support.paths import MANIFESTS


def _load(name):
    (doc,) = load_manifests(MANIFESTS / name)
    return doc


DATASET = _load("tutorial-dataset.yaml")
JOB = _load("tutorial-job.yaml")
TRAIN_POD = ["spec", "trainSpec", "template", "spec"]
DEPLOY_POD = ["spec", "deploySpec", "template", "spec"]
TRAIN_C0 = TRAIN_POD + ["containers", 0]
DEPLOY_C0 = DEPLOY_POD + ["containers", 0]
TRIGGER = ["spec", "trainSpec", "trigger"]


# ------------------------------------------------------------------ the tutorial

def test_tutorial_yaml_reads_unquoted_24_00_as_an_integer():
    timer = JOB["spec"]["trainSpec"]["trigger"]["timer"]
    assert timer["end"] == 1440  # YAML 1.1 sexagesimal
    assert timer["start"] in ("00:00", 0)  # PyYAML keeps 00:00 a string; other YAML 1.1 readers give 0


def test_tutorial_dataset_is_accepted():
    out = validate(DATASET)
    assert out["metadata"] == {"name": "lifelong-robo-dataset", "namespace": "default", "labels": {},
                               "annotations": {}}
    assert out["spec"] == {"url": "/data/segmentation_data/data.txt", "format": "txt",
                           "nodeName": "sedna-mini-control-plane"}


def test_tutorial_job_is_accepted_and_normalised():
    before = copy.deepcopy(JOB)
    out = validate(JOB)
    assert JOB == before, "validate must not modify its input"
    assert out["metadata"]["namespace"] == "default"
    assert out["spec"]["trainSpec"]["trigger"] == {
        "checkPeriodSeconds": 30,
        "timer": {"start": "00:00", "end": "24:00"},
        "condition": {"operator": ">", "threshold": 100, "metric": "num_of_samples"},
    }
    assert out["spec"]["dataset"] == {"name": "lifelong-robo-dataset", "trainProb": 0.8}
    assert out["spec"]["outputDir"] == "/data/lifelonglearningjob/output/robo-demo"
    c0 = out["spec"]["trainSpec"]["template"]["spec"]["containers"][0]
    assert c0["resources"]["limits"] == {"cpu": 6, "memory": "12Gi"}  # the user's spelling is kept
    assert c0["env"][0] == {"name": "num_class", "value": "24"}
    # validating the normalised form again is a fixed point
    assert validate(out) == out


def test_integer_times_normalise():
    job = copy.deepcopy(JOB)
    job["spec"]["trainSpec"]["trigger"]["timer"] = {"start": 0, "end": 1440}
    assert validate(job)["spec"]["trainSpec"]["trigger"]["timer"] == {"start": "00:00", "end": "24:00"}
    job["spec"]["trainSpec"]["trigger"]["timer"] = {"start": 1320, "end": "6:05"}
    assert validate(job)["spec"]["trainSpec"]["trigger"]["timer"] == {"start": "22:00", "end": "06:05"}


def test_optional_trigger_fields_normalise_to_none():
    job = copy.deepcopy(JOB)
    t = job["spec"]["trainSpec"]["trigger"]
    del t["checkPeriodSeconds"], t["timer"], t["condition"]["metric"]
    del job["spec"]["dataset"]["trainProb"]
    out = validate(job)
    assert out["spec"]["trainSpec"]["trigger"] == {
        "checkPeriodSeconds": None, "timer": None,
        "condition": {"operator": ">", "threshold": 100, "metric": "num_of_samples"}}
    assert out["spec"]["dataset"]["trainProb"] == 0.8


def test_status_is_dropped_and_metadata_kept():
    job = copy.deepcopy(JOB)
    job["status"] = {"conditions": [{"type": "Running"}]}
    job["metadata"].update(namespace="team-a", labels={"app": "robo"}, annotations={"a.b/c": "d"},
                           resourceVersion="7", uid="abc")
    out = validate(job)
    assert "status" not in out
    assert out["metadata"]["namespace"] == "team-a"
    assert out["metadata"]["labels"] == {"app": "robo"}
    assert out["metadata"]["resourceVersion"] == "7"


def test_new_object():
    out = validate(DATASET)
    now = datetime(2026, 11, 27, 17, 0, tzinfo=timezone(timedelta(hours=1)))
    obj = new_object(out, now)
    md = obj["metadata"]
    assert md["creationTimestamp"] == "2026-11-27T16:00:00Z"
    assert md["resourceVersion"] == "1" and md["generation"] == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", md["uid"])
    assert obj["status"] == {}
    assert new_object(out, datetime(2026, 11, 27, 16, 0), uid="u1")["metadata"]["uid"] == "u1"
    assert new_object(out, now)["metadata"]["uid"] != md["uid"]
    assert "uid" not in out["metadata"], "new_object must not modify its input"


@pytest.mark.parametrize("name", ["ll", "LL", "lljob", "lifelonglearningjobs", "LifelongLearningJob",
                                  "lifelonglearningjob"])
def test_resolve_kind_job(name):
    assert resolve_kind(name) == "LifelongLearningJob"


@pytest.mark.parametrize("name", ["ds", "dataset", "Datasets", "DATASET"])
def test_resolve_kind_dataset(name):
    assert resolve_kind(name) == "Dataset"
    assert plural(name) == "datasets"


def test_resolve_kind_unknown_names_the_accepted():
    with pytest.raises(ManifestError) as e:
        resolve_kind("pods")
    for kind, info in KINDS.items():
        assert kind in str(e.value) and info["plural"] in str(e.value)


# ------------------------------------------------------------------ loading YAML

def test_load_multi_document_skips_empty(tmp_path):
    text = MANIFESTS.joinpath("tutorial-dataset.yaml").read_text() + "\n---\n---\n# only a comment\n---\n" \
        + MANIFESTS.joinpath("tutorial-job.yaml").read_text()
    docs = load_manifests(text)
    assert [d["kind"] for d in docs] == ["Dataset", "LifelongLearningJob"]
    p = tmp_path / "both.yaml"
    p.write_text(text)
    assert load_manifests(p) == docs
    assert load_manifests(str(p)) == docs
    assert load_manifests("") == []


def test_load_syntax_error_names_file_and_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("apiVersion: sedna.io/v1alpha1\nkind: Dataset\nmetadata:\n  name: [x\nspec: {}\n")
    with pytest.raises(ManifestError) as e:
        load_manifests(p)
    assert re.search(re.escape(str(p)) + r":\d+: invalid YAML", str(e.value))
    with pytest.raises(ManifestError, match=r"<input>:3: invalid YAML"):
        load_manifests("a: 1\nb: 2\n  c: 3\n")


def test_load_duplicate_key_and_non_mapping():
    with pytest.raises(ManifestError, match=r"<input>:\d+: .*duplicate key 'kind'"):
        load_manifests("kind: Dataset\nkind: Dataset\n")
    with pytest.raises(ManifestError, match=r"m.yaml:3: a manifest must be a mapping"):
        load_manifests("a: 1\n---\n- 1\n- 2\n", source="m.yaml")


# ------------------------------------------------------------------ invalid manifests

def _set(doc, path, value):
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


def _del(doc, path):
    for p in path[:-1]:
        doc = doc[p]
    del doc[path[-1]]


def S(*path_and_value):  # noqa: N802 - a table helper
    *path, value = path_and_value
    return lambda d: _set(d, list(path), value)


def D(*path):  # noqa: N802
    return lambda d: _del(d, list(path))


def _mounts_bad(d):
    _set(d, DEPLOY_C0 + ["volumeMounts", 1, "name"], "x")


# (id, base, mutation, expected path, expected message fragment)
INVALID = [
    ("api-version", "job", S("apiVersion", "sedna.io/v1"), "apiVersion", "must be sedna.io/v1alpha1"),
    ("no-api-version", "ds", D("apiVersion"), "apiVersion", "required"),
    ("kind-unknown", "ds", S("kind", "Pod"), "kind", "must be one of Dataset LifelongLearningJob"),
    ("kind-case", "ds", S("kind", "dataset"), "kind", "did you mean 'Dataset'"),
    ("top-level-extra", "job", S("specs", {}), "specs", "unknown field"),
    ("no-metadata", "ds", D("metadata"), "metadata", "required"),
    ("no-name", "ds", D("metadata", "name"), "metadata.name", "required"),
    ("name-upper", "job", S("metadata", "name", "Robo_Demo"), "metadata.name", SUBDOMAIN_MSG),
    ("name-long", "ds", S("metadata", "name", "a" * 254), "metadata.name", SUBDOMAIN_MSG),
    ("name-int", "ds", S("metadata", "name", 42), "metadata.name", "must be a string"),
    ("namespace-dot", "ds", S("metadata", "namespace", "a.b"), "metadata.namespace", LABEL_MSG),
    ("label-int", "ds", S("metadata", "labels", {"tier": 1}), "metadata.labels.tier", 'quote it: "1"'),
    ("annotations-list", "ds", S("metadata", "annotations", ["a"]), "metadata.annotations", "must be a mapping"),
    ("metadata-extra", "ds", S("metadata", "nmae", "x"), "metadata.nmae", "unknown field"),
    ("ds-no-url", "ds", D("spec", "url"), "spec.url", "required"),
    ("ds-empty-url", "ds", S("spec", "url", ""), "spec.url", "must not be empty"),
    ("ds-format", "ds", S("spec", "format", "json"), "spec.format", "must be one of txt csv"),
    ("ds-no-node", "ds", D("spec", "nodeName"), "spec.nodeName", "required"),
    ("ds-credential", "ds", S("spec", "credentialName", 3), "spec.credentialName", "must be a string"),
    ("ds-spec-list", "ds", S("spec", []), "spec", "must be a mapping"),
    ("job-no-dataset-name", "job", D("spec", "dataset", "name"), "spec.dataset.name", "required"),
    ("job-trainprob-zero", "job", S("spec", "dataset", "trainProb", 0), "spec.dataset.trainProb", "0 < trainProb <= 1"),
    ("job-trainprob-big", "job", S("spec", "dataset", "trainProb", 1.5), "spec.dataset.trainProb", "0 < trainProb <= 1"),
    ("job-trainprob-str", "job", S("spec", "dataset", "trainProb", "0.8"), "spec.dataset.trainProb", "must be a number"),
    ("job-no-evalspec", "job", D("spec", "evalSpec"), "spec.evalSpec", "required"),
    ("job-no-output", "job", D("spec", "outputDir"), "spec.outputDir", "required"),
    ("job-output-empty", "job", S("spec", "outputDir", " "), "spec.outputDir", "must not be empty"),
    ("job-no-trigger", "job", D(*TRIGGER), "spec.trainSpec.trigger", "required"),
    ("operator", "job", S(*TRIGGER, "condition", "operator", "=>"), "spec.trainSpec.trigger.condition.operator",
     "must be one of > >= = == != <= <"),
    ("threshold-neg", "job", S(*TRIGGER, "condition", "threshold", -1), "spec.trainSpec.trigger.condition.threshold",
     "must be a number >= 0"),
    ("threshold-str", "job", S(*TRIGGER, "condition", "threshold", "100"),
     "spec.trainSpec.trigger.condition.threshold", "must be a number >= 0"),
    ("metric", "job", S(*TRIGGER, "condition", "metric", "accuracy"), "spec.trainSpec.trigger.condition.metric",
     "must be one of num_of_samples"),
    ("period-zero", "job", S(*TRIGGER, "checkPeriodSeconds", 0), "spec.trainSpec.trigger.checkPeriodSeconds",
     "positive integer"),
    ("period-float", "job", S(*TRIGGER, "checkPeriodSeconds", 1.5), "spec.trainSpec.trigger.checkPeriodSeconds",
     "positive integer"),
    ("timer-start-24", "job", S(*TRIGGER, "timer", "start", "24:00"), "spec.trainSpec.trigger.timer.start",
     "only as the end"),
    ("timer-start-1440", "job", S(*TRIGGER, "timer", "start", 1440), "spec.trainSpec.trigger.timer.start",
     "only as the end"),
    ("timer-minutes-60", "job", S(*TRIGGER, "timer", "end", "12:60"), "spec.trainSpec.trigger.timer.end",
     "00 <= MM <= 59"),
    ("timer-hour-25", "job", S(*TRIGGER, "timer", "end", "25:00"), "spec.trainSpec.trigger.timer.end",
     "00 <= HH <= 24"),
    ("timer-24-30", "job", S(*TRIGGER, "timer", "end", "24:30"), "spec.trainSpec.trigger.timer.end", "24:00"),
    ("timer-sexagesimal", "job", S(*TRIGGER, "timer", "end", 5400), "spec.trainSpec.trigger.timer.end",
     "quote the time"),
    ("timer-no-end", "job", D(*TRIGGER, "timer", "end"), "spec.trainSpec.trigger.timer.end", "required"),
    ("timer-garbage", "job", S(*TRIGGER, "timer", "start", "noon"), "spec.trainSpec.trigger.timer.start",
     'must be a time "HH:MM"'),
    ("no-template", "job", D("spec", "evalSpec", "template"), "spec.evalSpec.template", "required"),
    ("no-containers", "job", D(*TRAIN_POD, "containers"), "spec.trainSpec.template.spec.containers", "required"),
    ("empty-containers", "job", S(*TRAIN_POD, "containers", []), "spec.trainSpec.template.spec.containers",
     "must not be empty"),
    ("no-image", "job", D(*TRAIN_C0, "image"), "spec.trainSpec.template.spec.containers[0].image", "required"),
    ("empty-image", "job", S(*DEPLOY_C0, "image", ""), "spec.deploySpec.template.spec.containers[0].image",
     "must not be empty"),
    ("container-name", "job", S(*TRAIN_C0, "name", "Train_Worker"), "spec.trainSpec.template.spec.containers[0].name",
     LABEL_MSG),
    ("container-no-name", "job", D(*TRAIN_C0, "name"), "spec.trainSpec.template.spec.containers[0].name", "required"),
    ("container-typo", "job", S(*TRAIN_C0, "volumeMount", []),
     "spec.trainSpec.template.spec.containers[0].volumeMount", "did you mean 'volumeMounts'"),
    ("args-int", "job", S(*TRAIN_C0, "args", ["train.py", 3]),
     "spec.trainSpec.template.spec.containers[0].args[1]", "must be a string"),
    ("command-str", "job", S(*TRAIN_C0, "command", "python train.py"),
     "spec.trainSpec.template.spec.containers[0].command", "must be a list"),
    ("env-number", "job", S(*TRAIN_C0, "env", 0, "value", 24),
     "spec.trainSpec.template.spec.containers[0].env[0].value", 'quote it: "24"'),
    ("env-bool", "job", S(*TRAIN_C0, "env", 1, "value", True),
     "spec.trainSpec.template.spec.containers[0].env[1].value", 'quote it: "true"'),
    ("env-no-name", "job", D(*TRAIN_C0, "env", 2, "name"),
     "spec.trainSpec.template.spec.containers[0].env[2].name", "required"),
    ("env-not-map", "job", S(*TRAIN_C0, "env", 0, "num_class=24"),
     "spec.trainSpec.template.spec.containers[0].env[0]", "must be a mapping"),
    ("env-both", "job", S(*TRAIN_C0, "env", 0, "valueFrom", {"fieldRef": {}}),
     "spec.trainSpec.template.spec.containers[0].env[0].valueFrom", "together with value"),
    ("cpu-bad", "job", S(*TRAIN_C0, "resources", "limits", "cpu", "six"),
     "spec.trainSpec.template.spec.containers[0].resources.limits.cpu", "invalid quantity 'six'"),
    ("memory-bad", "job", S(*TRAIN_C0, "resources", "requests", "memory", "12GB"),
     "spec.trainSpec.template.spec.containers[0].resources.requests.memory", "invalid quantity '12GB'"),
    ("memory-milli", "job", S(*TRAIN_C0, "resources", "limits", "memory", "500m"),
     "spec.trainSpec.template.spec.containers[0].resources.limits.memory", "did you mean '500Mi'"),
    ("request-over-limit", "job", S(*TRAIN_C0, "resources", "requests", "cpu", "6500m"),
     "spec.trainSpec.template.spec.containers[0].resources.requests.cpu", "less than or equal to the cpu limit"),
    ("resources-extra", "job", S(*TRAIN_C0, "resources", "limit", {}),
     "spec.trainSpec.template.spec.containers[0].resources.limit", "unknown field"),
    ("mount-no-volume", "job", _mounts_bad, "spec.deploySpec.template.spec.containers[0].volumeMounts[1].name",
     'no volume named "x" in spec.deploySpec.template.spec.volumes'),
    ("mount-no-volumes-at-all", "job", D(*TRAIN_POD, "volumes"),
     "spec.trainSpec.template.spec.containers[0].volumeMounts[0].name", 'no volume named "cache-volume"'),
    ("mount-relative", "job", S(*DEPLOY_C0, "volumeMounts", 0, "mountPath", "data/x"),
     "spec.deploySpec.template.spec.containers[0].volumeMounts[0].mountPath", "absolute path"),
    ("mount-no-path", "job", D(*DEPLOY_C0, "volumeMounts", 2, "mountPath"),
     "spec.deploySpec.template.spec.containers[0].volumeMounts[2].mountPath", "required"),
    ("volume-two-sources", "job", S(*TRAIN_POD, "volumes", 0, "hostPath", {"path": "/tmp"}),
     "spec.trainSpec.template.spec.volumes[0]", "exactly one volume source"),
    ("volume-no-source", "job", D(*TRAIN_POD, "volumes", 0, "emptyDir"),
     "spec.trainSpec.template.spec.volumes[0]", "exactly one volume source"),
    ("volume-unsupported", "job", S(*DEPLOY_POD, "volumes", 0, {"name": "unseenurl", "nfs": {}}),
     "spec.deploySpec.template.spec.volumes[0].nfs", "unsupported volume source"),
    ("volume-dup", "job", S(*DEPLOY_POD, "volumes", 1, "name", "unseenurl"),
     "spec.deploySpec.template.spec.volumes[1].name", "duplicate volume name"),
    ("hostpath-type", "job", S(*DEPLOY_POD, "volumes", 0, "hostPath", "type", "Dir"),
     "spec.deploySpec.template.spec.volumes[0].hostPath.type", 'must be one of "" DirectoryOrCreate'),
    ("hostpath-no-path", "job", D(*DEPLOY_POD, "volumes", 2, "hostPath", "path"),
     "spec.deploySpec.template.spec.volumes[2].hostPath.path", "required"),
    ("emptydir-medium", "job", S(*TRAIN_POD, "volumes", 0, "emptyDir", "medium", "Disk"),
     "spec.trainSpec.template.spec.volumes[0].emptyDir.medium", 'must be one of "" Memory'),
    ("emptydir-size", "job", S(*TRAIN_POD, "volumes", 0, "emptyDir", "sizeLimit", "lots"),
     "spec.trainSpec.template.spec.volumes[0].emptyDir.sizeLimit", "invalid quantity 'lots'"),
    ("dns-policy", "job", S(*TRAIN_POD, "dnsPolicy", "Cluster"), "spec.trainSpec.template.spec.dnsPolicy",
     "must be one of ClusterFirst"),
    ("host-network", "job", S(*DEPLOY_POD, "hostNetwork", "yes"), "spec.deploySpec.template.spec.hostNetwork",
     "must be a boolean"),
    ("pull-policy", "job", S(*TRAIN_C0, "imagePullPolicy", "Sometimes"),
     "spec.trainSpec.template.spec.containers[0].imagePullPolicy", "must be one of Always IfNotPresent Never"),
    ("pod-spec-typo", "job", S(*TRAIN_POD, "container", []), "spec.trainSpec.template.spec.container",
     "did you mean 'containers'"),
    ("dup-container", "job", lambda d: d["spec"]["evalSpec"]["template"]["spec"]["containers"].append(
        copy.deepcopy(d["spec"]["evalSpec"]["template"]["spec"]["containers"][0])),
     "spec.evalSpec.template.spec.containers[1].name", "duplicate container name"),
    ("label-key-path", "ds", S("metadata", "labels", {"app.kubernetes.io/name": 1}),
     'metadata.labels["app.kubernetes.io/name"]', "must be a string"),
]
assert len(INVALID) >= 30


def _mutated(base, mutate):
    doc = copy.deepcopy(JOB if base == "job" else DATASET)
    mutate(doc)
    return doc


@pytest.mark.parametrize("base,mutate,path,fragment", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_manifest_is_rejected_with_its_path(base, mutate, path, fragment):
    doc = _mutated(base, mutate)
    with pytest.raises(ManifestError) as e:
        validate(doc, source="m.yaml")
    paths = [p for p, _ in e.value.errors]
    assert path in paths, e.value.errors
    msg = dict(e.value.errors)[path]
    assert fragment in msg, (path, msg)
    assert f"{path}: " in str(e.value)
    assert str(e.value).startswith("m.yaml: ")


def test_every_error_is_listed():
    job = copy.deepcopy(JOB)
    job["apiVersion"] = "v1"
    job["metadata"]["name"] = "Robo"
    job["spec"]["trainSpec"]["trigger"]["condition"]["operator"] = "=>"
    del job["spec"]["trainSpec"]["template"]["spec"]["containers"][0]["image"]
    job["spec"]["deploySpec"]["template"]["spec"]["containers"][0]["volumeMounts"][1]["name"] = "x"
    job["spec"]["evalSpec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = 0
    with pytest.raises(ManifestError) as e:
        validate(job)
    assert [p for p, _ in e.value.errors] == [
        "apiVersion",
        "metadata.name",
        "spec.trainSpec.template.spec.containers[0].image",
        "spec.trainSpec.trigger.condition.operator",
        "spec.evalSpec.template.spec.containers[0].env[1].value",
        "spec.deploySpec.template.spec.containers[0].volumeMounts[1].name",
    ]
    text = str(e.value)
    assert "spec.trainSpec.trigger.condition.operator: must be one of > >= = == != <= <" in text
    assert "spec.trainSpec.template.spec.containers[0].image: required" in text
    assert ('spec.deploySpec.template.spec.containers[0].volumeMounts[1].name: no volume named "x" in '
            'spec.deploySpec.template.spec.volumes') in text


@pytest.mark.parametrize("doc", [None, [], "kind: Dataset", 3])
def test_non_mapping_manifest(doc):
    with pytest.raises(ManifestError) as e:
        validate(doc)
    assert e.value.errors[0][0] == ROOT


# ------------------------------------------------------------------ fuzz

_PATH_TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _parse_path(path):
    if path == ROOT:
        return []
    parts, pos = [], 0
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        assert m and m.end() > pos, f"malformed error path {path!r} at {pos}"
        ident, index, quoted = m.groups()
        parts.append(ident if ident is not None else int(index) if index is not None else json.loads(quoted))
        pos = m.end()
    return parts


def _exists(doc, parts):
    for p in parts:
        if isinstance(doc, dict) and p in doc:
            doc = doc[p]
        elif isinstance(doc, list) and isinstance(p, int) and 0 <= p < len(doc):
            doc = doc[p]
        else:
            return False
    return True


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2000, 2000), st.integers(),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                     st.sampled_from(["", "00:00", "24:00", "12Gi", "500m", "x", ">", "Memory", "txt",
                                      "cache-volume", "/data", "a.b", "UPPER"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.text(max_size=6), st.sampled_from(["name", "image", "spec", "path"]),
                              st.integers(0, 3)), inner, max_size=3)), max_leaves=6)


def _nodes(doc, path=()):
    yield path
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _nodes(v, path + (i,))


@st.composite
def _mutated_manifests(draw):
    doc = copy.deepcopy(draw(st.sampled_from([JOB, DATASET])))
    for _ in range(draw(st.integers(1, 4))):
        nodes = list(_nodes(doc))[1:]
        if not nodes:
            break
        target = draw(st.sampled_from(nodes))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        parent = doc
        for p in target[:-1]:
            parent = parent[p]
        if action == "replace":
            parent[target[-1]] = draw(_values)
        elif action == "delete":
            del parent[target[-1]]
        else:
            node = parent[target[-1]]
            if isinstance(node, dict):
                node[draw(st.text(max_size=6))] = draw(_values)
            elif isinstance(node, list):
                node.append(draw(_values))
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_manifests())
def test_fuzz_validate_returns_or_reports_existing_paths(doc):
    original = copy.deepcopy(doc)
    try:
        out = validate(doc)
    except ManifestError as e:
        assert e.errors
        for path, msg in e.errors:
            assert isinstance(path, str) and isinstance(msg, str) and msg
            parts = _parse_path(path)
            assert _exists(doc, parts) or _exists(doc, parts[:-1]), (path, msg)
    else:
        assert isinstance(out, dict)
        assert validate(out) == out
    assert doc == original or doc != doc  # untouched (NaN compares unequal to itself)


# ------------------------------------------------------------------ quantities

@pytest.mark.parametrize("q,cores", [
    (6, 6.0), ("6", 6.0), ("500m", 0.5), ("1.5", 1.5), (1.5, 1.5), ("0.1", 0.1), ("100m", 0.1),
    ("2k", 2000.0), ("1e3", 1000.0), ("+2", 2.0), (0, 0.0), (".5", 0.5),
])
def test_parse_cpu(q, cores):
    assert parse_cpu(q) == pytest.approx(cores)


@pytest.mark.parametrize("q", ["six", "", "-1", "1.5.0", "5 m", "m", True, None, [1], float("nan"),
                               float("inf"), -2, "1e99", "12GB"])
def test_parse_cpu_rejects(q):
    with pytest.raises(ValueError) as e:
        parse_cpu(q)
    assert repr(q) in str(e.value)


@pytest.mark.parametrize("q,n", [
    ("12Gi", 12 * 2 ** 30), ("256Mi", 256 * 2 ** 20), ("1G", 10 ** 9), ("1Ki", 1024), ("1k", 1000),
    (1048576, 1048576), ("1048576", 1048576), ("129e6", 129_000_000), ("1.5Gi", 3 * 2 ** 29),
    ("0.5", 1), ("1E", 10 ** 18), ("2Ti", 2 * 2 ** 40), (0, 0), ("1.5", 2),
])
def test_parse_memory(q, n):
    assert parse_memory(q) == n


@pytest.mark.parametrize("q", ["12GB", "12 Gi", "lots", "", "-1Gi", "500m", "1e40", "16Ei", True, 1.5e300,
                               None, {"a": 1}])
def test_parse_memory_rejects(q):
    with pytest.raises(ValueError) as e:
        parse_memory(q)
    assert repr(q) in str(e.value)


def test_api_version_constant():
    assert API_VERSION == "sedna.io/v1alpha1"


@pytest.mark.parametrize("path, typo, meant", [
    (TRIGGER + ["condition"], "treshold", "threshold"),
    (["spec", "dataset"], "trainProbability", "trainProb"),
    (TRIGGER, "checkPeriodSecond", "checkPeriodSeconds"),
    (["spec"], "outputdir", "outputDir"),
    (["spec"], "trainspecs", "trainSpec"),
])
def test_a_misspelt_field_gets_a_suggestion(path, typo, meant):
    doc = copy.deepcopy(JOB)
    _set(doc, path + [typo], 1)
    with pytest.raises(ManifestError) as e:
        validate(doc)
    assert f"{'.'.join(path[:])}.{typo}: unknown field; did you mean {meant!r}?" in str(e.value)


def test_a_field_like_no_other_gets_no_guess():
    doc = copy.deepcopy(JOB)
    _set(doc, ["spec", "colour"], 1)
    with pytest.raises(ManifestError, match=r"spec\.colour: unknown field(;|$)") as e:
        validate(doc)
    assert "spec.colour: unknown field; did you mean" not in str(e.value)


@pytest.mark.parametrize("doc, path", [(DATASET, ["spec", "url"]), (JOB, ["spec", "outputDir"])])
def test_a_relative_path_is_refused_with_the_reason(doc, path):
    for relative in ("data/data.txt", "./out", "../x"):
        bad = copy.deepcopy(doc)
        _set(bad, path, relative)
        with pytest.raises(ManifestError) as e:
            validate(bad)
        assert f"{'.'.join(path)}: must be an absolute path or a URL (got {relative!r})" in str(e.value)
    for fine in ("/data/x", "s3://bucket/x"):
        ok = copy.deepcopy(doc)
        _set(ok, path, fine)
        validate(ok)
