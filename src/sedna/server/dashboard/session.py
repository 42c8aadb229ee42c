"""The dashboard's sessions: the admin token, typed once at the login form
(:mod:`sedna.server.dashboard.login`), becomes a session cookie
``sedna_ui``: an opaque random session id (never the token), ``HttpOnly``,
``SameSite=Strict``, ``Path=/ui`` (and ``Secure`` over HTTPS). Sessions live in
the server's memory, so a restart logs everyone out.

Every other page calls :func:`require_viewer`; every mutating action is a POST
whose form carries :func:`csrf_token`, checked by :func:`check_csrf`. A caller
with the admin token in an ``Authorization`` header (a script, the benchmark)
passes both: a browser never sends that header by itself, so it cannot be forged
across sites.
"""

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from urllib.parse import parse_qs, quote

from fastapi import HTTPException, Request

from sedna.server import auth
from sedna.server.common import body_text

COOKIE = "sedna_ui"
COOKIE_PATH = "/ui"
SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 1000          # the oldest session goes when a new one would exceed this
MAX_FORM_BYTES = 64 * 1024   # a login or action form; the labelling form may ask for more
LOGIN = "/ui/login"
HOME = "/ui/"


class Sessions:
    """Session id → ``{"csrf", "expires"}``, kept by the id's SHA-256 (a lookup
    never compares a secret byte by byte); thread-safe, bounded, expiring."""

    def __init__(self, clock=time.monotonic):
        self._rows = OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock

    @staticmethod
    def _key(sid):
        return hashlib.sha256(sid.encode("utf-8", "replace")).hexdigest()

    def create(self):
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._rows[self._key(sid)] = {"csrf": secrets.token_urlsafe(32),
                                          "expires": self._clock() + SESSION_SECONDS}
            while len(self._rows) > MAX_SESSIONS:
                self._rows.popitem(last=False)
        return sid

    def get(self, sid):
        """The session of ``sid``, or None when unknown or expired."""
        if not sid:
            return None
        key = self._key(sid)
        with self._lock:
            row = self._rows.get(key)
            if row is not None and row["expires"] < self._clock():
                del self._rows[key]
                row = None
        return row

    def drop(self, sid):
        with self._lock:
            self._rows.pop(self._key(sid or ""), None)


_init_lock = threading.Lock()


def sessions_of(request):
    """The app's :class:`Sessions` (made on first use)."""
    state = request.app.state
    with _init_lock:
        if getattr(state, "ui_sessions", None) is None:
            state.ui_sessions = Sessions()
    return state.ui_sessions


def _bearer_admin(request):
    caller = getattr(request.state, "caller", None)
    return caller is not None and caller.role == auth.ADMIN


def session_of(request):
    """The caller's session (``{"csrf", ...}``), or None."""
    return sessions_of(request).get(request.cookies.get(COOKIE))


def _login_url(request):
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{LOGIN}?next={quote(target, safe='')}"


def require_viewer(request: Request) -> None:
    """Let the request through with a valid session (or the admin token in its
    ``Authorization`` header); else a GET is redirected to the login form (303)
    and anything else is refused (403) before it can change anything."""
    if _bearer_admin(request) or session_of(request) is not None:
        return
    if request.method in ("GET", "HEAD"):
        raise HTTPException(303, "log in first", headers={"Location": _login_url(request)})
    raise HTTPException(403, "no dashboard session: log in at " + LOGIN)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for the hidden ``csrf`` field of every form ("" without a session)."""
    s = session_of(request)
    return s["csrf"] if s is not None else ""


def check_csrf(request: Request, form_value) -> None:
    """403 unless ``form_value`` is the session's CSRF token (constant-time), or
    the caller holds the admin token in its ``Authorization`` header."""
    if _bearer_admin(request):
        return
    s = session_of(request)
    if s is None:
        raise HTTPException(403, "no dashboard session: log in at " + LOGIN)
    given = form_value if isinstance(form_value, str) else ""
    if not hmac.compare_digest(given.encode("utf-8", "replace"), s["csrf"].encode()):
        raise HTTPException(403, "csrf: missing or wrong form token (reload the page and retry)")


async def read_form_lists(request: Request, limit=MAX_FORM_BYTES):
    """An ``application/x-www-form-urlencoded`` body as ``{field: [values]}`` (repeated
    fields such as checkboxes keep every value): 413 over ``limit`` bytes (at most
    the API's body limit), 400 when not UTF-8."""
    return parse_qs(await body_text(request, limit, what="form"), keep_blank_values=True)


async def read_form(request: Request, limit=MAX_FORM_BYTES):
    """Like :func:`read_form_lists`, one value per field (the last): ``{field: value}``."""
    return {k: v[-1] for k, v in (await read_form_lists(request, limit)).items()}


def safe_next(value):
    """Where to go after login: a dashboard path of this server, else the job list."""
    if isinstance(value, str) and value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return HOME
