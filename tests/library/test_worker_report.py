"""sedna.worker.report against a real HTTP server on loopback."""

import json
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sedna.worker import report_task_info, reset_report_state

# --------------------------------------------------------------- connect counter
_COUNT = {"on": False, "targets": []}


def _audit(event, args):
    if event == "socket.connect" and _COUNT["on"]:
        _COUNT["targets"].append(args[1])


sys.addaudithook(_audit)


class _Connects:
    """Counts real socket.connect calls (via the interpreter's audit hook)."""

    def __enter__(self):
        _COUNT["targets"] = []
        _COUNT["on"] = True
        return self

    def __exit__(self, *exc):
        _COUNT["on"] = False

    def to_port(self, port):
        return [t for t in _COUNT["targets"] if isinstance(t, tuple) and t[1] == port]


# ---------------------------------------------------------------------- server
class _Server:
    """A loopback HTTP server answering with scripted status codes."""

    def __init__(self, codes=(200,)):
        self.codes = list(codes)
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": json.loads(body)})
                code = outer.codes.pop(0) if len(outer.codes) > 1 else outer.codes[0]
                payload = json.dumps({"code": code, "msg": "name mismatch" if code == 400
                                      else "ok"}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return port


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    for k in ("LC_SERVER", "LC_TOKEN", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("WORKER_NAME", "road-train-1")
    monkeypatch.setenv("NAMESPACE", "robots")
    monkeypatch.setenv("JOB_NAME", "road")
    reset_report_state()
    yield
    reset_report_state()


RESULTS = [{"format": "pkl", "url": "/out/train/1/index.json", "metrics": {"acc": 0.9}}]


def test_exact_body_and_token(monkeypatch):
    with _Server([200]) as srv:
        monkeypatch.setenv("LC_SERVER", srv.url)
        monkeypatch.setenv("LC_TOKEN", "s3cret")
        assert report_task_info("train", "completed", RESULTS, {"rounds": 1}) is True
    assert len(srv.requests) == 1
    req = srv.requests[0]
    assert req["path"] == "/sedna/workers/road-train-1/info"
    assert req["headers"]["Authorization"] == "Bearer s3cret"
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["body"] == {
        "name": "road-train-1", "namespace": "robots", "ownerName": "road",
        "ownerKind": "lifelonglearningjob", "kind": "train", "status": "completed",
        "results": RESULTS, "ownerInfo": {"rounds": 1}}


def test_no_token_no_header(monkeypatch):
    with _Server([200]) as srv:
        monkeypatch.setenv("LC_SERVER", srv.url + "/")
        assert report_task_info("eval", "failed", []) is True
    assert "Authorization" not in srv.requests[0]["headers"]
    assert srv.requests[0]["body"]["ownerInfo"] == {}


def test_5xx_retried_then_success(monkeypatch):
    with _Server([503, 500, 200]) as srv:
        monkeypatch.setenv("LC_SERVER", srv.url)
        assert report_task_info("deploy", "completed", RESULTS, backoff=0.001) is True
    assert len(srv.requests) == 3


def test_5xx_bounded(monkeypatch, caplog):
    with _Server([500]) as srv:
        monkeypatch.setenv("LC_SERVER", srv.url)
        with caplog.at_level(logging.WARNING, logger="sedna"):
            assert report_task_info("train", "completed", RESULTS, retries=2,
                                    backoff=0.001) is False
    assert len(srv.requests) == 3
    assert any("not delivered after 3" in r.getMessage() for r in caplog.records)


def test_4xx_not_retried_and_logged(monkeypatch, caplog):
    with _Server([400]) as srv:
        with caplog.at_level(logging.WARNING, logger="sedna"):
            ok = report_task_info("train", "completed", RESULTS, server=srv.url, token="t",
                                  backoff=0.001)
    assert ok is False
    assert len(srv.requests) == 1
    assert srv.requests[0]["headers"]["Authorization"] == "Bearer t"
    msgs = [r.getMessage() for r in caplog.records]
    assert any("HTTP 400" in m and "name mismatch" in m for m in msgs)


def test_unset_server_sends_nothing_and_says_so_once(caplog):
    # a library-only script: no connection to any port (a `sedna up` on 9100 would answer 401)
    with caplog.at_level(logging.DEBUG, logger="sedna"), _Connects():
        assert report_task_info("train", "completed", RESULTS, backoff=5.0) is False
    assert _COUNT["targets"] == []
    infos = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(infos) == 1 and "LC_SERVER is not set" in infos[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sedna"), _Connects():
        assert report_task_info("eval", "completed", RESULTS, backoff=5.0) is False
    assert _COUNT["targets"] == [] and caplog.records == []  # said once per process


def test_set_server_dead_port_bounded(monkeypatch, caplog):
    port = _dead_port()
    monkeypatch.setenv("LC_SERVER", f"http://127.0.0.1:{port}")
    with caplog.at_level(logging.WARNING, logger="sedna"), _Connects() as conn:
        assert report_task_info("train", "failed", RESULTS, retries=2, backoff=0.001) is False
    assert len(conn.to_port(port)) == 3
    assert sum("not delivered" in r.getMessage() for r in caplog.records) == 1
    # an explicit server is not "remembered" as unreachable: it is tried again
    with _Connects() as conn:
        assert report_task_info("train", "failed", RESULTS, retries=0) is False
    assert len(conn.to_port(port)) == 1


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        report_task_info("training", "completed", [])
    with pytest.raises(ValueError):
        report_task_info("train", "done", [])
