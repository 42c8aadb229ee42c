"""Worker reports: ``POST /sedna/workers/{name}/info`` (CONTRACTS §2).

A worker's own token posts only its own report (:mod:`.auth`); every URL in
a report must lie inside its job's ``outputDir``, which is where the
controller takes models and indexes from."""

import os

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from sedna.common.api_paths import report_path
from sedna.common.confine import inside
from sedna.common.exceptions import NotFound
from sedna.server.common import body_json, runtime_of

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


def url_errors(results, output_dir):
    """``results[i].url: ...`` for every URL that is not a string inside ``output_dir``."""
    out = []
    for i, res in enumerate(results or []):
        if not isinstance(res, dict) or res.get("url") in (None, ""):
            continue
        url = res["url"]
        if not isinstance(url, str) or not inside(url, output_dir):
            out.append(f"results[{i}].url: {str(url)[:200]!r} is not inside the job's outputDir {output_dir!r}")
    return out


def _output_dir(rt, ns, job):
    try:
        spec = rt.store.get("LifelongLearningJob", ns, job).get("spec") or {}
    except NotFound:
        raise HTTPException(404, f"the worker's job {ns}/{job} is gone") from None
    out = spec.get("outputDir") or ""
    return out if "://" in out else os.path.abspath(out)


@router.post(report_path("{name}"))
async def report(name: str, request: Request):
    rt = runtime_of(request)
    caller = request.state.caller
    body = await body_json(request)
    if not isinstance(body, dict):
        raise HTTPException(400, "report: expected a JSON object")
    errors = _errors(body, name)
    if errors:
        raise HTTPException(400, "; ".join(errors))
    ns = body.get("namespace") or (caller.namespace if caller.role == "worker" else None) or "default"
    if caller.role == "worker" and (ns, name) != (caller.namespace, caller.name):
        raise HTTPException(403, f"namespace: this token belongs to worker {caller.namespace}/{caller.name}")
    return await run_in_threadpool(_accept, rt, ns, name, body)


def _accept(rt, ns, name, body):
    try:
        w = rt.store.worker(ns, name)
    except NotFound:
        raise HTTPException(404, f"no worker {ns}/{name}") from None
    if body.get("ownerName") not in (None, w["job"]):
        raise HTTPException(400, f"ownerName: {body.get('ownerName')!r} is not the worker's job {w['job']!r}")
    errors = url_errors(body.get("results"), _output_dir(rt, ns, w["job"]))
    if errors:
        raise HTTPException(400, "; ".join(errors))
    rt.controller.report(ns, name, body)
    return {"result": "accepted"}
