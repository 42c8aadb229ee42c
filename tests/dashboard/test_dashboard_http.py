"""The dashboard's login, cookie and CSRF over plain HTTP (no browser), against a
real ``sedna up`` on loopback: what a browser would be told, header by header."""

import http.client
import re
from urllib.parse import urlencode, urlsplit

import pytest

from support.dashboard import token_of


def call(url, method="GET", body=None, headers=None):
    """One request, no redirect followed: ``(status, headers (lower-case names), text)``."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    data = urlencode(body).encode() if isinstance(body, dict) else body
    hdrs = dict(headers or {})
    if isinstance(body, dict):
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, u.path + (f"?{u.query}" if u.query else ""), body=data, headers=hdrs)
    r = conn.getresponse()
    out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace")
    conn.close()
    return out


def log_in(cp):
    """``(cookie header value, csrf token)`` of a fresh session."""
    status, headers, _ = call(cp.url + "/ui/login", "POST", {"token": token_of(cp), "next": "/ui/"})
    assert status == 303, status
    cookie = headers["set-cookie"].split(";", 1)[0]
    _, _, page = call(cp.url + "/ui/", headers={"Cookie": cookie})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return cookie, csrf


def test_login_sets_a_private_session_cookie_that_is_not_the_token(control_plane):
    status, headers, _ = call(control_plane.url + "/ui/login", "POST",
                              {"token": token_of(control_plane), "next": "/ui/"})
    assert status == 303 and headers["location"] == "/ui/"
    cookie = headers["set-cookie"]
    flags = [f.strip().lower() for f in cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/ui" in flags
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    assert token_of(control_plane) not in cookie and len(value) >= 32
    status, _, page = call(control_plane.url + "/ui/", headers={"Cookie": cookie.split(";", 1)[0]})
    assert status == 200 and "Jobs" in page


def test_a_wrong_token_gets_the_form_again_and_no_cookie(control_plane):
    status, headers, page = call(control_plane.url + "/ui/login", "POST", {"token": "not-it", "next": "/ui/"})
    assert status == 401 and "set-cookie" not in headers
    assert "token: not this server&#x27;s admin token" in page or "not this server" in page


def test_pages_without_a_session_redirect_to_the_login_form(control_plane):
    status, headers, _ = call(control_plane.url + "/ui/")
    assert status == 303 and headers["location"].startswith("/ui/login?next=")
    status, headers, _ = call(control_plane.url + "/ui/", headers={"Cookie": "sedna_ui=forged"})
    assert status == 303
    status, _, page = call(control_plane.url + "/ui/login")  # the form and the stylesheet need no session
    assert status == 200 and 'name="token"' in page
    assert call(control_plane.url + "/ui/static/dashboard.css")[0] == 200


def test_the_server_root_sends_a_browser_to_the_dashboard_and_tells_a_client_where_things_are(control_plane):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    status, headers, _ = call(control_plane.url + "/", headers={"Accept": browser})
    assert status == 307 and headers["location"] == "/ui/"
    status, headers, body = call(control_plane.url + "/", headers={"Accept": "application/json"})
    assert status == 200 and headers["content-type"] == "application/json" and '"dashboard":"/ui/"' in body
    status, _, _ = call(control_plane.url + "/apis/sedna.io/v1alpha1/lifelonglearningjobs")
    assert status == 401  # the API itself still asks for the token


def test_login_never_redirects_off_the_dashboard(control_plane):
    for target in ("https://evil.example/", "//evil.example/ui/", "/apis/x"):
        status, headers, _ = call(control_plane.url + "/ui/login", "POST",
                                  {"token": token_of(control_plane), "next": target})
        assert status == 303 and headers["location"] == "/ui/", target


def test_a_post_without_session_or_csrf_is_refused(control_plane):
    cookie, csrf = log_in(control_plane)
    # logging out is a mutation like any other: no session, no CSRF, or a wrong CSRF -> 403
    assert call(control_plane.url + "/ui/logout", "POST", {"csrf": csrf})[0] == 403
    assert call(control_plane.url + "/ui/logout", "POST", {}, headers={"Cookie": cookie})[0] == 403
    assert call(control_plane.url + "/ui/logout", "POST", {"csrf": csrf[:-1] + "x"},
                headers={"Cookie": cookie})[0] == 403
    assert call(control_plane.url + "/ui/", headers={"Cookie": cookie})[0] == 200  # still logged in
    status, headers, _ = call(control_plane.url + "/ui/logout", "POST", {"csrf": csrf}, headers={"Cookie": cookie})
    assert status == 303
    assert call(control_plane.url + "/ui/", headers={"Cookie": cookie})[0] == 303  # the session is gone


@pytest.mark.parametrize("body", [b"\xff\xfe", b"token=" + b"x" * 70000])
def test_bad_login_forms_get_an_error_not_a_crash(control_plane, body):
    status, _, text = call(control_plane.url + "/ui/login", "POST", body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (400, 413) and "form" in text
    assert control_plane.healthy()


def test_pages_forbid_inline_scripts_and_framing(control_plane):
    cookie, _ = log_in(control_plane)
    _, headers, _ = call(control_plane.url + "/ui/", headers={"Cookie": cookie})
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_a_job_that_does_not_exist_is_a_404_page_after_login(control_plane):
    url = control_plane.url + "/ui/jobs/default/nope"
    status, headers, _ = call(url)
    assert status == 303 and headers["location"] == "/ui/login?next=%2Fui%2Fjobs%2Fdefault%2Fnope"
    cookie, _ = log_in(control_plane)
    status, _, page = call(url, headers={"Cookie": cookie})
    assert status == 404 and "No job default/nope" in page


def test_bad_rollback_and_log_requests_name_the_problem(control_plane):
    cookie, csrf = log_in(control_plane)
    url = control_plane.url + "/ui/jobs/default/nope/rollback"
    status, _, text = call(url, "POST", {"csrf": csrf, "version": "one"}, headers={"Cookie": cookie})
    assert status == 400 and "version" in text
    status, _, text = call(url, "POST", {"csrf": csrf, "version": "1"}, headers={"Cookie": cookie})
    assert status == 404 and "nope" in text
    status, _, text = call(control_plane.url + "/ui/jobs/default/nope/workers/w-1/log", headers={"Cookie": cookie})
    assert status == 404 and "no worker" in text
    assert control_plane.healthy()
