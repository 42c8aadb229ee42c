"""The CLI's HTTP client of the control plane (the server and token that
:func:`sedna.cli.context.resolve` finds)."""

import json
import os
import urllib.error
import urllib.request

from sedna.cli import UserError
from sedna.common.constants import MAX_BODY_BYTES


class Client:
    def __init__(self, state_dir=None, server=None, context=None, target=None):
        from sedna.cli.context import resolve  # lazy: keeps `sedna` start-up light

        self.target = target or resolve(server=server, state_dir=state_dir, context=context)
        self.url, self.token = self.target.url.rstrip("/"), self.target.token

    def unreachable(self, why):
        """The one-line error when nothing answers at :attr:`url`."""
        from sedna.runtimes.local.runtime import lock_holder  # lazy: keeps `sedna` start-up light

        start = "start one with `sedna up`"
        sd = self.target.state_dir
        if sd and os.path.isdir(sd) and lock_holder(sd) is None:  # the server of that folder has stopped
            start = f"no server runs from {sd}: start it with `sedna up --state-dir {sd}`"
        return UserError(f"no sedna control plane at {self.url} (from {self.target.source}: {why}); {start}, "
                         "or point elsewhere with --server, --state-dir, --context or SEDNA_SERVER")

    def call(self, method, path, body=None, raw=False, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        if data is not None and len(data) > MAX_BODY_BYTES:  # the server would cut the upload short
            raise UserError(f"{method} {path}: the object is {len(data)} bytes as JSON, over the "
                            f"{MAX_BODY_BYTES} bytes the API takes")
        try:
            req = urllib.request.Request(self.url + path, data=data, method=method)
        except ValueError as e:  # not a URL at all
            raise UserError(f"{self.url!r} (from {self.target.source}) is not a server URL: {e}") from None
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                payload = resp.read()
                if raw:
                    return payload, dict(resp.headers)
                return json.loads(payload or b"null")
        except urllib.error.HTTPError as e:
            msg = _http_message(e)
            if e.code in (401, 403, 421):  # the wrong server, or the right one with another's token
                msg += f" (server {self.url} from {self.target.source}; point elsewhere with --server, --state-dir, " \
                       "--context or SEDNA_SERVER/SEDNA_TOKEN)"
            raise UserError(msg) from None
        except (urllib.error.URLError, OSError, ValueError) as e:  # refused, timeout, a reply that is not JSON
            raise self.unreachable(getattr(e, "reason", e)) from None


def _http_message(e):
    text = e.read().decode("utf-8", "replace")
    try:
        detail = json.loads(text)
    except ValueError:
        detail = {"message": text}
    if not isinstance(detail, dict):
        detail = {"message": text}
    msg = detail.get("message") or detail.get("detail") or text or f"HTTP {e.code}"
    if isinstance(msg, list):
        msg = "; ".join(str(m) for m in msg)
    return " ".join(str(msg).split()) if "\n" in str(msg) else str(msg)
