"""The dashboard's login form: ``GET /ui/login`` shows it, ``POST /ui/login``
checks the token with :func:`sedna.server.auth.is_admin_token` (the API's own
comparison) and starts a session (:mod:`sedna.server.dashboard.session`),
``POST /ui/logout`` ends one."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from sedna.server import auth
from sedna.server.common import runtime_of
from sedna.server.dashboard.render import esc, page
from sedna.server.dashboard.session import (COOKIE, COOKIE_PATH, HOME, LOGIN, SESSION_SECONDS, check_csrf,
                                            read_form, safe_next, sessions_of)

router = APIRouter()


def _login_form(request, next_url, error=""):
    msg = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = f"""
<section class="login">
  <h1>Log in</h1>
  <p>The dashboard takes the control plane's admin token: the file <code>token</code> in
  the state folder (<code>cat .sedna/token</code> where you ran <code>sedna up</code>).</p>
  {msg}
  <form method="post" action="{LOGIN}">
    <input type="hidden" name="next" value="{esc(next_url)}">
    <label>Token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
    <button type="submit">Log in</button>
  </form>
</section>"""
    return page(request, "Log in", body, status=401 if error else 200, nav=False)


@router.get(LOGIN)
def login_form(request: Request, next: str = HOME):  # noqa: A002 - the query parameter's name
    return _login_form(request, safe_next(next))


@router.post(LOGIN)
async def login(request: Request):
    form = await read_form(request)
    next_url = safe_next(form.get("next"))
    token = form.get("token", "").strip().encode("utf-8", "replace")
    if not auth.is_admin_token(token, runtime_of(request).token):
        return _login_form(request, next_url, "token: not this server's admin token")
    old = request.cookies.get(COOKIE)
    if old:
        sessions_of(request).drop(old)  # a fresh id at each login (no session fixation)
    resp = RedirectResponse(next_url, status_code=303)
    resp.set_cookie(COOKIE, sessions_of(request).create(), max_age=SESSION_SECONDS, path=COOKIE_PATH,
                    httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return resp


@router.post("/ui/logout")
async def logout(request: Request):
    form = await read_form(request)
    check_csrf(request, form.get("csrf"))
    sessions_of(request).drop(request.cookies.get(COOKIE))
    resp = RedirectResponse(LOGIN, status_code=303)
    resp.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return resp
