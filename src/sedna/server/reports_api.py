"""Worker reports: ``POST /sedna/workers/{name}/info`` (CONTRACTS §2).

A worker's own token posts only its own report (:mod:`.auth`); the report is
checked as on every runtime (:mod:`sedna.control.reports`) and handed to the
runtime, which refuses URLs outside the job's ``outputDir``."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from sedna.common.api_paths import report_path
from sedna.common.exceptions import NotFound
from sedna.control.reports import report_errors, report_size
from sedna.control.runtime import ReportRefused
from sedna.server.common import body_json, runtime_of

router = APIRouter()


@router.post(report_path("{name}"))
async def report(name: str, request: Request):
    rt = runtime_of(request)
    caller = request.state.caller
    body = await body_json(request)
    if not isinstance(body, dict):
        raise HTTPException(400, "report: expected a JSON object")
    errors = report_errors(body, name)
    if errors:
        raise HTTPException(400, "; ".join(errors))
    ns = body.get("namespace") or (caller.namespace if caller.role == "worker" else None) or "default"
    if caller.role == "worker" and (ns, name) != (caller.namespace, caller.name):
        raise HTTPException(403, f"namespace: this token belongs to worker {caller.namespace}/{caller.name}")
    over = request.app.state.report_budget.charge(f"{ns}/{name}", report_size(body))
    if over:
        raise HTTPException(429, over)
    return await run_in_threadpool(_accept, rt, ns, name, body)


def _accept(rt, ns, name, body):
    try:
        rt.report(ns, name, body)
    except NotFound as e:
        raise HTTPException(404, str(e) if "job" in str(e) else f"no worker {ns}/{name}") from None
    except ReportRefused as e:
        raise HTTPException(400, str(e)) from None
    return {"result": "accepted"}
