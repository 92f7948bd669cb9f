"""The web dashboard at ``/ui``: server-rendered Jinja2 pages, no JavaScript, behind an admin session.

``setup(app)`` adds the pages every node has (:mod:`.common`), the role's pages (:mod:`.office` or
:mod:`.market`), the stylesheet, the session table and the UI middleware. A new page is a handler in
a module with ``routes``, ``OPENAPI_PATHS`` and ``NAV_ITEMS``, plus one template in node/templates/.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from ..appkeys import CONFIG
from . import common, market, notices, office
from .render import NAV, NavItem, is_http_url, iso, ui_middleware
from .session import SESSIONS, SessionStore

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
COMMON_NAV = (
    NavItem("Overview", "/ui"),
    NavItem("Peers & gossip", "/ui/peers"),
    NavItem("Trust", "/ui/trust"),
)
ROLE_PAGES = {"office": (office.setup,), "marketplace": (market.setup, notices.setup)}


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("node", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
    )
    env.filters["iso"] = iso
    env.tests["http_url"] = is_http_url
    app[SESSIONS] = SessionStore()
    app[NAV] = list(COMMON_NAV)
    app.middlewares.append(ui_middleware)
    app.router.add_routes(common.routes)
    app.router.add_static("/ui/static", STATIC_DIR, append_version=False)
    for setup_pages in ROLE_PAGES[app[CONFIG].role]:
        setup_pages(app)
