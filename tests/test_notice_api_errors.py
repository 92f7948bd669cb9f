"""Refusals of the marketplace notice API not covered by tests/test_notices_api.py: each request is real,
each answer a problem+json with its code, and nothing is stored by a refused request."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from protocol.complaint import build_complaint_payload
from protocol.messages import sign_message
from tests.node_fixtures import NOW, problem
from tests.notice_fixtures import decision_payload
from tests.test_notices_api import (
    AUTH,
    COSE,
    FACTS,
    HOLDER,
    OTHER_MARKET,
    FakeOffice,
    client,
    clock,
    count,
    decide,
    file_ok,
    notice,
    office,
    right_credential,
    store_credential,
)
from tests.test_ui import login

__all__ = ["client", "clock", "office"]  # pytest fixtures imported from test_notices_api


async def _filed(client: TestClient, office: FakeOffice) -> str:
    cred = right_credential(office)
    await store_credential(client, cred)
    return str((await file_ok(client, notice(HOLDER, cred["id"])))["notice"])


async def _decided(client: TestClient, notice_id: str) -> str:
    return str((await decide(client, notice_id))["decision"])


def _complaint(decision: str, notice_id: str, marketplace: str) -> bytes:
    payload = build_complaint_payload(
        created=NOW,
        decision=bytes.fromhex(decision),
        notice=bytes.fromhex(notice_id),
        marketplace=marketplace,
        complainant="notifier",
        explanation="Only part of the listings were removed.",
    )
    return sign_message(HOLDER, "complaint", payload)


async def test_complaint_refusals(client: TestClient, office: FakeOffice) -> None:
    notice_id = await _filed(client, office)
    decision = await _decided(client, notice_id)
    before = await count(client, "complaint")
    # a notice posted where a complaint is expected
    await problem(
        await client.post("/complaints", data=notice(HOLDER, "urn:x:1"), headers=COSE),
        422,
        "complaint.wrong-kind",
    )
    # a complaint addressed to another marketplace
    other = _complaint(decision, notice_id, OTHER_MARKET.did)
    await problem(await client.post("/complaints", data=other, headers=COSE), 422, "complaint.not-addressed")
    assert await count(client, "complaint") == before

    # the seller's complaint: request shape, unknown decision, another marketplace's decision
    await problem(
        await client.post("/admin/complaints", headers=AUTH, json=["not", "an", "object"]),
        422,
        "schema.complaint-request",
    )
    await problem(
        await client.post("/admin/complaints", headers=AUTH, json={"decision": "f" * 63}),
        400,
        "request.bad-decision",
    )
    await problem(
        await client.post("/admin/complaints", headers=AUTH, json={"decision": "0" * 64, "explanation": "x"}),
        404,
        "decision.not-found",
    )
    foreign = sign_message(
        OTHER_MARKET,
        "decision",
        decision_payload(notice=bytes.fromhex(notice_id), marketplace=OTHER_MARKET.did, created=NOW),
    )
    resp = await client.post("/objects", data=foreign, headers=COSE)
    assert resp.status == 201, await resp.text()
    foreign_id = (await resp.json())["id"]
    await problem(
        await client.post(
            "/admin/complaints",
            headers=AUTH,
            json={"decision": foreign_id, "explanation": "The goods are genuine."},
        ),
        422,
        "complaint.not-addressed",
    )
    assert await count(client, "complaint") == before


async def test_decision_request_refusals(client: TestClient, office: FakeOffice) -> None:
    notice_id = await _filed(client, office)
    decision = await _decided(client, notice_id)
    before = await count(client, "decision")

    async def refused(body: Any, status: int, code: str) -> None:
        await problem(await client.post("/admin/decisions", headers=AUTH, json=body), status, code)

    await refused([notice_id], 422, "schema.decision-request")
    await refused(
        {"notice": notice_id, "action": "restrict", "decision_facts": FACTS, "colour": "red"},
        422,
        "schema.decision-request.unknown-field",
    )
    # fields the node fills in itself may not be given
    await refused(
        {"notice": notice_id, "action": "restrict", "decision_facts": FACTS, "marketplace": "x"},
        422,
        "schema.decision-request.unknown-field",
    )
    await refused(
        {"notice": decision, "action": "restrict", "decision_facts": FACTS}, 422, "notice.not-a-notice"
    )
    await refused(
        {"notice": notice_id, "action": "restrict", "decision_facts": FACTS, "complaint": "zz"},
        400,
        "request.bad-complaint",
    )
    await refused(
        {"notice": notice_id, "action": "restrict", "decision_facts": FACTS, "complaint": "1" * 64},
        404,
        "complaint.not-found",
    )
    # the facts are the one statement the operator must write (art. 17(3)(c))
    await refused({"notice": notice_id, "action": "restrict"}, 422, "schema.decision-request.bad")
    assert await count(client, "decision") == before


async def test_inbox_and_notifier_request_refusals(
    client: TestClient, office: FakeOffice, clock: Any
) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    await file_ok(client, notice(HOLDER, cred["id"]))

    async def inbox(**params: str) -> Any:
        return await client.get("/admin/notices", headers=AUTH, params=params)

    await problem(await inbox(status="maybe"), 400, "request.bad-status")
    await problem(await inbox(since="yesterday"), 400, "request.bad-since")
    await problem(await inbox(until="-5"), 400, "request.bad-until")
    assert len((await (await inbox(status="open")).json())["notices"]) == 1
    await problem(await client.get("/decisions", params={"notice": "G" * 64}), 400, "request.bad-notice")

    warn = f"/admin/notifiers/{HOLDER.did}/warn"
    suspend = f"/admin/notifiers/{HOLDER.did}/suspend"
    await problem(await client.post(warn, headers=AUTH, json=["reason"]), 422, "schema.notifier-request")
    await problem(
        await client.post(warn, headers=AUTH, json={"reason": "x" * 2001}), 422, "schema.notifier-request"
    )
    await problem(await client.post(warn, headers=AUTH, json={"reason": 7}), 422, "schema.notifier-request")
    resp = await client.post(warn, headers=AUTH, json={"reason": "three rejected notices"})
    assert resp.status == 200, await resp.text()
    await problem(
        await client.post(suspend, headers=AUTH, json={"reason": "misuse", "until": int(clock.now) - 1}),
        422,
        "schema.notifier-request",
    )
    await problem(
        await client.post(suspend, headers=AUTH, json={"reason": "misuse", "until": True}),
        422,
        "schema.notifier-request",
    )
    record = (await (await client.get("/admin/notifiers", headers=AUTH)).json())["notifiers"]
    [holder] = [n for n in record if n["did"] == HOLDER.did]
    assert holder["warning"] == "three rejected notices" and holder["suspended_at"] is None
    # still not suspended: a new notice is accepted
    await file_ok(client, notice(HOLDER, cred["id"], created=NOW + 1))


async def test_other_credential_with_a_held_id_is_refused(client: TestClient, office: FakeOffice) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    same_id = right_credential(office, index=6)  # another status entry, same credential id
    assert same_id["id"] == cred["id"] and same_id != cred
    before = await count(client, "credential")
    await problem(await client.post("/objects", json=same_id), 422, "objects.credential-held")
    assert await count(client, "credential") == before


async def test_match_parameter_refusals(client: TestClient) -> None:
    listing = {"gtin": "4006381333931"}
    for body, code in (
        ({"listings": [listing], "limit": 101}, "schema.match.bad-limit"),
        ({"listings": [listing], "limit": "5"}, "schema.match.bad-limit"),
        ({"listings": [listing], "max_distance": 65}, "schema.match.bad-max-distance"),
        ({"listings": [listing], "max_distance": True}, "schema.match.bad-max-distance"),
        ({"listings": "everything"}, "schema.match.listings"),
        ([listing], "schema.match.listings"),
    ):
        await problem(await client.post("/match", json=body), 422, code)


async def test_refusals_on_the_notice_path_are_counted(client: TestClient, office: FakeOffice) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    elsewhere = notice(HOLDER, cred["id"], targets=[OTHER_MARKET.did])
    await problem(await client.post("/notices", data=elsewhere, headers=COSE), 422, "notice.not-addressed")
    resp = await client.post("/notices", data=b"\xd2\x84garbage", headers=COSE)
    assert resp.status == 400
    await problem(
        await client.post("/complaints", data=notice(HOLDER, cred["id"]), headers=COSE),
        422,
        "complaint.wrong-kind",
    )
    text = await (await client.get("/metrics")).text()
    rejected = "rightsmesh_objects_rejected_total"
    assert f'{rejected}{{kind="notice",reason="notice.not-addressed",source="notice"}} 1.0' in text
    assert f'{rejected}{{kind="notice",reason="complaint.wrong-kind",source="notice"}} 1.0' in text
    assert 'rightsmesh_objects_received_total{kind="unknown",source="notice"} 1.0' in text


async def test_an_expired_notice_does_not_break_the_inbox(
    client: TestClient, office: FakeOffice, clock: Any
) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    short = (await file_ok(client, notice(HOLDER, cred["id"], expires=NOW + 100)))["notice"]
    lasting = (await file_ok(client, notice(HOLDER, cred["id"], created=NOW + 1)))["notice"]
    clock.now = NOW + 200  # the first notice has expired
    resp = await client.get("/admin/notices", headers=AUTH)
    assert resp.status == 200, await resp.text()
    listed = (await resp.json())["notices"]
    assert {n["notice"] for n in listed} == {short, lasting}
    assert all(n["contact"] == {"name": "Ana Holder", "email": "ana@brand.example"} for n in listed)
    await login(client)
    assert (await client.get("/ui/market/notices")).status == 200
    assert (await client.get(f"/ui/market/notices/{short}")).status == 200
