"""The dashboard in process (pytest-aiohttp): login, CSRF refusal, every page of each role, form actions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from node.app import create_app
from node.appkeys import CONFIG, DB, NODE_KEY, OBJECTS
from node.marketplace import store as market_store
from node.office import store as office_store
from node.office.issue import issue_credential
from node.openapi import route_templates
from node.storage.db import transaction
from node.ui.session import COOKIE, SessionStore
from protocol.keys import KeyPair
from protocol.register import parse_register
from tests.node_fixtures import NODE, NOW, OFFICE, TOKEN, FakeClock, accreditation, make_config, trust_list

REPO = Path(__file__).resolve().parent.parent
PROFILE = {
    "name": "Bazaar Nord",
    "programme": "Bazaar Nord Brand Protection",
    "programme_url": "javascript:alert(1)",
    "accepted_rights": ["trademark"],
    "notice_endpoint": "https://bazaar-nord.example/notices",
    "languages": ["en"],
    "turnaround_hours": 48,
    "counter_notice": "The seller may contest <b>within</b> 14 days.",
    "contact_point": {"email": "ip@bazaar-nord.example"},
}
HOLDER = KeyPair.from_seed(bytes([9]) * 32)
REGISTERED = "018003578"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def make_client(aiohttp_client: Any, tmp_path: Path, role: str) -> TestClient:
    app = create_app(make_config(tmp_path, role=role), NODE, TOKEN, clock=FakeClock())
    objects = app[OBJECTS]
    objects.put(
        trust_list(1, also=[accreditation(OFFICE, "office", "EM Office")]),
        kind="trust-list",
        signer=trust_list_signer(),
        created=NOW - 60,
        expires=None,
        fields={"sequence": "00000000000000000001"},
        received_at=NOW - 30,
    )
    if role == "office":
        parsed = parse_register((REPO / "specs" / "examples" / "register-em.csv").read_bytes())
        office_store.import_entries(app[DB], (e for _, e in parsed.entries), NOW)
    else:
        market_store.publish_profile(objects, app[NODE_KEY], PROFILE, NOW - 100)
    return await aiohttp_client(app)


def trust_list_signer() -> str:
    from tests.node_fixtures import ROOT

    return ROOT.did


async def login(client: TestClient, token: str = TOKEN) -> Any:
    page = await client.get("/ui/login")
    assert page.status == 200
    return await client.post(
        "/ui/login", data={"token": token, "csrf": csrf_of(await page.text())}, allow_redirects=False
    )


@pytest.fixture
async def office(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    return await make_client(aiohttp_client, tmp_path, "office")


@pytest.fixture
async def market(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    return await make_client(aiohttp_client, tmp_path, "marketplace")


async def test_pages_need_a_session(office: TestClient) -> None:
    resp = await office.get("/ui/office/offers", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/ui/login"


async def test_wrong_token_is_refused(office: TestClient) -> None:
    resp = await login(office, "not-the-token")
    assert resp.status == 401
    assert "not this node" in await resp.text()
    assert (await office.get("/ui", allow_redirects=False)).status == 303


async def test_right_token_logs_in_with_a_hardened_cookie(office: TestClient) -> None:
    page = await office.get("/ui/login")
    anonymous = page.cookies[COOKIE].value
    resp = await office.post(
        "/ui/login", data={"token": TOKEN, "csrf": csrf_of(await page.text())}, allow_redirects=False
    )
    assert resp.status == 303 and resp.headers["Location"] == "/ui"
    cookie = resp.cookies[COOKIE]
    assert cookie.value != anonymous  # a new id after login
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/ui"
    assert not cookie["secure"]  # plain http on 127.0.0.1
    overview = await office.get("/ui")
    assert overview.status == 200
    html = await overview.text()
    assert NODE.did in html and "trust-list" in html
    assert "script-src" not in overview.headers["Content-Security-Policy"]
    assert "default-src 'none'" in overview.headers["Content-Security-Policy"]


async def test_secure_flag_behind_a_tls_proxy(office: TestClient) -> None:
    page = await office.get("/ui/login", headers={"X-Forwarded-Proto": "https"})
    assert page.cookies[COOKIE]["secure"]


async def test_login_without_csrf_is_refused(office: TestClient) -> None:
    await office.get("/ui/login")
    resp = await office.post("/ui/login", data={"token": TOKEN}, allow_redirects=False)
    assert resp.status == 403
    assert (await office.get("/ui", allow_redirects=False)).status == 303


async def test_forms_refuse_a_wrong_csrf_token(office: TestClient) -> None:
    assert (await login(office)).status == 303
    resp = await office.post("/ui/office/offers", data={"number": REGISTERED, "csrf": "forged"})
    assert resp.status == 403
    assert "security token" in await resp.text()
    offers = await office.get("/ui/office/offers")
    assert "No offers yet" in await offers.text()


async def test_csrf_token_of_another_session_is_refused(office: TestClient) -> None:
    assert (await login(office)).status == 303
    other = TestClient(office.server)  # the same node, a second browser
    try:
        assert (await login(other)).status == 303
        foreign = csrf_of(await (await other.get("/ui")).text())
    finally:
        await other.session.close()
    resp = await office.post("/ui/office/revocations", data={"credential": "x", "csrf": foreign})
    assert resp.status == 403


async def test_logout_ends_the_session(office: TestClient) -> None:
    await login(office)
    token = csrf_of(await (await office.get("/ui")).text())
    resp = await office.post("/ui/logout", data={"csrf": token}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/ui/login"
    assert (await office.get("/ui", allow_redirects=False)).status == 303


def ui_pages(client: TestClient) -> list[str]:
    return sorted(
        t
        for m, t, _ in route_templates(client.server.app)
        if m == "get" and t.startswith("/ui") and "{" not in t
    )


@pytest.mark.parametrize("role", ["office", "marketplace"])
async def test_every_page_renders(aiohttp_client: Any, tmp_path: Path, role: str) -> None:
    client = await make_client(aiohttp_client, tmp_path, role)
    assert (await login(client)).status == 303
    pages = ui_pages(client)
    assert "/ui/peers" in pages and "/ui/trust" in pages
    for page in pages:
        if page == "/ui/login":
            continue
        resp = await client.get(page)
        assert resp.status == 200, (page, await resp.text())
        html = await resp.text()
        assert "<h1>" in html and 'action="/ui/logout"' in html, page
        for link in re.findall(r'<a href="(/ui[^"#?]*)"', html):
            assert link in pages or link.startswith("/ui/static"), (page, link)
    assert (await client.get("/ui/static/style.css")).status == 200


async def test_trust_page_shows_accreditations(market: TestClient) -> None:
    await login(market)
    html = await (await market.get("/ui/trust")).text()
    assert "EM Office" in html and OFFICE.did in html and "Sequence 1" in html


async def test_directory_shows_profiles_escaped(market: TestClient) -> None:
    await login(market)
    html = await (await market.get("/ui/market/directory")).text()
    assert "Bazaar Nord Brand Protection" in html and "(this node)" in html
    assert "&lt;b&gt;within&lt;/b&gt;" in html  # signed text is escaped
    assert "javascript:" not in html  # only http(s) links


async def test_register_search_and_offer_code_shown_once(office: TestClient) -> None:
    await login(office)
    html = await (await office.get("/ui/office/register", params={"q": "OVALUX"})).text()
    assert "Brivel Sports" in html and "1 entry found" in html
    resp = await office.post("/ui/office/offers", data={"number": REGISTERED, "csrf": csrf_of(html)})
    assert resp.status == 201
    created = await resp.text()
    code = re.search(r'<output id="offer-code">([^<]+)</output>', created)
    assert code is not None
    assert resp.headers["Cache-Control"] == "no-store"
    listing = await (await office.get("/ui/office/offers")).text()
    assert "EM:018003578" in listing and "<td>open</td>" in listing
    assert code.group(1) not in listing


async def test_offer_errors_render_as_pages(office: TestClient) -> None:
    await login(office)
    token = csrf_of(await (await office.get("/ui/office/offers")).text())
    resp = await office.post("/ui/office/offers", data={"number": "nope", "csrf": token})
    assert resp.status == 404
    assert "office.unknown-right" in await resp.text()
    assert resp.content_type == "text/html"
    resp = await office.post(
        "/ui/office/offers", data={"number": REGISTERED, "ttl_hours": "x", "csrf": token}
    )
    assert resp.status == 422


async def test_revoke_through_the_form(office: TestClient) -> None:
    app = office.server.app
    db = app[DB]
    with transaction(db):
        credential = issue_credential(app[NODE_KEY], app[CONFIG].url, db, "EM:" + REGISTERED, HOLDER.did, NOW)
    await login(office)
    creds = await (await office.get("/ui/office/credentials")).text()
    assert credential["id"] in creds and "Revoke" in creds
    resp = await office.post(
        "/ui/office/revocations",
        data={"credential": credential["id"], "csrf": csrf_of(creds)},
        allow_redirects=False,
    )
    assert resp.status == 303
    page = await office.get(resp.headers["Location"])
    html = await page.text()
    assert "Revoked <code>" + credential["id"] in html
    assert office_store.get_credential(db, credential["id"])["revoked_at"] == NOW
    again = await office.post(
        "/ui/office/revocations", data={"credential": credential["id"], "csrf": csrf_of(html)}
    )
    assert again.status == 409 and "office.already-revoked" in await again.text()


def test_session_table_is_bounded_and_expires() -> None:
    sessions = SessionStore(max_sessions=3)
    sid, _ = sessions.create(0, authenticated=True)
    for _ in range(5):
        sessions.create(1, authenticated=False)
    assert len(sessions) == 3
    assert sessions.get(sid, 2) is not None  # anonymous ones were evicted first
    assert sessions.get(sid, 2 + 13 * 3600) is None
    assert sessions.get("unknown", 2) is None


async def test_peers_page_shows_the_gossip_peer_table(aiohttp_client: Any, tmp_path: Path) -> None:
    peer = "http://127.0.0.1:9"  # nothing listens there: the peer stays new or backs off
    app = create_app(make_config(tmp_path, peers=(peer,)), NODE, TOKEN, clock=FakeClock())
    client = await aiohttp_client(app)
    await login(client)
    html = await (await client.get("/ui/peers")).text()
    assert "1 known peer;" in html and peer in html and "(configured)" in html
    metrics = await (await client.get("/metrics")).text()
    assert 'rightsmesh_peers{state="' in metrics
