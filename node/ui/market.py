"""Dashboard pages of a marketplace: enrolled holders, and the directory of every marketplace's
IP-protection profile held by this node (service 1), newest per marketplace, with its accreditation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocol.errors import ProtocolError
from protocol.messages import verify_message

from ..appkeys import CONFIG, DB, NODE_KEY, OBJECTS
from ..marketplace import store
from ..trust import load_trust_store
from .render import NAV, NavItem, now, render, require_login
from .spec import html_page

routes = web.RouteTableDef()

NAV_ITEMS = (
    NavItem("Enrolments", "/ui/market/enrolments"),
    NavItem("Directory", "/ui/market/directory"),
)
MAX_PROFILES = 1000


@routes.get("/ui/market/enrolments")
async def enrolments_page(request: web.Request) -> web.Response:
    session = require_login(request)
    holder = request.query.get("holder", "").strip()[:300]
    enrolments = store.list_enrolments(request.app[DB], holder or None)
    context = {"enrolments": enrolments, "holder": holder}
    return render(request, "market_enrolments.html", context, session=session)


def profile_directory(request: web.Request) -> list[dict[str, Any]]:
    """The newest stored profile of each marketplace, signature checked (at the time it was made, so an
    old profile still reads), with whether the signer is an accredited marketplace now."""
    objects = request.app[OBJECTS]
    moment = now(request)
    trust = load_trust_store(request.app[CONFIG], objects, moment)
    own = request.app[NODE_KEY].did
    seen: set[str] = set()
    directory: list[dict[str, Any]] = []
    for meta in objects.list(kind=store.PROFILE_KIND, limit=MAX_PROFILES):
        if meta.signer in seen:
            continue
        seen.add(meta.signer)
        try:
            message = verify_message(objects.get(meta.id), meta.created)
        except ProtocolError:
            continue
        directory.append(
            {
                "meta": meta,
                "profile": message.payload,
                "accredited": trust.entry(meta.signer, "marketplace", moment),
                "own": meta.signer == own,
            }
        )
    directory.sort(key=lambda row: (not row["own"], str(row["profile"].get("name", ""))))
    return directory


@routes.get("/ui/market/directory")
async def directory_page(request: web.Request) -> web.Response:
    session = require_login(request)
    context = {"directory": profile_directory(request)}
    return render(request, "market_directory.html", context, session=session)


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app[NAV].extend(NAV_ITEMS)


OPENAPI_PATHS = {
    "/ui/market/enrolments": html_page("uiMarketEnrolments", "Enrolled right holders", ("holder",)),
    "/ui/market/directory": html_page(
        "uiMarketDirectory", "Every marketplace's IP-protection profile held here (service 1)"
    ),
}
