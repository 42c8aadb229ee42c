"""The dashboard in Debian's Chromium against a real ``sedna up`` after the robot
job's toy-size two-round run (``toy_robot_job``): what a user sees on each page,
checked against what the API says."""

import json
import urllib.request

from conftest import login


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
