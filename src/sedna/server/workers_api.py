"""The workers a job started and their logs: ``/api/v1[/namespaces/{ns}]/workers[/{name}/log]``."""

import os

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from sedna.common.api_paths import WORKERS
from sedna.server.common import runtime_of

router = APIRouter()


def worker_view(w):
    """A worker row as the API shows it."""
    rec = w.get("record") or {}
    return {"namespace": w["namespace"], "name": w["name"], "job": w["job"], "stage": w["stage"],
            "round": w["round"], "phase": w["phase"], "exitCode": w["exit_code"], "created": w["created"],
            "finished": w["finished"], "pid": rec.get("pid"), "logPath": rec.get("log_path"),
            "error": rec.get("error"), "report": w.get("report")}


@router.get(WORKERS + "/workers")
def workers_all(request: Request):
    return {"items": [worker_view(w) for w in runtime_of(request).store.workers()]}


@router.get(WORKERS + "/namespaces/{ns}/workers")
def workers(ns: str, request: Request):
    return {"items": [worker_view(w) for w in runtime_of(request).store.workers(ns)]}


@router.get(WORKERS + "/namespaces/{ns}/workers/{name}/log")
def worker_log(ns: str, name: str, request: Request, offset: int = 0):
    w = runtime_of(request).store.worker(ns, name)
    path = w["record"].get("log_path")
    if not path or not os.path.exists(path):
        return PlainTextResponse("", headers={"X-Offset": str(offset)})
    with open(path, "rb") as f:
        f.seek(max(0, offset))
        data = f.read()
    return PlainTextResponse(data.decode("utf-8", "replace"), headers={"X-Offset": str(offset + len(data))})
