"""A job's workers' logs for the dashboard: ``/ui/jobs/{ns}/{job}/workers/{worker}/log``.

The same reads as the API's log endpoint (:func:`sedna.server.workers_api.worker_log`:
``offset``, a negative one from the end, ``X-Offset`` for the next read), behind
the dashboard's session, so the page's script (``static/logs.js``) follows a log
without ever holding the admin token. Only a worker of that job is served.
"""

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from sedna.server import workers_api
from sedna.server.common import runtime_of

router = APIRouter()
CHUNK = 64 * 1024   # bytes per poll: a page shows a log's tail, not the whole file


def _log(store, ns, job, worker, offset):
    for w in store.workers(ns, job=job):
        if w["name"] == worker:
            return workers_api.log_response(w, offset, CHUNK)
    raise HTTPException(404, f"job {ns}/{job} has no worker {worker!r}")


@router.get("/ui/jobs/{ns}/{job}/workers/{worker}/log")
async def worker_log(ns: str, job: str, worker: str, request: Request, offset: int = 0):
    return await run_in_threadpool(_log, runtime_of(request), ns, job, worker, offset)
