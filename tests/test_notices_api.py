"""Notice lifecycle at a marketplace, in process (pytest-aiohttp): notices, receipts, decisions, complaints,
trusted flaggers, suspension, matching, and every refusal (problem+json with a code, nothing stored).

The office is a small aiohttp server serving a status list the test can revoke in.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from node.app import create_app
from protocol.authorisation import issue_authorisation_credential, make_authorisation
from protocol.complaint import build_complaint_payload
from protocol.keys import KeyPair
from protocol.messages import sign_message, verify_message
from protocol.notice import NoticeItem, Product, build_notice_payload
from protocol.receipt import receipt_from_message
from protocol.sealed import Contact
from protocol.status_list import issue_status_list_credential, new_status_list, revoke
from protocol.trust_list import sign_trust_list
from tests.node_fixtures import (
    NODE,
    NOW,
    ROOT,
    TOKEN,
    FakeClock,
    accreditation,
    example_right_credential,
    iso,
    make_config,
    problem,
)

REPO = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COSE = {"Content-Type": "application/cose"}
OFFICE = KeyPair.from_seed(bytes([31]) * 32)
HOLDER = KeyPair.from_seed(bytes([32]) * 32)
AGENT = KeyPair.from_seed(bytes([33]) * 32)
THIEF = KeyPair.from_seed(bytes([34]) * 32)
FLAGGER = KeyPair.from_seed(bytes([35]) * 32)
OTHER_MARKET = KeyPair.from_seed(bytes([36]) * 32)
GTIN = "4006381333931"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeOffice:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {}
        self.app = web.Application()
        self.app.router.add_get("/status/1", self.handle)
        self.url = ""
        self.list: Any = None

    async def handle(self, request: web.Request) -> web.Response:
        return web.json_response(self.document)

    def publish(self, status_list: Any) -> None:
        self.list = status_list
        self.document = issue_status_list_credential(OFFICE, status_list, created=iso(NOW - 100))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def office(aiohttp_server: Any) -> FakeOffice:
    fake = FakeOffice()
    server: TestServer = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("/status/1"))
    fake.publish(new_status_list(fake.url, OFFICE.did, "revocation"))
    return fake


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, clock: FakeClock) -> TestClient:
    app = create_app(make_config(tmp_path, role="marketplace"), NODE, TOKEN, clock=clock)
    c: TestClient = await aiohttp_client(app)
    entries = [
        accreditation(key, role, role)
        for key, role in (
            (OFFICE, "office"),
            (NODE, "marketplace"),
            (OTHER_MARKET, "marketplace"),
            (FLAGGER, "trusted-flagger"),
        )
    ]
    raw = sign_trust_list(ROOT, entries, sequence=1, created=NOW - 60)
    resp = await c.post("/objects", data=raw, headers=COSE)
    assert resp.status == 201, await resp.text()
    return c


def right_credential(
    office: FakeOffice, holder: str = HOLDER.did, index: int = 5, **kw: Any
) -> dict[str, Any]:
    return example_right_credential(OFFICE, holder, status_list_url=office.url, index=index, **kw)


def authorisation(
    right_id: str, agent: KeyPair = AGENT, marketplaces: Any = None, n: int = 1
) -> dict[str, Any]:
    grant = make_authorisation(agent.did, [right_id], ["notify", "complain"], marketplaces)
    return issue_authorisation_credential(
        HOLDER,
        grant,
        created=iso(NOW - 500),
        valid_until=iso(NOW + 30 * 86400),
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
    )


def notice(signer: KeyPair, right_id: str, *, created: int = NOW, targets: Any = None, **kw: Any) -> bytes:
    args: dict[str, Any] = {
        "created": created,
        "notifier": signer.did,
        "contact": Contact("Ana Holder", "ana@brand.example"),
        "explanation": "The listed sneakers bear our registered word mark but are not genuine.",
        "items": [NoticeItem("https://shop.example/item/123", "123", "seller-9")],
        "rights": [right_id],
        "infringement": "counterfeit",
        "targets": targets or [NODE.did],
        "product": Product(brand="Acme", gtins=(GTIN,)),
    }
    args.update(kw)
    return sign_message(signer, "notice", build_notice_payload(**args))


async def store_credential(client: TestClient, document: dict[str, Any]) -> None:
    resp = await client.post("/objects", json=document)
    assert resp.status in (200, 201), await resp.text()


async def count(client: TestClient, kind: str) -> int:
    app = client.server.app
    from node.appkeys import OBJECTS

    return app[OBJECTS].count(kind)


async def file_ok(client: TestClient, raw: bytes) -> dict[str, Any]:
    resp = await client.post("/notices", data=raw, headers=COSE)
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


FACTS = "The listing offered goods bearing the notified mark without consent."


async def decide(
    client: TestClient, notice_id: str, action: str = "restrict", facts: str = FACTS, **extra: Any
) -> dict[str, Any]:
    """Decide a held notice through the admin API; the answer (decision id, supersedes, signed)."""
    body = {"notice": notice_id, "action": action, "decision_facts": facts, **extra}
    resp = await client.post("/admin/decisions", headers=AUTH, json=body)
    assert resp.status == 201, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


async def test_holder_notice_receipt_inbox(client: TestClient, office: FakeOffice) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    raw = notice(HOLDER, cred["id"])
    body = await file_ok(client, raw)
    receipt = receipt_from_message(verify_message(unb64(body["receipt"]), NOW))
    assert receipt.marketplace == NODE.did and receipt.notice.hex() == body["notice"]
    assert receipt.enrolled is False and receipt.trusted_flagger is False
    again = await client.post("/notices", data=raw, headers=COSE)
    assert again.status == 200 and (await again.json())["receipt"] == body["receipt"]
    resp = await client.get("/admin/notices", headers=AUTH)
    listed = (await resp.json())["notices"]
    assert [n["notice"] for n in listed] == [body["notice"]]
    assert listed[0]["contact"] == {"name": "Ana Holder", "email": "ana@brand.example"}
    assert listed[0]["via"] == "direct" and listed[0]["status"] == "open"
    receipts = await (await client.get("/receipts", params={"notice": body["notice"]})).json()
    assert [r["signer"] for r in receipts["receipts"]] == [NODE.did]


def _raw_payload(signer: KeyPair, payload: dict[str, Any]) -> bytes:
    return sign_message(signer, "notice", payload)


def _valid_payload(right_id: str) -> dict[str, Any]:
    return verify_message(notice(HOLDER, right_id), NOW).payload  # type: ignore[return-value]


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda p: p.pop("explanation"), "schema.notice.missing-explanation"),
        (lambda p: p.update(explanation="too short"), "schema.notice.explanation-too-short"),
        (lambda p: p.pop("items"), "schema.notice.missing-items"),
        (lambda p: p.update(items=[]), "schema.notice.missing-items"),
        (lambda p: p.pop("notifier"), "schema.notice.missing-notifier"),
        (lambda p: p.pop("good_faith"), "schema.notice.missing-good-faith"),
        (lambda p: p.update(good_faith=False), "schema.notice.no-good-faith"),
        (
            lambda p: p.update(items=[{"url": "ftp://x.example/1", "listing_id": "1"}]),
            "schema.notice.bad-url",
        ),
        (lambda p: p.update(items=[{"url": "not a url", "listing_id": "1"}]), "schema.notice.bad-url"),
        (lambda p: p.update(items=[{"url": "https://x.example/1"}]), "schema.notice.missing-listing-id"),
        (
            lambda p: p.update(
                items=[{"url": f"https://x.example/{i}", "listing_id": str(i)} for i in range(301)]
            ),
            "schema.notice.too-many-items",
        ),
    ],
)
async def test_bad_notices_refused_nothing_stored(
    client: TestClient, office: FakeOffice, mutate: Any, code: str
) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    payload = dict(_valid_payload(cred["id"]))
    mutate(payload)
    resp = await client.post("/notices", data=_raw_payload(HOLDER, payload), headers=COSE)
    await problem(resp, 422, code)
    assert await count(client, "notice") == 0


async def test_missing_credential_revoked_expired_unrelated(
    client: TestClient, office: FakeOffice, clock: FakeClock
) -> None:
    cred = right_credential(office)
    resp = await client.post("/notices", data=notice(HOLDER, cred["id"]), headers=COSE)
    await problem(resp, 422, "validity.notice.credential-missing")
    await store_credential(client, cred)
    # someone else's right
    resp = await client.post("/notices", data=notice(THIEF, cred["id"]), headers=COSE)
    await problem(resp, 422, "validity.notice.not-authorised")
    # revoked: the marketplace fetches the office's list before it decides
    office.publish(revoke(office.list, 5))
    resp = await client.post("/notices", data=notice(HOLDER, cred["id"]), headers=COSE)
    await problem(resp, 422, "status.revoked")
    # expired right credential (stored while valid, used after validUntil)
    short = right_credential(
        office,
        index=6,
        valid_until=iso(NOW + 100),
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000006",
    )
    await store_credential(client, short)
    clock.now = NOW + 200
    resp = await client.post("/notices", data=notice(HOLDER, short["id"], created=NOW + 200), headers=COSE)
    await problem(resp, 422, "validity.expired")
    assert await count(client, "notice") == 0


async def test_agent_needs_valid_authorisation(client: TestClient, office: FakeOffice) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    resp = await client.post("/notices", data=notice(AGENT, cred["id"]), headers=COSE)
    await problem(resp, 422, "validity.notice.not-authorised")
    elsewhere = authorisation(cred["id"], marketplaces=[OTHER_MARKET.did], n=2)
    await store_credential(client, elsewhere)
    raw = notice(AGENT, cred["id"], authorisation=elsewhere["id"])
    await problem(
        await client.post("/notices", data=raw, headers=COSE), 422, "validity.notice.not-authorised"
    )
    grant = authorisation(cred["id"])
    raw = notice(AGENT, cred["id"], authorisation=grant["id"])
    await problem(
        await client.post("/notices", data=raw, headers=COSE), 422, "validity.notice.credential-missing"
    )
    await store_credential(client, grant)
    body = await file_ok(client, raw)
    listed = (await (await client.get("/admin/notices", headers=AUTH)).json())["notices"]
    assert listed[0]["notice"] == body["notice"] and listed[0]["role"] == "agent"
    assert listed[0]["holder"] == HOLDER.did


async def test_trusted_flagger_first_and_suspension(client: TestClient, office: FakeOffice) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    grant = authorisation(cred["id"], agent=FLAGGER)
    await store_credential(client, grant)
    first = await file_ok(client, notice(HOLDER, cred["id"]))
    flagged = await file_ok(client, notice(FLAGGER, cred["id"], authorisation=grant["id"]))
    assert flagged["trusted_flagger"] is True
    listed = (await (await client.get("/admin/notices", headers=AUTH)).json())["notices"]
    assert [n["notice"] for n in listed] == [flagged["notice"], first["notice"]]
    only = await client.get("/admin/notices", headers=AUTH, params={"trusted_flagger": "0"})
    assert [n["notice"] for n in (await only.json())["notices"]] == [first["notice"]]
    by_right = await client.get("/admin/notices", headers=AUTH, params={"right": "urn:x:none"})
    assert (await by_right.json())["notices"] == []

    path = f"/admin/notifiers/{HOLDER.did}"
    await problem(
        await client.post(path + "/suspend", headers=AUTH, json={"reason": "x"}), 409, "notifier.not-warned"
    )
    assert (await client.post(path + "/warn", headers=AUTH, json={"reason": "unfounded"})).status == 200
    resp = await client.post(path + "/suspend", headers=AUTH, json={"reason": "repeated"})
    assert resp.status == 200 and (await resp.json())["suspended_at"] == NOW
    other = notice(HOLDER, cred["id"], items=[NoticeItem("https://shop.example/item/9", "9")])
    await problem(await client.post("/notices", data=other, headers=COSE), 403, "notice.notifier-suspended")
    assert await count(client, "notice") == 2
    assert (await client.post(path + "/reinstate", headers=AUTH)).status == 200
    await file_ok(client, other)


async def test_decisions_complaints_outcomes_export_match(client: TestClient, office: FakeOffice) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    filed = await file_ok(client, notice(HOLDER, cred["id"]))
    notice_id = filed["notice"]
    first = (await decide(client, notice_id))["decision"]
    got = await (await client.get("/decisions", params={"notice": notice_id})).json()
    assert got["outcomes"][NODE.did] == {"decision": first, "action": "restrict", "superseded": []}
    payload = got["decisions"][0]["payload"]
    assert payload["category"] == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    assert payload["source_type"] == "SOURCE_ARTICLE_16"

    # a complaint by someone who is not the notifier is refused
    fake = sign_message(
        THIEF,
        "complaint",
        build_complaint_payload(
            created=NOW,
            decision=bytes.fromhex(first),
            notice=bytes.fromhex(notice_id),
            marketplace=NODE.did,
            complainant="notifier",
            explanation="I complain about this decision for no reason at all.",
        ),
    )
    await problem(
        await client.post("/complaints", data=fake, headers=COSE), 422, "schema.complaint.wrong-signer"
    )
    # the seller's complaint, recorded by the marketplace, answered by a superseding decision
    resp = await client.post(
        "/admin/complaints",
        headers=AUTH,
        json={
            "decision": first,
            "explanation": "The goods are genuine: invoice from the brand's distributor.",
            "seller_ref": "seller-9",
        },
    )
    assert resp.status == 201, await resp.text()
    complaint = (await resp.json())["complaint"]
    opened = await (await client.get("/admin/complaints", headers=AUTH, params={"status": "open"})).json()
    assert [c["complaint_id"] for c in opened["complaints"]] == [complaint]
    second = await decide(
        client,
        notice_id,
        "no-action",
        "On complaint, the seller showed the goods were genuine.",
        complaint=complaint,
    )
    assert second["supersedes"] == first
    got = await (await client.get("/decisions", params={"notice": notice_id})).json()
    assert got["outcomes"][NODE.did] == {
        "decision": second["decision"],
        "action": "no-action",
        "superseded": [first],
    }
    opened = await (await client.get("/admin/complaints", headers=AUTH, params={"status": "open"})).json()
    assert opened["complaints"] == []
    notifiers = (await (await client.get("/admin/notifiers", headers=AUTH)).json())["notifiers"]
    assert notifiers == [{"did": HOLDER.did, "notices": 1, "accepted": 0, "rejected": 1, "open": 0}]
    assert (await (await client.get("/admin/sor", headers=AUTH)).json())["statements"] == []

    # matching: the GTIN finds the notice with this marketplace's standing outcome
    resp = await client.post("/match", json={"listings": [{"gtin": GTIN}, {"brand": "Nothing"}]})
    assert resp.status == 200, await resp.text()
    results = (await resp.json())["results"]
    assert results[0]["matches"][0]["notice"] == notice_id
    assert results[0]["matches"][0]["outcomes"][0]["action"] == "no-action"
    assert results[1]["matches"] == []
    await problem(await client.post("/match", json={"listings": []}), 422, "schema.match.listings")
    await problem(
        await client.post("/match", json={"listings": [{"gtin": "123"}]}), 422, "schema.listing.bad-gtin"
    )


async def test_export_sor_has_no_personal_data(client: TestClient, office: FakeOffice) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    notice_id = (await file_ok(client, notice(HOLDER, cred["id"])))["notice"]
    await decide(client, notice_id, territorial_scope=["DE", "FR"])
    statements = (await (await client.get("/admin/sor", headers=AUTH)).json())["statements"]
    assert len(statements) == 1 and statements[0]["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    text = str(statements)
    assert "ana@brand.example" not in text and "Ana Holder" not in text and HOLDER.did not in text


async def test_export_sor_monetary_provision_account(client: TestClient, office: FakeOffice) -> None:
    """A restriction of money, service and account (no visibility restriction) exports those TDB fields."""
    cred = right_credential(office)
    await store_credential(client, cred)
    notice_id = (await file_ok(client, notice(HOLDER, cred["id"])))["notice"]
    fields = {
        "decision_monetary": "DECISION_MONETARY_OTHER",
        "decision_monetary_other": "Payouts for the listing withheld pending proof of origin.",
        "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION",
        "decision_account": "DECISION_ACCOUNT_SUSPENDED",
        "account_type": "ACCOUNT_TYPE_BUSINESS",
    }
    resp = await client.post(
        "/admin/decisions",
        headers=AUTH,
        json={"notice": notice_id, "action": "restrict", "decision_facts": FACTS, "decision_visibility": []}
        | {k: v for k, v in fields.items() if k != "decision_monetary_other"},
    )
    await problem(resp, 422, "schema.decision.missing-decision-monetary-other")
    decided = await decide(client, notice_id, decision_visibility=[], **fields)
    payload = verify_message(unb64(decided["signed"]), NOW).payload
    assert {k: payload[k] for k in fields} == fields and "decision_visibility" not in payload
    statements = (await (await client.get("/admin/sor", headers=AUTH)).json())["statements"]
    assert len(statements) == 1
    assert {k: statements[0][k] for k in fields} == fields
    assert "decision_visibility" not in statements[0]


async def test_decision_request_errors(client: TestClient, office: FakeOffice) -> None:
    await problem(
        await client.post("/admin/decisions", headers=AUTH, json={"notice": "ab"}), 400, "request.bad-notice"
    )
    await problem(
        await client.post("/admin/decisions", headers=AUTH, json={"notice": "0" * 64}),
        404,
        "notice.not-found",
    )
    cred = right_credential(office)
    await store_credential(client, cred)
    notice_id = (await file_ok(client, notice(HOLDER, cred["id"])))["notice"]
    resp = await client.post(
        "/admin/decisions",
        headers=AUTH,
        json={"notice": notice_id, "action": "maybe", "decision_facts": "x" * 30},
    )
    await problem(resp, 422, "schema.decision.bad-action")
    resp = await client.post("/admin/decisions", json={"notice": notice_id})
    await problem(resp, 401, "auth.missing")


async def test_notice_by_gossip_path_lands_in_inbox(client: TestClient, office: FakeOffice) -> None:
    """A notice stored through POST /objects (the path gossip shares) lands in the inbox with a receipt."""
    cred = right_credential(office)
    await store_credential(client, cred)
    raw = notice(HOLDER, cred["id"])
    # without the office's status list held, revocation cannot be checked: refused (fail closed)
    await problem(await client.post("/objects", data=raw, headers=COSE), 422, "status.unavailable")
    await store_credential(client, office.document)
    resp = await client.post("/objects", data=raw, headers=COSE)
    assert resp.status == 201, await resp.text()
    listed = (await (await client.get("/admin/notices", headers=AUTH)).json())["notices"]
    assert listed[0]["via"] == "gossip"
    receipts = await (await client.get("/receipts", params={"notice": listed[0]["notice"]})).json()
    assert len(receipts["receipts"]) == 1
    # a notice for another marketplace is stored (and matchable) but not in this inbox
    other = notice(HOLDER, cred["id"], targets=[OTHER_MARKET.did])
    assert (await client.post("/objects", data=other, headers=COSE)).status == 201
    await problem(await client.post("/notices", data=other, headers=COSE), 422, "notice.not-addressed")
    assert len((await (await client.get("/admin/notices", headers=AUTH)).json())["notices"]) == 1
    # decisions only from accredited marketplaces
    decided = await decide(client, listed[0]["notice"], "no-action", "Examined; removed.")
    mine = verify_message(unb64(decided["signed"]), NOW)
    rogue = sign_message(THIEF, "decision", dict(mine.payload, marketplace=THIEF.did))
    await problem(
        await client.post("/objects", data=rogue, headers=COSE), 422, "validity.untrusted-marketplace"
    )


async def test_match_index_is_rebuilt_from_the_store_at_start(
    aiohttp_client: Any, tmp_path: Path, client: TestClient, office: FakeOffice, clock: FakeClock
) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    notice_id = (await file_ok(client, notice(HOLDER, cred["id"])))["notice"]
    restarted = await aiohttp_client(
        create_app(make_config(tmp_path, role="marketplace"), NODE, TOKEN, clock=clock)
    )
    resp = await restarted.post(
        "/match", json={"listings": [{"title": "acme runners", "seller_id": "seller-9"}]}
    )
    matches = (await resp.json())["results"][0]["matches"]
    assert [m["notice"] for m in matches] == [notice_id]
    assert {r["kind"] for r in matches[0]["reasons"]} == {"brand", "seller"}
    # a notice stored before match fields were indexed is read back from its bytes
    from node.appkeys import DB

    db = restarted.server.app[DB]
    with db.conn:
        db.execute("DELETE FROM object_fields WHERE name LIKE 'm.%'")
    assert db.execute("SELECT COUNT(*) FROM object_fields WHERE name LIKE 'm.%'").fetchone() == (0,)
    again = await aiohttp_client(
        create_app(make_config(tmp_path, role="marketplace"), NODE, TOKEN, clock=clock)
    )
    resp = await again.post("/match", json={"listings": [{"title": "acme runners", "seller_id": "seller-9"}]})
    assert [m["notice"] for m in (await resp.json())["results"][0]["matches"]] == [notice_id]


async def test_expired_authorisation_and_any_target(
    client: TestClient, office: FakeOffice, clock: FakeClock
) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    grant = issue_authorisation_credential(
        HOLDER,
        make_authorisation(AGENT.did, [cred["id"]], ["notify"], [NODE.did]),
        created=iso(NOW - 500),
        valid_until=iso(NOW + 100),
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000077",
    )
    await store_credential(client, grant)
    # an authorisation for named marketplaces does not cover a notice to any marketplace
    raw = notice(AGENT, cred["id"], authorisation=grant["id"], targets="any", recipients=[NODE.did])
    await problem(
        await client.post("/notices", data=raw, headers=COSE), 422, "validity.notice.not-authorised"
    )
    # the holder may target any marketplace; this one is among the readers
    body = await file_ok(client, notice(HOLDER, cred["id"], targets="any", recipients=[NODE.did]))
    assert body["notice"]
    clock.now = NOW + 200
    raw = notice(AGENT, cred["id"], authorisation=grant["id"], created=NOW + 200)
    await problem(await client.post("/notices", data=raw, headers=COSE), 422, "validity.expired")
    assert await count(client, "notice") == 1
