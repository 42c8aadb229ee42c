"""The training trigger: timer window AND condition, every checkPeriodSeconds."""

import copy
from datetime import datetime, timedelta, timezone

import pytest

from sedna.control.resources import load_manifests, validate
from sedna.control.trigger import DEFAULT_CHECK_PERIOD, Trigger
from support.paths import MANIFESTS

DAY = datetime(2026, 11, 27)


def at(hhmm, second=0):
    h, m = map(int, hhmm.split(":"))
    return DAY + timedelta(hours=h, minutes=m, seconds=second)


def trig(start=None, end=None, op=">", threshold=100, period=None):
    spec = {"checkPeriodSeconds": period, "condition": {"operator": op, "threshold": threshold,
                                                        "metric": "num_of_samples"}}
    spec["timer"] = None if start is None else {"start": start, "end": end}
    return Trigger.from_spec(spec)


def test_tutorial_trigger():
    (job,) = load_manifests(MANIFESTS / "tutorial-job.yaml")
    spec = validate(job)["spec"]["trainSpec"]["trigger"]
    t = Trigger.from_spec(spec)
    assert (t.start, t.end, t.check_period) == (0, 1440, 30)
    assert t.always_open
    for hhmm in ("00:00", "12:00", "23:59"):
        assert t.in_window(at(hhmm))
    assert not t.fires(at("12:00"), 100)
    assert t.fires(at("12:00"), 101)
    assert t.to_spec() == spec


def test_check_period_default_and_next_check():
    t = trig()
    assert t.check_period == DEFAULT_CHECK_PERIOD == 30
    assert t.next_check(at("10:00")) == at("10:00", 30)
    t = trig(period=1)
    assert t.check_period == 1
    assert t.next_check(at("23:59", 59)) == datetime(2026, 11, 28)


@pytest.mark.parametrize("start,end,inside,outside", [
    ("08:00", "17:00", ["08:00", "12:30", "16:59"], ["07:59", "17:00", "00:00", "23:59"]),
    ("22:00", "06:00", ["22:00", "23:59", "00:00", "03:00", "05:59"], ["06:00", "12:00", "21:59"]),
    ("22:00", "24:00", ["22:00", "23:59"], ["00:00", "21:59"]),
    ("22:00", "00:00", ["22:00", "23:59"], ["00:00", "21:59"]),
    ("00:00", "06:00", ["00:00", "05:59"], ["06:00", "23:59"]),
    ("00:00", "24:00", ["00:00", "12:00", "23:59"], []),
    ("09:00", "09:00", ["00:00", "09:00", "23:59"], []),
    (1320, 360, ["23:00", "01:00"], ["12:00"]),  # integers as YAML reads unquoted 22:00 / 6:00
    (0, 1440, ["00:00", "23:59"], []),
])
def test_window(start, end, inside, outside):
    t = trig(start, end)
    for hhmm in inside:
        assert t.in_window(at(hhmm)), hhmm
        assert t.in_window(at(hhmm, 59)), hhmm
    for hhmm in outside:
        assert not t.in_window(at(hhmm)), hhmm
        assert not t.fires(at(hhmm), 10 ** 6)


def test_window_uses_the_local_time_of_now():
    t = trig("22:00", "06:00")
    cet = timezone(timedelta(hours=1))
    assert t.in_window(datetime(2026, 11, 27, 23, 0, tzinfo=cet))  # 22:00 UTC, 23:00 local
    assert not t.in_window(datetime(2026, 11, 27, 21, 30, tzinfo=timezone.utc))
    assert t.in_window(datetime(2026, 11, 27, 21, 30, tzinfo=timezone.utc).astimezone(cet))


def test_no_timer_is_always_open():
    t = trig()
    assert t.always_open and t.in_window(at("03:17"))


@pytest.mark.parametrize("yaml_text,start,end", [
    ("start: 00:00\nend: 24:00\n", "00:00", "24:00"),
    ("start: 22:00\nend: 6:00\n", "22:00", "06:00"),
    ("start: '07:30'\nend: 19:45\n", "07:30", "19:45"),
    ("start: 0\nend: 1440\n", "00:00", "24:00"),
])
def test_yaml_times_round_trip(yaml_text, start, end):
    (job,) = load_manifests(MANIFESTS / "tutorial-job.yaml")
    indented = "".join("  " + line + "\n" for line in yaml_text.splitlines())
    timer = load_manifests("timer:\n" + indented)[0]["timer"]
    job = copy.deepcopy(job)
    job["spec"]["trainSpec"]["trigger"]["timer"] = timer
    spec = validate(job)["spec"]["trainSpec"]["trigger"]
    assert spec["timer"] == {"start": start, "end": end}
    t = Trigger.from_spec(spec)
    assert t.to_spec()["timer"] == {"start": start, "end": end}
    assert Trigger.from_spec(t.to_spec()) == t


@pytest.mark.parametrize("op,threshold,true_for,false_for", [
    (">", 100, [101, 10 ** 6], [100, 0]),
    (">=", 100, [100, 101], [99]),
    ("=", 100, [100], [99, 101]),
    ("==", 100, [100], [99, 101]),
    ("!=", 100, [99, 101, 0], [100]),
    ("<=", 100, [100, 0], [101]),
    ("<", 100, [99, 0], [100]),
    (">", 0.5, [1], [0]),
])
def test_operators(op, threshold, true_for, false_for):
    t = trig(op=op, threshold=threshold)
    for n in true_for:
        assert t.condition_met(n), (op, n)
        assert t.fires(at("12:00"), n)
    for n in false_for:
        assert not t.condition_met(n), (op, n)
        assert not t.fires(at("12:00"), n)


def test_fires_needs_window_and_condition():
    t = trig("22:00", "06:00", op=">=", threshold=10)
    assert t.fires(at("23:00"), 10)
    assert not t.fires(at("12:00"), 10)
    assert not t.fires(at("23:00"), 9)


@pytest.mark.parametrize("spec", [
    {"condition": {"operator": "=>", "threshold": 1}},
    {"condition": {"operator": ">", "threshold": "1"}},
    {"condition": {"operator": ">", "threshold": 1, "metric": "accuracy"}},
    {"condition": {"operator": ">", "threshold": 1}, "checkPeriodSeconds": 0},
    {"condition": {"operator": ">", "threshold": 1}, "timer": {"start": "24:00", "end": "01:00"}},
    {"condition": {"operator": ">", "threshold": 1}, "timer": {"start": "01:00"}},
])
def test_from_spec_rejects_bad_specs(spec):
    with pytest.raises(ValueError):
        Trigger.from_spec(spec)
