"""Rendering dashboard pages: login check, CSRF-checked forms, templates with the common context, and
HTML error pages (the UI middleware turns typed errors under ``/ui`` into pages instead of problem+json).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from protocol.errors import ProtocolError

from ..appkeys import CLOCK, CONFIG, NODE_KEY
from ..errors import NodeError
from ..problems import Problem, node_status, protocol_status
from .session import Session, csrf_valid, current

UI_PREFIX = "/ui"
LOGIN_PATH = "/ui/login"

# Content-Security-Policy: no script at all, styles and images from the node only, forms post here only.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str


NAV: web.AppKey[list[NavItem]] = web.AppKey("ui_nav")


class UIError(Exception):
    """A refusal shown as an HTML page with ``status`` (CSRF, bad form field)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def now(request: web.Request) -> int:
    return int(request.app[CLOCK]())


def require_login(request: web.Request) -> Session:
    """The authenticated session of this request; otherwise a redirect to the login page."""
    session = current(request, request.app[CLOCK]())
    if session is None or not session.authenticated:
        raise web.HTTPSeeOther(LOGIN_PATH)
    return session


async def read_form(request: web.Request, session: Session | None) -> dict[str, str]:
    """The posted form's text fields, after its CSRF token has been checked against the session's."""
    form = await request.post()
    if not csrf_valid(session, form.get("csrf")):
        raise UIError(403, "The form's security token is missing or stale. Reload the page and try again.")
    fields: dict[str, str] = {}
    for name, value in form.items():
        if isinstance(value, str):
            fields.setdefault(name, value)
    return fields


def form_int(form: Mapping[str, str], name: str, low: int, high: int, default: int | None) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UIError(422, f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise UIError(422, f"{name} must be between {low} and {high}")
    return value


def iso(ts: object) -> str:
    """Unix seconds as ``YYYY-MM-DD HH:MM:SSZ`` (empty for None)."""
    if ts is None or isinstance(ts, bool) or not isinstance(ts, (int, float)):
        return ""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def is_http_url(value: object) -> bool:
    """Only http(s) links from signed data become links (never ``javascript:`` or ``data:``)."""
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    session: Session | None,
    status: int = 200,
) -> web.Response:
    config = request.app[CONFIG]
    base = {
        "node": {"name": config.name, "role": config.role, "did": request.app[NODE_KEY].did},
        "nav": request.app[NAV] if session is not None and session.authenticated else [],
        "csrf": session.csrf if session is not None else "",
        "path": request.path,
        "logged_in": session is not None and session.authenticated,
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _error_status(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, UIError):
        return exc.status, exc.message
    if isinstance(exc, Problem):
        return exc.status, f"{exc.code}: {exc.detail}"
    if isinstance(exc, ProtocolError):
        return protocol_status(exc), f"{exc.code}: {exc.detail}"
    if isinstance(exc, NodeError):
        return node_status(exc), f"{exc.code}: {exc.detail}"
    raise exc


@web.middleware
async def ui_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Under ``/ui``: typed errors become an HTML page with their status and code; security headers."""
    if not (request.path == UI_PREFIX or request.path.startswith(UI_PREFIX + "/")):
        return await handler(request)
    try:
        return await handler(request)
    except (UIError, Problem, ProtocolError, NodeError) as exc:
        status, message = _error_status(exc)
        session = current(request, request.app[CLOCK]())
        context = {"status": status, "message": message}
        return render(request, "error.html", context, session=session, status=status)
