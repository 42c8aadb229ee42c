"""The workers a job started and their logs: ``/api/v1[/namespaces/{ns}]/workers[/{name}/log]``."""

import os
from typing import Optional

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from sedna.common.api_paths import WORKERS
from sedna.common.exceptions import NotRegularFile
from sedna.control.files import open_regular
from sedna.server.common import paged, runtime_of

LOG_CHUNK = 1024 * 1024   # the most bytes of a log one response carries

router = APIRouter()


def worker_view(w):
    """A worker row as the API shows it."""
    rec = w.get("record") or {}
    return {"namespace": w["namespace"], "name": w["name"], "job": w["job"], "stage": w["stage"],
            "round": w["round"], "phase": w["phase"], "exitCode": w["exit_code"], "created": w["created"],
            "finished": w["finished"], "pid": rec.get("pid"), "logPath": rec.get("log_path"),
            "error": rec.get("error"), "report": w.get("report")}


def _list(request, ns, limit, cont):
    rt = runtime_of(request)
    page = paged(lambda n, after: rt.workers(ns, limit=n, after=after),
                 lambda w: (w["created"], w["namespace"], w["name"]), 3, limit, cont)
    page["items"] = [worker_view(w) for w in page["items"]]
    return page


@router.get(WORKERS + "/workers")
def workers_all(request: Request, limit: Optional[int] = None, cont: Optional[str] = Query(None, alias="continue")):
    return _list(request, None, limit, cont)


@router.get(WORKERS + "/namespaces/{ns}/workers")
def workers(ns: str, request: Request, limit: Optional[int] = None,
            cont: Optional[str] = Query(None, alias="continue")):
    return _list(request, ns, limit, cont)


def log_window(size, offset, limit):
    """``(start, length)`` of the bytes to send from a log of ``size`` bytes:
    from ``offset`` (a negative one counts from the end, like ``tail -c``),
    at most ``limit`` bytes, never past the end."""
    start = max(0, size + offset) if offset < 0 else min(offset, size)
    return start, max(0, min(limit, size - start))


def _read_log(path, offset, limit):
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        return b"", 0, 0
    except NotRegularFile as e:
        raise HTTPException(409, f"the worker's log: {e}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        start, n = log_window(st.st_size, offset, limit)
        f.seek(start)
        return f.read(n), start, st.st_size


@router.get(WORKERS + "/namespaces/{ns}/workers/{name}/log")
def worker_log(ns: str, name: str, request: Request, offset: int = 0, limit: int = LOG_CHUNK):
    """At most ``limit`` (≤ :data:`LOG_CHUNK`) bytes of the log from ``offset``;
    ``X-Offset`` is where the next read starts, ``X-Size`` the log's size now."""
    return log_response(runtime_of(request).worker(ns, name), offset, limit)


def log_response(worker, offset, limit):
    """The answer of a log read of the worker row ``worker`` (also the dashboard's)."""
    if limit < 1:
        raise HTTPException(400, "limit: must be >= 1")
    path = worker["record"].get("log_path")
    data, start, size = _read_log(path, offset, min(limit, LOG_CHUNK)) if path else (b"", 0, 0)
    return PlainTextResponse(data.decode("utf-8", "replace"),
                             headers={"X-Offset": str(start + len(data)), "X-Size": str(size)})
