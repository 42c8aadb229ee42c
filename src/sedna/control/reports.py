"""A worker's report (``POST /sedna/workers/{name}/info``, CONTRACTS §2), checked
the same way by both runtimes' report endpoints: the local server's and the
Kubernetes node agent's.

A report names its worker, its stage (``kind``) and ``status``; every URL in
its ``results`` must lie inside the job's ``outputDir``, which is where the
controller takes models and indexes from."""

import json
import os

from sedna.common.confine import inside

__all__ = ("REPORT_KINDS", "REPORT_STATUS", "report_errors", "url_errors", "output_dir_of", "fit_errors",
           "report_entry", "report_size", "ReportBudget")

REPORT_KINDS = ("train", "eval", "deploy")
REPORT_STATUS = ("completed", "failed")
#: Bounds on what one report may name, so that no status, page or scrape grows without bound
#: with what a worker writes (a job's page is rounds x tasks).
MAX_RESULTS = 64
MAX_REPORT_TASKS = 500   # keys of one result's ``metrics`` (an eval report names one per task)
MAX_TASK_METRICS = 64    # values kept per task
MAX_REPORTS_PER_WORKER = 100          # a train or eval worker reports once; a chatty script, a few times
MAX_REPORT_BYTES_PER_WORKER = 16 << 20  # what all of one worker's reports may weigh together


def report_errors(body, name):
    """``field: why`` for each thing wrong with report ``body`` of worker ``name`` (the body is a dict)."""
    errors = []
    if body.get("name") != name:
        errors.append(f"name: {body.get('name')!r} differs from the worker in the path ({name!r})")
    if body.get("kind") not in REPORT_KINDS:
        errors.append(f"kind: must be one of {', '.join(REPORT_KINDS)}")
    if body.get("status") not in REPORT_STATUS:
        errors.append(f"status: must be one of {', '.join(REPORT_STATUS)}")
    results = body.get("results", [])
    if not isinstance(results, list):
        errors.append("results: must be a list")
    elif len(results) > MAX_RESULTS:
        errors.append(f"results: {len(results)} entries, at most {MAX_RESULTS}")
    else:
        errors += _metrics_errors(results)
    return errors


def _metrics_errors(results):
    out = []
    for i, res in enumerate(results):
        metrics = res.get("metrics") if isinstance(res, dict) else None
        if not isinstance(metrics, dict):
            continue
        if len(metrics) > MAX_REPORT_TASKS:
            out.append(f"results[{i}].metrics: {len(metrics)} tasks, at most {MAX_REPORT_TASKS}")
            continue
        wide = next((k for k, v in metrics.items() if isinstance(v, dict) and len(v) > MAX_TASK_METRICS), None)
        if wide is not None:
            out.append(f"results[{i}].metrics[{str(wide)[:100]!r}]: over {MAX_TASK_METRICS} values")
    return out


def url_errors(results, output_dir):
    """``results[i].url: ...`` for every URL that is not a string inside ``output_dir``."""
    out = []
    for i, res in enumerate(results or []):
        if not isinstance(res, dict) or res.get("url") in (None, ""):
            continue
        url = res["url"]
        if not isinstance(url, str) or not inside(url, output_dir):
            out.append(f"results[{i}].url: {str(url)[:200]!r} is not inside the job's outputDir {output_dir!r}")
    return out


def output_dir_of(job):
    """A job's ``outputDir`` as reports are checked against it (a local path made absolute)."""
    out = ((job or {}).get("spec") or {}).get("outputDir") or ""
    return out if "://" in out else os.path.abspath(out)


def fit_errors(body, job):
    """What in a (well-formed) report does not fit the worker's ``job``: its ``ownerName``, then
    its URLs outside the job's ``outputDir``."""
    name = (job.get("metadata") or {}).get("name")
    if body.get("ownerName") not in (None, name):
        return [f"ownerName: {body.get('ownerName')!r} is not the worker's job {name!r}"]
    return url_errors(body.get("results"), output_dir_of(job))


def report_entry(body, reported_at):
    """What a runtime keeps of an accepted report."""
    entry = {k: body.get(k) for k in ("kind", "status", "results", "ownerInfo") if k in body}
    entry["reportedAt"] = reported_at
    return entry


def report_size(body):
    """What a report weighs against its worker's budget: its size as compact JSON (the same
    on both runtimes' endpoints, whatever the client sent)."""
    return len(json.dumps(body, separators=(",", ":")))


class ReportBudget:
    """How much one worker may report over its life (in this process): at most
    :data:`MAX_REPORTS_PER_WORKER` reports and :data:`MAX_REPORT_BYTES_PER_WORKER` bytes,
    so that a flood from one worker cannot keep the control plane busy for the others."""

    def __init__(self, reports=MAX_REPORTS_PER_WORKER, nbytes=MAX_REPORT_BYTES_PER_WORKER, workers=10_000):
        self.reports, self.nbytes, self.workers = reports, nbytes, workers
        self._spent = {}

    def charge(self, worker, nbytes):
        """Count one report of ``nbytes`` (:func:`report_size`) for ``worker`` (any hashable
        key); the reason it is refused, or None when it fits (only then is it counted)."""
        n, b = self._spent.get(worker, (0, 0))
        if n + 1 > self.reports:
            return f"worker {worker}: over its budget of {self.reports} reports"
        if b + nbytes > self.nbytes:
            return f"worker {worker}: over its budget of {self.nbytes} bytes of reports"
        if worker not in self._spent and len(self._spent) >= self.workers:
            self._spent.pop(next(iter(self._spent)))  # the oldest worker's count goes first
        self._spent[worker] = (n + 1, b + nbytes)
        return None
