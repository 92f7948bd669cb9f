"""Admin authentication: a bearer token read from ``admin.token``, compared in constant time.

Every route under ``/admin/`` is guarded twice: handlers call :func:`require_admin`, and
:func:`admin_middleware` refuses any ``/admin/...`` request without the token before routing, so a
handler that forgets the call (or a 404/405 under /admin) still says nothing without the token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from .appkeys import ADMIN_TOKEN
from .problems import Problem

ADMIN_PREFIX = "/admin/"


def require_admin(request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Problem(401, "auth.missing", "this route needs the admin bearer token")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "auth.invalid", "expected Authorization: Bearer <admin token>")
    if not admin_token_matches(request.app, token):
        raise Problem(401, "auth.invalid", "the admin token is wrong")


def admin_token_matches(app: web.Application, token: str) -> bool:
    """Constant-time comparison with the node's admin token (the API header and the dashboard login)."""
    expected = app[ADMIN_TOKEN]
    return hmac.compare_digest(token.strip().encode("utf-8"), expected.encode("utf-8"))


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX.rstrip("/") or path.startswith(ADMIN_PREFIX)


@web.middleware
async def admin_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if is_admin_path(request.path):
        require_admin(request)
    return await handler(request)
