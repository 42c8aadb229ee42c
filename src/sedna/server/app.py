"""The HTTP API of the control plane (FastAPI): one router per resource.

* :mod:`.resources_api`: Datasets and LifelongLearningJobs;
* :mod:`.reports_api`: worker reports (CONTRACTS §2);
* :mod:`.workers_api`: workers and their logs;
* :mod:`.discovery_api`: Kubernetes discovery (``/api``, ``/apis``, ``/version``), for kubectl;
* :mod:`.dashboard`: the dashboard's pages under ``/ui/`` (a login form, then a session cookie);
* ``/healthz``; ``POST /sedna/shutdown`` (``sedna down``).

Every call but ``/healthz`` needs a token (:mod:`.auth`: the admin token in
the state folder, mode 0600, or a worker's own ``LC_TOKEN`` for its report).
Bad input gets an error naming the field, never a crash.
"""

import errno
import json
import os
import sqlite3

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sedna import __version__
from sedna.common.api_paths import HEALTHZ
from sedna.common.exceptions import Conflict, ManifestError, NotFound
from sedna.control.reports import ReportBudget
from sedna.server import auth, dashboard, discovery_api, metrics, reports_api, resources_api, workers_api


async def _manifest_error(request, exc):
    return JSONResponse(status_code=422, content={
        "message": str(exc), "errors": [{"path": p, "message": m} for p, m in exc.errors]})


async def _not_found(request, exc):
    return JSONResponse(status_code=404, content={"message": str(exc)})


async def _conflict(request, exc):
    return JSONResponse(status_code=409, content={"message": str(exc)})


def _disk_full(exc):
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or \
        (isinstance(exc, sqlite3.OperationalError) and "full" in str(exc))


async def _storage_error(request, exc):
    if _disk_full(exc):  # SQLite rolled the transaction back: nothing half-written
        return JSONResponse(status_code=507, content={"message": f"the server's disk is full ({exc}); nothing "
                                                                 "was stored: free space and retry"})
    raise exc


SHUTDOWN = "/sedna/shutdown"


def healthz():
    return {"status": "ok", "version": __version__}


def shutdown(request: Request, keepWorkers: bool = False):  # noqa: N803 - k8s-style name
    """``sedna down``: stop the workers (unless ``keepWorkers``), then this server."""
    rt = request.app.state.runtime
    if not hasattr(rt, "shutdown"):
        raise HTTPException(501, "this server cannot be stopped over the API")
    stopped = rt.shutdown(keep_workers=keepWorkers)
    return {"result": "stopping", "pid": os.getpid(), "workersStopped": stopped}


_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
            405: "MethodNotAllowed", 413: "RequestEntityTooLarge", 415: "UnsupportedMediaType", 422: "Invalid"}


def _as_status(handler):
    """Wrap an error handler so its answer is a Kubernetes ``Status`` (kubectl
    prints ``Error from server (NotFound): <message>``); ``message`` and
    ``errors`` stay as the sedna API has them."""
    async def wrapped(request, exc):
        if isinstance(exc, StarletteHTTPException):
            code, body = exc.status_code, {"message": str(exc.detail)}
        else:
            resp = await handler(request, exc)
            code, body = resp.status_code, json.loads(resp.body)
        body.update({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": code,
                     "reason": _REASONS.get(code, "InternalError")})
        return JSONResponse(status_code=code, content=body)
    return wrapped


def create_app(runtime, kube=False):
    """The app for one runtime (a :class:`sedna.control.runtime.Runtime`);
    ``kube``: the kubectl listener's, whose writes answer the object as Kubernetes does."""
    app = FastAPI(title="sedna control plane", version=__version__)
    app.state.runtime = runtime
    app.state.report_budget = ReportBudget()  # per worker, over the server's life
    wrap = _as_status if kube else (lambda h: h)
    app.add_exception_handler(ManifestError, wrap(_manifest_error))
    app.add_exception_handler(NotFound, wrap(_not_found))
    app.add_exception_handler(Conflict, wrap(_conflict))
    if kube:
        app.add_exception_handler(StarletteHTTPException, _as_status(None))
    app.add_exception_handler(OSError, _storage_error)
    app.add_exception_handler(sqlite3.OperationalError, _storage_error)
    app.middleware("http")(auth.middleware(runtime))
    app.add_api_route(HEALTHZ, healthz, methods=["GET"])
    app.add_api_route(SHUTDOWN, shutdown, methods=["POST"])
    if not kube:  # /ui/: pages for a browser, behind a login (the kubectl listener serves the API only)
        app.include_router(dashboard.router)
    if kube:  # registered first, so these win over resources_api's routes of the same paths
        app.include_router(discovery_api.kube_router)
    for module in (discovery_api, resources_api, reports_api, workers_api):
        app.include_router(module.router)
    metrics.install(app, runtime)  # GET /metrics; its request counter is the outermost middleware
    return app
