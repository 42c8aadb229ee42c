"""A job's knowledge base on its page: the versions with their tasks, sample
counts and train/eval metrics, which one is current and which one the
inference worker serves, and the rollback button.

The knowledge base is the job's ``outputDir/kb``
(:meth:`sedna.control.rounds.RoundFiles.knowledge_base`), read with
:class:`sedna.knowledge.KnowledgeBase`; rolling back is the same call as
``sedna kb rollback`` (:meth:`KnowledgeBase.rollback`): it moves the current
pointer, which the next round trains from. The deployed index
(``outputDir/deploy/index.json``) is what the inference worker serves; the
controller writes it at each deploy, so a rollback does not change it.
"""

import os

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from sedna.control.rounds import RoundFiles
from sedna.server.common import runtime_of
from sedna.server.dashboard.render import esc, job_url, num
from sedna.server.dashboard.session import check_csrf, csrf_token, read_form

router = APIRouter()
MAX_VERSIONS = 100   # versions shown, newest first


def kb_paths(job):
    """``(knowledge base root, deployed index)`` of a job, or ``(None, None)`` without an outputDir."""
    out = (job.get("spec") or {}).get("outputDir")
    if not out:
        return None, None
    files = RoundFiles(out.rstrip("/"))
    return files.knowledge_base(), files.deploy_output().rstrip("/") + "/index.json"


def _metrics_text(m):
    if not isinstance(m, dict):
        return ""
    return ", ".join(f"{esc(k)}={num(v)}" for k, v in m.items() if k not in ("n_samples", "deployed"))


def read_versions(job, eval_by_version):
    """The knowledge base of ``job`` as ``{"root", "current", "deployed", "versions", "error"}``;
    ``eval_by_version``: ``{version: {task: eval metrics}}`` from the eval reports."""
    from sedna.knowledge import KnowledgeBase

    root, deployed_index = kb_paths(job)
    out = {"root": root, "current": None, "deployed": None, "versions": [], "error": None}
    if root is None or ("://" not in root and not os.path.isdir(root)):
        return out
    try:
        kb = KnowledgeBase(root)
        cur = kb.current()
        out["current"] = cur.number if cur is not None else None
        for n in kb.versions()[-MAX_VERSIONS:][::-1]:
            out["versions"].append(_version_row(kb.load(n), eval_by_version.get(n, {})))
        if "://" in deployed_index or os.path.exists(deployed_index):
            out["deployed"] = KnowledgeBase.open_index(deployed_index, check_files=False).number
    except Exception as e:  # noqa: BLE001 - a broken knowledge base is shown, not a 500
        out["error"] = f"{type(e).__name__}: {e}"
    return out


def _version_row(v, evals):
    tasks = []
    for g in v.doc.get("task_groups", []):
        m = g.get("model") or {}
        tasks.append({"entry": g.get("entry"), "samples": g.get("n_samples", 0), "train": m.get("metrics"),
                      "eval": g.get("eval_metrics") or evals.get(g.get("entry")), "strategy": m.get("strategy")})
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
        button = "" if n == kb["current"] else (
            f'<form method="post" action="{esc(rollback_url)}" class="inline rollback">'
            f'<input type="hidden" name="csrf" value="{esc(token)}"><input type="hidden" name="version" '
            f'value="{esc(n)}"><button type="submit">Roll back to {esc(n)}</button></form>')
        tasks = "".join(
            f'<tr><td>{esc(t["entry"])}</td><td class="num">{esc(t["samples"])}</td><td>{esc(t["strategy"] or "")}'
            f'</td><td>{_metrics_text(t["train"])}</td><td>{_metrics_text(t["eval"]) or "–"}</td></tr>'
            for t in v["tasks"])
        rows.append(
            f'<tr class="version" data-version="{esc(n)}"><td class="num">{esc(n)}{marks}</td>'
            f'<td>{esc(str(v["created"] or "")[:19].replace("T", " "))}<br><span class="muted">parent {esc(v["parent"] if v["parent"] else "–")}'
            f'</span></td><td><table class="tasks"><thead><tr><th>Task</th><th class="num">Samples</th>'
            f'<th>Trained</th><th>Train metrics</th><th>Eval metrics</th></tr></thead><tbody>{tasks}</tbody>'
            f'</table></td><td>{button}</td></tr>')
    return (head + '<p class="muted"><b>current</b>: the version the next round trains from (what '
            '<code>sedna kb list</code> stars); <b>served</b>: the version of the deployed index the inference '
            'worker serves.</p><table class="kb"><thead><tr><th class="num">Version</th><th>Created</th>'
            '<th>Tasks</th><th></th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def _rollback(store, ns, name, version):
    from sedna.knowledge import KnowledgeBase

    job = store.get("LifelongLearningJob", ns, name)
    root, _ = kb_paths(job)
    if root is None:
        raise HTTPException(409, "the job has no outputDir, so no knowledge base")
    kb = KnowledgeBase(root)
    if version not in kb.versions():
        raise HTTPException(400, f"version: no version {version} in {root}; versions: {kb.versions()}")
    kb.rollback(version)


@router.post("/ui/jobs/{ns}/{name}/rollback")
async def rollback(ns: str, name: str, request: Request):
    """Make an earlier knowledge-base version current (``sedna kb rollback``); CSRF-checked."""
    form = await read_form(request)
    check_csrf(request, form.get("csrf"))
    raw = form.get("version", "")
    if not raw.isdigit():
        raise HTTPException(400, f"version: must be a version number (got {raw[:40]!r})")
    await run_in_threadpool(_rollback, runtime_of(request).store, ns, name, int(raw))
    return RedirectResponse(job_url(ns, name, f"?rolledBack={int(raw)}#kb"), status_code=303)
