"""Datasets and LifelongLearningJobs under Kubernetes-like paths:
``/apis/sedna.io/v1alpha1/namespaces/{ns}/{plural}[/{name}[/status]]`` (GET
list/get, POST create, PUT apply, DELETE) and ``/apis/sedna.io/v1alpha1/{plural}``
across namespaces."""

from fastapi import APIRouter, Depends, Request

from sedna.common.api_paths import API
from sedna.common.exceptions import Conflict, ManifestError, NotFound
from sedna.server.common import body_json, kind_of, need_token, runtime_of

router = APIRouter()


def _validated(body, ns, plural, name=None):
    from sedna.control import resources

    if not isinstance(body, dict):
        raise ManifestError([("(root)", "expected a JSON object (a manifest)")])
    kind = kind_of(plural)
    body = dict(body)
    meta = dict(body.get("metadata") or {}) if isinstance(body.get("metadata"), dict) else body.get("metadata")
    if isinstance(meta, dict):
        meta.setdefault("namespace", ns)
        body["metadata"] = meta
    obj = resources.validate(body)
    errors = []
    if obj["kind"] != kind:
        errors.append(("kind", f"a {obj['kind']} cannot be stored under {plural}"))
    if obj["metadata"]["namespace"] != ns:
        errors.append(("metadata.namespace", f"{obj['metadata']['namespace']!r} does not match the path's {ns!r}"))
    if name is not None and obj["metadata"]["name"] != name:
        errors.append(("metadata.name", f"{obj['metadata']['name']!r} does not match the path's {name!r}"))
    if errors:
        raise ManifestError(errors)
    return obj


@router.get(API + "/{plural}")
def list_all(plural: str, request: Request):
    return {"items": runtime_of(request).store.list(kind_of(plural))}


@router.get(API + "/namespaces/{ns}/{plural}")
def list_ns(ns: str, plural: str, request: Request):
    return {"items": runtime_of(request).store.list(kind_of(plural), ns)}


@router.post(API + "/namespaces/{ns}/{plural}", status_code=201, dependencies=[Depends(need_token)])
async def create(ns: str, plural: str, request: Request):
    rt = runtime_of(request)
    obj = _validated(await body_json(request), ns, plural)
    try:
        rt.store.get(obj["kind"], ns, obj["metadata"]["name"])
        raise Conflict(f"{obj['kind']} {ns}/{obj['metadata']['name']} already exists")
    except NotFound:
        pass
    out, verdict = rt.store.apply(obj)
    rt.controller.wake()
    return {"object": out, "result": verdict}


@router.get(API + "/namespaces/{ns}/{plural}/{name}")
def get(ns: str, plural: str, name: str, request: Request):
    return runtime_of(request).store.get(kind_of(plural), ns, name)


@router.put(API + "/namespaces/{ns}/{plural}/{name}", dependencies=[Depends(need_token)])
async def apply(ns: str, plural: str, name: str, request: Request):
    rt = runtime_of(request)
    obj = _validated(await body_json(request), ns, plural, name)
    out, verdict = rt.store.apply(obj)
    rt.controller.wake()
    return {"object": out, "result": verdict}


@router.delete(API + "/namespaces/{ns}/{plural}/{name}", dependencies=[Depends(need_token)])
def delete(ns: str, plural: str, name: str, request: Request):
    rt = runtime_of(request)
    kind = kind_of(plural)
    if kind == "Dataset":  # nothing runs for a dataset: gone at once
        rt.store.get(kind, ns, name)
        rt.store.remove(kind, ns, name)
    else:  # a job's workers are stopped by the controller, then the job is removed
        rt.store.mark_deleting(kind, ns, name)
    rt.controller.wake()
    return {"result": "deleted", "kind": kind, "namespace": ns, "name": name}


@router.get(API + "/namespaces/{ns}/{plural}/{name}/status")
def get_status(ns: str, plural: str, name: str, request: Request):
    return runtime_of(request).store.get(kind_of(plural), ns, name).get("status", {})


@router.put(API + "/namespaces/{ns}/{plural}/{name}/status", dependencies=[Depends(need_token)])
async def put_status(ns: str, plural: str, name: str, request: Request):
    rt = runtime_of(request)
    body = await body_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("status"), dict):
        raise ManifestError([("status", "expected {\"metadata\": {\"resourceVersion\": ...}, \"status\": {...}}")])
    rv = (body.get("metadata") or {}).get("resourceVersion")
    if rv is None:
        raise ManifestError([("metadata.resourceVersion", "required (optimistic concurrency)")])
    rt.store.update_status(kind_of(plural), ns, name, body["status"], expect_version=rv)
    return rt.store.get(kind_of(plural), ns, name)
