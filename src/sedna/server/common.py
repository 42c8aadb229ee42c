"""What every router needs: the runtime, reading a bounded JSON body, the kind of a path."""

import base64
import binascii
import json

from fastapi import HTTPException, Request

from sedna.common.constants import MAX_BODY_BYTES
from sedna.common.exceptions import ManifestError
from sedna.control import resources

MAX_JSON_DEPTH = 100               # a pod template nests ~12 deep
MAX_PAGE = 500                     # items in one list response; ``continue`` fetches the next


def runtime_of(request: Request):
    """The runtime this app serves (a :class:`sedna.control.runtime.Runtime`)."""
    return request.app.state.runtime


def json_depth_over(text, limit):
    """Whether brackets in JSON ``text`` nest deeper than ``limit`` (strings skipped)."""
    depth, in_str, esc = 0, False, False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


async def body_text(request: Request, limit=MAX_BODY_BYTES, what="request body"):
    """The request body as text, read in chunks: 413 past ``limit`` bytes (at most
    :data:`MAX_BODY_BYTES`), 400 when it is not UTF-8."""
    limit = min(limit, MAX_BODY_BYTES)
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > limit:
            raise HTTPException(413, f"{what} is over the limit of {limit} bytes")
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as e:
        raise HTTPException(400, f"{what} is not UTF-8: {e}") from None


async def body_json(request: Request):
    """The request body parsed as JSON: 413 over :data:`MAX_BODY_BYTES`, 400
    naming the problem when it is not JSON or nests deeper than :data:`MAX_JSON_DEPTH`."""
    size = request.headers.get("content-length")
    if size and size.isdigit() and int(size) > MAX_BODY_BYTES:
        raise HTTPException(413, f"request body of {size} bytes is over the limit of {MAX_BODY_BYTES}")
    text = await body_text(request)
    if json_depth_over(text, MAX_JSON_DEPTH):
        raise HTTPException(400, f"request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text or "null")
    except (ValueError, RecursionError) as e:
        raise HTTPException(400, f"request body is not JSON: {e}") from None


def kind_of(plural):
    """The kind stored under ``plural`` (404 when there is none)."""
    try:
        return resources.resolve_kind(plural)
    except ManifestError as e:
        raise HTTPException(404, str(e)) from None


def _decode_continue(token, width):
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        after = None
    if not (isinstance(after, list) and len(after) == width and all(isinstance(v, str) for v in after)):
        raise HTTPException(400, "continue: not a token this server gave out")
    return after


def paged(fetch, key, width, limit=None, cont=None):
    """A Kubernetes-style list page: ``{"items", "metadata": {"continue"}}``.

    ``fetch(limit, after)`` returns items in key order after the key tuple
    ``after``; ``key(item)`` is an item's tuple (``width`` strings). ``limit``
    is capped at :data:`MAX_PAGE`; ``continue`` is empty on the last page."""
    if limit is not None and limit < 1:
        raise HTTPException(400, "limit: must be >= 1")
    n = min(limit or MAX_PAGE, MAX_PAGE)
    after = _decode_continue(cont, width) if cont else None
    items = fetch(n + 1, after)
    token = ""
    if len(items) > n:
        items = items[:n]
        token = base64.urlsafe_b64encode(json.dumps(list(key(items[-1]))).encode()).decode("ascii")
    return {"items": items, "metadata": {"continue": token}}
