"""Pod templates (``trainSpec``/``evalSpec``/``deploySpec`` ``.template``)
checked the way a Kubernetes API server would, plus what the local runtime
needs to start them: strings that reach ``execve`` or the file system
(``env``, ``command``, ``args``, ``workingDir``, mount and host paths) must be
ones the operating system accepts, so that a template is refused at apply
instead of leaving its worker unable to start.

Called by :func:`sedna.control.resources.validate` through :func:`check_template`.
"""

from __future__ import annotations

import json

from sedna.control.quantities import parse_cpu, parse_memory, quantity
from sedna.control.validation import (
    MAX_ARG_BYTES, MAX_PATH_BYTES, Checker, index_path, key_path, quote_hint, suggest, typename,
)

_POD_FIELDS = {
    # field -> loose type; the ones checked specially are listed with "special"
    "containers": "special", "volumes": "special",
    "nodeName": "str", "dnsPolicy": "special", "hostNetwork": "bool", "restartPolicy": "special",
    "activeDeadlineSeconds": "int", "affinity": "map", "automountServiceAccountToken": "bool",
    "dnsConfig": "map", "enableServiceLinks": "bool", "ephemeralContainers": "list",
    "hostAliases": "list", "hostIPC": "bool", "hostPID": "bool", "hostUsers": "bool", "hostname": "str",
    "imagePullSecrets": "list", "initContainers": "list", "nodeSelector": "strmap", "os": "map",
    "overhead": "map", "preemptionPolicy": "str", "priority": "int", "priorityClassName": "str",
    "readinessGates": "list", "resourceClaims": "list", "runtimeClassName": "str", "schedulerName": "str",
    "schedulingGates": "list", "securityContext": "map", "serviceAccount": "str",
    "serviceAccountName": "str", "setHostnameAsFQDN": "bool", "shareProcessNamespace": "bool",
    "subdomain": "str", "terminationGracePeriodSeconds": "int", "tolerations": "list",
    "topologySpreadConstraints": "list",
}
_CONTAINER_FIELDS = {
    "name": "special", "image": "special", "command": "special", "args": "special", "env": "special",
    "resources": "special", "volumeMounts": "special", "workingDir": "str",
    "imagePullPolicy": "special", "ports": "list", "envFrom": "list", "resizePolicy": "list",
    "restartPolicy": "str", "volumeDevices": "list", "livenessProbe": "map", "readinessProbe": "map",
    "startupProbe": "map", "lifecycle": "map", "terminationMessagePath": "str",
    "terminationMessagePolicy": "str", "securityContext": "map", "stdin": "bool", "stdinOnce": "bool",
    "tty": "bool",
}
_DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_EMPTYDIR_MEDIA = ("", "Memory")
_HOSTPATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                   "CharDevice", "BlockDevice")
_VOLUME_SOURCES = ("hostPath", "emptyDir")
# Kubernetes volume sources the original accepts (it runs on a cluster); refused here by name
_K8S_VOLUME_SOURCES = ("persistentVolumeClaim", "configMap", "secret", "nfs", "projected", "downwardAPI", "csi",
                       "ephemeral", "iscsi", "cephfs", "rbd", "glusterfs", "azureDisk", "azureFile",
                       "awsElasticBlockStore", "gcePersistentDisk", "fc", "flexVolume", "image")


def check_template(c: Checker, template, path):
    """Check a pod template at ``path``; problems go to ``c``."""
    t = c.mapping(template, path, allowed=("metadata", "spec"), required=("spec",))
    if t is None:
        return
    if "metadata" in t:
        md = c.mapping(t["metadata"], key_path(path, "metadata"),
                       allowed=("name", "namespace", "labels", "annotations"))
        if md is not None:
            for k in ("labels", "annotations"):
                if k in md:
                    c.str_map(md[k], key_path(key_path(path, "metadata"), k))
            for k in ("name", "namespace"):
                if k in md:
                    c.string(md[k], key_path(key_path(path, "metadata"), k))
    if "spec" in t:
        _check_pod_spec(c, t["spec"], key_path(path, "spec"))


def _check_pod_spec(c: Checker, spec, path):
    s = c.mapping(spec, path, allowed=_POD_FIELDS, required=("containers",))
    if s is None:
        return
    for k, kind in _POD_FIELDS.items():
        if k not in s or kind == "special":
            continue
        if kind == "strmap":
            c.str_map(s[k], key_path(path, k))
        else:
            c.loose(s[k], key_path(path, k), kind)
    if "dnsPolicy" in s:
        c.string(s["dnsPolicy"], key_path(path, "dnsPolicy"), choices=_DNS_POLICIES)
    if "restartPolicy" in s:
        c.string(s["restartPolicy"], key_path(path, "restartPolicy"), choices=_RESTART_POLICIES)

    volumes_path = key_path(path, "volumes")
    volume_names: set[str] | None = set()
    if "volumes" in s:
        vols = c.list(s["volumes"], volumes_path)
        if vols is None:
            volume_names = None  # unknown: do not report mounts against them
        else:
            for i, vol in enumerate(vols):
                name = _check_volume(c, vol, index_path(volumes_path, i))
                if name is not None:
                    if name in volume_names:
                        c.err(key_path(index_path(volumes_path, i), "name"), f"duplicate volume name {name!r}")
                    volume_names.add(name)

    cpath = key_path(path, "containers")
    if "containers" in s:
        containers = c.list(s["containers"], cpath, non_empty=True)
        if containers is not None:
            seen = set()
            for i, ctr in enumerate(containers):
                name = _check_container(c, ctr, index_path(cpath, i), volume_names, volumes_path)
                if name is not None:
                    if name in seen:
                        c.err(key_path(index_path(cpath, i), "name"), f"duplicate container name {name!r}")
                    seen.add(name)


def _check_volume(c: Checker, vol, path):
    v = c.mapping(vol, path, required=("name",))
    if v is None:
        return None
    for k in v:
        if isinstance(k, str) and k in _K8S_VOLUME_SOURCES:
            c.err(key_path(path, k), f"unsupported volume source: {k} needs a cluster; the local runtime runs "
                  "workers as processes on this machine and supports hostPath (a folder here) and emptyDir "
                  f"(a scratch folder): copy the {k}'s content into a folder and mount it with hostPath")
        elif isinstance(k, str) and k not in ("name", *_VOLUME_SOURCES):
            c.err(key_path(path, k), "unknown field or unsupported volume source" + suggest(k, _VOLUME_SOURCES)
                  + " (supported: hostPath, emptyDir)")
    name = None
    if "name" in v:
        c.dns(v["name"], key_path(path, "name"), label=True)
        if isinstance(v["name"], str):
            name = v["name"]  # mounts may still refer to it; a malformed name is reported once, here
    sources = [k for k in _VOLUME_SOURCES if k in v]
    unknown_sources = [k for k in v if isinstance(k, str) and k not in ("name", *_VOLUME_SOURCES)]
    if len(sources) + len(unknown_sources) == 0:
        c.err(path, "must have exactly one volume source: hostPath or emptyDir")
    elif len(sources) > 1:
        c.err(path, "must have exactly one volume source, not both hostPath and emptyDir")
    if "hostPath" in v:
        hp_path = key_path(path, "hostPath")
        hp = c.mapping(v["hostPath"], hp_path, allowed=("path", "type"), required=("path",))
        if hp is not None:
            if "path" in hp:
                p = c.string(hp["path"], key_path(hp_path, "path"), non_empty=True)
                if p is not None and not p.startswith("/"):
                    c.err(key_path(hp_path, "path"), "must be an absolute path")
                c.os_string(p, key_path(hp_path, "path"), MAX_PATH_BYTES, what="path")
            if "type" in hp and hp["type"] != "":
                c.string(hp["type"], key_path(hp_path, "type"), choices=_HOSTPATH_TYPES)
    if "emptyDir" in v and v["emptyDir"] is not None:
        ed_path = key_path(path, "emptyDir")
        ed = c.mapping(v["emptyDir"], ed_path, allowed=("medium", "sizeLimit"))
        if ed is not None:
            if "medium" in ed and ed["medium"] != "":
                c.string(ed["medium"], key_path(ed_path, "medium"), choices=_EMPTYDIR_MEDIA)
            if "sizeLimit" in ed:
                _check_quantity(c, ed["sizeLimit"], key_path(ed_path, "sizeLimit"), parse_memory)
    return name


def _check_quantity(c, q, path, parse):
    """``parse(q)`` (a CPU or memory quantity), or None with the error recorded at ``path``."""
    try:
        return parse(q)
    except ValueError as e:
        c.err(path, str(e))
        return None


def _check_container(c: Checker, ctr, path, volume_names, volumes_path):
    k = c.mapping(ctr, path, allowed=_CONTAINER_FIELDS, required=("name", "image"))
    if k is None:
        return None
    for f, kind in _CONTAINER_FIELDS.items():
        if f in k and kind != "special":
            c.loose(k[f], key_path(path, f), kind)
    name = None
    if "name" in k:
        before = len(c.errors)
        c.dns(k["name"], key_path(path, "name"), label=True)
        if len(c.errors) == before:
            name = k["name"]
    if "image" in k:
        c.string(k["image"], key_path(path, "image"), non_empty=True)
    if "imagePullPolicy" in k:
        c.string(k["imagePullPolicy"], key_path(path, "imagePullPolicy"), choices=_PULL_POLICIES)
    for f in ("command", "args"):
        if f in k:
            items = c.list(k[f], key_path(path, f))
            if items is not None:
                for i, a in enumerate(items):
                    if not isinstance(a, str):
                        c.err(index_path(key_path(path, f), i),
                              f"must be a string (got {typename(a)}){quote_hint(a)}")
                    else:
                        c.os_string(a, index_path(key_path(path, f), i), what="program argument")
    if isinstance(k.get("workingDir"), str):
        c.os_string(k["workingDir"], key_path(path, "workingDir"), MAX_PATH_BYTES, what="path")
    if "env" in k:
        _check_env(c, k["env"], key_path(path, "env"))
    if "resources" in k:
        _check_resources(c, k["resources"], key_path(path, "resources"))
    if "volumeMounts" in k:
        _check_mounts(c, k["volumeMounts"], key_path(path, "volumeMounts"), volume_names, volumes_path)
    return name


def _check_env(c: Checker, env, path):
    items = c.list(env, path)
    if items is None:
        return
    for i, e in enumerate(items):
        ep = index_path(path, i)
        m = c.mapping(e, ep, allowed=("name", "value", "valueFrom"), required=("name",))
        if m is None:
            continue
        n = None
        if "name" in m:
            n = c.string(m["name"], key_path(ep, "name"), non_empty=True)
            if n is not None and "=" in n:
                c.err(key_path(ep, "name"), "must not contain '='")
            c.os_string(n, key_path(ep, "name"), what="environment variable name")
        if "value" in m:
            v = m["value"]
            if not isinstance(v, str):
                c.err(key_path(ep, "value"), f"must be a string (got {typename(v)}){quote_hint(v)}")
            else:  # the kernel limits each NAME=value string
                room = MAX_ARG_BYTES - len((n or "").encode("utf-8", "surrogateescape")) - 2
                c.os_string(v, key_path(ep, "value"), max(room, 0), what="environment variable")
        if "valueFrom" in m:
            c.mapping(m["valueFrom"], key_path(ep, "valueFrom"))
            if "value" in m:
                c.err(key_path(ep, "valueFrom"), "may not be given together with value")


def _check_resources(c: Checker, res, path):
    r = c.mapping(res, path, allowed=("limits", "requests", "claims"))
    if r is None:
        return
    parsed = {}
    for part in ("limits", "requests"):
        if part not in r:
            continue
        pp = key_path(path, part)
        m = c.mapping(r[part], pp)
        if m is None:
            continue
        for name, q in m.items():
            if not isinstance(name, str):
                continue  # reported by mapping()
            qp = key_path(pp, name)
            if name == "cpu":
                parsed[(part, name)] = _check_quantity(c, q, qp, parse_cpu)
            elif name in ("memory", "ephemeral-storage"):
                parsed[(part, name)] = _check_quantity(c, q, qp, parse_memory)
            else:
                try:
                    quantity(q)
                except ValueError as e:
                    c.err(qp, str(e))
    if "claims" in r:
        c.list(r["claims"], key_path(path, "claims"))
    for name in ("cpu", "memory", "ephemeral-storage"):
        lim, req = parsed.get(("limits", name)), parsed.get(("requests", name))
        if lim is not None and req is not None and req > lim:
            c.err(key_path(key_path(path, "requests"), name),
                  f"must be less than or equal to the {name} limit ({r['limits'][name]})")


def _check_mounts(c: Checker, mounts, path, volume_names, volumes_path):
    items = c.list(mounts, path)
    if items is None:
        return
    for i, mnt in enumerate(items):
        mp = index_path(path, i)
        m = c.mapping(mnt, mp, allowed=("name", "mountPath", "readOnly", "subPath", "subPathExpr",
                                        "mountPropagation", "recursiveReadOnly"),
                      required=("name", "mountPath"))
        if m is None:
            continue
        if "name" in m:
            n = c.string(m["name"], key_path(mp, "name"), non_empty=True)
            if n is not None and volume_names is not None and n not in volume_names:
                c.err(key_path(mp, "name"), f"no volume named {json.dumps(n)} in {volumes_path}")
        if "mountPath" in m:
            p = c.string(m["mountPath"], key_path(mp, "mountPath"), non_empty=True)
            if p is not None and not p.startswith("/"):
                c.err(key_path(mp, "mountPath"), "must be an absolute path")
            c.os_string(p, key_path(mp, "mountPath"), MAX_PATH_BYTES, what="path")
        if "readOnly" in m:
            c.loose(m["readOnly"], key_path(mp, "readOnly"), "bool")
        for f in ("subPath", "subPathExpr", "mountPropagation", "recursiveReadOnly"):
            if f in m:
                c.loose(m[f], key_path(mp, f), "str")
        if isinstance(m.get("subPath"), str):
            c.os_string(m["subPath"], key_path(mp, "subPath"), MAX_PATH_BYTES, what="path")

