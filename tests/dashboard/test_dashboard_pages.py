"""The dashboard in Debian's Chromium against a real ``sedna up`` after the robot
job's toy-size two-round run (``toy_robot_job``): what a user sees on each page,
checked against what the API says."""

import json
import os
import re
import stat
import time
import urllib.request

from support.dashboard import login


def api(job, path):
    req = urllib.request.Request(job.url + path, headers={"Authorization": "Bearer " + job.token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def job_status(job):
    return api(job, f"/apis/sedna.io/v1alpha1/namespaces/{job.namespace}/lifelonglearningjobs/{job.job}")["status"]


def test_the_job_list_shows_the_job_and_its_round(ui_page, toy_robot_job, screenshot):
    row = ui_page.locator(f'tr[data-job="{toy_robot_job.namespace}/{toy_robot_job.job}"]')
    assert row.count() == 1
    assert row.locator("td.round").inner_text().strip() == "2"
    assert "waiting for training samples" in row.inner_text()
    assert "trains when > 20" in row.inner_text()
    screenshot(ui_page, "jobs")


def test_without_a_session_the_pages_ask_for_the_token(browser_page, toy_robot_job, screenshot):
    browser_page.goto(toy_robot_job.ui)
    assert "/ui/login" in browser_page.url
    assert browser_page.locator("input[name=token]").is_visible()
    screenshot(browser_page, "login")
    login(browser_page, toy_robot_job)
    assert browser_page.locator("h1").inner_text() == "Jobs"


def job_page_url(job):
    return f"{job.url}/ui/jobs/{job.namespace}/{job.job}"


def current_version(job):
    from sedna.knowledge import KnowledgeBase

    return KnowledgeBase(job.kb).current().number


def test_the_timeline_shows_both_rounds_and_their_stages(ui_page, toy_robot_job, screenshot):
    ui_page.goto(job_page_url(toy_robot_job))
    rounds = ui_page.locator("table.timeline tr.round")
    assert [rounds.nth(i).get_attribute("data-round") for i in range(rounds.count())] == ["1", "2"]
    status = job_status(toy_robot_job)
    for i, r in enumerate(status["rounds"]):
        row = rounds.nth(i)
        assert r["phase"] in row.inner_text()
        stages = row.locator("span.stage")
        assert [stages.nth(k).get_attribute("data-stage") for k in range(stages.count())] == ["Train", "Eval", "Deploy"]
        assert row.locator("svg.bar rect").count() == 3
    screenshot(ui_page, "job")


def test_the_heatmap_shows_the_scores_the_api_reports(ui_page, toy_robot_job):
    from sedna.core.lifelong_learning.measures import bwt, forgetting, fwt

    ui_page.goto(job_page_url(toy_robot_job) + "?metric=mIoU")
    workers = api(toy_robot_job, f"/api/v1/namespaces/{toy_robot_job.namespace}/workers")["items"]
    reported = {w["round"]: w["report"]["results"][0]["metrics"] for w in workers
                if w["job"] == toy_robot_job.job and w["stage"] == "eval" and w.get("report")}
    assert sorted(reported) == [1, 2]
    shown = 0
    for r, tasks in reported.items():
        for task, m in tasks.items():
            cell = ui_page.locator(f'table.heatmap tr[data-round="{r}"] td[data-task="{task}"]')
            assert cell.count() == 1, (r, task)
            if "mIoU" in m:
                assert float(cell.get_attribute("data-value")) == m["mIoU"]
                assert cell.inner_text().strip() == f"{m['mIoU']:.3f}"
                shown += 1
            else:  # no eval sample of that task this round
                assert cell.inner_text().strip() == "–"
    # round 2's eval scored the round-1 scenes again, on the eval frames of both rounds: the matrix
    # fills in below its diagonal (round 1's three scenes twice, round 2's garden)
    first = [t for t, m in reported[1].items() if "mIoU" in m]
    assert len(first) == 3 and all("mIoU" in reported[2].get(t, {}) for t in first), reported
    assert shown >= 7
    # the last round's row is what the job's status says of its knowledge base
    for model in job_status(toy_robot_job)["knowledgeBase"]["AIModels"]:
        value = model["evalMetrics"].get("mIoU")
        cell = ui_page.locator(f'table.heatmap tr[data-round="2"] td[data-task="{model["name"]}"]')
        assert (cell.get_attribute("data-value") or None) == (None if value is None else repr(value))
    # BWT, forgetting and FWT are numbers, measures.py's on the API's scores (rounds 1, 2; the scenes of
    # round 1 learned then, the garden in round 2, reported with round 1's version's score on its frames,
    # "before", the row above it, and an untrained model's, "untrained", the baseline)
    tasks = sorted(first) + sorted(t for t, m in reported[2].items() if "mIoU" in m and t not in first)
    new = tasks[len(first):]
    assert new and all({"before", "untrained"} <= set(reported[2][t]) for t in new), reported[2]
    R = [[reported[r].get(t, {}).get("mIoU", float("nan")) for t in tasks] for r in (1, 2)]
    R[0][len(first):] = [reported[2][t]["before"]["mIoU"] for t in new]
    learned = [0 if t in first else 1 for t in tasks]
    baseline = [reported[1 if t in first else 2][t]["untrained"]["mIoU"] for t in tasks]
    for name, expected in (("BWT", bwt(R, learned)), ("forgetting", forgetting(R, learned)),
                           ("FWT", fwt(R, learned, baseline))):
        cell = ui_page.locator(f'td[data-measure="{name}"]')
        assert float(cell.get_attribute("data-value")) == expected
        assert cell.inner_text().strip() == f"{expected:.4f}"
        assert cell.get_attribute("title") is None


def test_the_workers_logs_are_shown_without_the_token_in_the_page(ui_page, toy_robot_job):
    from playwright.sync_api import expect

    ui_page.goto(job_page_url(toy_robot_job))
    ui_page.locator("details.log summary", has_text=f"{toy_robot_job.job}-train-1").click()
    log = ui_page.locator(f'pre[data-log$="/workers/{toy_robot_job.job}-train-1/log"]')
    expect(log).to_contain_text("epoch 1/1")
    assert toy_robot_job.token not in ui_page.content()


def test_a_running_workers_log_follows_as_it_grows(ui_page, toy_robot_job):
    from playwright.sync_api import expect

    running = [w for w in api(toy_robot_job, f"/api/v1/namespaces/{toy_robot_job.namespace}/workers")["items"]
               if w["job"] == toy_robot_job.job and w["phase"] == "Running"]
    assert [w["stage"] for w in running] == ["deploy"]  # the inference worker, kept by `sedna demo --keep`
    ui_page.goto(job_page_url(toy_robot_job))
    log = ui_page.locator(f'pre[data-log$="/workers/{running[0]["name"]}/log"]')
    expect(log).to_contain_text("start default/" + running[0]["name"])  # open: a running worker's log
    marker = f"a line written after the page loaded {time.time_ns()}"
    with open(running[0]["logPath"], "a", encoding="utf-8") as f:  # as the worker appends to its log
        f.write(marker + "\n")
    expect(log).to_contain_text(marker)  # no reload


def test_a_job_page_without_a_session_asks_for_the_token_then_comes_back(browser_page, toy_robot_job):
    browser_page.goto(job_page_url(toy_robot_job))
    assert "/ui/login" in browser_page.url
    browser_page.fill("input[name=token]", toy_robot_job.token)
    browser_page.click("button[type=submit]")
    browser_page.wait_for_url(job_page_url(toy_robot_job))
    assert browser_page.locator("h1").inner_text().startswith(toy_robot_job.job)


def served_version(job):
    """The knowledge-base version the deployed index (what the inference worker serves) names."""
    with open(os.path.join(job.output, "deploy", "index.json"), encoding="utf-8") as f:
        return json.load(f)["evaluation"]["source_version"]


def test_each_version_says_what_it_did_to_each_task_and_which_model_serves_it(ui_page, toy_robot_job):
    ui_page.goto(job_page_url(toy_robot_job))
    rows = ui_page.locator('tr.version[data-version="2"] table.tasks tbody tr')
    cells = {r[0]: r for r in (rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count()))}
    heads = ui_page.locator('tr.version[data-version="2"] table.tasks th').all_inner_texts()
    change, served = heads.index("This version"), heads.index("Served by")
    new = [e for e, r in cells.items() if r[change] == "new"]
    assert len(new) == 1 and "garden" in new[0]  # round 2 learned the garden
    assert all(r[change].startswith("kept") for e, r in cells.items() if e not in new)  # the others untouched
    # each task is served by its own model or the shared base, with the held-out scores that chose it
    shown = re.compile(r"^(own model|shared base)( \(\d\.\d{3} own, \d\.\d{3} base\))?$")
    assert all(shown.match(r[served]) for r in cells.values()), [r[served] for r in cells.values()]
    assert any(r[served].startswith("own model") for r in cells.values())


def test_a_rollback_without_session_or_csrf_changes_nothing(ui_page, toy_robot_job):
    url = job_page_url(toy_robot_job) + "/rollback"
    before = current_version(toy_robot_job)
    assert before == 2 and served_version(toy_robot_job) == 2
    ui_page.goto(job_page_url(toy_robot_job))
    csrf = ui_page.locator("form.rollback input[name=csrf]").first.get_attribute("value")
    # logged in, but no CSRF token / a wrong one
    assert ui_page.request.post(url, form={"version": "1"}, max_redirects=0).status == 403
    assert ui_page.request.post(url, form={"version": "1", "csrf": "guess"}, max_redirects=0).status == 403
    # no session: the page's CSRF token without the session cookie
    ui_page.context.clear_cookies()
    assert ui_page.request.post(url, form={"version": "1", "csrf": csrf}, max_redirects=0).status == 403
    assert current_version(toy_robot_job) == before and served_version(toy_robot_job) == 2


def test_rollback_makes_an_earlier_version_current_and_served(ui_page, toy_robot_job, screenshot, sedna):
    ui_page.goto(job_page_url(toy_robot_job))
    v1, v2 = (ui_page.locator(f'tr.version[data-version="{n}"]') for n in (1, 2))
    assert v2.locator(".current").count() == 1 and v2.locator(".deployed").count() == 1
    v1.locator("form.rollback button").click()
    ui_page.wait_for_url("**rolledBack=1**")
    assert "Version 1 is the current version now, and the inference worker serves it" in \
        ui_page.locator(".notice").inner_text()
    assert v1.locator(".current").count() == 1 and v1.locator(".deployed").count() == 1
    assert v2.locator(".deployed").count() == 0
    # the served index is version 1's evaluated index, private as the deploy stage leaves it
    assert served_version(toy_robot_job) == 1
    assert stat.S_IMODE(os.stat(os.path.join(toy_robot_job.output, "deploy", "index.json")).st_mode) == 0o640
    listing = sedna("kb", "list", toy_robot_job.kb)
    assert listing.returncode == 0
    starred = [ln.split()[0] for ln in listing.stdout.splitlines()[1:] if ln.split()[1] == "*"]
    assert starred == ["1"]
    screenshot(ui_page, "job-after-rollback")
