"""Worker -> control plane report (CONTRACTS §2), stdlib only.

``report_task_info(kind, status, results)`` POSTs
``{LC_SERVER}/sedna/workers/{WORKER_NAME}/info`` with the worker's JSON
report. Delivery problems never raise: the function returns ``False`` and
logs. Connection errors and 5xx answers are retried with exponential
backoff; a 4xx is logged with the server's answer and not retried.

When ``LC_SERVER`` is not set (a script run by hand, without a control
plane) nothing is sent and nothing is waited on: one log line says so, once
per process. The control plane always sets it for the workers it starts.
"""

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from sedna.common.api_paths import report_path
from sedna.common.config import BaseConfig, Context
from sedna.common.log import LOGGER

__all__ = ("report_task_info", "build_report", "reset_report_state", "KINDS", "STATUSES")

OWNER_KIND = "lifelonglearningjob"
KINDS = ("train", "eval", "deploy")
STATUSES = ("completed", "failed")

_state_lock = threading.Lock()
_said_no_server = []  # non-empty once "LC_SERVER is not set" was logged in this process


def reset_report_state():
    """Forget that "LC_SERVER is not set" was said (tests, long-lived processes)."""
    with _state_lock:
        _said_no_server.clear()


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _result(item):
    if not isinstance(item, dict):
        raise TypeError(f"a result must be a dict with format/url/metrics, got {item!r}")
    out = dict(item)
    out.setdefault("format", "")
    out.setdefault("url", "")
    out.setdefault("metrics", {})
    return out


def build_report(kind, status, results, owner_info=None):
    """The report body; the identity comes from the environment now."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    if results is None:
        results = []
    elif isinstance(results, dict):
        results = [results]
    return {
        "name": BaseConfig.worker_name,
        "namespace": BaseConfig.namespace,
        "ownerName": BaseConfig.job_name,
        "ownerKind": OWNER_KIND,
        "kind": kind,
        "status": status,
        "results": [_result(r) for r in results],
        "ownerInfo": owner_info if owner_info is not None else {},
    }


def _is_connection_error(err):
    if isinstance(err, urllib.error.HTTPError):
        return False
    if isinstance(err, urllib.error.URLError):
        return True
    return isinstance(err, (ConnectionError, socket.timeout, TimeoutError, OSError))


def _no_control_plane(kind, status):
    """Without ``LC_SERVER`` (a script run by hand, no control plane) nothing is
    sent: said once per process at INFO, then at DEBUG."""
    with _state_lock:
        first = not _said_no_server
        if first:
            _said_no_server.append(True)
    (LOGGER.info if first else LOGGER.debug)(
        "report %s/%s not sent: LC_SERVER is not set (no control plane); reports are dropped", kind, status)
    return False


def _headers(token):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def report_task_info(kind, status, results, owner_info=None, *, server=None, token=None,
                     timeout=2.0, retries=3, backoff=0.2):
    """Send the worker report; True when the server answered 2xx, else False.

    ``server``/``token`` default to ``LC_SERVER``/``LC_TOKEN`` read now; with
    neither ``server`` nor ``LC_SERVER`` nothing is sent. ``retries`` extra
    attempts follow a connection error or a 5xx, after ``backoff * 2**i`` seconds.
    """
    body = build_report(kind, status, results, owner_info)
    base = server or Context.get_parameters("LC_SERVER")
    if not base:
        return _no_control_plane(kind, status)
    url = str(base).rstrip("/") + report_path(urllib.parse.quote(str(body["name"]), safe=""))
    data = json.dumps(body, default=_json_default).encode("utf-8")
    headers = _headers(token or Context.get_parameters("LC_TOKEN"))
    attempts = 1 + max(0, int(retries))
    last = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff * (2 ** (attempt - 1)))
        req = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                resp.read()
                LOGGER.debug("report %s/%s delivered to %s (HTTP %s)", kind, status, url, resp.status)
                return True
        except urllib.error.HTTPError as err:
            detail = _body_of(err)
            if err.code < 500:
                LOGGER.warning("report %s/%s rejected by %s: HTTP %s %s", kind, status, url, err.code, detail)
                return False
            last = f"HTTP {err.code} {detail}"
        except Exception as err:  # noqa: BLE001 - a report never crashes the worker
            if not _is_connection_error(err):
                LOGGER.warning("report %s/%s to %s failed: %s: %s", kind, status, url, type(err).__name__, err)
                return False
            reason = getattr(err, "reason", err)
            last = f"{type(reason).__name__}: {reason}"
        LOGGER.debug("report %s/%s to %s: attempt %d/%d failed: %s", kind, status, url, attempt + 1, attempts, last)
    LOGGER.warning("report %s/%s to %s not delivered after %d attempt(s): %s", kind, status, url, attempts, last)
    return False


def _body_of(err):
    try:
        text = err.read().decode("utf-8", "replace")
    except Exception:  # noqa: BLE001
        text = ""
    text = " ".join(text.split())
    return text[:500]
