"""Datasets and LifelongLearningJobs under Kubernetes-like paths:
``/apis/sedna.io/v1alpha1/namespaces/{ns}/{plural}[/{name}[/status]]`` (GET
list/get, POST create, PUT apply, DELETE) and ``/apis/sedna.io/v1alpha1/{plural}``
across namespaces."""

import secrets
from typing import Optional

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool

from sedna.common.api_paths import API, GROUP_VERSION
from sedna.control import resources
from sedna.common.exceptions import ManifestError
from sedna.server.common import body_json, kind_of, paged, runtime_of

router = APIRouter()


def _validated(body, ns, plural, name=None):
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


def _list(request, plural, ns, limit, cont):
    """A page of a ``<Kind>List`` (``kind`` and ``apiVersion`` set, as kubectl expects)."""
    rt, kind = runtime_of(request), kind_of(plural)
    page = paged(lambda n, after: rt.list(kind, ns, limit=n, after=after),
                 lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]), 2, limit, cont)
    return {"apiVersion": GROUP_VERSION, "kind": kind + "List", **page}


@router.get(API + "/{plural}")
def list_all(plural: str, request: Request, limit: Optional[int] = None,
             cont: Optional[str] = Query(None, alias="continue")):
    return _list(request, plural, None, limit, cont)


@router.get(API + "/namespaces/{ns}/{plural}")
def list_ns(ns: str, plural: str, request: Request, limit: Optional[int] = None,
            cont: Optional[str] = Query(None, alias="continue")):
    return _list(request, plural, ns, limit, cont)


def _dry_run(value):
    if value in (None, ""):
        return False
    if value != "All":
        raise ManifestError([("dryRun", f"must be 'All' (got {value!r})")])
    return True


def _stored(rt, obj, dry_run, create_only=False):
    out, verdict = rt.apply(obj, dry_run=dry_run, create_only=create_only)
    if dry_run:
        return {"object": out, "result": verdict, "dryRun": True}
    return {"object": out, "result": verdict}


_GENERATED_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' alphabet: no vowels, no look-alikes
_GENERATED_LEN = 5
_MAX_GENERATE_PREFIX = 58  # prefix + 5 characters stays a 63-character DNS label


def _with_generated_name(body):
    """``metadata.generateName`` without a name (POST only, as in Kubernetes):
    the name becomes the prefix and 5 random lowercase letters or digits."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(meta, dict) or meta.get("name") or not isinstance(meta.get("generateName"), str) \
            or not meta["generateName"]:
        return body
    suffix = "".join(secrets.choice(_GENERATED_CHARS) for _ in range(_GENERATED_LEN))
    meta = dict(meta, name=meta["generateName"][:_MAX_GENERATE_PREFIX] + suffix)
    return dict(body, metadata=meta)


@router.post(API + "/namespaces/{ns}/{plural}", status_code=201)
async def create(ns: str, plural: str, request: Request, dryRun: Optional[str] = None):  # noqa: N803 - k8s name
    rt = runtime_of(request)
    obj = _validated(_with_generated_name(await body_json(request)), ns, plural)
    # one step: of concurrent creates of one name, exactly one is told it created it
    return await run_in_threadpool(_stored, rt, obj, _dry_run(dryRun), True)


@router.get(API + "/namespaces/{ns}/{plural}/{name}")
def get(ns: str, plural: str, name: str, request: Request):
    return runtime_of(request).get(kind_of(plural), ns, name)


@router.put(API + "/namespaces/{ns}/{plural}/{name}")
async def apply(ns: str, plural: str, name: str, request: Request, dryRun: Optional[str] = None):  # noqa: N803
    """Create or update; ``?dryRun=All`` checks everything and stores nothing
    (``"dryRun": true`` in the answer), so a client can apply several documents all or nothing."""
    rt = runtime_of(request)
    obj = _validated(await body_json(request), ns, plural, name)
    return await run_in_threadpool(_stored, rt, obj, _dry_run(dryRun))


@router.delete(API + "/namespaces/{ns}/{plural}/{name}")
def delete(ns: str, plural: str, name: str, request: Request):
    kind = kind_of(plural)
    runtime_of(request).delete(kind, ns, name)  # a job's workers are stopped first
    return {"result": "deleted", "kind": kind, "namespace": ns, "name": name}


@router.get(API + "/namespaces/{ns}/{plural}/{name}/status")
def get_status(ns: str, plural: str, name: str, request: Request):
    return runtime_of(request).get(kind_of(plural), ns, name).get("status", {})


@router.put(API + "/namespaces/{ns}/{plural}/{name}/status")
async def put_status(ns: str, plural: str, name: str, request: Request):
    rt = runtime_of(request)
    body = await body_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("status"), dict):
        raise ManifestError([("status", "expected {\"metadata\": {\"resourceVersion\": ...}, \"status\": {...}}")])
    rv = (body.get("metadata") or {}).get("resourceVersion")
    if rv is None:
        raise ManifestError([("metadata.resourceVersion", "required (optimistic concurrency)")])
    kind = kind_of(plural)
    status = resources.validate_status(kind, body["status"])
    await run_in_threadpool(rt.update_status, kind, ns, name, status, expect_version=rv)
    return await run_in_threadpool(rt.get, kind, ns, name)


# ------------------------------------------------------------------ PATCH (kubectl apply)
MERGE_PATCH = "application/merge-patch+json"


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: ``patch``'s fields replace ``target``'s, ``null`` removes one."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _patched(rt, kind, ns, plural, name, patch, dry_run):
    current = rt.get(kind, ns, name)
    merged = merge_patch({k: v for k, v in current.items() if k != "status"}, patch)
    obj = _validated(merged, ns, plural, name)
    return _stored(rt, obj, dry_run)


@router.patch(API + "/namespaces/{ns}/{plural}/{name}")
async def patch(ns: str, plural: str, name: str, request: Request, dryRun: Optional[str] = None):  # noqa: N803
    """A JSON merge patch (``Content-Type: application/merge-patch+json``, what
    ``kubectl apply`` sends for these kinds) of the stored object, validated as
    a whole; answers the object, as Kubernetes does. A ``metadata.resourceVersion``
    in the patch must be the stored one."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype not in (MERGE_PATCH, "application/json"):
        raise HTTPException(415, f"patch type {ctype or '(none)'} is not supported; send a JSON merge patch "
                                 f"({MERGE_PATCH})")
    body = await body_json(request)
    if not isinstance(body, dict):
        raise ManifestError([("(root)", "a merge patch must be a JSON object")])
    rt = runtime_of(request)
    out = await run_in_threadpool(_patched, rt, kind_of(plural), ns, plural, name, body, _dry_run(dryRun))
    return out["object"]
