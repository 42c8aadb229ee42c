"""A job's workers' logs for the dashboard: ``/ui/jobs/{ns}/{job}/workers/{worker}/log``.

The same reads as the API's log endpoint (:func:`sedna.server.workers_api.worker_log`:
``offset``, a negative one from the end, ``X-Offset`` for the next read), behind
the dashboard's session, so the page's script (``static/logs.js``) follows a log
without ever holding the admin token. Only a worker of that job is served.
"""

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from sedna.common.exceptions import NotFound
from sedna.server import workers_api
from sedna.server.common import runtime_of

router = APIRouter()
CHUNK = 64 * 1024   # bytes per poll: a page shows a log's tail, not the whole file


def _worker_of_job(store, ns, job, worker):
    try:
        w = store.worker(ns, worker)
    except NotFound:
        w = None
    if w is None or w["job"] != job:
        raise HTTPException(404, f"job {ns}/{job} has no worker {worker!r}")


@router.get("/ui/jobs/{ns}/{job}/workers/{worker}/log")
async def worker_log(ns: str, job: str, worker: str, request: Request, offset: int = 0):
    await run_in_threadpool(_worker_of_job, runtime_of(request).store, ns, job, worker)
    return await run_in_threadpool(workers_api.worker_log, ns, worker, request, offset, CHUNK)
