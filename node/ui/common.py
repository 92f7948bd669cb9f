"""Dashboard pages every node has: login and logout, overview, peers and gossip health, the trust list."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocol.errors import ProtocolError
from protocol.trust_list import TrustList, verify_trust_list

from ..api.admin import status_summary
from ..appkeys import CLOCK, CONFIG, OBJECTS
from ..auth import admin_token_matches
from ..gossip import GOSSIP
from ..gossip.routes import peer_rows
from ..metrics import gossip_totals
from ..trust import load_trust_store
from .health import kind_health
from .render import read_form, render, require_login
from .session import SESSIONS, clear_cookie, current, set_cookie
from .spec import html_page, html_post

routes = web.RouteTableDef()


@routes.get("/ui/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    moment = request.app[CLOCK]()
    session = current(request, moment)
    if session is not None and session.authenticated:
        raise web.HTTPSeeOther("/ui")
    new_id = None
    if session is None:
        new_id, session = request.app[SESSIONS].create(moment, authenticated=False)
    response = render(request, "login.html", {}, session=session)
    if new_id is not None:
        set_cookie(request, response, new_id)
    return response


@routes.post("/ui/login")
async def login(request: web.Request) -> web.StreamResponse:
    """Check the form's CSRF token (anonymous session) and the admin token; then a new session id."""
    moment = request.app[CLOCK]()
    session = current(request, moment)
    form = await read_form(request, session)
    assert session is not None  # read_form refuses a form without a session
    if not admin_token_matches(request.app, form.get("token", "")):
        context = {"error": "That is not this node's admin token."}
        return render(request, "login.html", context, session=session, status=401)
    sessions = request.app[SESSIONS]
    sessions.delete(session)
    new_id, _ = sessions.create(moment, authenticated=True)
    response = web.HTTPSeeOther("/ui")
    set_cookie(request, response, new_id)
    raise response


@routes.post("/ui/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    session = require_login(request)
    await read_form(request, session)
    request.app[SESSIONS].delete(session)
    response = web.HTTPSeeOther("/ui/login")
    clear_cookie(response)
    raise response


@routes.get("/ui")
async def overview(request: web.Request) -> web.Response:
    session = require_login(request)
    summary = status_summary(request.app)
    return render(request, "overview.html", {"summary": summary}, session=session)


@routes.get("/ui/peers")
async def peers(request: web.Request) -> web.Response:
    session = require_login(request)
    moment = int(request.app[CLOCK]())
    engine = request.app.get(GOSSIP)
    context: dict[str, Any] = {
        "configured": request.app[CONFIG].peers,
        "kinds": kind_health(request.app[OBJECTS], moment),
        "now": moment,
        "peers": None if engine is None else peer_rows(engine),
        "index_items": None if engine is None else len(engine.index),
        "traffic": gossip_totals(request.app),
    }
    return render(request, "peers.html", context, session=session)


def _held_lists(request: web.Request, moment: int) -> list[dict[str, Any]]:
    """Every trust list held (newest first), verified for display; unusable ones say why."""
    store = request.app[OBJECTS]
    out: list[dict[str, Any]] = []
    for meta in store.list(kind="trust-list", limit=200):
        row: dict[str, Any] = {"meta": meta, "list": None, "error": ""}
        try:
            parsed: TrustList = verify_trust_list(store.get(meta.id), moment)
            row["list"] = parsed
        except ProtocolError as exc:
            row["error"] = exc.code
        out.append(row)
    return out


@routes.get("/ui/trust")
async def trust(request: web.Request) -> web.Response:
    session = require_login(request)
    moment = int(request.app[CLOCK]())
    config = request.app[CONFIG]
    store = load_trust_store(config, request.app[OBJECTS], moment)
    roots = [{"did": root, "list": store.current(root)} for root in config.trust_roots]
    context = {"roots": roots, "held": _held_lists(request, moment), "now": moment}
    return render(request, "trust.html", context, session=session)


OPENAPI_PATHS = {
    "/ui/login": {
        **html_page(
            "uiLoginPage", "Dashboard login form (opens an anonymous session for its CSRF token)", public=True
        ),
        **html_post(
            "uiLogin",
            "Log in with the admin token (form: token, csrf); sets the session cookie",
            {"303": "logged in: to /ui", "401": "wrong token (the form again)"},
        ),
    },
    "/ui/logout": html_post("uiLogout", "End the session (form: csrf)", {"303": "to /ui/login"}),
    "/ui": html_page("uiOverview", "Overview: identity, objects held by kind, peers, trust roots"),
    "/ui/peers": html_page("uiPeers", "Peers and gossip health: objects by kind, receive rates, lag"),
    "/ui/trust": html_page("uiTrust", "The trust roots and the trust lists held, with their entries"),
}
