"""What the dashboard computes from a job's stored status (sedna.server.dashboard.views):
pure functions, driven with plain data and a fixed clock."""

import math
from datetime import datetime, timezone

from sedna.server.dashboard import views

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)


def cond(r, stage, kind, t, reason="", message="", data=None):
    return {"round": r, "stage": stage, "type": kind, "status": "True", "reason": reason, "message": message,
            "lastTransitionTime": t, "lastHeartbeatTime": t, **({"data": data} if data else {})}


def job(status=None, trigger=None):
    trig = trigger or {"checkPeriodSeconds": 60, "condition": {"operator": ">", "threshold": 20,
                                                               "metric": "num_of_samples"}}
    return {"metadata": {"namespace": "default", "name": "j"}, "spec": {"trainSpec": {"trigger": trig}},
            "status": status or {}}


def test_the_trigger_says_samples_against_threshold_window_and_next_check():
    j = job({"conditions": [cond(1, "Train", "Waiting", "2026-11-30T11:59:00Z", "RoundSucceeded",
                                 data={"pendingTrainSamples": 7})]},
            {"checkPeriodSeconds": 600, "timer": {"start": "22:00", "end": "06:00"},
             "condition": {"operator": ">=", "threshold": 10, "metric": "num_of_samples"}})
    t = views.trigger_progress(j, {"last_check": "2026-11-30T11:55:00Z"}, NOW)
    assert (t["pending"], t["operator"], t["threshold"], t["met"]) == (7, ">=", 10, False)
    assert t["window"] == "22:00–06:00" and t["in_window"] is False  # noon is outside a night window
    assert t["next_check"] == datetime(2026, 11, 30, 12, 5, tzinfo=timezone.utc)


def test_a_failed_round_shows_the_workers_exit_code_and_log_tail():
    failure = {"round": 3, "stage": "Train", "exitCode": 137, "logTail": "Killed", "time": "2026-11-30T11:00:00Z"}
    j = job({"conditions": [cond(3, "Train", "Failed", "2026-11-30T11:00:00Z", "BackoffLimitExceeded", "failed 3x"),
                            cond(3, "Train", "Waiting", "2026-11-30T11:00:00Z", "RoundFailed", "samples kept")],
             "rounds": [{"round": 3, "phase": "Failed"}], "lastFailure": failure})
    s = views.job_summary(j, None, NOW)
    assert (s["stage"], s["type"], s["reason"], s["round"]) == ("Train", "Waiting", "RoundFailed", 3)
    assert s["failure"] == failure
    ok = job({"rounds": [{"round": 4, "phase": "Succeeded"}], "lastFailure": failure})
    assert views.job_summary(ok, None, NOW)["failure"] is None  # an old failure is not why it waits now


def test_the_timeline_has_each_stage_with_its_duration_and_retries():
    conds = [cond(2, "Train", "Starting", "2026-11-30T10:00:00Z"),
             cond(2, "Train", "Failed", "2026-11-30T10:00:30Z", "Retrying"),
             cond(2, "Train", "Starting", "2026-11-30T10:00:40Z"),
             cond(2, "Train", "Completed", "2026-11-30T10:01:40Z", "WorkerSucceeded"),
             cond(2, "Eval", "Starting", "2026-11-30T10:01:40Z"),
             cond(2, "Eval", "Running", "2026-11-30T10:01:41Z")]
    status = {"rounds": [{"round": 1, "phase": "Succeeded", "startTime": "2026-11-30T09:00:00Z",
                          "completionTime": "2026-11-30T09:02:00Z", "trainSamples": 30, "evalSamples": 8}],
              "conditions": conds}
    rows = views.timeline(status)
    assert [r["round"] for r in rows] == [1, 2]
    assert rows[0]["seconds"] == 120 and rows[0]["stages"] == []  # older than the kept conditions
    train, ev = rows[1]["stages"]
    assert (train["stage"], train["retries"], train["seconds"], train["outcome"]) == ("Train", 1, 100, "Completed")
    assert (ev["stage"], ev["seconds"], ev["outcome"]) == ("Eval", None, "Running")


def report(metrics, version=None):
    return {"status": "completed", "ownerInfo": {"version": version}, "results": [{"metrics": metrics}]}


def test_the_matrix_is_the_eval_reports_and_the_measures_skip_unmeasured_cells():
    evals = {1: report({"a": {"mIoU": 0.5, "acc": 0.9}, "b": {"mIoU": 0.4}}),
             2: report({"a": {"mIoU": 0.3}, "b": {"n_samples": 0}, "c": {"mIoU": 0.6}})}
    trains = {1: report({"a": {}, "b": {}}), 2: report({"a": {}, "b": {}, "c": {}})}
    m = views.eval_matrix(evals, trains)
    assert m["metric"] == "mIoU" and m["metrics"] == ["mIoU", "acc"]
    assert m["tasks"] == ["a", "b", "c"] and m["rounds"] == [1, 2]
    assert m["cells"] == [[0.5, 0.4, None], [0.3, None, 0.6]]
    assert math.isclose(m["measures"]["BWT"], 0.3 - 0.5)  # task b was not measured in round 2
    assert math.isclose(m["measures"]["forgetting"], 0.5 - 0.3)
    assert m["measures"]["FWT"] is None  # no untrained baseline in any report
    assert views.eval_matrix(evals, trains, metric="acc")["cells"] == [[0.9, None, None], [None, None, None]]
    assert views.eval_matrix({}, {})["rounds"] == []


def test_odd_reports_give_empty_cells_not_errors():
    evals = {1: {"results": "x"}, 2: report({"a": {"mIoU": float("nan")}, "b": "oops", "c": {"mIoU": True}})}
    m = views.eval_matrix(evals, {})
    assert m["metric"] is None and m["tasks"] == ["a", "c"] and m["cells"] == [[None, None], [None, None]]
    assert m["measures"] == {"BWT": None, "FWT": None, "forgetting": None}
    assert views.heat_class(None) == "hna" and views.heat_class(0.5, 0.5, 0.5) == "h5"
    assert views.heat_class(1.0, 0.0, 1.0) == "h9" and views.heat_class(0.0, 0.0, 1.0) == "h0"


def test_fwt_is_measures_fwt_on_the_before_and_untrained_scores_the_eval_reports_carry():
    from sedna.core.lifelong_learning.measures import fwt

    # round 1 learns a and b (no parent: untrained only); round 2 learns c, round 3 learns d
    evals = {1: report({"a": {"mIoU": 0.5, "untrained": {"mIoU": 0.02}},
                        "b": {"mIoU": 0.4, "untrained": {"mIoU": 0.03}}}),
             2: report({"a": {"mIoU": 0.45}, "b": {"mIoU": 0.42},
                        "c": {"mIoU": 0.6, "before": {"mIoU": 0.1, "pixel_accuracy": 0.3},
                              "untrained": {"mIoU": 0.01, "pixel_accuracy": 0.05}}}),
             3: report({"a": {"mIoU": 0.44}, "b": {"mIoU": 0.41}, "c": {"mIoU": 0.55},
                        "d": {"mIoU": 0.7, "before": {"mIoU": 0.2}, "untrained": {"mIoU": 0.04}}})}
    trains = {1: report({"a": {}, "b": {}}), 2: report({"a": {}, "b": {}, "c": {}}),
              3: report({"a": {}, "b": {}, "c": {}, "d": {}})}
    m = views.eval_matrix(evals, trains)
    assert m["metrics"] == ["mIoU"]  # the sub-dicts are not metrics of their own
    assert m["cells"][0] == [0.5, 0.4, None, None] and m["cells"][1][3] is None  # the matrix shows what was measured
    nan = math.nan
    R = [[0.5, 0.4, 0.1, nan], [0.45, 0.42, 0.6, 0.2], [0.44, 0.41, 0.55, 0.7]]
    expected = fwt(R, [0, 0, 1, 2], [0.02, 0.03, 0.01, 0.04])
    assert math.isclose(expected, ((0.1 - 0.01) + (0.2 - 0.04)) / 2)
    assert m["measures"]["FWT"] == expected
    assert (m["before"], m["untrained"]) == ({"c": 0.1, "d": 0.2}, {"a": 0.02, "b": 0.03, "c": 0.01, "d": 0.04})
    # a task without its untrained score is left out; with neither, FWT stays None
    del evals[3]["results"][0]["metrics"]["d"]["untrained"]
    assert math.isclose(views.eval_matrix(evals, trains)["measures"]["FWT"], 0.1 - 0.01)
    del evals[2]["results"][0]["metrics"]["c"]["before"]
    assert views.eval_matrix(evals, trains)["measures"]["FWT"] is None


def test_a_window_the_manifest_sets_is_shown_even_all_day_and_none_says_any_hour():
    from sedna.server.dashboard.jobs import trigger_html

    def shown(trigger):
        t = views.trigger_progress(job(trigger=trigger), None, NOW)
        return trigger_html(t, NOW)

    cond_ = {"operator": ">", "threshold": 5, "metric": "num_of_samples"}
    assert "timer window 00:00–24:00 (open all day)" in shown({"timer": {"start": "00:00", "end": "24:00"},
                                                                "condition": cond_})
    assert "timer window 02:00–04:00 (closed now)" in shown({"timer": {"start": "02:00", "end": "04:00"},
                                                               "condition": cond_})
    assert "no timer window: trains at any hour" in shown({"condition": cond_})


def test_metrics_are_a_list_of_rounded_numbers_with_nested_ones_flattened():
    from sedna.server.dashboard.render import metrics_table

    html = metrics_table({"accuracy": 0.9234567891234567, "f1": {"macro": 0.812345678901234}, "n_samples": 120,
                          "loss": 1.2e-05, "task": "<b>"})
    assert "<dt>accuracy</dt><dd class=\"num\">0.923</dd>" in html
    assert "<dt>f1.macro</dt><dd class=\"num\">0.812</dd>" in html
    assert "1.2e-05" in html and "&lt;b&gt;" in html and "n_samples" not in html
    assert "0.92345" not in html and "{" not in html
    assert metrics_table(None) == metrics_table({}) == ""


def test_a_failure_is_at_the_top_until_a_later_round_completes():
    from sedna.server.dashboard.jobs import failure_banner

    failure = {"round": 2, "stage": "Train", "exitCode": 3, "logTail": "step 1\nValueError: failing on purpose\n"}
    status = {"lastFailure": failure, "rounds": [{"round": 1, "phase": "Completed"}, {"round": 2, "phase": "Failed"}]}
    top = failure_banner({"failure": None}, status)
    assert 'role="alert"' in top and "Round 2 Train failed" in top and "exit code 3: ValueError: failing on purpose" in top
    status["rounds"].append({"round": 3, "phase": "Completed"})
    assert failure_banner({"failure": None}, status) == ""
    assert failure_banner({"failure": None}, {}) == ""
