"""Worker reports: ``POST /sedna/workers/{name}/info`` (CONTRACTS §2)."""

from fastapi import APIRouter, Depends, HTTPException, Request

from sedna.common.api_paths import report_path
from sedna.common.exceptions import NotFound
from sedna.server.common import body_json, need_token, runtime_of

REPORT_KINDS = ("train", "eval", "deploy")
REPORT_STATUS = ("completed", "failed")

router = APIRouter()


def _errors(body, name):
    errors = []
    if body.get("name") != name:
        errors.append(f"name: {body.get('name')!r} differs from the worker in the path ({name!r})")
    if body.get("kind") not in REPORT_KINDS:
        errors.append(f"kind: must be one of {', '.join(REPORT_KINDS)}")
    if body.get("status") not in REPORT_STATUS:
        errors.append(f"status: must be one of {', '.join(REPORT_STATUS)}")
    if not isinstance(body.get("results", []), list):
        errors.append("results: must be a list")
    return errors


@router.post(report_path("{name}"), dependencies=[Depends(need_token)])
async def report(name: str, request: Request):
    rt = runtime_of(request)
    body = await body_json(request)
    if not isinstance(body, dict):
        raise HTTPException(400, "report: expected a JSON object")
    errors = _errors(body, name)
    if errors:
        raise HTTPException(400, "; ".join(errors))
    ns = body.get("namespace") or "default"
    try:
        w = rt.store.worker(ns, name)
    except NotFound:
        raise HTTPException(404, f"no worker {ns}/{name}") from None
    if body.get("ownerName") not in (None, w["job"]):
        raise HTTPException(400, f"ownerName: {body.get('ownerName')!r} is not the worker's job {w['job']!r}")
    rt.controller.report(ns, name, body)
    return {"result": "accepted"}
