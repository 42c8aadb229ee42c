"""The CLI's HTTP client of the control plane (the admin token from the state folder)."""

import json
import os
import urllib.error
import urllib.request

from sedna.cli import UserError
from sedna.runtimes.local.runtime import DEFAULT_PORT, state_paths


class Client:
    def __init__(self, state_dir, server=None):
        self.state_dir = os.path.abspath(state_dir)
        paths = state_paths(self.state_dir)
        self.url = server or os.environ.get("SEDNA_SERVER")
        if not self.url:
            try:
                with open(paths["server"]) as f:
                    self.url = json.load(f)["url"]
            except (OSError, ValueError, KeyError):
                self.url = f"http://127.0.0.1:{DEFAULT_PORT}"
        try:
            with open(paths["token"]) as f:
                self.token = f.read().strip()
        except OSError:
            self.token = os.environ.get("SEDNA_TOKEN", "")

    def call(self, method, path, body=None, raw=False):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                payload = resp.read()
                if raw:
                    return payload, dict(resp.headers)
                return json.loads(payload or b"null")
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                detail = json.loads(text)
            except ValueError:
                detail = {"message": text}
            msg = detail.get("message") or detail.get("detail") or text
            if isinstance(msg, list):
                msg = "; ".join(str(m) for m in msg)
            raise UserError(msg) from None
        except (urllib.error.URLError, ConnectionError) as e:
            raise UserError(f"no sedna control plane at {self.url} ({getattr(e, 'reason', e)}); "
                            "start one with `sedna up`") from None
