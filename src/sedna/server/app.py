"""The HTTP API of the control plane (FastAPI): one router per resource.

* :mod:`.resources_api`: Datasets and LifelongLearningJobs;
* :mod:`.reports_api`: worker reports (CONTRACTS §2);
* :mod:`.workers_api`: workers and their logs;
* ``/healthz``.

Every mutating call needs ``Authorization: Bearer <token>`` (the token is in
the state folder, mode 0600; workers get it as ``LC_TOKEN``). Bad input gets
an error naming the field, never a crash.
"""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from sedna import __version__
from sedna.common.api_paths import HEALTHZ
from sedna.common.exceptions import Conflict, ManifestError, NotFound
from sedna.server import reports_api, resources_api, workers_api


async def _manifest_error(request, exc):
    return JSONResponse(status_code=422, content={
        "message": str(exc), "errors": [{"path": p, "message": m} for p, m in exc.errors]})


async def _not_found(request, exc):
    return JSONResponse(status_code=404, content={"message": str(exc)})


async def _conflict(request, exc):
    return JSONResponse(status_code=409, content={"message": str(exc)})


def healthz():
    return {"status": "ok", "version": __version__}


def create_app(runtime):
    """The app for one runtime (``runtime.store``, ``.controller``, ``.token``, ``.launcher``)."""
    app = FastAPI(title="sedna control plane", version=__version__)
    app.state.runtime = runtime
    app.add_exception_handler(ManifestError, _manifest_error)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_api_route(HEALTHZ, healthz, methods=["GET"])
    for module in (resources_api, reports_api, workers_api):
        app.include_router(module.router)
    return app
