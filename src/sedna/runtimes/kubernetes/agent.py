"""``sedna agent``: the node agent of the Kubernetes runtime (a DaemonSet).

The original's LocalController role, on one node:

* **datasets**: for every Dataset whose ``spec.nodeName`` is this node, read
  what was appended to its index file since the last look (the incremental
  :class:`~sedna.control.rounds.IndexWatcher`), append the new samples to
  the Dataset's sample log in ``--state-dir`` and patch the Dataset's
  ``status.numberOfSamples`` / ``updateTime`` (cumulative: the watcher's
  policy) and its index conditions (a missing or unreadable index, which a
  waiting job then names). The watcher's position and the log's size are
  kept in ``status.sednaWatch``, so a restarted agent carries on where it
  stopped and counts nothing twice (:mod:`.samples`).
* **round files**: a round the operator opened (its claim of sample numbers
  in the job's ``status.sednaState``) whose files are missing — the operator
  could not read this node's sample log — is written here from the log.
* **worker reports**: ``POST /sedna/workers/{name}/info`` (CONTRACTS §2),
  checked as on the local runtime (:mod:`sedna.control.reports`): the
  caller's bearer token must be the one the operator minted into the
  worker's own Secret (``<worker>-token``), so a worker reports for itself
  only and never holds admin credentials; URLs must lie inside the job's
  ``outputDir``. The report goes into the job's ``status.workerReports``.

``run_agent(args)`` is what ``sedna agent`` calls; ``python -m
sedna.runtimes.kubernetes.agent --server URL --node-name N`` runs it alone.
"""

import argparse
import asyncio
import hmac
import os
import signal
import socket

from aiohttp import web

from sedna.common.log import LOGGER
from sedna.common.file_ops import FileOps
from sedna.control import pool
from sedna.control.conditions import ts, utcnow
from sedna.control.reports import ReportBudget, fit_errors, report_entry, report_errors, report_size
from sedna.control.rounds import IndexWatcher, RoundFiles
from sedna.runtimes.kubernetes import add_api_flags, pods, samples, setup_logging
from sedna.runtimes.kubernetes.api import DATASETS, JOBS, PODS, SECRETS, Api, connection
from sedna.runtimes.kubernetes.jobs import REPORTS_KEY, STATE_KEY

LOG = LOGGER.getChild("agent")
DEFAULT_PERIOD = 1.0  # seconds between two looks at the index files
#: where the Datasets' sample logs are kept (deploy/agent.yaml mounts a node folder there)
DEFAULT_STATE_DIR = os.path.join(os.path.expanduser("~"), ".sedna", "agent")



class DatasetWatcher:
    """Counts and logs the samples of this node's Datasets (:mod:`.samples`)."""

    def __init__(self, api, node_name, state_dir):
        self.api = api
        self.node_name = node_name
        self.state_dir = state_dir
        self.watcher = IndexWatcher()

    async def pass_once(self):
        for ds in await self.api.list(DATASETS):
            if (ds.get("spec") or {}).get("nodeName") != self.node_name or ds["metadata"].get("deletionTimestamp"):
                continue
            try:
                await self.check(ds)
            except Exception as e:  # noqa: BLE001 - one dataset's failure must not stop the others
                LOG.warning("dataset %s/%s: %s: %s", ds["metadata"]["namespace"], ds["metadata"]["name"],
                            type(e).__name__, e)

    async def check(self, ds):
        meta = ds["metadata"]
        patch, total, event = await asyncio.to_thread(samples.advance, self.watcher, ds, self.state_dir)
        if event and event.reason != "Missing":
            LOG.warning("dataset %s/%s: %s", meta["namespace"], meta["name"], event.message)
        if patch:
            body = {"metadata": {"resourceVersion": meta.get("resourceVersion")}, "status": patch}
            ds = await self.api.patch(DATASETS, meta["namespace"], meta["name"], body, sub="status") or ds
        await self.write_rounds(ds)
        return total

    async def write_rounds(self, ds):
        """Write the round files of rounds that jobs claimed from this Dataset and whose
        files are missing (the operator writes them itself when it can read the sample log;
        on this node it always can). Idempotent: same lines, same files."""
        ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
        for job in await self.api.list(JOBS, ns):
            spec = job.get("spec") or {}
            if (spec.get("dataset") or {}).get("name") != name or not spec.get("outputDir"):
                continue
            state = (job.get("status") or {}).get(STATE_KEY) or {}
            fmt = state.get("data_format") or "txt"
            for r, claim in sorted((state.get("claims") or {}).items()):
                out = spec["outputDir"] if "://" in spec["outputDir"] else os.path.abspath(spec["outputDir"])
                if FileOps.exists(RoundFiles(out, fmt).train_index(int(r))):
                    continue
                try:
                    await asyncio.to_thread(samples.write_round, out, fmt, ds, int(r), claim, pool.train_prob(job))
                except ValueError as e:  # the log has not caught up with the claim yet
                    LOG.info("job %s/%s: round %s not written yet: %s", ns, job["metadata"]["name"], r, e)
                    continue
                LOG.info("job %s/%s: round %s files written on node %s", ns, job["metadata"]["name"], r,
                         self.node_name)


def _bearer(request):
    auth = request.headers.get("Authorization", "")
    return auth[len("Bearer "):].strip() if auth.startswith("Bearer ") else ""


class Reports:
    """The worker report endpoint of this node."""

    def __init__(self, api, node_name):
        self.api = api
        self.node_name = node_name
        self.budget = ReportBudget()

    def app(self):
        app = web.Application()
        app.router.add_post("/sedna/workers/{name}/info", self.post)
        app.router.add_get("/healthz", lambda _r: web.json_response({"ok": True}))
        return app

    async def post(self, request):
        name = request.match_info["name"]
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's parser goes
            return _fail(400, "report: the body is not JSON (or nested too deeply)")
        if not isinstance(body, dict):
            return _fail(400, "report: expected a JSON object")
        errors = report_errors(body, name)
        if errors:
            return _fail(400, "; ".join(errors))
        ns = body.get("namespace") or "default"
        denied = await self._authenticate(request, ns, name)
        if denied:
            return denied
        over = self.budget.charge(f"{ns}/{name}", report_size(body))
        if over:
            return _fail(429, over)
        pod = await self.api.get(PODS, ns, name)
        if pod is None:
            return _fail(404, f"no worker {ns}/{name}")
        job_name = (pod["metadata"].get("labels") or {}).get(pods.LABEL_JOB)
        node = (pod.get("spec") or {}).get("nodeName")
        if node and node != self.node_name:
            return _fail(403, f"worker {ns}/{name} runs on node {node}, not on {self.node_name}")
        job = await self.api.get(JOBS, ns, job_name) if job_name else None
        if job is None:
            return _fail(404, f"the worker's job {ns}/{job_name} is gone")
        errors = fit_errors(body, job)
        if errors:
            return _fail(400, "; ".join(errors))
        entry = report_entry(body, ts(utcnow()))
        await self.api.patch(JOBS, ns, job_name, {"status": {REPORTS_KEY: {name: entry}}}, sub="status")
        LOG.info("report of %s/%s: %s %s", ns, name, body.get("kind"), body.get("status"))
        return web.json_response({"result": "accepted"})

    async def _authenticate(self, request, ns, name):
        token = _bearer(request)
        if not token or not token.isascii():  # tokens are ASCII; other bytes arrive surrogate-escaped
            return _fail(401, "a worker token (Authorization: Bearer, ASCII) is required")
        secret = await self.api.get(SECRETS, ns, pods.token_secret_name(name))
        expected = pods.secret_token(secret) if secret else None
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            return _fail(403, f"this token does not belong to worker {ns}/{name}")
        return None


def _fail(status, detail):
    return web.json_response({"detail": detail}, status=status)


async def serve(conn, node_name, host, port, period=DEFAULT_PERIOD, ready=None, state_dir=DEFAULT_STATE_DIR):
    async with Api(conn) as api:
        runner = web.AppRunner(Reports(api, node_name).app())
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        LOG.info("sedna agent on node %s: reports at http://%s:%d, API %s", node_name, host, port, conn.server)
        if ready is not None:
            ready.set()
        datasets = DatasetWatcher(api, node_name, state_dir)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):  # a DaemonSet Pod is stopped with SIGTERM
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        try:
            while not stop.is_set():
                try:
                    await datasets.pass_once()
                except Exception as e:  # noqa: BLE001 - the API may be away for a moment
                    LOG.warning("dataset pass failed: %s: %s", type(e).__name__, e)
                try:
                    await asyncio.wait_for(stop.wait(), period)
                except asyncio.TimeoutError:
                    pass
        finally:
            await runner.cleanup()
        LOG.info("sedna agent stopped")


def run_agent(args):
    """``sedna agent``: args ``node_name``, ``host``, ``port`` (9100), ``state_dir``, ``kubeconfig``, ``server``."""
    conn = connection(getattr(args, "server", None), getattr(args, "kubeconfig", None))
    node = getattr(args, "node_name", None) or os.environ.get("NODE_NAME") or socket.gethostname()
    host = getattr(args, "host", None) or "0.0.0.0"
    port = int(getattr(args, "port", None) or pods.AGENT_PORT)
    period = float(getattr(args, "period", None) or DEFAULT_PERIOD)
    state_dir = getattr(args, "state_dir", None) or DEFAULT_STATE_DIR
    asyncio.run(serve(conn, node, host, port, period, state_dir=state_dir))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sedna.runtimes.kubernetes.agent")
    p.add_argument("--node-name", dest="node_name", default=None)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=pods.AGENT_PORT)
    add_api_flags(p)
    p.add_argument("--state-dir", dest="state_dir", default=DEFAULT_STATE_DIR,
                   help="where the Datasets' sample logs are kept")
    p.add_argument("--period", type=float, default=DEFAULT_PERIOD, help="seconds between looks at index files")
    args = p.parse_args(argv)
    setup_logging()
    return run_agent(args)


if __name__ == "__main__":
    raise SystemExit(main())
