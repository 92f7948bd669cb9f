"""RFC 9457 problem details: one error shape for every failing request, each with a stable ``code``.

Handlers raise :class:`Problem` (or let a typed ``ProtocolError`` / ``NodeError`` escape); the
middleware renders it as ``application/problem+json``. Anything else becomes a 500 that says nothing
about internals (the traceback goes to the log only).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from protocol.errors import ProtocolError

from .errors import Conflict, NodeError, NotFound

log = logging.getLogger("rightsmesh.node")

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://w3id.org/rightsmesh/problems#"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    """An HTTP error answer: status, stable ``code``, human ``detail`` and extra members."""

    def __init__(self, status: int, code: str, detail: str = "", **extra: Any) -> None:
        self.status = status
        self.code = code
        self.detail = detail or code
        self.extra = extra
        super().__init__(f"{status} {code}: {self.detail}")


def protocol_status(exc: ProtocolError) -> int:
    """HTTP status for a protocol error, by category (see specs/node-api.md)."""
    category = type(exc).category
    if category == "decode":
        return 400
    if category == "signature":
        return 400
    if category in ("schema", "validity", "unsupported"):
        return 422
    return 400


def node_status(exc: NodeError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 400


def problem_response(
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return web.Response(
        status=status, text=json.dumps(body), content_type=PROBLEM_TYPE, charset=None, headers=headers
    )


def _http_code(exc: web.HTTPException) -> str:
    return {
        404: "http.not-found",
        405: "http.method-not-allowed",
        413: "request.too-large",
    }.get(exc.status, f"http.{exc.status}")


@web.middleware
async def problem_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except Problem as exc:
        headers = {"WWW-Authenticate": 'Bearer realm="rightsmesh-admin"'} if exc.status == 401 else None
        return problem_response(exc.status, exc.code, exc.detail, exc.extra, headers)
    except ProtocolError as exc:
        return problem_response(protocol_status(exc), exc.code, exc.detail)
    except NodeError as exc:
        return problem_response(node_status(exc), exc.code, exc.detail)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return problem_response(exc.status, _http_code(exc), exc.reason, headers=headers or None)
    except Exception:
        log.exception("unexpected error handling %s %s", request.method, request.path)
        return problem_response(500, "internal.error", "the node failed to handle this request")


def _media_type(request: web.Request) -> str:
    return request.content_type.lower()


def check_length(request: web.Request, max_bytes: int) -> None:
    if request.content_length is not None and request.content_length > max_bytes:
        raise Problem(
            413, "request.too-large", f"the body may be at most {max_bytes} bytes", max_bytes=max_bytes
        )


async def _read_limited(request: web.Request, max_bytes: int) -> bytes:
    check_length(request, max_bytes)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(max_bytes + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise Problem(
                413, "request.too-large", f"the body may be at most {max_bytes} bytes", max_bytes=max_bytes
            )
    return b"".join(chunks)


async def read_body(request: web.Request, content_types: Iterable[str], max_bytes: int) -> bytes:
    """The request body, if its media type is one of ``content_types`` and it fits in ``max_bytes``.

    Reads at most ``max_bytes + 1`` bytes whatever Content-Length says, so a lying or chunked client
    cannot make the node buffer more than the limit.
    """
    allowed = tuple(content_types)
    if _media_type(request) not in allowed:
        raise Problem(
            415,
            "request.content-type",
            f"expected one of {', '.join(allowed)}, got {request.content_type or 'none'}",
            accepted=list(allowed),
        )
    body = await _read_limited(request, max_bytes)
    if not body:
        raise Problem(400, "request.empty", "the request body is empty")
    return body


async def read_json(request: web.Request, max_bytes: int) -> Any:
    """A JSON body (``application/json`` or any ``+json`` type) of at most ``max_bytes``."""
    if not (_media_type(request) == "application/json" or _media_type(request).endswith("+json")):
        raise Problem(415, "request.content-type", "expected a JSON body", accepted=["application/json"])
    body = await _read_limited(request, max_bytes)
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Problem(400, "request.json", f"malformed JSON: {exc}") from exc
