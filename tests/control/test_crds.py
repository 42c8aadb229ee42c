"""The CRDs (deploy/crds/, `sedna crds`) are generated from the schema `sedna apply`
validates with, and agree with it: the tutorial's manifests pass both, and a manifest
broken in a way a schema can express (types, required fields, enums, unknown fields)
fails both at the same field paths. `kubectl kustomize deploy/` renders the install.
`sedna operator` / `sedna agent` are thin wrappers over the Kubernetes runtime."""

import copy
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import jsonschema
import pytest
import yaml

from sedna.cli import Parser, cluster
from sedna.common.exceptions import ManifestError
from sedna.control import crds
from sedna.control.resources import load_manifests, validate
from sedna.control.validation import ROOT, index_path, key_path
from support.paths import MANIFESTS, REPO


def main(argv):
    """`sedna ARGV` for the commands of sedna.cli.cluster (what build_parser registers)."""
    parser = Parser(prog="sedna")
    cluster.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


DEPLOY = REPO / "deploy"
SEED = Path("/work/shared/seed/lifelong-learning-tutorial.md")


def _validator(kind):
    return jsonschema.Draft4Validator(crds.json_schema(kind))


def _sedna_path(parts):
    path = ROOT
    for p in parts:
        path = index_path(path, p) if isinstance(p, int) else key_path(path, p)
    return path


def schema_paths(manifest):
    """The field paths the CRD schema refuses, spelled as `sedna apply` spells them."""
    out = set()
    for e in _validator(manifest["kind"]).iter_errors(manifest):
        base = list(e.absolute_path)
        if e.validator == "required":
            out |= {_sedna_path(base + [k]) for k in e.validator_value if k not in e.instance}
        elif e.validator == "additionalProperties" and e.validator_value is False:
            known = e.schema.get("properties", {})
            out |= {_sedna_path(base + [k]) for k in e.instance if k not in known}
        else:
            out.add(_sedna_path(base))
    return out


def apply_paths(manifest):
    try:
        validate(manifest)
    except ManifestError as e:
        return {path for path, _ in e.errors}
    return set()


# --------------------------------------------------------------------------- generated files

@pytest.mark.parametrize("kind", sorted(crds.FILES))
def test_committed_crds_are_the_generated_ones(kind):
    committed = (DEPLOY / "crds" / crds.FILES[kind]).read_text(encoding="utf-8")
    assert committed == crds.render(kind), (
        f"deploy/crds/{crds.FILES[kind]} is stale: regenerate with `sedna crds --output-dir deploy/crds`")


def test_sedna_crds_prints_both_crds(capsys):
    assert main(["crds"]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert [d["metadata"]["name"] for d in docs] == ["datasets.sedna.io", "lifelonglearningjobs.sedna.io"]
    assert docs == [crds.crd(k) for k in crds.FILES]


def test_crd_names_status_subresource_and_columns():
    ll = crds.crd("LifelongLearningJob")["spec"]
    assert ll["names"]["shortNames"][0] == "ll" and ll["scope"] == "Namespaced"
    assert "ds" in crds.crd("Dataset")["spec"]["names"]["shortNames"]
    version = ll["versions"][0]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    from sedna.cli.views import HEADERS

    for kind, plural in (("LifelongLearningJob", "lifelonglearningjobs"), ("Dataset", "datasets")):
        wide = {h.upper() for h in HEADERS[plural][1]}
        cols = crds.crd(kind)["spec"]["versions"][0]["additionalPrinterColumns"]
        assert {c["name"].upper() for c in cols} <= wide, "kubectl get columns are named as `sedna get` names them"
    names = [c["name"] for c in version["additionalPrinterColumns"] if not c.get("priority")]
    assert names == ["Stage", "Status", "Round", "Age"]


def _walk(node, path="schema"):
    yield node, path
    for k in ("properties",):
        for name, child in node.get(k, {}).items():
            yield from _walk(child, f"{path}.{name}")
    for k in ("items", "additionalProperties"):
        if isinstance(node.get(k), dict):
            yield from _walk(node[k], f"{path}.{k}")


@pytest.mark.parametrize("kind", sorted(crds.FILES))
def test_schemas_are_structural(kind):
    """The rules apiextensions.k8s.io/v1 enforces that a JSON-schema check does not:
    every node typed (unless int-or-string or preserve-unknown-fields), properties and
    additionalProperties never together, anyOf only as int-or-string."""
    schema = crds.openapi_schema(kind)
    jsonschema.Draft4Validator.check_schema(crds.json_schema(kind))
    for node, path in _walk(schema):
        if node.get(crds.INT_OR_STRING):
            assert node["anyOf"] == [{"type": "integer"}, {"type": "string"}], path
            continue
        assert "anyOf" not in node and "oneOf" not in node, path
        assert "type" in node or node.get(crds.PRESERVE), f"{path} has no type"
        assert not ("properties" in node and "additionalProperties" in node), path
        if node.get("type") == "array":
            assert isinstance(node.get("items"), dict), path


# --------------------------------------------------------------------------- valid manifests

def _tutorial_manifests(tmp):
    out = []
    for f in sorted((MANIFESTS).glob("*.yaml")):
        out += [(f"tests/data/manifests/{f.name}#{i}", m) for i, m in enumerate(load_manifests(f))]
    from sedna.examples.robo import demo  # the demo's templates, filled in as `sedna demo --manifests` does

    for path in demo.write_manifests(tmp / "manifests", tmp / "work"):
        out += [(f"demo/{os.path.basename(path)}#{i}", m) for i, m in enumerate(load_manifests(Path(path)))]
    if SEED.is_file():  # the tutorial itself, its shell variables expanded as its own values
        text = SEED.read_text(encoding="utf-8")
        env = dict(re.findall(r"^(\w+)=(\S+)", text, flags=re.M))
        for _ in range(3):
            env = {k: re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), m.group(0)), v) for k, v in env.items()}
        for i, block in enumerate(re.findall(r"<<\s*EOF\n(.*?)\nEOF", text, flags=re.S)):
            block = re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), m.group(0)), block)
            out += [(f"seed#{i}", m) for m in load_manifests(block) if m.get("apiVersion") == crds.API_VERSION]
    return out


def _full_job():
    """Every field the local runtime accepts, the original's optional ones included."""
    job = copy.deepcopy(load_manifests(MANIFESTS / "tutorial-job.yaml")[0])
    spec = job["spec"]
    spec["credentialName"] = "s3-secret"
    spec["trainSpec"]["trigger"]["condition"]["operator"] = "ge"
    spec["trainSpec"]["trigger"]["timer"] = {"start": "22:00", "end": "06:00"}
    tmpl = spec["trainSpec"]["template"]
    tmpl["metadata"] = {"labels": {"app": "robo"}, "annotations": {"a.io/b": "c"}}
    pod = tmpl["spec"]
    pod.update({"nodeSelector": {"kubernetes.io/hostname": "n1"}, "restartPolicy": "Never",
                "tolerations": [{"key": "gpu", "operator": "Exists"}], "hostNetwork": False,
                "terminationGracePeriodSeconds": 5, "securityContext": {"runAsUser": 1000}})
    ctr = pod["containers"][0]
    ctr.update({"command": ["python"], "workingDir": "/code", "ports": [{"containerPort": 80}],
                "envFrom": [{"secretRef": {"name": "s"}}], "livenessProbe": {"exec": {"command": ["true"]}}})
    ctr["env"].append({"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
    ctr["resources"]["limits"]["nvidia.com/gpu"] = 1
    pod["volumes"].append({"name": "data", "hostPath": {"path": "/data", "type": "Directory"}})
    ctr["volumeMounts"].append({"name": "data", "mountPath": "/data", "readOnly": True, "subPath": "x"})
    return job


def _full_dataset():
    ds = copy.deepcopy(load_manifests(MANIFESTS / "tutorial-dataset.yaml")[0])
    ds["spec"].update({"credentialName": "s3-secret", "format": "CSV", "url": "s3://bucket/index.csv"})
    ds["metadata"].update({"namespace": "robots", "labels": {"a": "b"}})
    return ds


def test_tutorial_manifests_pass_the_crd_schemas_and_apply(tmp_path):
    manifests = _tutorial_manifests(tmp_path) + [("full-job", _full_job()), ("full-dataset", _full_dataset())]
    kinds = {m["kind"] for _, m in manifests}
    assert kinds == {"Dataset", "LifelongLearningJob"} and len(manifests) >= 6
    for name, m in manifests:
        assert apply_paths(m) == set(), name
        assert schema_paths(m) == set(), name


def test_cluster_volume_sources_pass_the_crd():
    """On a cluster a PVC is fine (the local runtime refuses it: it has no cluster)."""
    job = _full_job()
    job["spec"]["deploySpec"]["template"]["spec"]["volumes"].append(
        {"name": "models", "persistentVolumeClaim": {"claimName": "kb"}})
    assert schema_paths(job) == set()


def test_status_written_by_the_controller_passes():
    job = _full_job()
    job["status"] = {
        "conditions": [{"type": "Running", "status": "True", "stage": "Train", "round": 1,
                        "lastTransitionTime": "2026-11-30T08:00:00Z", "lastHeartbeatTime": "2026-11-30T08:00:00Z",
                        "reason": "", "message": "train worker running", "data": {"pod": "x"}}],
        "startTime": "2026-11-30T08:00:00Z", "completionTime": None,
        "rounds": [{"round": 1, "phase": "Succeeded", "trainSamples": 80, "evalSamples": 20}],
        "knowledgeBase": {"AIModels": [{"name": "t0", "url": "/o/kb/t0", "metrics": {"acc": 0.9}}],
                          "AIClasses": ["a"], "version": 2, "samples": {"trainSamples": 80}},
        "lastFailure": {"round": 1, "stage": "Eval", "exitCode": 137, "logTail": "oom", "time": "2026-11-30T08:00:00Z"},
    }
    # what the Kubernetes runtime keeps besides the contract's fields is not pruned
    job["status"]["sednaState"] = {"round": 1, "attempt": 0}
    job["status"]["workerReports"] = {"robo-demo-train-1": {"status": "completed"}}
    assert schema_paths(job) == set()
    assert crds.openapi_schema("LifelongLearningJob")["properties"]["status"][crds.PRESERVE] is True
    job["status"]["conditions"][0]["stage"] = "Training"
    job["status"]["rounds"][0]["round"] = -1
    assert schema_paths(job) == {"status.conditions[0].stage", "status.rounds[0].round"}


# --------------------------------------------------------------------------- invalid manifests

T = ("spec", "trainSpec", "template", "spec")
C = T + ("containers", 0)


def _set(path, value):
    def mutate(m):
        node = m
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
    return mutate


def _del(path):
    def mutate(m):
        node = m
        for p in path[:-1]:
            node = node[p]
        del node[path[-1]]
    return mutate


TRIG = ("spec", "trainSpec", "trigger")
INVALID = {
    # Dataset
    "ds-format-enum": ("Dataset", _set(("spec", "format"), "xml"), {"spec.format"}),
    "ds-url-type": ("Dataset", _set(("spec", "url"), 5), {"spec.url"}),
    "ds-missing-node": ("Dataset", _del(("spec", "nodeName")), {"spec.nodeName"}),
    "ds-unknown-field": ("Dataset", _set(("spec", "nodename"), "n"), {"spec.nodename"}),
    "ds-missing-spec": ("Dataset", _del(("spec",)), {"spec"}),
    # job spec
    "train-prob-string": ("Job", _set(("spec", "dataset", "trainProb"), "0.8"), {"spec.dataset.trainProb"}),
    "train-prob-zero": ("Job", _set(("spec", "dataset", "trainProb"), 0), {"spec.dataset.trainProb"}),
    "train-prob-above-one": ("Job", _set(("spec", "dataset", "trainProb"), 1.5), {"spec.dataset.trainProb"}),
    "missing-output-dir": ("Job", _del(("spec", "outputDir")), {"spec.outputDir"}),
    "missing-deploy-template": ("Job", _del(("spec", "deploySpec", "template")), {"spec.deploySpec.template"}),
    "unknown-spec-field": ("Job", _set(("spec", "outputdir"), "/x"), {"spec.outputdir"}),
    "unknown-root-field": ("Job", _set(("specs",), {}), {"specs"}),
    "credential-type": ("Job", _set(("spec", "credentialName"), 3), {"spec.credentialName"}),
    # trigger
    "operator-enum": ("Job", _set(TRIG + ("condition", "operator"), "gtx"), {"spec.trainSpec.trigger.condition.operator"}),
    "threshold-negative": ("Job", _set(TRIG + ("condition", "threshold"), -1), {"spec.trainSpec.trigger.condition.threshold"}),
    "metric-enum": ("Job", _set(TRIG + ("condition", "metric"), "accuracy"), {"spec.trainSpec.trigger.condition.metric"}),
    "missing-condition": ("Job", _del(TRIG + ("condition",)), {"spec.trainSpec.trigger.condition"}),
    "missing-trigger": ("Job", _del(TRIG), {"spec.trainSpec.trigger"}),
    "period-zero": ("Job", _set(TRIG + ("checkPeriodSeconds",), 0), {"spec.trainSpec.trigger.checkPeriodSeconds"}),
    "period-string": ("Job", _set(TRIG + ("checkPeriodSeconds",), "30"), {"spec.trainSpec.trigger.checkPeriodSeconds"}),
    "timer-bad-time": ("Job", _set(TRIG + ("timer", "start"), "25:00"), {"spec.trainSpec.trigger.timer.start"}),
    "timer-boolean": ("Job", _set(TRIG + ("timer", "end"), True), {"spec.trainSpec.trigger.timer.end"}),
    "timer-too-many-minutes": ("Job", _set(TRIG + ("timer", "end"), 1441), {"spec.trainSpec.trigger.timer.end"}),
    "timer-missing-end": ("Job", _del(TRIG + ("timer", "end")), {"spec.trainSpec.trigger.timer.end"}),
    # pod template
    "no-containers": ("Job", _set(T + ("containers",), []), {"spec.trainSpec.template.spec.containers"}),
    "missing-containers": ("Job", _del(T + ("containers",)), {"spec.trainSpec.template.spec.containers"}),
    "missing-image": ("Job", _del(C + ("image",)), {"spec.trainSpec.template.spec.containers[0].image"}),
    "dns-policy-enum": ("Job", _set(T + ("dnsPolicy",), "Cluster"), {"spec.trainSpec.template.spec.dnsPolicy"}),
    "restart-policy-enum": ("Job", _set(T + ("restartPolicy",), "Sometimes"),
                            {"spec.trainSpec.template.spec.restartPolicy"}),
    "pull-policy-enum": ("Job", _set(C + ("imagePullPolicy",), "Sometimes"),
                         {"spec.trainSpec.template.spec.containers[0].imagePullPolicy"}),
    "host-network-type": ("Job", _set(T + ("hostNetwork",), "yes"), {"spec.trainSpec.template.spec.hostNetwork"}),
    "node-selector-value": ("Job", _set(T + ("nodeSelector",), {"gpu": True}),
                            {"spec.trainSpec.template.spec.nodeSelector.gpu"}),
    "env-value-number": ("Job", _set(C + ("env", 0, "value"), 24),
                         {"spec.trainSpec.template.spec.containers[0].env[0].value"}),
    "env-missing-name": ("Job", _del(C + ("env", 0, "name")), {"spec.trainSpec.template.spec.containers[0].env[0].name"}),
    "args-number": ("Job", _set(C + ("args",), [1]), {"spec.trainSpec.template.spec.containers[0].args[0]"}),
    "cpu-quantity": ("Job", _set(C + ("resources", "limits", "cpu"), "6 cores"),
                     {"spec.trainSpec.template.spec.containers[0].resources.limits.cpu"}),
    "mount-missing-path": ("Job", _del(C + ("volumeMounts", 0, "mountPath")),
                           {"spec.trainSpec.template.spec.containers[0].volumeMounts[0].mountPath"}),
    "empty-dir-medium": ("Job", _set(T + ("volumes", 0, "emptyDir", "medium"), "Disk"),
                         {"spec.trainSpec.template.spec.volumes[0].emptyDir.medium"}),
    "unknown-pod-field": ("Job", _set(T + ("nodename",), "n"), {"spec.trainSpec.template.spec.nodename"}),
    "unknown-container-field": ("Job", _set(C + ("imagePullpolicy",), "Always"),
                                {"spec.trainSpec.template.spec.containers[0].imagePullpolicy"}),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_manifest_fails_schema_and_apply_at_the_same_paths(case):
    kind, mutate, expected = INVALID[case]
    name = "tutorial-dataset.yaml" if kind == "Dataset" else "tutorial-job.yaml"
    m = load_manifests(MANIFESTS / name)[0]
    mutate(m)
    assert apply_paths(m) == expected
    assert schema_paths(m) == expected


# --------------------------------------------------------------------------- deploy/

class _GoYamlLoader(yaml.SafeLoader):
    """PyYAML reads kustomize's unquoted `- =` as YAML 1.1's value key; Go's YAML (kubectl) as "="."""


_GoYamlLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def _kustomize():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    p = subprocess.run([kubectl, "kustomize", str(DEPLOY)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [d for d in yaml.load_all(p.stdout, Loader=_GoYamlLoader) if d]


def test_kustomize_renders_the_install():
    docs = _kustomize()
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    assert sorted(c["metadata"]["name"] for c in by_kind["CustomResourceDefinition"]) == [
        "datasets.sedna.io", "lifelonglearningjobs.sedna.io"]
    for c in by_kind["CustomResourceDefinition"]:
        assert c["spec"] == crds.crd(c["spec"]["names"]["kind"])["spec"]
    assert [n["metadata"]["name"] for n in by_kind["Namespace"]] == ["sedna-system"]
    for d in docs:
        if d["kind"] not in ("CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterRoleBinding"):
            assert d["metadata"]["namespace"] == "sedna-system", d["metadata"]["name"]
    (operator,) = by_kind["Deployment"]
    (agent,) = by_kind["DaemonSet"]
    octr = operator["spec"]["template"]["spec"]["containers"][0]
    actr = agent["spec"]["template"]["spec"]["containers"][0]
    assert octr["image"] == actr["image"] == "sedna/sedna:0.1.0"
    assert octr["args"][:1] == ["operator"] and actr["args"][:1] == ["agent"]
    assert {"containerPort": 9100, "hostPort": 9100, "name": "reports", "protocol": "TCP"} in actr["ports"]
    env = {e["name"]: e for e in actr["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert any("hostPath" in v for v in agent["spec"]["template"]["spec"]["volumes"])
    assert operator["spec"]["template"]["spec"]["serviceAccountName"] == "sedna-operator"
    assert agent["spec"]["template"]["spec"]["serviceAccountName"] == "sedna-agent"


def test_rbac_is_least_privilege():
    docs = _kustomize()
    roles = {d["metadata"]["name"]: d["rules"] for d in docs if d["kind"] == "ClusterRole"}
    assert set(roles) == {"sedna-operator", "sedna-agent"}
    for name, rules in roles.items():
        for r in rules:
            assert "*" not in r["verbs"] and "*" not in r["resources"] and "*" not in r.get("apiGroups", []), name

    def allowed(role, group, resource, verb):
        return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in roles[role])

    for verb in ("get", "list", "watch", "update", "patch"):
        assert allowed("sedna-operator", "sedna.io", "lifelonglearningjobs", verb)
    assert allowed("sedna-operator", "sedna.io", "lifelonglearningjobs/status", "patch")
    assert allowed("sedna-operator", "", "pods", "create") and allowed("sedna-operator", "", "pods", "delete")
    assert allowed("sedna-operator", "", "pods/log", "get") and not allowed("sedna-operator", "", "pods/log", "create")
    for verb in ("create", "get", "list", "delete"):  # list: a deleted job's token Secrets, by label
        assert allowed("sedna-operator", "", "secrets", verb)
    assert not allowed("sedna-operator", "", "secrets", "update") and not allowed("sedna-operator", "", "secrets", "watch")
    assert allowed("sedna-operator", "", "events", "create")
    for verb in ("get", "list", "watch"):
        assert allowed("sedna-agent", "sedna.io", "datasets", verb)
    assert allowed("sedna-agent", "sedna.io", "datasets/status", "patch")
    assert allowed("sedna-agent", "sedna.io", "lifelonglearningjobs/status", "patch")
    assert allowed("sedna-agent", "", "secrets", "get")
    assert allowed("sedna-agent", "", "pods", "get") and allowed("sedna-agent", "sedna.io", "lifelonglearningjobs", "list")
    assert not allowed("sedna-agent", "", "secrets", "list") and not allowed("sedna-agent", "", "pods", "create")
    assert not allowed("sedna-agent", "sedna.io", "lifelonglearningjobs", "update")


def test_dockerfiles_install_cpu_torch_first_then_the_package():
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    torch = text.index("torch==2.13.0")
    assert "download.pytorch.org/whl/cpu" in text and torch < text.index("[server,kubernetes]")
    robo = (DEPLOY / "robo" / "Dockerfile").read_text(encoding="utf-8")
    assert robo.startswith("FROM sedna/sedna:0.1.0") or "\nFROM sedna/sedna:0.1.0" in robo
    assert os.access(DEPLOY / "e2e-kind.sh", os.X_OK)


# --------------------------------------------------------------------------- operator / agent commands

def _fake_runtime(monkeypatch, module, function):
    seen = []
    mod = types.ModuleType(f"sedna.runtimes.kubernetes.{module}")
    setattr(mod, function, lambda args: seen.append(args) or 0)
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    return seen


def test_operator_command_passes_its_flags(monkeypatch):
    seen = _fake_runtime(monkeypatch, "operator", "run_operator")
    assert main(["operator", "--namespace", "robots", "--server", "http://127.0.0.1:1"]) == 0
    (args,) = seen
    assert (args.namespace, args.server, args.kubeconfig) == ("robots", "http://127.0.0.1:1", None)


def test_agent_command_takes_the_node_name_from_the_environment(monkeypatch):
    monkeypatch.setenv("NODE_NAME", "edge-1")
    seen = _fake_runtime(monkeypatch, "agent", "run_agent")
    assert main(["agent", "--kubeconfig", "/k"]) == 0
    (args,) = seen
    assert (args.node_name, args.host, args.port, args.kubeconfig, args.server) == ("edge-1", "0.0.0.0", 9100, "/k", None)
    assert main(["agent", "--node-name", "n2", "--port", "9200"]) == 0
    assert (seen[1].node_name, seen[1].port) == ("n2", 9200)


@pytest.mark.parametrize("command,module,function", [("operator", "operator", "run_operator"),
                                                     ("agent", "agent", "run_agent")])
def test_missing_runtime_says_not_available_yet(monkeypatch, capsys, command, module, function):
    monkeypatch.setitem(sys.modules, f"sedna.runtimes.kubernetes.{module}", None)  # an import that fails
    assert main([command]) == 2
    assert capsys.readouterr().err.strip() == f"sedna {command}: not available yet (see issue 10)"
    monkeypatch.setitem(sys.modules, f"sedna.runtimes.kubernetes.{module}", types.ModuleType("empty"))
    assert main([command]) == 2
    assert "not available yet" in capsys.readouterr().err


def test_crds_output_dir_writes_the_deploy_files_and_says_why_it_cannot(tmp_path):
    from sedna.cli import UserError

    assert main(["crds", "--output-dir", str(tmp_path / "crds")]) == 0
    for kind, name in crds.FILES.items():
        assert (tmp_path / "crds" / name).read_text(encoding="utf-8") == crds.render(kind)
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="cannot write"):
        main(["crds", "--output-dir", str(tmp_path / "file")])


def _mapping_paths(node, path=()):
    if isinstance(node, dict):
        yield path
        for k, v in node.items():
            yield from _mapping_paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _mapping_paths(v, path + (i,))


def _schema_at(schema, path):
    """The schema node at ``path``; inside a node that keeps unknown fields, a keeping node."""
    for p in path:
        if isinstance(p, int):
            schema = schema["items"]
        elif p in schema.get("properties", {}):
            schema = schema["properties"][p]
        elif isinstance(schema.get("additionalProperties"), dict):
            schema = schema["additionalProperties"]
        else:
            assert schema.get(crds.PRESERVE), f"{path}: {p} is not in the schema"
            return {crds.PRESERVE: True}
    return schema


@pytest.mark.parametrize("make", [_full_job, _full_dataset], ids=["job", "dataset"])
def test_an_unknown_field_anywhere_is_refused_by_both_unless_the_crd_keeps_it(make):
    """Every mapping of the fullest manifests gets a field nobody knows: `sedna apply` and the
    CRD (with strict field validation) refuse it at the same path, except where the CRD keeps
    unknown fields on purpose (free-form Kubernetes structures, volume sources) or leaves them
    to the API server (metadata: ObjectMeta is the server's own)."""
    base = make()
    schema = crds.openapi_schema(base["kind"])
    kept, checked = [], 0
    for path in _mapping_paths(base):
        m = copy.deepcopy(base)
        node = m
        for p in path:
            node = node[p]
        node["zzUnknown"] = "x"
        expected = {_sedna_path(list(path) + ["zzUnknown"])}
        if path[:1] in (("metadata",), ("status",)):
            continue  # the object's metadata is the server's own ObjectMeta; status: below
        here = _schema_at(schema, path)
        if "additionalProperties" in here:
            continue  # a map (labels, nodeSelector, limits): any key is a key
        if here.get(crds.PRESERVE):
            kept.append(path)
            assert schema_paths(m) == set(), path
            continue
        checked += 1
        assert apply_paths(m) == expected, path
        assert schema_paths(m) == expected, path
    assert checked >= (20 if base["kind"] == "LifelongLearningJob" else 1)
    assert kept or base["kind"] == "Dataset"  # the job has free-form parts (volumes, probes, ...)
