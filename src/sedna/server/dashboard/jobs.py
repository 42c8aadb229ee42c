"""The job list (``/ui/``) and a job's page (``/ui/jobs/{ns}/{name}``).

Read from the runtime's store, shaped by :mod:`.views`, written as HTML here;
the knowledge base's part of a job's page is :mod:`.knowledge`'s, the workers'
logs :mod:`.logs`'. Every route sits behind the session (see the package).
"""

from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from sedna.server.common import runtime_of
from sedna.server.dashboard import views
from sedna.server.dashboard.render import duration, esc, num, page

JOB_KIND = "LifelongLearningJob"
MAX_JOBS = 500   # jobs on the list page (the API pages beyond; the list says so)

router = APIRouter()


def job_url(ns, name, sub=""):
    from urllib.parse import quote

    return f"/ui/jobs/{quote(ns, safe='')}/{quote(name, safe='')}" + sub


def _now():
    return datetime.now(timezone.utc)


def badge(kind):
    return f'<span class="badge s-{esc(kind)}">{esc(kind)}</span>'


def _when(dt, now):
    if dt is None:
        return "at the next pass"
    s = (dt - now).total_seconds()
    return "now" if s < 1 else f"in {duration(s)}"


def trigger_html(t, now):
    """The trigger's progress in a cell: samples vs threshold, window, next check."""
    if "error" in t:
        return f'<span class="error">{esc(t["error"])}</span>'
    pending = "?" if t["pending"] is None else t["pending"]
    met = "" if t["met"] is None else (" ✓" if t["met"] else "")
    window = (f'window {esc(t["window"])} ({"open" if t["in_window"] else "closed now"})'
              if t["window"] else "no timer window")
    return (f'<span class="samples">{esc(pending)} new samples, trains when {esc(t["operator"])} '
            f'{num(t["threshold"])}{met}</span><br><span class="muted">{window}; checked every '
            f'{duration(t["period"])}, next check {_when(t["next_check"], now)}</span>')


def why_html(s):
    """Why the job is where it is: its condition, and a failed worker's exit code and log tail."""
    out = f'<span class="reason">{esc(s["reason"])}</span> {esc(s["message"])}'
    f = s.get("failure")
    if f:
        out += (f'<details class="failure" open><summary class="error">round {esc(f.get("round"))} '
                f'{esc(f.get("stage"))} failed, exit code {esc(f.get("exitCode"))}</summary>'
                f'<pre>{esc(f.get("logTail"))}</pre></details>')
    return out


def _list_jobs(store):
    jobs = store.list(JOB_KIND, None, with_state=True, limit=MAX_JOBS + 1)
    now = _now()
    return [views.job_summary(j, j.get("state"), now) for j in jobs], now


@router.get("/ui/")
async def job_list(request: Request):
    rows, now = await run_in_threadpool(_list_jobs, runtime_of(request).store)
    more = len(rows) > MAX_JOBS
    body = ["<h1>Jobs</h1>"]
    if not rows:
        body.append('<section><p class="muted">No lifelong learning job yet: '
                    '<code>sedna apply -f job.yaml</code>.</p></section>')
    else:
        body.append('<section><table class="jobs"><thead><tr><th>Job</th><th>Stage</th><th>Status</th>'
                    '<th class="num">Round</th><th>Last round</th><th class="num">KB</th><th>Trigger</th>'
                    '<th>Why</th></tr></thead><tbody>')
        for s in rows[:MAX_JOBS]:
            last = s["last_round"]
            last_txt = f'{esc(last.get("round"))}: {badge(last.get("phase", "?"))}' if last else "–"
            body.append(
                f'<tr data-job="{esc(s["namespace"])}/{esc(s["name"])}">'
                f'<td><a href="{esc(job_url(s["namespace"], s["name"]))}">{esc(s["name"])}</a>'
                f'<br><span class="muted">{esc(s["namespace"])}</span></td>'
                f'<td>{esc(s["stage"])}</td><td>{badge(s["type"])}</td>'
                f'<td class="num round">{esc(s["round"])}</td><td>{last_txt}</td>'
                f'<td class="num">{num(s["kb_version"])}</td>'
                f'<td>{trigger_html(s["trigger"], now)}</td><td>{why_html(s)}</td></tr>')
        body.append("</tbody></table>")
        if more:
            body.append(f'<p class="muted">The first {MAX_JOBS} jobs; <code>sedna get ll</code> lists them all.</p>')
        body.append("</section>")
    return page(request, "Jobs", "".join(body))
