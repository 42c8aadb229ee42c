"""When a lifelong learning job trains: a timer window AND a condition on the
number of new training samples, checked every ``checkPeriodSeconds``.

Pure: every method takes the time it should use; nothing reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sedna.common.comparison import COMPARISONS
from sedna.control.resources import (
    MAX_CHECK_PERIOD, MAX_THRESHOLD, METRICS, MIN_CHECK_PERIOD, minutes_to_time, time_to_minutes,
)

DEFAULT_CHECK_PERIOD = 30  # seconds, when checkPeriodSeconds is absent

_COMPARE = COMPARISONS


@dataclass(frozen=True)
class Trigger:
    """A job's training trigger.

    ``start``/``end`` are minutes since midnight (0..1440) of the window [start, end);
    both None means no timer (always open). ``start == end`` or 00:00-24:00 is always
    open; ``start > end`` wraps past midnight (22:00-06:00).
    """

    operator: str
    threshold: float
    metric: str = "num_of_samples"
    check_period: int = DEFAULT_CHECK_PERIOD
    start: int | None = None
    end: int | None = None

    @classmethod
    def from_spec(cls, spec: dict) -> "Trigger":
        """From a trigger as ``resources.validate`` normalises it (``timer`` times as
        "HH:MM"; the integers YAML makes of unquoted times are accepted too).
        ValueError, with the same bounds as validation, for a trigger stored
        before those bounds existed."""
        cond = spec.get("condition") or {}
        op = cond.get("operator")
        if op not in _COMPARE:
            raise ValueError(f"trigger operator must be one of {' '.join(COMPARISONS)} (got {op!r})")
        metric = cond.get("metric") or "num_of_samples"
        if metric not in METRICS:
            raise ValueError(f"trigger metric must be one of {' '.join(METRICS)} (got {metric!r})")
        threshold = cond.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
                or not 0 <= threshold <= MAX_THRESHOLD:  # also refuses NaN
            raise ValueError(f"trigger threshold must be a number from 0 to {MAX_THRESHOLD} (got {threshold!r})")
        period = spec.get("checkPeriodSeconds")
        if period is None:
            period = DEFAULT_CHECK_PERIOD
        elif isinstance(period, bool) or not isinstance(period, int) \
                or not MIN_CHECK_PERIOD <= period <= MAX_CHECK_PERIOD:
            raise ValueError(f"checkPeriodSeconds must be a positive integer number of seconds, at most "
                             f"{MAX_CHECK_PERIOD} (one year) (got {period!r})")
        timer = spec.get("timer")
        start = end = None
        if timer:
            start = time_to_minutes(timer.get("start"), is_end=False)
            end = time_to_minutes(timer.get("end"), is_end=True)
        return cls(operator=op, threshold=threshold, metric=metric, check_period=period, start=start, end=end)

    # ------------------------------------------------------------------ window
    @property
    def always_open(self) -> bool:
        if self.start is None or self.end is None:
            return True
        return self.start == self.end or (self.start == 0 and self.end == 1440)

    def in_window(self, now: datetime) -> bool:
        """Whether ``now``'s wall-clock time (in ``now``'s own time zone) is in [start, end)."""
        if self.always_open:
            return True
        m = now.hour * 60 + now.minute
        if self.start < self.end:
            return self.start <= m < self.end
        return m >= self.start or m < self.end  # wraps past midnight

    # ------------------------------------------------------------------ condition
    def condition_met(self, num_samples: int) -> bool:
        return bool(_COMPARE[self.operator](num_samples, self.threshold))

    def fires(self, now: datetime, num_samples: int) -> bool:
        """Timer window AND condition."""
        return self.in_window(now) and self.condition_met(num_samples)

    def next_check(self, last_check: datetime) -> datetime:
        return last_check + timedelta(seconds=self.check_period)

    def to_spec(self) -> dict:
        """The normalised spec this trigger came from."""
        timer = None
        if self.start is not None and self.end is not None:
            timer = {"start": minutes_to_time(self.start), "end": minutes_to_time(self.end)}
        return {"checkPeriodSeconds": self.check_period, "timer": timer,
                "condition": {"operator": self.operator, "threshold": self.threshold, "metric": self.metric}}
