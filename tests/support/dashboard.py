"""The dashboard's helpers shared by its tests: a control plane's admin token, a logged-in page."""

import os
import re


def token_of(plane):
    """The admin token of a control plane (its state folder's ``token``)."""
    with open(os.path.join(plane.state_dir, "token"), encoding="utf-8") as f:
        return f.read().strip()


def login(page, plane):
    """Log ``page`` in to the dashboard of ``plane`` (a :class:`support.ctlplane.ControlPlane`) through its form."""
    page.goto(plane.url + "/ui/login")
    page.fill("input[name=token]", token_of(plane))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/ui/$"))
    return page


def http_session(plane):
    """A urllib opener logged in to the dashboard of ``plane`` (its login form, then its cookie)."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = urllib.parse.urlencode({"token": token_of(plane), "next": "/ui/"}).encode()
    with opener.open(plane.url + "/ui/login", data=form, timeout=20) as r:
        assert r.status == 200 and "login" not in r.url
    return opener
