"""The HTTP API of the control plane (FastAPI): one router per resource.

* :mod:`.resources_api`: Datasets and LifelongLearningJobs;
* :mod:`.reports_api`: worker reports (CONTRACTS §2);
* :mod:`.workers_api`: workers and their logs;
* ``/healthz``.

Every call but ``/healthz`` needs a token (:mod:`.auth`: the admin token in
the state folder, mode 0600, or a worker's own ``LC_TOKEN`` for its report).
Bad input gets an error naming the field, never a crash.
"""

import errno
import sqlite3

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from sedna import __version__
from sedna.common.api_paths import HEALTHZ
from sedna.common.exceptions import Conflict, ManifestError, NotFound
from sedna.server import auth, reports_api, resources_api, workers_api


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


def healthz():
    return {"status": "ok", "version": __version__}


def create_app(runtime):
    """The app for one runtime (``runtime.store``, ``.controller``, ``.token``, ``.launcher``)."""
    app = FastAPI(title="sedna control plane", version=__version__)
    app.state.runtime = runtime
    app.add_exception_handler(ManifestError, _manifest_error)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(OSError, _storage_error)
    app.add_exception_handler(sqlite3.OperationalError, _storage_error)
    app.middleware("http")(auth.middleware(runtime))
    app.add_api_route(HEALTHZ, healthz, methods=["GET"])
    for module in (resources_api, reports_api, workers_api):
        app.include_router(module.router)
    return app
