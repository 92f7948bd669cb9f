"""Dashboard pages of an office: register search, offers (the one-time code is shown once), issued
credentials, revocations. Each action calls the function the admin API calls, in one transaction."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from yarl import URL

from ..appkeys import DB, NODE_KEY
from ..office import issue, service, store
from ..storage.db import transaction
from .render import NAV, NavItem, UIError, form_int, now, read_form, render, require_login
from .spec import html_page, html_post

routes = web.RouteTableDef()

NAV_ITEMS = (
    NavItem("Register", "/ui/office/register"),
    NavItem("Offers", "/ui/office/offers"),
    NavItem("Credentials", "/ui/office/credentials"),
    NavItem("Revocations", "/ui/office/revocations"),
)
SEARCH_LIMIT = 50
HOUR = 3600


@routes.get("/ui/office/register")
async def register_page(request: web.Request) -> web.Response:
    session = require_login(request)
    query = {name: request.query.get(name, "").strip()[:200] for name in ("q", "number", "owner", "class")}
    nice_class = form_int(query, "class", 1, 45, None)
    results, total = store.search(
        request.app[DB],
        q=query["q"] or None,
        number=query["number"] or None,
        owner=query["owner"] or None,
        nice_class=nice_class,
        limit=SEARCH_LIMIT,
    )
    context = {"query": query, "results": results, "total": total}
    return render(request, "office_register.html", context, session=session)


@routes.get("/ui/office/offers")
async def offers_page(request: web.Request) -> web.Response:
    session = require_login(request)
    offers = store.list_offers(request.app[DB], request.query.get("right") or None)
    context = {"offers": list(reversed(offers)), "now": now(request)}
    return render(request, "office_offers.html", context, session=session)


@routes.post("/ui/office/offers")
async def create_offer(request: web.Request) -> web.Response:
    """Create an offer; the answer page is the only place the code is ever shown (not cached)."""
    session = require_login(request)
    form = await read_form(request, session)
    number = form.get("number", "").strip()
    if not number:
        raise UIError(422, "Give the application or registration number of a register entry.")
    options: dict[str, Any] = {}
    hours = form_int(form, "ttl_hours", 1, service.MAX_OFFER_TTL // HOUR, None)
    if hours is not None:
        options["ttl"] = hours * HOUR
    attempts = form_int(form, "max_attempts", 1, service.MAX_ATTEMPTS_LIMIT, None)
    if attempts is not None:
        options["max_attempts"] = attempts
    db = request.app[DB]
    with transaction(db):
        new = service.create_offer(db, number, now(request), **options)
    return render(request, "office_offer_created.html", {"new": new.as_json()}, session=session, status=201)


@routes.get("/ui/office/credentials")
async def credentials_page(request: web.Request) -> web.Response:
    session = require_login(request)
    credentials = store.list_credentials(request.app[DB], request.query.get("right") or None)
    context = {"credentials": list(reversed(credentials))}
    return render(request, "office_credentials.html", context, session=session)


@routes.get("/ui/office/revocations")
async def revocations_page(request: web.Request) -> web.Response:
    session = require_login(request)
    db = request.app[DB]
    revoked = [c for c in store.list_credentials(db) if c["revoked_at"] is not None]
    revoked.sort(key=lambda c: c["revoked_at"], reverse=True)
    lists = [dict(r) for r in db.query("SELECT id, version, next_index, size, updated_at FROM status_lists")]
    context = {
        "revoked": revoked,
        "lists": lists,
        "done": request.query.get("revoked", "")[:300],
        "prefill": request.query.get("credential", "")[:300],
    }
    return render(request, "office_revocations.html", context, session=session)


@routes.post("/ui/office/revocations")
async def revoke(request: web.Request) -> web.StreamResponse:
    session = require_login(request)
    form = await read_form(request, session)
    credential = form.get("credential", "").strip()
    if not credential:
        raise UIError(422, "Give the id of the credential to revoke.")
    db = request.app[DB]
    with transaction(db):
        issue.revoke(request.app[NODE_KEY], db, credential, now(request))
    raise web.HTTPSeeOther(URL("/ui/office/revocations").with_query(revoked=credential))


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app[NAV].extend(NAV_ITEMS)


OPENAPI_PATHS = {
    "/ui/office/register": html_page(
        "uiOfficeRegister", "Search the register (q, number, owner, class)", ("q", "number", "owner", "class")
    ),
    "/ui/office/offers": {
        **html_page("uiOfficeOffers", "Issuance offers and the form to create one", ("right",)),
        **html_post(
            "uiOfficeCreateOffer",
            "Create an offer (form: number, ttl_hours, max_attempts); the page shows the code once",
            {
                "201": "the offer with its one-time code",
                "404": "no such register entry",
                "409": "right not in force, bad ttl or attempts",
                "422": "missing or bad field",
            },
        ),
    },
    "/ui/office/credentials": html_page(
        "uiOfficeCredentials", "Credentials issued, with revoke buttons", ("right",)
    ),
    "/ui/office/revocations": {
        **html_page(
            "uiOfficeRevocations",
            "Revoked credentials, status list versions, revoke form",
            ("revoked", "credential"),
        ),
        **html_post(
            "uiOfficeRevoke",
            "Revoke a credential (form: credential): signs a new status list version",
            {
                "303": "revoked: back to the revocations page",
                "404": "no such credential",
                "409": "already revoked",
                "422": "missing field",
            },
        ),
    },
}
