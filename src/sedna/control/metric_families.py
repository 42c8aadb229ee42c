"""The metric families of the control plane, from its objects (pure functions).

Jobs' and Datasets' statuses (and worker counts) become Prometheus metric
families here, for every process that serves them: ``sedna up``'s ``/metrics``
(:mod:`sedna.server.metrics`, from its store) and ``sedna operator``'s
(:mod:`sedna.runtimes.kubernetes.metrics`, from its watch cache). The names,
types and labels are listed in the README ("Metrics").
"""

import math

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.utils import floatToGoString

from sedna.control.columns import _last_state

#: Where a process serves them.
PATH = "/metrics"
#: Upper bounds (seconds) of the stage-duration buckets: a toy round's seconds to a robot's hours.
STAGE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
#: Nested task metrics are flattened (``a.b``) this deep at most.
MAX_METRIC_DEPTH = 3


def _number(v):
    """``v`` as a finite float, or None (bools, strings and NaN are not metric values)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _mapping(v):
    return v if isinstance(v, dict) else {}


def _records(v):
    """The mappings in list ``v`` (anything else in a status is skipped, never a failed scrape)."""
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _meta(obj):
    m = _mapping(obj.get("metadata"))
    return str(m.get("namespace", "")), str(m.get("name", ""))


# ------------------------------------------------------------- pure: families
def dataset_families(datasets):
    """``sedna_dataset_samples`` from the Datasets' ``status.numberOfSamples``."""
    g = GaugeMetricFamily("sedna_dataset_samples", "Samples (index lines) a Dataset holds",
                          labels=["namespace", "dataset"])
    for ds in datasets:
        n = _number(_mapping(ds.get("status")).get("numberOfSamples"))
        g.add_metric(list(_meta(ds)), n or 0.0)
    return [g]


def numeric_leaves(value, prefix="", depth=MAX_METRIC_DEPTH):
    """``(dotted name, number)`` for each number in a nested mapping of metrics."""
    if not isinstance(value, dict):
        n = _number(value)
        return [(prefix or "value", n)] if n is not None else []
    out = []
    if depth <= 0:
        return out
    for k, v in value.items():
        out += numeric_leaves(v, f"{prefix}.{k}" if prefix else str(k), depth - 1)
    return out


def job_families(jobs):
    """The families read from each job's status (see the README's table)."""
    lab = ["namespace", "job"]
    state = GaugeMetricFamily("sedna_job_state", "1 for the job's current stage and state (its last condition)",
                              labels=lab + ["stage", "state"])
    current = GaugeMetricFamily("sedna_job_round", "The job's current round", labels=lab)
    rounds = GaugeMetricFamily("sedna_job_rounds", "Finished rounds kept in status.rounds (the last 100), by outcome",
                               labels=lab + ["outcome"])
    samples = GaugeMetricFamily("sedna_job_samples", "Samples given to the job's rounds so far, by split",
                                labels=lab + ["split"])
    unseen = GaugeMetricFamily("sedna_job_unseen_samples",
                               "Samples the inference worker saved as unseen (status.knowledgeBase.samples)",
                               labels=lab)
    version = GaugeMetricFamily("sedna_kb_version", "The knowledge-base version in the job's status", labels=lab)
    tasks = GaugeMetricFamily("sedna_task_metric",
                              "A task model's metric in the job's knowledge base (source: train or eval)",
                              labels=lab + ["task", "source", "metric"])
    for job in jobs:
        key = list(_meta(job))
        st = _mapping(job.get("status"))
        conds = _records(st.get("conditions"))
        last = _last_state(conds)
        if last:
            state.add_metric(key + [str(last.get("stage", "")), str(last.get("type", ""))], 1.0)
        finished = _records(st.get("rounds"))
        numbers = [_number(x.get("round")) for x in finished + conds]
        current.add_metric(key, max([n for n in numbers if n is not None] + [0.0]))
        by_outcome = {"Succeeded": 0, "Failed": 0}
        for phase in (str(r.get("phase", "Unknown")) for r in finished):
            by_outcome[phase] = by_outcome.get(phase, 0) + 1
        for outcome, n in sorted(by_outcome.items()):
            rounds.add_metric(key + [outcome], float(n))
        kb = _mapping(st.get("knowledgeBase"))
        counts = _mapping(kb.get("samples"))
        for split, field in (("train", "trainSamples"), ("eval", "evalSamples")):
            samples.add_metric(key + [split], _number(counts.get(field)) or 0.0)
        if _number(counts.get("unseenSamples")) is not None:
            unseen.add_metric(key, _number(counts["unseenSamples"]))
        if _number(kb.get("version")) is not None:
            version.add_metric(key, _number(kb["version"]))
        seen = set()  # a label set twice would make Prometheus reject the whole scrape
        for model in _records(kb.get("AIModels")):
            for source, field in (("train", "metrics"), ("eval", "evalMetrics")):
                for name, value in numeric_leaves(model.get(field)):
                    labels = (str(model.get("name", "")), source, name)
                    if labels not in seen:
                        seen.add(labels)
                        tasks.add_metric(key + list(labels), value)
    return [state, current, rounds, samples, unseen, version, tasks]


def worker_families(counts, durations, bounds=STAGE_BUCKETS):
    """``sedna_worker_restarts_total`` and ``sedna_stage_duration_seconds`` from
    :meth:`Store.worker_counts` and :meth:`Store.stage_durations` rows."""
    restarts = CounterMetricFamily("sedna_worker_restarts",
                                   "Workers started again for a stage and round already started "
                                   "(retries after a failure, a lost worker started again)",
                                   labels=["namespace", "job", "stage"])
    for r in counts:
        restarts.add_metric([r["namespace"], r["job"], r["stage"]], float(r["workers"] - r["rounds"]))
    hist = HistogramMetricFamily("sedna_stage_duration_seconds",
                                 "How long train and eval workers ran, from start to exit", labels=["stage"])
    for r in durations:
        buckets = [(floatToGoString(b), float(n)) for b, n in zip(bounds, r["le"])] + [("+Inf", float(r["count"]))]
        hist.add_metric([r["stage"]], buckets, sum_value=r["seconds"])
    return [restarts, hist]


# ------------------------------------------------ shared by the serving processes
def reconcile_histogram(registry):
    """``sedna_reconcile_duration_seconds`` in ``registry`` (the controller's or the operator's passes)."""
    return Histogram("sedna_reconcile_duration_seconds", "How long one job's reconcile took", registry=registry)


def exposition(registry, accept):
    """``registry``'s text (Prometheus or OpenMetrics, as ``accept`` asks) and its content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
