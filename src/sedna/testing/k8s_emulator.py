"""An emulated Kubernetes API server for tests and benchmarks (kmock).

kmock's ``KubernetesEmulator`` keeps objects in memory and serves list,
watch, get, create, merge-patch and delete; it validates no schema, keeps no
resourceVersion, schedules and runs no Pod and collects no garbage: tests
play the kubelet (they patch Pod phases) and the workers.

:class:`VersionedEmulator` adds what kopf and the operator rely on: every
create gets a ``uid``, a ``creationTimestamp`` and a ``resourceVersion``,
every patch a new ``resourceVersion``, and a merge patch that names a
``metadata.resourceVersion`` other than the current one is refused with 409
(optimistic concurrency, as a real API server does). It also answers
``GET /api/v1/namespaces`` (list and watch), which kmock 0.8 fails with a 500
and which kopf asks for when the operator is given ``--namespace``: the
namespaces are ``default`` and those of the stored objects.

It serves Pod logs, ``GET /api/v1/namespaces/{ns}/pods/{name}/log`` (``tailLines``,
``container``), as text/plain from the text a test wrote for the Pod
(:meth:`EmulatedApiServer.write_pod_log`: the test plays the kubelet). The answers
follow the API server and the kubelet: 404 for an unknown Pod; 400 when the Pod has
several containers and none is named, or its container has not started (``... is
waiting to start``); an empty 200 for a Pod not yet bound to a node, and for a
container that ran and wrote nothing.

``EmulatedApiServer`` runs it on a loopback port in a background thread so
that real operator and agent processes can talk to it over HTTP.
``python -m sedna.testing.k8s_emulator`` serves one until killed.
"""

import argparse
import asyncio
import datetime
import itertools
import json
import threading
import uuid
import urllib.error
import urllib.request

from sedna.runtimes.kubernetes.api import path as api_path

RESOURCES = {
    "sedna.io/v1alpha1/lifelonglearningjobs": ("LifelongLearningJob", ["ll"]),
    "sedna.io/v1alpha1/datasets": ("Dataset", []),
    "v1/pods": ("Pod", ["po"]),
    "v1/secrets": ("Secret", []),
    "v1/events": ("Event", []),
    "v1/namespaces": ("Namespace", ["ns"]),
}


def declare(kmock):
    """Declare the resources the operator and the agent use (discovery)."""
    from kmock import ResourceInfo

    for key, (kind, short) in RESOURCES.items():
        kmock.resources[key] = ResourceInfo(
            kind=kind, namespaced=kind != "Namespace", shortnames=short,
            subresources={"status"} if key.startswith("sedna.io") or kind == "Pod" else set(),
            verbs={"list", "watch", "get", "create", "patch", "update", "delete"})


_VERSIONS = itertools.count(1)
NAMESPACES_PATH = "/api/v1/namespaces"
NAMESPACE_WATCH_S = 5.0  # an (empty) namespace watch stays open this long, then the client re-lists


def namespace_list(object_keys):
    """A NamespaceList of ``default`` and the namespaces in ``object_keys`` ((resource, ns, name)...)."""
    names = sorted({"default"} | {ns for _, ns, _ in object_keys if ns})
    return {"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"resourceVersion": "1"},
            "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "uid": f"ns-{n}"},
                       "status": {"phase": "Active"}} for n in names]}


def status_body(code, reason, message, details=None):
    """A ``v1.Status`` failure body, as the API server sends with an error."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def last_lines(log, n):
    """The last ``n`` lines of ``log`` (bytes) as the kubelet counts them (a line ends at ``\\n``)."""
    lines = [line + b"\n" for line in log.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    return b"".join(lines[-n:]) if n > 0 else b""


def pod_log_answer(pod, logs, query):
    """(HTTP status, body) of ``GET .../pods/{name}/log?query`` for stored ``pod`` whose
    containers wrote ``logs`` (``{container: bytes}``, key None: the Pod's only or any
    container; None when the test wrote none): text/plain for 200, a ``v1.Status`` dict otherwise."""
    name, spec = pod["metadata"]["name"], pod.get("spec") or {}
    names = [c.get("name") for c in spec.get("containers") or []]
    container = query.get("container")
    if not container and len(names) != 1:
        msg = f"a container name must be specified for pod {name}"
        return 400, status_body(400, "BadRequest", msg + (f", choose one of: [{' '.join(names)}]" if names else ""))
    container = container or names[0]
    if container not in names:
        return 400, status_body(400, "BadRequest", f"container {container} is not valid for pod {name}")
    tail = query.get("tailLines")
    try:
        tail = None if tail is None else int(tail)
    except ValueError:
        return 400, status_body(400, "BadRequest", f"tailLines: invalid value {tail!r}: not an integer")
    if tail is not None and tail < 0:
        return 422, status_body(422, "Invalid", f'PodLogOptions "{name}" is invalid: tailLines: Invalid value: '
                                                f"{tail}: must be greater than or equal to 0")
    if not spec.get("nodeName"):
        return 200, b""  # not bound to a node: the API server answers an empty stream
    cstatus = next((c for c in (pod.get("status") or {}).get("containerStatuses") or []
                    if c.get("name") == container), {})
    state = cstatus.get("state") or {}
    if not (state.get("running") or state.get("terminated") or (cstatus.get("lastState") or {}).get("terminated")):
        why = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
        msg = f'container "{container}" in pod "{name}" is waiting to start: {why}'
        return 400, status_body(400, "BadRequest", msg)
    logs = logs or {}
    log = logs.get(container, logs.get(None)) or b""
    return 200, log if tail is None else last_lines(log, tail)


def _stamp(objects, request, action, error):
    """Give a created object its uid, resourceVersion and creation time; check and move an
    updated one's resourceVersion (409 when the client's is stale)."""
    rv = str(next(_VERSIONS))
    data = request.data
    if request.action == action.CREATE and isinstance(data, dict):
        meta = data.setdefault("metadata", {})
        meta.update(uid=str(uuid.uuid4()), resourceVersion=rv)
        meta.setdefault("creationTimestamp",
                        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    elif request.action == action.UPDATE and request.name is not None:
        key = (request.resource, request.namespace, request.name)
        if key not in objects or objects[key].deleted:
            return
        current = (objects[key].get("metadata") or {}).get("resourceVersion")
        if isinstance(data, list):
            _test_ops(objects, key, data, error)
            data.append({"op": "add", "path": "/metadata/resourceVersion", "value": rv})
            return
        want = (data.get("metadata") or {}).get("resourceVersion")
        if want and current and want != current:
            raise error(status=409, reason="Conflict",
                        message=f"the object has been modified (resourceVersion {current}, not {want})")
        data.setdefault("metadata", {})["resourceVersion"] = rv

def _test_ops(objects, key, ops, error):
    """A JSON patch whose ``test`` fails is a 422 (as on a real server), not a 500."""
    import jsonpatch

    tests = [op for op in ops if isinstance(op, dict) and op.get("op") == "test"]
    try:
        jsonpatch.apply_patch(dict(objects[key].raw), tests, in_place=False)
    except jsonpatch.JsonPatchException as e:
        raise error(status=422, reason="Invalid", message=f"the patch's test failed: {e}") from None


def _make_emulator_class():
    from kmock import KubernetesEmulator, KubernetesError, action

    class VersionedEmulator(KubernetesEmulator):
        recorder = None  # called with every request served, when set
        pod_logs = None  # {(namespace, pod): {container: bytes it wrote}}, shared with EmulatedApiServer

        async def __call__(self, raw_request):
            if raw_request.method == "GET" and raw_request.path.rstrip("/") == NAMESPACES_PATH:
                return await self._namespaces(raw_request)
            return await super().__call__(raw_request)

        async def _namespaces(self, raw_request):
            from aiohttp import web

            if raw_request.query.get("watch") not in ("true", "1"):
                return web.json_response(namespace_list(list(self._objects)))
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            await resp.prepare(raw_request)
            wait = min(NAMESPACE_WATCH_S, float(raw_request.query.get("timeoutSeconds") or NAMESPACE_WATCH_S))
            await asyncio.sleep(wait)  # no namespace events: the stream ends and the client lists again
            await resp.write_eof()
            return resp

        async def _handle(self, request):
            if self.recorder is not None:
                self.recorder(request)
            # kmock 0.8 keeps every request and matches each new one against them all, so a long
            # run slows to a halt (114 ms a request after 1,500): keep only the current one
            del self._requests[:-1]
            if request.resource is not None and request.resource.group == "" and request.resource.plural == "pods":
                if request.subresource == "log" and request.action == action.FETCH:
                    return self._pod_log(request)
                if request.action == action.DELETE and request.name and self.pod_logs is not None:
                    self.pod_logs.pop((request.namespace, request.name), None)  # the log goes with its Pod
            if request.resource is not None and isinstance(request.data, (dict, list)):
                self._stamp(request, action, KubernetesError)
            return await super()._handle(request)

        def _pod_log(self, request):
            from aiohttp import web

            key = (request.resource, request.namespace, request.name)
            if key not in self._objects or self._objects[key].deleted:
                return web.json_response(status_body(404, "NotFound", f'pods "{request.name}" not found',
                                                     {"name": request.name, "kind": "pods"}), status=404)
            code, body = pod_log_answer(self._objects[key].raw, (self.pod_logs or {}).get(
                (request.namespace, request.name)), request.params)
            if code != 200:
                return web.json_response(body, status=code)
            return web.Response(body=body, status=200, content_type="text/plain")

        def _stamp(self, request, action, error):
            _stamp(self._objects, request, action, error)

    return VersionedEmulator


class EmulatedApiServer:
    """A kmock Kubernetes emulator on ``127.0.0.1:<port>``, in a daemon thread."""

    def __init__(self, port=0, recorder=None):
        self.port = port
        self.recorder = recorder
        self.pod_logs = {}
        self.url = None
        self._ready = threading.Event()
        self._stop = None
        self._loop = None
        self._error = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="kmock")

    def start(self, timeout=20.0):
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the API emulator did not start")
        if self._error:
            raise RuntimeError(f"the API emulator failed: {self._error}")
        return self

    def stop(self):
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def write_pod_log(self, namespace, name, text, container=None):
        """Play the kubelet: what Pod ``name``'s container wrote (str or bytes), served from
        then on at ``.../pods/{name}/log`` (until the Pod is deleted); ``container`` names
        it in a Pod of several (``?container=``)."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        self.pod_logs.setdefault((namespace, name), {})[container] = data

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self):
        try:
            asyncio.run(self._serve())
        except Exception as e:  # noqa: BLE001 - reported to the starting thread
            self._error = e
            self._ready.set()

    async def _serve(self):
        from kmock import Server

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with _make_emulator_class()() as kmock, Server(kmock, port=self.port or None) as srv:
            kmock.recorder = self.recorder
            kmock.pod_logs = self.pod_logs
            declare(kmock)
            self.url = str(srv.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()


class SyncClient:
    """A blocking client for tests: ``kube.create(("v1", "pods"), "default", body)``...
    (``res`` as in :mod:`sedna.runtimes.kubernetes.api`). Returns None on 404."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def call(self, method, p, body=None, content_type="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + p, data=data, method=method, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise RuntimeError(f"{method} {p}: HTTP {e.code}: {e.read()[:300]!r}") from None
        return json.loads(text) if text else None

    def get(self, res, ns, name):
        return self.call("GET", api_path(*res, ns, name))

    def list(self, res, ns=None):
        return (self.call("GET", api_path(*res, ns)) or {}).get("items") or []

    def create(self, res, ns, body):
        body = dict(body, metadata=dict(body.get("metadata") or {}, namespace=ns))
        return self.call("POST", api_path(*res, ns), body)

    def patch(self, res, ns, name, body, sub=None):
        return self.call("PATCH", api_path(*res, ns, name, sub), body, "application/merge-patch+json")

    def delete(self, res, ns, name):
        return self.call("DELETE", api_path(*res, ns, name))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sedna.testing.k8s_emulator")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    srv = EmulatedApiServer(args.port).start()
    print(srv.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
