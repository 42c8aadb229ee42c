"""A small async client for the Kubernetes API (aiohttp), and how to reach it.

The operator and the agent need a handful of verbs on a handful of
resources; the ``kubernetes`` client package is not a dependency (its
python-dateutil pin conflicts with botocore). :func:`connection` finds the
server the way kubectl would, in this order: an explicit ``--server`` URL
(with the credentials of ``--kubeconfig`` if one is given, else none),
the in-cluster service account, a kubeconfig (its current context's server,
token or client certificate, and CA, as files or inline ``*-data``).
"""

import json
import os
import ssl
from dataclasses import dataclass
from typing import Optional

import aiohttp
from sedna.common import constants
from sedna.common.constants import GROUP_VERSION
from sedna.common.exceptions import ApiError, Conflict  # noqa: F401 - ApiError re-exported

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
JOBS = (GROUP_VERSION, constants.JOBS)
DATASETS = (GROUP_VERSION, constants.DATASETS)
PODS = ("v1", "pods")
SECRETS = ("v1", "secrets")


@dataclass
class Connection:
    server: str
    token: Optional[str] = None
    ca_path: Optional[str] = None
    insecure: bool = False
    cert_path: Optional[str] = None
    key_path: Optional[str] = None


def connection(server=None, kubeconfig=None):
    """Where the API server is and how to authenticate to it."""
    if server and kubeconfig:  # the kubeconfig's credentials, another address
        conn = _from_kubeconfig(kubeconfig)
        conn.server = server.rstrip("/")
        return conn
    if server:  # no credentials (an API emulator, a local proxy such as `kubectl proxy`)
        return Connection(server=server.rstrip("/"))
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
    if host and port and os.path.exists(os.path.join(SA_DIR, "token")):
        with open(os.path.join(SA_DIR, "token")) as f:
            token = f.read().strip()
        return Connection(server=f"https://{host}:{port}", token=token, ca_path=os.path.join(SA_DIR, "ca.crt"))
    return _from_kubeconfig(kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config"))


def _from_kubeconfig(path):
    import yaml

    with open(path.split(os.pathsep)[0]) as f:
        cfg = yaml.safe_load(f) or {}
    ctx_name = cfg.get("current-context")
    ctx = next(c["context"] for c in cfg.get("contexts", []) if c.get("name") == ctx_name)
    cluster = next(c["cluster"] for c in cfg.get("clusters", []) if c.get("name") == ctx["cluster"])
    user = next((u["user"] for u in cfg.get("users", []) if u.get("name") == ctx.get("user")), {}) or {}
    return Connection(server=cluster["server"].rstrip("/"), token=user.get("token"),
                      ca_path=_file_or_data(cluster, "certificate-authority"),
                      insecure=bool(cluster.get("insecure-skip-tls-verify")),
                      cert_path=_file_or_data(user, "client-certificate"),
                      key_path=_file_or_data(user, "client-key"))


def _file_or_data(entry, key):
    """A kubeconfig ``key`` (a path) or ``key-data`` (base64, written to a private temporary file)."""
    if entry.get(key):
        return entry[key]
    data = entry.get(f"{key}-data")
    if not data:
        return None
    import base64
    import tempfile

    fd, name = tempfile.mkstemp(prefix="sedna-kube-", suffix=".pem")  # mode 0600
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(data))
    return name


def path(gv, plural, namespace=None, name=None, sub=None):
    base = "/api/v1" if gv == "v1" else f"/apis/{gv}"
    p = f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"
    if name:
        p += f"/{name}"
    if sub:
        p += f"/{sub}"
    return p


class Api:
    """``await api.get(JOBS, ns, name)`` and friends; one aiohttp session."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.calls = 0
        self._session = None

    async def __aenter__(self):
        headers = {"Authorization": f"Bearer {self.conn.token}"} if self.conn.token else {}
        ctx = None
        if self.conn.server.startswith("https"):
            ctx = ssl.create_default_context(cafile=self.conn.ca_path) if self.conn.ca_path else \
                ssl.create_default_context()
            if self.conn.insecure:
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            if self.conn.cert_path:
                ctx.load_cert_chain(self.conn.cert_path, self.conn.key_path)
        self._session = aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(ssl=ctx) if ctx else None,
                                              timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc):
        await self._session.close()

    async def _call(self, method, p, body=None, params=None, content_type="application/json"):
        self.calls += 1
        data = json.dumps(body) if body is not None else None
        async with self._session.request(method, self.conn.server + p, data=data, params=params,
                                         headers={"Content-Type": content_type}) as r:
            text = await r.text()
            if r.status >= 300:
                raise ApiError(r.status, text[:500])
            return json.loads(text) if text else None

    async def get(self, res, namespace, name, sub=None):
        """The object, or None when it does not exist."""
        try:
            return await self._call("GET", path(*res, namespace, name, sub))
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    async def list(self, res, namespace=None, labels=None):
        """Items; ``labels`` ({key: value}) is sent as a selector and also checked here."""
        params = {"labelSelector": ",".join(f"{k}={v}" for k, v in labels.items())} if labels else None
        out = await self._call("GET", path(*res, namespace), params=params)
        items = out.get("items") or []
        if labels:
            items = [i for i in items
                     if all((i.get("metadata", {}).get("labels") or {}).get(k) == v for k, v in labels.items())]
        return items

    async def create(self, res, namespace, body, exclusive=False):
        """Create; an object of that name that exists already is returned as it is (idempotent),
        or with ``exclusive`` is a :class:`Conflict` (the API server decides: one of concurrent
        creates wins)."""
        try:
            return await self._call("POST", path(*res, namespace), body)
        except ApiError as e:
            if e.status != 409:
                raise
            if exclusive:
                raise Conflict(f"{body.get('kind', res[-1])} {namespace}/{body['metadata']['name']} "
                               "already exists") from None
            return await self.get(res, namespace, body["metadata"]["name"])

    async def patch(self, res, namespace, name, body, sub=None):
        """JSON merge patch (RFC 7386); put ``metadata.resourceVersion`` in ``body`` for
        optimistic concurrency (a real server answers 409 when it moved on)."""
        return await self._call("PATCH", path(*res, namespace, name, sub), body,
                                content_type="application/merge-patch+json")

    async def log(self, namespace, name, tail_lines=50, container=None):
        """The last ``tail_lines`` lines of a Pod's log (text; bytes that are not UTF-8 become
        U+FFFD: a log is whatever the container wrote); ``container`` names the container in a
        Pod of several (without it the API server answers 400). A container that wrote nothing,
        or a Pod not bound to a node, gives ""; one whose container never started is an
        ``ApiError`` (400, "... is waiting to start")."""
        self.calls += 1
        params = {"tailLines": str(tail_lines)}
        if container:
            params["container"] = container
        async with self._session.get(self.conn.server + path("v1", "pods", namespace, name, "log"),
                                     params=params) as r:
            text = (await r.read()).decode("utf-8", errors="replace")
            if r.status >= 300:
                raise ApiError(r.status, text[:200])
            return text

    async def delete(self, res, namespace, name):
        try:
            return await self._call("DELETE", path(*res, namespace, name))
        except ApiError as e:
            if e.status != 404:
                raise
            return None
