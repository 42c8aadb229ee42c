"""The HTTP API of the control plane (FastAPI).

* resources under Kubernetes-like paths:
  ``/apis/sedna.io/v1alpha1/namespaces/{ns}/{plural}[/{name}[/status]]``
  (GET list/get, POST create, PUT apply, DELETE), and ``/apis/sedna.io/v1alpha1/{plural}``
  across namespaces;
* worker reports: ``POST /sedna/workers/{name}/info`` (CONTRACTS §2);
* workers and their logs: ``/api/v1/namespaces/{ns}/workers[/{name}/log]``;
* ``/healthz``.

Every mutating call needs ``Authorization: Bearer <token>`` (the token is in
the state folder, mode 0600; workers get it as ``LC_TOKEN``). Bad input gets
an error naming the field, never a crash.
"""

import hmac
import json
import os

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from sedna import __version__
from sedna.common.exceptions import ManifestError
from sedna.runtimes.local.store import Conflict, NotFound

API = "/apis/sedna.io/v1alpha1"
REPORT_KINDS = ("train", "eval", "deploy")
REPORT_STATUS = ("completed", "failed")


def create_app(runtime):
    """The app for one runtime (``runtime.store``, ``.controller``, ``.token``, ``.launcher``)."""
    from sedna.control import resources

    app = FastAPI(title="sedna control plane", version=__version__)

    def need_token(request: Request):
        got = request.headers.get("authorization", "")
        if not got.startswith("Bearer ") or not hmac.compare_digest(got[7:].strip(), runtime.token):
            raise HTTPException(401, "missing or wrong token (Authorization: Bearer <token from the state folder>)")

    async def body_json(request: Request):
        raw = await request.body()
        try:
            return json.loads(raw or b"null")
        except ValueError as e:
            raise HTTPException(400, f"request body is not JSON: {e}") from None

    def kind_of(plural):
        try:
            return resources.resolve_kind(plural)
        except ManifestError as e:
            raise HTTPException(404, str(e)) from None

    @app.exception_handler(ManifestError)
    async def _manifest_error(request, exc):
        return JSONResponse(status_code=422, content={
            "message": str(exc), "errors": [{"path": p, "message": m} for p, m in exc.errors]})

    @app.exception_handler(NotFound)
    async def _not_found(request, exc):
        return JSONResponse(status_code=404, content={"message": str(exc)})

    @app.exception_handler(Conflict)
    async def _conflict(request, exc):
        return JSONResponse(status_code=409, content={"message": str(exc)})

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "version": __version__}

    # ------------------------------------------------------------- resources
    @app.get(API + "/{plural}")
    def list_all(plural: str):
        return {"items": runtime.store.list(kind_of(plural))}

    @app.get(API + "/namespaces/{ns}/{plural}")
    def list_ns(ns: str, plural: str):
        return {"items": runtime.store.list(kind_of(plural), ns)}

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

    @app.post(API + "/namespaces/{ns}/{plural}", status_code=201, dependencies=[Depends(need_token)])
    async def create(ns: str, plural: str, request: Request):
        obj = _validated(await body_json(request), ns, plural)
        try:
            runtime.store.get(obj["kind"], ns, obj["metadata"]["name"])
            raise Conflict(f"{obj['kind']} {ns}/{obj['metadata']['name']} already exists")
        except NotFound:
            pass
        out, verdict = runtime.store.apply(obj)
        runtime.controller.wake()
        return {"object": out, "result": verdict}

    @app.get(API + "/namespaces/{ns}/{plural}/{name}")
    def get(ns: str, plural: str, name: str):
        return runtime.store.get(kind_of(plural), ns, name)

    @app.put(API + "/namespaces/{ns}/{plural}/{name}", dependencies=[Depends(need_token)])
    async def apply(ns: str, plural: str, name: str, request: Request):
        obj = _validated(await body_json(request), ns, plural, name)
        out, verdict = runtime.store.apply(obj)
        runtime.controller.wake()
        return {"object": out, "result": verdict}

    @app.delete(API + "/namespaces/{ns}/{plural}/{name}", dependencies=[Depends(need_token)])
    def delete(ns: str, plural: str, name: str):
        kind = kind_of(plural)
        if kind == "Dataset":  # nothing runs for a dataset: gone at once
            runtime.store.get(kind, ns, name)
            runtime.store.remove(kind, ns, name)
        else:  # a job's workers are stopped by the controller, then the job is removed
            runtime.store.mark_deleting(kind, ns, name)
        runtime.controller.wake()
        return {"result": "deleted", "kind": kind, "namespace": ns, "name": name}

    @app.get(API + "/namespaces/{ns}/{plural}/{name}/status")
    def get_status(ns: str, plural: str, name: str):
        return runtime.store.get(kind_of(plural), ns, name).get("status", {})

    @app.put(API + "/namespaces/{ns}/{plural}/{name}/status", dependencies=[Depends(need_token)])
    async def put_status(ns: str, plural: str, name: str, request: Request):
        body = await body_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("status"), dict):
            raise ManifestError([("status", "expected {\"metadata\": {\"resourceVersion\": ...}, \"status\": {...}}")])
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if rv is None:
            raise ManifestError([("metadata.resourceVersion", "required (optimistic concurrency)")])
        runtime.store.update_status(kind_of(plural), ns, name, body["status"], expect_version=rv)
        return runtime.store.get(kind_of(plural), ns, name)

    # --------------------------------------------------------------- reports
    @app.post("/sedna/workers/{name}/info", dependencies=[Depends(need_token)])
    async def report(name: str, request: Request):
        body = await body_json(request)
        if not isinstance(body, dict):
            raise HTTPException(400, "report: expected a JSON object")
        errors = []
        if body.get("name") != name:
            errors.append(f"name: {body.get('name')!r} differs from the worker in the path ({name!r})")
        if body.get("kind") not in REPORT_KINDS:
            errors.append(f"kind: must be one of {', '.join(REPORT_KINDS)}")
        if body.get("status") not in REPORT_STATUS:
            errors.append(f"status: must be one of {', '.join(REPORT_STATUS)}")
        if not isinstance(body.get("results", []), list):
            errors.append("results: must be a list")
        if errors:
            raise HTTPException(400, "; ".join(errors))
        ns = body.get("namespace") or "default"
        try:
            w = runtime.store.worker(ns, name)
        except NotFound:
            raise HTTPException(404, f"no worker {ns}/{name}") from None
        if body.get("ownerName") not in (None, w["job"]):
            raise HTTPException(400, f"ownerName: {body.get('ownerName')!r} is not the worker's job {w['job']!r}")
        runtime.controller.report(ns, name, body)
        return {"result": "accepted"}

    # --------------------------------------------------------------- workers
    @app.get("/api/v1/workers")
    def workers_all():
        return {"items": [_worker_view(w) for w in runtime.store.workers()]}

    @app.get("/api/v1/namespaces/{ns}/workers")
    def workers(ns: str):
        return {"items": [_worker_view(w) for w in runtime.store.workers(ns)]}

    @app.get("/api/v1/namespaces/{ns}/workers/{name}/log")
    def worker_log(ns: str, name: str, offset: int = 0):
        w = runtime.store.worker(ns, name)
        path = w["record"].get("log_path")
        if not path or not os.path.exists(path):
            return PlainTextResponse("", headers={"X-Offset": str(offset)})
        with open(path, "rb") as f:
            f.seek(max(0, offset))
            data = f.read()
        return PlainTextResponse(data.decode("utf-8", "replace"), headers={"X-Offset": str(offset + len(data))})

    return app


def _worker_view(w):
    rec = w.get("record") or {}
    return {"namespace": w["namespace"], "name": w["name"], "job": w["job"], "stage": w["stage"],
            "round": w["round"], "phase": w["phase"], "exitCode": w["exit_code"], "created": w["created"],
            "finished": w["finished"], "pid": rec.get("pid"), "logPath": rec.get("log_path"),
            "error": rec.get("error"), "report": w.get("report")}
