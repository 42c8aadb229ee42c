"""The job list (``/ui/``) and a job's page (``/ui/jobs/{ns}/{name}``).

Read from the runtime's store, shaped by :mod:`.views`, written as HTML here;
the knowledge base's part of a job's page is :mod:`.knowledge`'s, the workers'
logs :mod:`.logs`'. Every route sits behind the session (see the package).
"""

from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from sedna.common.exceptions import NotFound
from sedna.control.conditions import parse_ts
from sedna.server.common import runtime_of
from sedna.server.dashboard import views
from sedna.server.dashboard.frame_files import shows_images
from sedna.server.dashboard.frames import job_files
from sedna.server.dashboard.knowledge import kb_html, read_versions, rollback_notice
from sedna.server.dashboard.render import duration, esc, job_url, num, page

JOB_KIND = "LifelongLearningJob"
MAX_JOBS = 500   # jobs on the list page (the API pages beyond; the list says so)

router = APIRouter()


def _now():
    return datetime.now(timezone.utc)


def badge(kind):
    return f'<span class="badge s-{esc(kind)}">{esc(kind)}</span>'


def _when(dt, now):
    if dt is None:
        return "at the next pass"
    s = (dt - now).total_seconds()
    return "now" if s < 1 else f"in {duration(s)}"


def trigger_html(t, now, waiting=True):
    """The trigger's progress in a cell: samples vs threshold, window, next check
    (``waiting``: whether the job waits for it; else a round is under way)."""
    if not waiting:
        return (f'<span class="muted">a round is under way; the next one trains when {esc(t.get("operator", ""))} '
                f'{num(t.get("threshold"))} new samples</span>')
    if "error" in t:
        return f'<span class="error">{esc(t["error"])}</span>'
    pending = "?" if t["pending"] is None else t["pending"]
    met = "" if t["met"] is None else (" ✓" if t["met"] else "")
    state = "open all day" if t.get("all_day") else ("open" if t["in_window"] else "closed now")
    window = f'timer window {esc(t["window"])} ({state})' if t["window"] else "no timer window: trains at any hour"
    return (f'<span class="samples">{esc(pending)} new samples, trains when {esc(t["operator"])} '
            f'{num(t["threshold"])}{met}</span><br><span class="muted">{window}; checked every '
            f'{duration(t["period"])}, next check {_when(t["next_check"], now)}</span>')


def _waits(s):
    return (s["stage"], s["type"]) == ("Train", "Waiting")


def why_html(s):
    """Why the job is where it is: its condition, and a failed worker's exit code and log tail."""
    out = f'<span class="reason">{esc(s["reason"])}</span> {esc(s["message"])}'
    f = s.get("failure")
    if f:
        out += (f'<details class="failure" open><summary class="error">round {esc(f.get("round"))} '
                f'{esc(f.get("stage"))} failed, exit code {esc(f.get("exitCode"))}</summary>'
                f'<pre>{esc(f.get("logTail"))}</pre></details>')
    return out


def failure_banner(s, status):
    """The last failure at the top of a job's page while no later round completed: round,
    stage, exit code and the log's last line (the whole tail is in the summary below)."""
    f = s.get("failure") or (status or {}).get("lastFailure")
    if not isinstance(f, dict):
        return ""
    done_after = [r for r in (status or {}).get("rounds") or []
                  if r.get("phase") == "Completed" and (r.get("round") or 0) > (f.get("round") or 0)]
    if done_after:
        return ""
    lines = [ln for ln in str(f.get("logTail") or f.get("message") or "").splitlines() if ln.strip()]
    last = f": {esc(lines[-1][-300:])}" if lines else ""
    return (f'<p class="alert error" role="alert"><b>Round {esc(f.get("round"))} {esc(f.get("stage"))} failed</b>, '
            f'exit code {esc(f.get("exitCode"))}{last} <a href="#workers">(logs)</a></p>')


def _list_jobs(store):
    jobs = store.list(JOB_KIND, None, with_state=True, limit=MAX_JOBS + 1)
    now = _now()
    return [views.job_summary(j, j.get("state"), now) for j in jobs], now


@router.get("/ui/")
async def job_list(request: Request):
    rows, now = await run_in_threadpool(_list_jobs, runtime_of(request))
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
                f'<td>{trigger_html(s["trigger"], now, _waits(s))}</td><td>{why_html(s)}</td></tr>')
        body.append("</tbody></table>")
        if more:
            body.append(f'<p class="muted">The first {MAX_JOBS} jobs; <code>sedna get ll</code> lists them all.</p>')
        body.append("</section>")
    return page(request, "Jobs", "".join(body))


# ------------------------------------------------------------------ a job's page
def _reports(workers, stage):
    """``{round: report}`` of the completed workers of ``stage``, the last try of each round."""
    out = {}
    for w in sorted(workers, key=lambda w: (w["round"] or 0, w.get("created") or "")):
        rep = w.get("report") or {}
        if w["stage"] == stage and rep.get("status") == "completed":
            out[w["round"]] = rep
    return out


def _eval_by_version(evals):
    """``{kb version: {task: eval metrics}}`` from the eval reports (``ownerInfo.version``)."""
    out = {}
    for r, rep in evals.items():
        version = (rep.get("ownerInfo") or {}).get("version", r)
        out[version] = views.eval_metrics_of(rep)
    return out


def _load_job(store, ns, name, metric):
    job = store.get(JOB_KIND, ns, name, with_state=True)
    workers = store.workers(ns, job=name)
    evals, trains = _reports(workers, "eval"), _reports(workers, "train")
    now = _now()
    return {"job": job, "summary": views.job_summary(job, job.get("state"), now), "now": now,
            "timeline": views.timeline(job.get("status")), "matrix": views.eval_matrix(evals, trains, metric),
            "kb": read_versions(job, _eval_by_version(evals)), "workers": workers,
            "images": _shows_images(store, ns, name)}


def _shows_images(store, ns, name):
    """Whether the job's page links to its frames: its samples are images."""
    try:
        return shows_images(job_files(store, ns, name)[1])
    except (NotFound, OSError):  # outputDir not local, an unreadable store
        return False


_BAR_W = 320


def _bar(row, longest):
    """An SVG bar of a round: one block per stage, placed by its start and length."""
    t0 = parse_ts(row["start"])
    blocks = []
    for s in row["stages"]:
        a, secs = parse_ts(s["start"]), s["seconds"]
        if t0 is None or a is None or secs is None:
            continue
        x = (a - t0).total_seconds() / longest * _BAR_W
        w = max(2.0, secs / longest * _BAR_W)
        cls = "failed" if s["outcome"] == "Failed" else s["stage"]
        blocks.append(f'<rect class="{esc(cls)}" x="{x:.1f}" y="2" width="{w:.1f}" height="14"><title>'
                      f'{esc(s["stage"])}: {duration(secs)}</title></rect>')
    return f'<svg class="bar" width="{_BAR_W}" height="18" role="img">{"".join(blocks)}</svg>'


def timeline_html(rows):
    if not rows:
        return '<p class="muted">No round yet.</p>'
    longest = max([r["seconds"] or 0 for r in rows] + [1.0])
    out = ['<table class="timeline"><thead><tr><th class="num">Round</th><th>Outcome</th><th class="num">Samples '
           '(train/eval)</th><th>Stages</th><th class="num">Total</th><th></th></tr></thead><tbody>']
    for r in rows:
        stages = " · ".join(
            f'<span class="stage" data-stage="{esc(s["stage"])}">{esc(s["stage"])} {badge(s["outcome"])} '
            f'{duration(s["seconds"])}' + (f' <span class="retries">{esc(s["retries"])} retr'
                                            f'{"y" if s["retries"] == 1 else "ies"}</span>' if s["retries"] else "")
            + "</span>" for s in r["stages"]) or '<span class="muted">(older round: only its outcome is kept)</span>'
        out.append(f'<tr class="round" data-round="{esc(r["round"])}"><td class="num">{esc(r["round"])}</td>'
                   f'<td>{badge(r["phase"])} <span class="muted">{esc(r["reason"])}</span></td>'
                   f'<td class="num">{num(r["train"])} / {num(r["eval"])}</td><td>{stages}</td>'
                   f'<td class="num">{duration(r["seconds"])}</td><td>{_bar(r, longest)}</td></tr>')
    return "".join(out) + "</tbody></table>"


def heatmap_html(m, page_url):
    if not m["rounds"] or not m["metric"]:
        return '<p class="muted">No evaluation yet: each round\'s eval worker fills a row.</p>'
    pick = " ".join(
        f'<a href="{esc(page_url)}?metric={esc(k)}#heatmap"' + (' class="selected"' if k == m["metric"] else "")
        + f">{esc(k)}</a>" for k in m["metrics"])
    head = "".join(f'<th class="num task">{esc(t)}</th>' for t in m["tasks"])
    rows = []
    values = [v for row in m["cells"] for v in row if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    for r, cells in zip(m["rounds"], m["cells"]):
        tds = "".join(
            f'<td class="num cell {views.heat_class(v, lo, hi)}" data-task="{esc(t)}" data-value="{"" if v is None else repr(v)}"'
            f'>{num(v)}</td>' for t, v in zip(m["tasks"], cells))
        rows.append(f'<tr data-round="{esc(r)}"><th class="num">{esc(r)}</th>{tds}</tr>')
    ms = m["measures"]
    measures = "".join(
        f'<tr><th>{esc(k)}</th><td class="num measure" data-measure="{esc(k)}" '
        f'data-value="{"" if ms[k] is None else repr(ms[k])}"'
        + ("" if ms[k] is not None else f' title="{esc(MEASURE_MISSING[k])}"') + f'>{num(ms[k], 4)}</td></tr>'
        for k in ("BWT", "FWT", "forgetting"))
    return (f'<p>Metric: {pick}</p><table class="heatmap"><thead><tr><th>round \\ task</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>'
            f'<p class="muted">Each row: the scores the round\'s eval worker reported, per task, on the eval samples '
            f'it scored (the robot job\'s eval worker scores those of every round so far, so every task learned so '
            f'far gets a score each round); colour from the lowest score in the table (red) to the highest (green); '
            f'"–": no eval sample of that task in that round. The measures leave such cells out; FWT '
            f'needs each task\'s score before it was learned and an untrained model\'s, which the eval worker '
            f'reports with the task in the round that learned it (the robot job\'s does: <code>before</code>, '
            f'<code>untrained</code>).</p><table class="measures">{measures}</table>')


#: why a measure shows "–" (its tooltip)
MEASURE_MISSING = {
    "BWT": "BWT needs a task scored in the round that learned it and in the last round",
    "FWT": "FWT needs each task's score before it was learned (the previous version's on its samples) and an "
           "untrained model's score; no eval report carries them (as 'before' and 'untrained') for a task "
           "learned after the first round",
    "forgetting": "forgetting needs a task scored in the round that learned it and in the last round",
}


def workers_html(ns, name, workers):
    if not workers:
        return '<p class="muted">No worker yet.</p>'
    rows, logs = [], []
    for w in sorted(workers, key=lambda w: (w.get("created") or "", w["name"])):
        code = "" if w.get("exit_code") is None else w["exit_code"]
        rows.append(f'<tr data-worker="{esc(w["name"])}"><td>{esc(w["name"])}</td><td>{esc(w["stage"])}</td>'
                    f'<td class="num">{esc(w["round"])}</td><td>{badge(w["phase"])}</td><td class="num">{esc(code)}'
                    f'</td><td>{esc(w.get("created"))}</td></tr>')
        logs.append(f'<details class="log"{" open" if w["phase"] == "Running" else ""}><summary>{esc(w["name"])}'
                    f'</summary><pre data-log="{esc(job_url(ns, name, "/workers/" + w["name"] + "/log"))}"'
                    f'{"" if w["phase"] in ("Running", "Pending") else " data-final"}>…</pre></details>')
    return ('<table class="workers"><thead><tr><th>Worker</th><th>Stage</th><th class="num">Round</th><th>Phase</th>'
            '<th class="num">Exit</th><th>Created</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
            '<h3>Logs</h3><p class="muted">Open one to read its tail; a running worker\'s log follows as it grows.</p>' + "".join(logs))


@router.get("/ui/jobs/{ns}/{name}")
async def job_page(ns: str, name: str, request: Request, metric: str = ""):
    try:
        d = await run_in_threadpool(_load_job, runtime_of(request), ns, name, metric or None)
    except NotFound:
        return page(request, "No such job", f'<h1>No job {esc(ns)}/{esc(name)}</h1><p><a href="/ui/">All jobs</a>'
                    '</p>', status=404)
    s, url = d["summary"], job_url(ns, name)
    camera = f' · <a href="{esc(url)}/frames">What the camera sees →</a>' if d["images"] else ""
    notice = rollback_notice(request, d["kb"])
    body = f"""
<h1>{esc(name)} <span class="muted">{esc(ns)}</span></h1>
{failure_banner(s, d["job"].get("status"))}
<section class="summary"><p>{esc(s["stage"])} {badge(s["type"])} · round <b class="round">{esc(s["round"])}</b>{camera}</p>
 <p>{trigger_html(s["trigger"], d["now"], _waits(s))}</p><p class="why">{why_html(s)}</p></section>
<h2 id="rounds">Rounds</h2><section>{timeline_html(d["timeline"])}</section>
<h2 id="heatmap">Rounds × tasks</h2><section>{heatmap_html(d["matrix"], url)}</section>
<h2 id="kb">Knowledge base</h2>{notice}<section>{kb_html(request, url + "/rollback", d["kb"])}</section>
<h2 id="workers">Workers</h2><section>{workers_html(ns, name, d["workers"])}</section>"""
    return page(request, name, body, scripts=("logs.js",))
