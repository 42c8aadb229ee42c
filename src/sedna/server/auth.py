"""Who may call what: the Host header, the admin token and the workers' own tokens.

* ``/healthz`` needs no token (the Host header is still checked);
* the admin token (the state folder's ``token``, the CLI's) may call everything;
* a worker's token (``LC_TOKEN``, minted per worker, only its hash stored) may
  post its own report and nothing else;
* a ``Host`` header that is not the address the server is bound to (or one
  configured with ``SEDNA_ALLOWED_HOSTS``) is refused, so a page in a browser
  cannot reach the API through DNS rebinding;
* the dashboard (``/ui/...``) is a browser's: its login form and static files
  need nothing, every other page checks the session cookie itself
  (:func:`sedna.server.dashboard.session.require_viewer`, which takes the
  admin token once, at login, through :func:`is_admin_token`).

:func:`decide` is the pure rule; :func:`middleware` applies it to each request.
"""

import hmac
import ipaddress
import os
from dataclasses import dataclass
from typing import Optional

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from sedna.common.api_paths import HEALTHZ, report_path

ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    role: str                      # "admin" or "worker"
    namespace: Optional[str] = None
    name: Optional[str] = None


def is_loopback(host):
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound_host, port, extra=None):
    """The ``Host`` values accepted for a server bound to ``bound_host:port``;
    None when any is (bound to every interface: the token still guards)."""
    if bound_host in ("0.0.0.0", "::", ""):
        return None
    names = {bound_host}
    if is_loopback(bound_host):
        names |= {"localhost", "127.0.0.1", "[::1]"}
    if ":" in bound_host and not bound_host.startswith("["):
        names.add(f"[{bound_host}]")
    names |= {h.strip() for h in (extra or []) if h.strip()}
    out = set()
    for n in names:
        out |= {n.lower(), f"{n.lower()}:{port}"}
    return frozenset(out)


def bearer(headers):
    """The token of an ``Authorization: Bearer`` header as bytes (any bytes), or b""."""
    raw = headers.get("authorization", "").encode("latin-1", "replace")
    return raw[7:].strip() if raw[:7].lower() == b"bearer " else b""


UI = "/ui"


def is_admin_token(token, admin_token):
    """Whether ``token`` (bytes) is the admin token (a constant-time comparison)."""
    return bool(token) and hmac.compare_digest(token, admin_token.encode())


def is_ui(path):
    """Whether ``path`` is the dashboard's (served to browsers, guarded by its session)."""
    return path in ("/", UI) or path.startswith(UI + "/")  # "/": sends a browser on to the dashboard


def decide(method, path, host, token, admin_token, worker_of, hosts):
    """``(Caller, None)`` when the request may go on, else ``(None, (status, message))``.

    ``worker_of(token) -> (namespace, name) | None`` looks a worker token up."""
    if hosts is not None and (host or "").lower() not in hosts:
        return None, (421, f"Host {host!r} is not this server's address; set SEDNA_ALLOWED_HOSTS to add it")
    if path == HEALTHZ:
        return Caller("anonymous"), None
    if is_admin_token(token, admin_token):
        return Caller(ADMIN), None
    if is_ui(path):  # the login form, static files, or a page that checks its session cookie
        return Caller("anonymous"), None
    who = worker_of(token.decode("latin-1")) if token else None
    if who is not None:
        if method == "POST" and path == report_path(who[1]):
            return Caller("worker", *who), None
        return None, (403, "a worker's token may only post that worker's own report")
    return None, (401, "missing or wrong token (Authorization: Bearer <token from the state folder>)")


def middleware(runtime):
    """An HTTP middleware applying :func:`decide`; the caller lands in ``request.state.caller``."""
    extra = [h for h in os.environ.get("SEDNA_ALLOWED_HOSTS", "").split(",") if h.strip()]
    hosts = allowed_hosts(runtime.host, runtime.port, extra) if hasattr(runtime, "host") else None
    if hosts is not None and getattr(runtime, "kube_port", None):  # the kubectl listener (HTTPS)
        hosts = hosts | allowed_hosts(runtime.host, runtime.kube_port, extra)

    async def check(request, call_next):
        caller, refusal = await run_in_threadpool(  # a worker token is looked up in SQLite
            decide, request.method, request.url.path, request.headers.get("host"), bearer(request.headers),
            runtime.token, runtime.worker_by_token, hosts)
        if refusal is not None:
            return JSONResponse(status_code=refusal[0], content={"message": refusal[1]})
        request.state.caller = caller
        return await call_next(request)

    return check
