"""The dashboard's session table and login redirect rule
(sedna.server.dashboard.session), with a fake clock; the cookie and CSRF over
real HTTP are in tests/dashboard/test_dashboard_http.py."""

from sedna.server.dashboard import session
from sedna.server.dashboard.session import Sessions, safe_next


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_a_session_expires_and_is_then_unknown():
    clock = Clock()
    s = Sessions(clock)
    sid = s.create()
    assert s.get(sid)["csrf"] and s.get("x" + sid) is None and s.get("") is None
    clock.t += session.SESSION_SECONDS - 1
    assert s.get(sid) is not None
    clock.t += 2
    assert s.get(sid) is None


def test_each_session_has_its_own_csrf_token_and_logout_drops_only_it():
    s = Sessions(Clock())
    a, b = s.create(), s.create()
    assert a != b and s.get(a)["csrf"] != s.get(b)["csrf"]
    s.drop(a)
    assert s.get(a) is None and s.get(b) is not None
    s.drop(None)  # no cookie: nothing to drop, no error


def test_the_oldest_sessions_go_beyond_the_bound(monkeypatch):
    monkeypatch.setattr(session, "MAX_SESSIONS", 3)
    s = Sessions(Clock())
    ids = [s.create() for _ in range(5)]
    assert [s.get(i) is not None for i in ids] == [False, False, True, True, True]


def test_login_only_sends_back_to_a_dashboard_page():
    assert safe_next("/ui/jobs/default/robo-demo?metric=mIoU") == "/ui/jobs/default/robo-demo?metric=mIoU"
    for bad in (None, "", "/apis/x", "https://evil.example/ui/", "//evil.example/ui/", "/ui/\\\\evil.example/", 42):
        assert safe_next(bad) == "/ui/", bad
