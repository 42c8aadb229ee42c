"""What a runtime observes of a job's world and hands to :func:`~sedna.control.reconcile.reconcile`,
and the controller's settings (plain data, the same on both runtimes)."""

from dataclasses import dataclass
from typing import Optional

__all__ = ("WorkerObs", "DatasetObs", "Settings")


@dataclass
class WorkerObs:
    """A worker as the runtime sees it."""

    name: str
    stage: str                      # "train" | "eval" | "deploy"
    round: int
    phase: str                      # Pending | Running | Succeeded | Failed | Unknown
    exit_code: Optional[int] = None
    report: Optional[dict] = None   # the worker's last report (status, results)
    log_tail: str = ""
    error: str = ""                 # why the runtime could not start it (then phase is Failed)
    reported_at: Optional[str] = None  # when its last report came (UTC "...Z"), if any


@dataclass
class DatasetObs:
    """What the runtime knows about the job's Dataset."""

    exists: bool = True
    url: str = ""                   # the Dataset's index file (ORIGINAL_DATASET_URL)
    format: str = "txt"             # the Dataset's format: names the round files (data.txt | data.csv)
    number_of_samples: int = 0
    pending_train: int = 0          # train samples not yet given to a round
    pending_eval: int = 0
    problem: str = ""               # why its index cannot be read now ("": it can), see conditions.index_problem


@dataclass
class Settings:
    """Controller settings (seconds)."""

    max_attempts: int = 3           # tries of one stage in one round
    backoff_base: float = 2.0       # first retry after this, doubled each time
    backoff_max: float = 300.0
    idle_requeue: float = 30.0      # when nothing else asks to look sooner
    exit_grace: float = 30.0        # a train/eval worker that reported its result may exit by
                                    # itself for this long (then: Succeeded, exit 0) before it is stopped
    max_failed_rounds: int = 2      # rounds failed for good in a row before the job is Failed
                                    # (until its spec changes)
