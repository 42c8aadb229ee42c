"""``GET /metrics``: the control plane in Prometheus' text format (issue 11).

Who calls it: :func:`sedna.server.app.create_app` calls :func:`install` once
per app, so every app has its own ``CollectorRegistry`` (never the process's
global one: tests run several apps in one process) with

* :class:`StoreCollector`, which reads the store when Prometheus scrapes, in
  one bounded pass (Datasets, jobs, two aggregate queries over the workers) and
  turns the objects into metric families with the pure functions of
  :mod:`sedna.control.metric_families`;
* two metrics this process observes as it goes: the duration of each job's
  reconcile (the controller calls :attr:`AppMetrics.observe_reconcile`) and
  the API requests, counted by a middleware under the route's template
  (``/apis/.../{plural}/{name}``), never the raw path.

Reading it needs the admin token, like every read (:mod:`.auth`). The names,
types and labels are listed in the README ("Metrics").
"""

from fastapi import Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, ProcessCollector
from starlette.routing import Match

from sedna.common.log import LOGGER
from sedna.control.metric_families import (PATH, STAGE_BUCKETS, dataset_families, exposition, job_families,
                                           reconcile_histogram, worker_families)
from sedna.common.constants import DATASET, JOB

LOG = LOGGER.getChild("metrics")
#: Objects of one kind read per scrape: a scrape stays bounded however many are stored.
MAX_OBJECTS = 10000
#: Methods counted under their own name; anything else is "other" (a client cannot add label values).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class StoreCollector:
    """The runtime's objects and workers at scrape time (a ``prometheus_client`` custom collector);
    ``store``: a :class:`sedna.control.runtime.Runtime`, or the local runtime's store itself."""

    def __init__(self, store, max_objects=MAX_OBJECTS):
        self.store = store
        self.max_objects = max_objects

    def collect(self):
        yield from dataset_families(self.store.list(DATASET, limit=self.max_objects))
        yield from job_families(self.store.list(JOB, limit=self.max_objects))
        yield from worker_families(self.store.worker_counts(), self.store.stage_durations(STAGE_BUCKETS))


# ----------------------------------------------------- what this process sees
class AppMetrics:
    """One app's registry: the store collector, the process, reconcile durations, API requests."""

    def __init__(self, store=None):
        self.registry = CollectorRegistry(auto_describe=False)
        if store is not None:
            self.registry.register(StoreCollector(store))
        ProcessCollector(registry=self.registry)
        self.reconcile = reconcile_histogram(self.registry)
        self.requests = Counter("sedna_api_requests", "API requests answered, by method, route template and code",
                                ["method", "route", "code"], registry=self.registry)

    def observe_reconcile(self, seconds):
        self.reconcile.observe(seconds)

    def exposition(self, accept):
        """The registry's text (Prometheus or OpenMetrics, as ``accept`` asks) and its content type."""
        return exposition(self.registry, accept)


def route_template(scope):
    """The matched route's path template (a route of the path with another method
    when none has this one: the 405's); ``"unmatched"`` when no route matches."""
    route = scope.get("route")
    if route is None and scope.get("app") is not None:  # refused before routing (401, 421): match it here
        matches = [(m, r) for r in scope["app"].router.routes for m in (r.matches(scope)[0],) if m != Match.NONE]
        route = next((r for m, r in matches if m == Match.FULL), matches[0][1] if matches else None)
    return getattr(route, "path", None) or "unmatched"


class RequestCounter:
    """ASGI middleware counting each answered HTTP request in ``metrics.requests``
    (plain ASGI: a streamed log passes through untouched)."""

    def __init__(self, app, metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        code = [500]  # an exception before the answer started is a 500

        async def send_counted(message):
            if message["type"] == "http.response.start":
                code[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            method = scope.get("method", "")
            self.metrics.requests.labels(method if method in METHODS else "other", route_template(scope),
                                         str(code[0])).inc()


def metrics_endpoint(request: Request):
    """``GET /metrics`` (sync: FastAPI runs it in a thread, the store is read blocking)."""
    body, content_type = request.app.state.metrics.exposition(request.headers.get("accept"))
    return Response(body, media_type=None, headers={"content-type": content_type})


def install(app, runtime):
    """Give ``app`` its own registry, the request counter and ``GET /metrics``;
    ask the runtime for its reconcile durations."""
    metrics = AppMetrics(runtime)
    app.state.metrics = metrics
    runtime.on_reconcile(metrics.observe_reconcile)
    app.add_middleware(RequestCounter, metrics=metrics)  # added last: outermost, it sees 401s too
    app.add_api_route(PATH, metrics_endpoint, methods=["GET"], include_in_schema=False)
    return metrics

