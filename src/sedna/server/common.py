"""What every router needs: the runtime, the token check, reading a JSON body."""

import hmac
import json

from fastapi import HTTPException, Request

from sedna.common.exceptions import ManifestError


def runtime_of(request: Request):
    """The runtime this app serves (``store``, ``controller``, ``token``, ``launcher``)."""
    return request.app.state.runtime


def need_token(request: Request):
    """Dependency: ``Authorization: Bearer <the admin token>``, else 401."""
    got = request.headers.get("authorization", "")
    if not got.startswith("Bearer ") or not hmac.compare_digest(got[7:].strip(), runtime_of(request).token):
        raise HTTPException(401, "missing or wrong token (Authorization: Bearer <token from the state folder>)")


async def body_json(request: Request):
    """The request body parsed as JSON (400 naming the problem when it is not)."""
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError as e:
        raise HTTPException(400, f"request body is not JSON: {e}") from None


def kind_of(plural):
    """The kind stored under ``plural`` (404 when there is none)."""
    from sedna.control import resources

    try:
        return resources.resolve_kind(plural)
    except ManifestError as e:
        raise HTTPException(404, str(e)) from None
