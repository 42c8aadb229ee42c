"""A job's knowledge base on its page: the versions with their tasks, sample
counts and train/eval metrics, which one is current and which one the
inference worker serves, and the rollback button.

The knowledge base is the job's ``outputDir/kb``
(:meth:`sedna.control.rounds.RoundFiles.knowledge_base`), read with
:class:`sedna.knowledge.KnowledgeBase`. The deployed index
(``outputDir/deploy/index.json``) is what the inference worker serves. Rolling
back is :func:`sedna.control.deploy.roll_back`, as ``sedna kb rollback
--deploy``: the version becomes current (the next round trains from it) and its
eval output becomes the deployed index, published as the deploy stage
publishes it, so a running inference worker reloads it. A version no eval
output evaluated cannot be served, so it has no button.
"""

import os

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from sedna.common.exceptions import OutsideOutputDir
from sedna.control.deploy import NoSuchVersion, NotDeployable, deployable_indexes, roll_back, served_version
from sedna.control.rounds import RoundFiles
from sedna.core.lifelong_learning.kb_doc import group_change, group_served_by
from sedna.knowledge import KnowledgeBase
from sedna.server.common import runtime_of
from sedna.server.dashboard.render import esc, job_url, metrics_table
from sedna.server.dashboard.session import check_csrf, csrf_token, read_form

router = APIRouter()
MAX_VERSIONS = 100   # versions shown, newest first


def _output_dir(job):
    """A job's ``outputDir`` without a trailing ``/``, or None."""
    out = (job.get("spec") or {}).get("outputDir")
    return out.rstrip("/") if out else None


def read_versions(job, eval_by_version):
    """The knowledge base of ``job`` as ``{"root", "current", "deployed", "deployable", "versions", "error"}``
    (``deployed``: the version the deployed index names; ``deployable``: the versions an eval output evaluated);
    ``eval_by_version``: ``{version: {task: eval metrics}}`` from the eval reports."""
    job_out = _output_dir(job)
    root = RoundFiles(job_out).knowledge_base() if job_out else None
    out = {"root": root, "current": None, "deployed": None, "deployable": set(), "versions": [], "error": None}
    if root is None or ("://" not in root and not os.path.isdir(root)):
        return out
    try:
        kb = KnowledgeBase(root)
        cur = kb.current()
        out["current"] = cur.number if cur is not None else None
        for n in kb.versions()[-MAX_VERSIONS:][::-1]:
            out["versions"].append(_version_row(kb.load(n), eval_by_version.get(n, {})))
        out["deployed"] = served_version(job_out)
        out["deployable"] = set(deployable_indexes(job_out))
    except Exception as e:  # noqa: BLE001 - a broken knowledge base is shown, not a 500
        out["error"] = f"{type(e).__name__}: {e}"
    return out


def _version_row(v, evals):
    tasks = []
    refreshed = (v.doc.get("update") or {}).get("refreshed")
    for g in v.doc.get("task_groups", []):
        m = g.get("model") or {}
        tasks.append({"entry": g.get("entry"), "samples": g.get("n_samples", 0), "train": m.get("metrics"),
                      "eval": g.get("eval_metrics") or evals.get(g.get("entry")),
                      "change": group_change(g, v.number, refreshed), "served_by": group_served_by(g)})
    return {"number": v.number, "created": v.created_at, "parent": v.parent_version, "tasks": tasks}


def kb_html(request, rollback_url, kb):
    """The knowledge-base section of a job's page."""
    if kb["root"] is None:
        return '<p class="muted">The job has no outputDir.</p>'
    head = f'<p class="muted">{esc(kb["root"])}</p>'
    if kb["error"]:
        head += f'<p class="error">{esc(kb["error"])}</p>'
    if not kb["versions"]:
        return head + '<p class="muted">No version yet: the first round writes version 1.</p>'
    rows = []
    token = csrf_token(request)
    for v in kb["versions"]:
        n = v["number"]
        marks = (" " + '<span class="badge s-Completed current">current</span>' if n == kb["current"] else "") + \
                (" " + '<span class="badge s-Running deployed">served</span>' if n == kb["deployed"] else "")
        if n == kb["current"] and n == kb["deployed"]:
            button = ""
        elif n not in kb["deployable"]:
            button = '<span class="muted not-deployable">never evaluated: cannot be served</span>'
        else:
            button = (f'<form method="post" action="{esc(rollback_url)}" class="inline rollback">'
                      f'<input type="hidden" name="csrf" value="{esc(token)}"><input type="hidden" name="version" '
                      f'value="{esc(n)}"><button type="submit">Roll back to {esc(n)}</button></form>')
        tasks = "".join(
            f'<tr><td>{esc(t["entry"])}</td><td class="num">{esc(t["samples"])}</td><td>{esc(t["change"])}</td>'
            f'<td>{esc(t["served_by"])}</td><td>{metrics_table(t["train"])}</td><td>{metrics_table(t["eval"]) or "–"}</td></tr>'
            for t in v["tasks"])
        rows.append(
            f'<tr class="version" data-version="{esc(n)}"><td class="num">{esc(n)}{marks}</td>'
            f'<td>{esc(str(v["created"] or "")[:19].replace("T", " "))}<br><span class="muted">parent {esc(v["parent"] if v["parent"] else "–")}'
            f'</span></td><td><table class="tasks"><thead><tr><th>Task</th><th class="num">Samples</th>'
            f'<th>This version</th><th>Served by</th><th>Train metrics</th><th>Eval metrics</th></tr></thead><tbody>{tasks}</tbody>'
            f'</table></td><td>{button}</td></tr>')
    return (head + '<p class="muted"><b>current</b>: the version the next round trains from (what '
            '<code>sedna kb list</code> stars); <b>served</b>: the version of the deployed index the inference '
            'worker serves (<code>outputDir/deploy/index.json</code>). <b>Roll back</b> makes a version both: '
            'the inference worker reloads it.</p><table class="kb"><thead><tr><th class="num">Version</th>'
            '<th>Created</th><th>Tasks</th><th></th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def rollback_notice(request, kb):
    """The line a rollback's redirect (``?rolledBack=N``) shows: what is current and served now."""
    raw = request.query_params.get("rolledBack", "")
    if not raw.isdigit():
        return ""
    n = int(raw)
    current = "is the current version now" if kb["current"] == n else \
        f"was made current (the current version is now {esc(kb['current'])})"
    served = "the inference worker serves it (the deployed index names it)" if kb["deployed"] == n else \
        f"the deployed index names version {esc(kb['deployed'])}"
    return f'<p class="notice" role="status">Version {esc(n)} {current}, and {served}.</p>'


def _rollback(store, ns, name, version):
    job = store.get("LifelongLearningJob", ns, name)
    out = _output_dir(job)
    if out is None:
        raise HTTPException(409, "the job has no outputDir, so no knowledge base")
    try:
        roll_back(out, version)
    except NoSuchVersion as e:
        raise HTTPException(400, str(e)) from None
    except NotDeployable as e:
        raise HTTPException(409, str(e)) from None
    except (OutsideOutputDir, OSError) as e:
        raise HTTPException(409, f"version: cannot serve version {version}: {e}") from None


@router.post("/ui/jobs/{ns}/{name}/rollback")
async def rollback(ns: str, name: str, request: Request):
    """Make an earlier knowledge-base version current and served (``sedna kb rollback --deploy``);
    CSRF-checked."""
    form = await read_form(request)
    check_csrf(request, form.get("csrf"))
    raw = form.get("version", "")
    if not raw.isdigit():
        raise HTTPException(400, f"version: must be a version number (got {raw[:40]!r})")
    await run_in_threadpool(_rollback, runtime_of(request), ns, name, int(raw))
    return RedirectResponse(job_url(ns, name, f"?rolledBack={int(raw)}#kb"), status_code=303)
