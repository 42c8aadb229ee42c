"""A job whose training worker keeps failing, through a real ``sedna up`` (the
digits job of tests/support/ctlplane.py, its train worker exiting with code 3): the
dashboard says why the job waits, with the exit code and the log tail, and how
often the stage was retried."""

import os

import pytest

from support.ctlplane import ControlPlane, DigitsIndex, manifests, write_yaml
from support.dashboard import login


def test_a_failed_round_shows_its_exit_code_log_tail_and_retries(tmp_path, browser_page, screenshot, wait_for):
    pytest.importorskip("sklearn")
    cp = ControlPlane(str(tmp_path), ["--backoff", "0.5", "--max-attempts", "3"]).start()
    try:
        data = DigitsIndex(str(tmp_path / "data"))
        test_data = str(tmp_path / "test_data")
        os.makedirs(test_data)
        docs = manifests(data.index, str(tmp_path / "out"), test_data, str(tmp_path / "results"), threshold=10,
                         extra_env={"FAIL_TRAIN": "3"})
        cp.cli("apply", "-f", write_yaml(str(tmp_path / "job.yaml"), docs), check=True)
        data.append(data.lines("plain", 30))
        wait_for(lambda: cp.get("ll", "digits-ll")["status"].get("lastFailure"), timeout=120,
                 what="the job to record the failure")

        # the failed round's samples go back to the pool and start the next round, which fails
        # the same way: the page shows the last failure the API records while it loads
        rounds_before = cp.get("ll", "digits-ll")["status"]["lastFailure"]["round"]
        login(browser_page, cp)
        rounds_after = cp.get("ll", "digits-ll")["status"]["lastFailure"]["round"]
        row = browser_page.locator('tr[data-job="default/digits-ll"]')
        failure = row.locator("details.failure")
        assert failure.locator("summary").inner_text() in {
            f"round {r} Train failed, exit code 3" for r in range(rounds_before, rounds_after + 1)}
        assert "failing on purpose" in failure.locator("pre").inner_text()
        screenshot(browser_page, "jobs-failed")

        browser_page.click("text=digits-ll")
        train = browser_page.locator('tr.round span.stage[data-stage="Train"]', has_text="2 retries")
        assert train.count() >= 1 and "Failed" in train.first.inner_text()
        assert browser_page.locator("tr.round svg.bar rect.failed").count() >= 1
        top = browser_page.locator("main > p[role=alert]")  # the failure first, above the fold
        assert "Train failed" in top.inner_text() and "failing on purpose" in top.inner_text()
        assert top.bounding_box()["y"] < 200
        assert browser_page.locator("text=What the camera sees").count() == 0  # digits: no frames to show
        screenshot(browser_page, "job-failed")
    finally:
        cp.stop()
