"""The dashboard: HTML pages under ``/ui/``, served by the API's own server.

* :mod:`.login`: the login form; :mod:`.session`: the session cookie, CSRF (``require_viewer``,
  ``csrf_token``, ``check_csrf``);
* :mod:`.render`: the shared layout (``page``) and escaping (``esc``);
* :mod:`.jobs`: the job list and a job's page (rounds, knowledge base, heatmap,
  workers and their logs);
* :mod:`.frames`: what the camera sees (latest frames, the unseen gallery, labelling).

:data:`router` is what ``server/app.py`` includes. Every page module's
``router`` is included with :func:`.session.require_viewer` as a dependency, so
no page can be reached without a session even if it forgets to ask; only the
login form, ``/ui/static/`` and ``/`` (a browser is sent on to ``/ui/``) are
open (and :mod:`sedna.server.auth` lets these paths through to this check).
"""

import importlib
import os
import re

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from sedna.server.dashboard import login, session

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_STATIC_NAME = re.compile(r"^[a-z0-9_-]+\.(css|js|png|svg)$")
_MEDIA = {"css": "text/css", "js": "text/javascript", "png": "image/png", "svg": "image/svg+xml"}
PAGE_MODULES = ("jobs", "knowledge", "logs", "frames")   # modules with a ``router`` of pages behind the session

router = APIRouter()
router.include_router(login.router)


@router.get("/ui/static/{name}")
def static(name: str):
    """A file of the package's ``static`` folder (a plain name: no folders, no dot files)."""
    path = os.path.join(STATIC_DIR, name)
    if not _STATIC_NAME.match(name) or not os.path.isfile(path):
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(path, media_type=_MEDIA[name.rsplit(".", 1)[1]],
                        headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"})


def wants_html(accept):
    """Whether an ``Accept`` header asks for a page rather than JSON (a browser's does)."""
    accept = (accept or "").lower()
    return "text/html" in accept and not accept.lstrip().startswith("application/json")


@router.get("/", include_in_schema=False)
def server_root(request: Request):
    """A browser goes on to the dashboard; an API client is told where things are."""
    if wants_html(request.headers.get("accept")):
        return RedirectResponse("/ui/", status_code=307)
    return JSONResponse({"message": "sedna's control plane: the dashboard is at /ui/, the API under /apis "
                                    "(Authorization: Bearer <token>)", "dashboard": "/ui/", "api": "/apis"})


@router.get("/ui", include_in_schema=False)
def ui_root():
    return RedirectResponse("/ui/", status_code=307)


def _page_routers():
    for name in PAGE_MODULES:
        full = f"{__name__}.{name}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as e:
            if e.name != full:  # a page module that is there but fails to import is an error
                raise
            continue
        yield module.router


for _r in _page_routers():
    router.include_router(_r, dependencies=[Depends(session.require_viewer)])
