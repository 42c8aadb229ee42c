"""``GET /metrics`` of ``sedna operator``: the jobs it reconciles, in Prometheus' text format.

The same families as ``sedna up``'s ``/metrics`` (:mod:`sedna.server.metrics`:
``sedna_job_state``, ``sedna_job_round``, ``sedna_job_rounds``, ``sedna_kb_version``,
``sedna_task_metric``, ``sedna_dataset_samples`` ...), built by the same pure
functions from the operator's watch cache when Prometheus scrapes (no API call),
plus what the operator observes itself: ``sedna_reconcile_duration_seconds`` and
``sedna_reconcile_failures_total``, and the process. So the Grafana board
(``deploy/grafana/sedna.json``) works against a cluster as against ``sedna up``.

The families carry job names and task metrics: every scrape must bring the token
(``Authorization: Bearer``; ``$SEDNA_METRICS_TOKEN`` or ``--metrics-token-file``),
compared in constant time; there is no anonymous mode.
"""

import hmac

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, ProcessCollector

from sedna.common.log import LOGGER
from sedna.control.metric_families import PATH, dataset_families, exposition, job_families, reconcile_histogram

LOG = LOGGER.getChild("operator.metrics")


class CacheCollector:
    """The watch cache's jobs and Datasets at scrape time (nothing before it is filled)."""

    def __init__(self, cache_of):
        self.cache_of = cache_of  # () -> WatchCache or None

    def collect(self):
        cache = self.cache_of()
        if cache is None:
            return
        yield from dataset_families(cache.all_datasets())
        yield from job_families(cache.all_jobs())


class OperatorMetrics:
    """The operator's registry; ``observe(seconds, failed)`` after each reconcile pass."""

    def __init__(self, cache_of=lambda: None):
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(CacheCollector(cache_of))
        ProcessCollector(registry=self.registry)
        self.reconcile = reconcile_histogram(self.registry)
        self.failures = Counter("sedna_reconcile_failures", "Reconcile passes that failed (retried with backoff)",
                                registry=self.registry)

    def observe(self, seconds, failed=False):
        self.reconcile.observe(seconds)
        if failed:
            self.failures.inc()

    def exposition(self, accept):
        return exposition(self.registry, accept)


def read_token(path=None, env=None):
    """The scrape token: the file's first line, else ``env`` (``$SEDNA_METRICS_TOKEN``); None if neither."""
    if path:
        with open(path, encoding="utf-8") as f:
            token = f.readline().strip()
        if not token:
            raise ValueError(f"{path}: the metrics token file is empty")
        return token
    return (env or "").strip() or None


def app(metrics, token):
    """The aiohttp app serving ``GET /metrics`` to holders of ``token`` (401 to anyone else)."""
    expected = f"Bearer {token}".encode()

    async def scrape(request):
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="unauthorized: send Authorization: Bearer <metrics token>\n",
                                headers={"WWW-Authenticate": 'Bearer realm="sedna-operator-metrics"'})
        body, content_type = metrics.exposition(request.headers.get("Accept"))
        return web.Response(body=body, headers={"Content-Type": content_type})

    a = web.Application()
    a.router.add_get(PATH, scrape)
    return a


async def serve(metrics, token, host, port):
    """Start serving; returns the runner (``await runner.cleanup()`` stops it)."""
    runner = web.AppRunner(app(metrics, token), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    LOG.info("operator metrics on http://%s:%d%s (bearer token required)", host, port, PATH)
    return runner
