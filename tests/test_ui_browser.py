"""The dashboard in a real browser: Playwright drives Debian's chromium against real node processes.

An office and a marketplace run as ``rightsmesh run`` processes. In the office's dashboard the test logs
in (a wrong token first), opens every page, creates an offer from a register search and reads the
one-time code off the page; a wallet (plain Python) redeems it. The holder files a notice at the
marketplace; in the marketplace's dashboard the test opens every page, decides the notice through the
form and sees the decision appear. Back at the office it revokes the credential through the form.
Screenshots of every page go to test-artifacts/ui/ (gitignored).

Never downloads a browser: ``scripts/setup_browser.sh`` installs chromium with apt-get; without it (or
without the Python ``playwright`` package) the test is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from protocol.issuance import key_proof
from protocol.keys import KeyPair
from protocol.messages import sign_message
from protocol.notice import NoticeItem, Product, build_notice_payload
from protocol.sealed import Contact
from protocol.trust_list import sign_trust_list
from protocol.vc import format_datetime
from tests.nodeproc import NodeProcess
from tests.role_nodes import office_and_market

CHROMIUM = Path(os.environ.get("RIGHTSMESH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts" / "ui"
ROOT_KEY = KeyPair.from_seed(bytes([91]) * 32)
WALLET = KeyPair.from_seed(bytes([92]) * 32)
NUMBER = "018003578"  # OVALUX, registered, in specs/examples/register-em.csv

sync_api = pytest.importorskip("playwright.sync_api", reason="the Python playwright package is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: run scripts/setup_browser.sh to install chromium",
    ),
]


def iso() -> str:
    return format_datetime(datetime.fromtimestamp(int(time.time()), UTC))


def http(method: str, url: str, body: bytes | None = None, content_type: str = "application/json") -> Any:
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def post_json(url: str, value: Any) -> Any:
    return http("POST", url, json.dumps(value).encode())


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    with office_and_market(tmp_path, ROOT_KEY.did) as pair:
        yield pair


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Any, node: NodeProcess, prefix: str) -> None:
    page.goto(node.url + "/ui")
    assert page.url.endswith("/ui/login")  # no session: sent to the login form
    page.fill("#token", "wrong-token")
    page.click("button[type=submit]")
    assert "not this node's admin token" in page.inner_text("main")
    page.fill("#token", node.admin_token)
    page.click("main button[type=submit]")
    assert page.url.endswith("/ui") and page.inner_text("h1") == "Overview"
    shot(page, f"{prefix}-overview")


def visit_every_page(page: Any, prefix: str) -> list[str]:
    """Follow every link of the navigation; each page answers with a heading and no error."""
    links = page.eval_on_selector_all("nav a", "links => links.map(a => a.getAttribute('href'))")
    assert len(links) >= 4
    for link in links:
        response = page.goto(page.url.split("/ui")[0] + link)
        assert response is not None and response.status == 200, link
        assert page.inner_text("h1"), link
        shot(page, prefix + link.replace("/", "-").rstrip("-"))
    return list(links)


def accredit(office: NodeProcess, market: NodeProcess) -> None:
    now = int(time.time())
    entries = [
        {
            "did": http("GET", node.url + "/healthz")[1]["did"],
            "role": role,
            "name": role,
            "jurisdiction": "EU",
            "valid_from": now - 60,
            "valid_until": now + 86400,
        }
        for node, role in ((office, "office"), (market, "marketplace"))
    ]
    trust = sign_trust_list(ROOT_KEY, entries, sequence=1, created=now - 5)
    for node in (office, market):
        status, body = http("POST", node.url + "/objects", trust, "application/cose")
        assert status in (200, 201), body


def redeem(office: NodeProcess, code: str) -> dict[str, Any]:
    status, nonce = post_json(office.url + "/issuance/nonce", None)
    assert status == 200
    proof = key_proof(WALLET, nonce=nonce["c_nonce"], audience=nonce["audience"], created=iso())
    status, credential = post_json(office.url + "/issuance/credential", {"code": code, "proof": proof})
    assert status == 201, credential
    return dict(credential)


def file_notice(market: NodeProcess, credential: dict[str, Any]) -> str:
    status, body = post_json(market.url + "/objects", credential)
    assert status in (200, 201), body
    market_did = http("GET", market.url + "/healthz")[1]["did"]
    payload = build_notice_payload(
        created=int(time.time()),
        notifier=WALLET.did,
        contact=Contact("Ana Holder", "ana@brivel-sports.example"),
        explanation="The listed sports bags bear our registered mark OVALUX but are not genuine.",
        items=[NoticeItem("https://bazaar-nord.example/item/777", "777", "seller-42")],
        rights=[credential["id"]],
        infringement="counterfeit",
        targets=[market_did],
        product=Product(brand="OVALUX", gtins=("4006381333931",)),
    )
    raw = sign_message(WALLET, "notice", payload)
    status, body = http("POST", market.url + "/notices", raw, "application/cose")
    assert status == 201, body
    return str(body["notice"])


def test_dashboards_in_chromium(nodes: tuple[NodeProcess, NodeProcess], browser: Any) -> None:
    office, market = nodes
    accredit(office, market)
    office_page = browser.new_context().new_page()
    log_in(office_page, office, "office")
    pages = visit_every_page(office_page, "office")
    assert "/ui/office/offers" in pages and "/ui/trust" in pages

    # Office: search the register, create an offer from the result, read the one-time code.
    office_page.goto(office.url + "/ui/office/register")
    office_page.fill("#q", "OVALUX")
    office_page.click("form.search button")
    assert "Brivel Sports" in office_page.inner_text("table")
    office_page.click(f'form:has(input[name=number][value="{NUMBER}"]) button')
    code = office_page.inner_text("#offer-code").strip()
    assert code and office_page.inner_text("h1") == "Offer created"
    shot(office_page, "office-offer-created")
    office_page.goto(office.url + "/ui/office/offers")
    assert "redeemed" not in office_page.inner_text("table") and code not in office_page.content()

    # The wallet redeems the code; the credential appears on the credentials page.
    credential = redeem(office, code)
    office_page.goto(office.url + "/ui/office/offers")
    assert "redeemed" in office_page.inner_text("table")
    office_page.goto(office.url + "/ui/office/credentials")
    assert credential["id"] in office_page.inner_text("table")

    # The holder files a notice; the marketplace decides it in its dashboard.
    notice_id = file_notice(market, credential)
    market_page = browser.new_context().new_page()
    log_in(market_page, market, "market")
    pages = visit_every_page(market_page, "market")
    assert "/ui/market/notices" in pages and "/ui/market/directory" in pages
    market_page.goto(market.url + "/ui/market/directory")
    assert "Bazaar Nord Brand Protection" in market_page.inner_text("main")
    market_page.goto(market.url + "/ui/market/notices")
    market_page.click(f'a[href="/ui/market/notices/{notice_id}"]')
    assert "Ana Holder" in market_page.inner_text("main")
    checks = market_page.inner_text("table")
    assert "valid" in checks and "accepted" in checks
    assert market_page.inner_text("#notice-status").strip() == "open"
    shot(market_page, "market-notice-open")
    market_page.check("#act-restrict")
    market_page.fill("#facts", "Counterfeit OVALUX bags: listing 777 removed.")
    market_page.click("text=Publish decision")
    assert "Decision published." in market_page.inner_text("main")
    assert "Counterfeit OVALUX bags: listing 777 removed." in market_page.inner_text("#decisions")
    assert market_page.inner_text("#notice-status").strip() == "decided: restrict"
    shot(market_page, "market-notice-decided")
    market_page.goto(market.url + "/ui/market/notices?status=decided")
    assert notice_id[:12] in market_page.inner_text("main")

    # Office: revoke the credential through the form; it appears among the revocations.
    office_page.goto(office.url + "/ui/office/credentials")
    office_page.click(f'form:has(input[name=credential][value="{credential["id"]}"]) button')
    assert office_page.url.split("?")[0].endswith("/ui/office/revocations")
    assert f"Revoked {credential['id']}" in office_page.inner_text("main")
    assert credential["id"] in office_page.inner_text("table")
    shot(office_page, "office-revoked")

    # Logging out ends the session: the dashboard asks for the token again.
    office_page.click("text=Log out")
    assert office_page.url.endswith("/ui/login")
    office_page.goto(office.url + "/ui/office/credentials")
    assert office_page.url.endswith("/ui/login")
    assert (ARTIFACTS / "market-notice-decided.png").stat().st_size > 0
