"""Kubernetes discovery, so that kubectl works against ``sedna up``.

kubectl first asks which API groups and resources a server has (``/api``,
``/apis``, ``/apis/sedna.io/v1alpha1``) and its version (``/version``); only
then does it call the resource paths of :mod:`.resources_api`. The answers
are plain JSON (``APIVersions``, ``APIGroupList``, ``APIResourceList``);
kubectl asks for the aggregated discovery format first and takes these when
the server answers without it. ``/openapi/v3`` holds just enough for kubectl
to leave validation to the server (``fieldValidation``); ``/openapi/v2`` stays 404.
The kubectl listener also answers writes with the object (:data:`kube_router`).
"""

from typing import Optional

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool

from sedna import __version__
from sedna.common.api_paths import API, GROUP_VERSION
from sedna.common.constants import DATASET, DATASETS, JOB, JOBS
from sedna.control.columns import HEADERS
from sedna.server import resources_api

router = APIRouter()

GROUP, VERSION = GROUP_VERSION.split("/")
VERBS = ["create", "delete", "get", "list", "patch", "update"]

# (plural, singular, kind, short names)
RESOURCES = [(DATASETS, "dataset", DATASET, ["ds"]),
             (JOBS, "lifelonglearningjob", JOB, ["ll"])]


def resource_list():
    """The ``APIResourceList`` of ``sedna.io/v1alpha1``: each kind and its ``/status``."""
    out = []
    for plural, singular, kind, short in RESOURCES:
        out.append({"name": plural, "singularName": singular, "namespaced": True, "kind": kind,
                    "verbs": VERBS, "shortNames": short, "categories": ["sedna"]})
        out.append({"name": plural + "/status", "singularName": "", "namespaced": True, "kind": kind,
                    "verbs": ["get", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION, "resources": out}


def _group():
    gv = {"groupVersion": GROUP_VERSION, "version": VERSION}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": GROUP, "versions": [gv], "preferredVersion": gv}


@router.get("/api")
def api_versions(request: Request):
    host = request.headers.get("host") or ""
    return {"kind": "APIVersions", "versions": [],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}


@router.get("/apis")
def api_groups():
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group()]}


@router.get("/apis/" + GROUP)
def api_group():
    return _group()


@router.get(API)
def api_resources():
    return resource_list()


@router.get("/version")
def version():
    major, minor = (__version__.split(".") + ["0"])[:2]
    return {"major": major, "minor": minor, "gitVersion": f"v{__version__}", "platform": "sedna/local"}


# ------------------------------------------------------------------ OpenAPI v3
def _gvk(kind):
    return {"group": GROUP, "version": VERSION, "kind": kind}


def openapi_spec():
    """A minimal OpenAPI v3 document of ``sedna.io/v1alpha1``: each object path's
    PATCH takes ``fieldValidation``, so kubectl leaves validation to this server
    (which always validates strictly) instead of asking for a schema."""
    param = {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    paths = {}
    for plural, _, kind, _ in RESOURCES:
        op = {"operationId": f"patch{kind}", "parameters": [param], "x-kubernetes-action": "patch",
              "x-kubernetes-group-version-kind": _gvk(kind), "responses": {"200": {"description": "OK"}}}
        paths[f"{API}/namespaces/{{namespace}}/{plural}/{{name}}"] = {"patch": op}
    return {"openapi": "3.0.0", "info": {"title": "sedna", "version": __version__}, "paths": paths,
            "components": {"schemas": {}}}


@router.get("/openapi/v3")
def openapi_root():
    return {"paths": {API.lstrip("/"): {"serverRelativeURL": f"/openapi/v3{API}?hash={__version__}"}}}


@router.get("/openapi/v3" + API)
def openapi_group():
    return openapi_spec()


# ------------------------------------------------------------------ Kubernetes answers
# The kubectl listener (HTTPS, :meth:`LocalRuntime._serve_kube`) answers writes as
# Kubernetes does, with the object itself; the sedna API answers
# ``{"object", "result"}`` so that ``sedna apply`` can say created/configured/unchanged.
kube_router = APIRouter()


@kube_router.post(API + "/namespaces/{ns}/{plural}", status_code=201)
async def kube_create(ns: str, plural: str, request: Request, dryRun: Optional[str] = None):  # noqa: N803
    return (await resources_api.create(ns, plural, request, dryRun))["object"]


@kube_router.put(API + "/namespaces/{ns}/{plural}/{name}")
async def kube_replace(ns: str, plural: str, name: str, request: Request, dryRun: Optional[str] = None):  # noqa: N803
    return (await resources_api.apply(ns, plural, name, request, dryRun))["object"]


@kube_router.delete(API + "/namespaces/{ns}/{plural}/{name}")
async def kube_delete(ns: str, plural: str, name: str, request: Request):
    out = await run_in_threadpool(resources_api.delete, ns, plural, name, request)
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": name, "group": GROUP, "kind": plural, "uid": ""}, "result": out["result"]}


@kube_router.get("/api/v1/namespaces/{ns}/events")
def kube_events(ns: str):
    """``kubectl describe`` lists an object's events; sedna records none (its
    conditions carry the history)."""
    return {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": []}


# ------------------------------------------------------------------ kubectl get: tables
def _no_watch(request):
    if (request.query_params.get("watch") or "").lower() in ("1", "true"):
        raise HTTPException(405, "watch is not supported by sedna: repeat the get (e.g. `watch kubectl get ll`)")


def wants_table(request):
    """kubectl get asks for ``application/json;as=Table;...;g=meta.k8s.io`` first."""
    return "as=Table" in (request.headers.get("accept") or "")


def as_table(plural, items, cont=""):
    """A ``meta.k8s.io/v1`` Table with the columns of ``sedna get`` (the wide ones
    at priority 1, shown by ``-o wide``), as an API server answers kubectl get."""
    narrow, wide, rowf = HEADERS[plural]
    cols = [{"name": h, "type": "string", "format": "name" if h == "NAME" else "",
             "description": h.lower(), "priority": 0 if h in narrow else 1} for h in wide]
    rows = []
    for o in items:
        cells = [c if isinstance(c, (int, float, str)) else str(c) for c in rowf(o, True)]
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                "metadata": o["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"continue": cont},
            "columnDefinitions": cols, "rows": rows}


@kube_router.get(API + "/namespaces/{ns}/{plural}")
def kube_list_ns(ns: str, plural: str, request: Request, limit: Optional[int] = None,
                 cont: Optional[str] = Query(None, alias="continue")):
    _no_watch(request)
    out = resources_api.list_ns(ns, plural, request, limit, cont)
    return as_table(plural, out["items"], out["metadata"]["continue"]) if wants_table(request) else out


@kube_router.get(API + "/{plural}")
def kube_list_all(plural: str, request: Request, limit: Optional[int] = None,
                  cont: Optional[str] = Query(None, alias="continue")):
    _no_watch(request)
    out = resources_api.list_all(plural, request, limit, cont)
    return as_table(plural, out["items"], out["metadata"]["continue"]) if wants_table(request) else out


@kube_router.get(API + "/namespaces/{ns}/{plural}/{name}")
def kube_get(ns: str, plural: str, name: str, request: Request):
    out = resources_api.get(ns, plural, name, request)
    return as_table(plural, [out]) if wants_table(request) else out
