"""Office HTTP API in process (pytest-aiohttp): search, offers, issuance, revocation, status lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from node.app import create_app
from node.appkeys import DB
from node.office import store
from protocol.data_integrity import verify_proof
from protocol.issuance import key_proof
from protocol.keys import KeyPair
from protocol.messages import verify_message
from protocol.register import parse_register
from protocol.role_payloads import check_search_result
from protocol.status_list import status_list_from_credential
from tests.node_fixtures import NODE, NOW, TOKEN, FakeClock, iso, make_config, problem

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WALLET = KeyPair.from_seed(bytes([42]) * 32)
REGISTERED = "018003578"  # first entry of the sample register, status registered
NOT_IN_FORCE = "018006305"  # status filed


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, clock: FakeClock) -> TestClient:
    app = create_app(make_config(tmp_path, role="office", name="Test Office"), NODE, TOKEN, clock=clock)
    parsed = parse_register((ROOT / "specs" / "examples" / "register-em.csv").read_bytes())
    store.import_entries(app[DB], (e for _, e in parsed.entries), NOW)
    return await aiohttp_client(app)


async def offer(client: TestClient, number: str = REGISTERED, **extra: Any) -> dict[str, Any]:
    resp = await client.post("/admin/offers", json={"number": number, **extra}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def proof(
    client: TestClient, clock: FakeClock, key: KeyPair = WALLET, audience: str | None = None
) -> Any:
    resp = await client.post("/issuance/nonce")
    assert resp.status == 200
    body = await resp.json()
    assert body["audience"] == NODE.did
    return key_proof(key, nonce=body["c_nonce"], audience=audience or NODE.did, created=iso(clock()))


async def redeem(client: TestClient, code: str, vp: Any) -> Any:
    return await client.post("/issuance/credential", json={"code": code, "proof": vp})


# --- search ---------------------------------------------------------------------------------------------


async def test_search_by_number_is_signed_by_the_office(client: TestClient) -> None:
    resp = await client.get("/rights/search", params={"number": REGISTERED})
    assert resp.status == 200
    message = verify_message(await resp.read(), NOW)
    assert message.kind == "search-result" and message.signer == NODE.did
    check_search_result(message.payload)
    assert [r["application_number"] for r in message.payload["results"]] == [REGISTERED]
    assert "contact_email" not in message.payload["results"][0]
    assert message.payload["query"] == {"number": REGISTERED, "limit": 20}


async def test_search_filters_combine(client: TestClient) -> None:
    resp = await client.get("/rights/search", params={"class": "25", "limit": "100", "format": "json"})
    body = await resp.json()
    assert body["total"] > 0 and all(25 in r["nice_classes"] for r in body["results"])
    name = body["results"][0]["holder_name"]
    resp = await client.get(
        "/rights/search", params={"owner": name.split()[0], "class": "25", "format": "json"}
    )
    owned = await resp.json()
    assert owned["results"] and all(r["holder_name"].startswith(name.split()[0]) for r in owned["results"])
    mark = body["results"][0]["verbal_element"]
    resp = await client.get("/rights/search", params={"q": mark.lower(), "format": "json"})
    assert mark in [r.get("verbal_element") for r in (await resp.json())["results"]]
    resp = await client.get("/rights/search", params={"limit": "3", "format": "json"})
    page = await resp.json()
    assert len(page["results"]) == 3 and page["truncated"] is True and page["total"] >= 200
    resp = await client.get("/rights/search", params={"q": "zzzz-no-such-mark", "format": "json"})
    assert (await resp.json())["results"] == []


@pytest.mark.parametrize("params", [{"class": "46"}, {"class": "x"}, {"limit": "0"}, {"q": "x" * 201}])
async def test_search_bad_parameters(client: TestClient, params: dict[str, str]) -> None:
    await problem(await client.get("/rights/search", params=params), 400, "request.query")


# --- offers ---------------------------------------------------------------------------------------------


async def test_offer_needs_admin_and_a_right_in_force(client: TestClient) -> None:
    resp = await client.post("/admin/offers", json={"number": REGISTERED})
    await problem(resp, 401, "auth.missing")
    resp = await client.post("/admin/offers", json={"number": "999999999"}, headers=AUTH)
    await problem(resp, 404, "office.unknown-right")
    resp = await client.post("/admin/offers", json={"number": NOT_IN_FORCE}, headers=AUTH)
    await problem(resp, 409, "office.right-not-in-force")
    resp = await client.post("/admin/offers", json={"number": REGISTERED, "ttl": 0}, headers=AUTH)
    await problem(resp, 409, "office.offer-ttl")
    for attempts in (0, 10_000):
        resp = await client.post("/admin/offers", json={"number": REGISTERED, "max_attempts": attempts},
                                 headers=AUTH)
        await problem(resp, 409, "office.offer-attempts")
    resp = await client.post("/admin/offers", json={"nummer": REGISTERED}, headers=AUTH)
    await problem(resp, 422, "request.schema")
    resp = await client.post("/admin/offers", data=b"{", headers={**AUTH, "Content-Type": "application/json"})
    await problem(resp, 400, "request.json")
    resp = await client.post(
        "/admin/offers", data=b"number=1", headers={**AUTH, "Content-Type": "text/plain"}
    )
    await problem(resp, 415, "request.content-type")
    big = json.dumps({"number": REGISTERED, "pad": "x" * 5000}).encode()
    resp = await client.post("/admin/offers", data=big, headers={**AUTH, "Content-Type": "application/json"})
    await problem(resp, 413, "request.too-large")
    created = await offer(client)
    assert created["right"] == f"EM:{REGISTERED}" and created["expires"] == NOW + 7 * 86400
    listed = await (await client.get("/admin/offers", headers=AUTH)).json()
    assert [o["id"] for o in listed["offers"]] == [created["offer"]]
    assert "code_hash" not in listed["offers"][0] and created["code"] not in json.dumps(listed)


# --- issuance -------------------------------------------------------------------------------------------


async def test_redeem_issues_a_credential_bound_to_the_wallet(client: TestClient, clock: FakeClock) -> None:
    created = await offer(client)
    resp = await redeem(client, created["code"], await proof(client, clock))
    assert resp.status == 201, await resp.text()
    credential = await resp.json(content_type=None)
    assert verify_proof(credential, expected_purpose="assertionMethod").controller == NODE.did
    assert credential["issuer"] == NODE.did
    subject = credential["credentialSubject"]
    assert subject["id"] == WALLET.did and subject["applicationNumber"] == REGISTERED
    assert credential["credentialStatus"]["statusListCredential"] == "http://127.0.0.1:8470/status/1"
    status = await client.get("/status/1")
    assert status.status == 200
    listed = status_list_from_credential(await status.json(content_type=None))
    assert not listed.get(int(credential["credentialStatus"]["statusListIndex"]))
    # single use
    resp = await redeem(client, created["code"], await proof(client, clock))
    await problem(resp, 410, "validity.offer-redeemed")


async def test_wrong_codes_count_and_lock(client: TestClient, clock: FakeClock) -> None:
    created = await offer(client, max_attempts=2)
    wrong = created["code"][:9] + ("a" if created["code"][9] != "a" else "b") + created["code"][10:]
    body = await problem(await redeem(client, wrong, await proof(client, clock)), 403, "validity.offer-code")
    assert body["attempts_left"] == 1
    await problem(await redeem(client, wrong, await proof(client, clock)), 403, "validity.offer-code")
    # locked now: even the right code fails
    await problem(
        await redeem(client, created["code"], await proof(client, clock)), 403, "validity.offer-locked"
    )


async def test_expired_offer(client: TestClient, clock: FakeClock) -> None:
    created = await offer(client, ttl=60)
    clock.now += 61
    await problem(
        await redeem(client, created["code"], await proof(client, clock)), 410, "validity.offer-expired"
    )


async def test_unknown_and_malformed_codes(client: TestClient, clock: FakeClock) -> None:
    vp = await proof(client, clock)
    await problem(await redeem(client, "aaaaaaaa-bbbbbbbbbbbbbbbb", vp), 404, "office.unknown-offer")
    await problem(await redeem(client, "not a code", vp), 422, "schema.offer-code")
    resp = await client.post("/issuance/credential", json={"code": "x"})
    await problem(resp, 422, "request.schema")
    resp = await client.post("/issuance/credential", data=b"[", headers={"Content-Type": "application/json"})
    await problem(resp, 400, "request.json")
    resp = await client.post("/issuance/credential", data=b"{}", headers={"Content-Type": "application/xml"})
    await problem(resp, 415, "request.content-type")


async def test_nonce_is_single_use_and_expires(client: TestClient, clock: FakeClock) -> None:
    created = await offer(client)
    vp = await proof(client, clock)
    wrong = created["code"][:9] + ("a" if created["code"][9] != "a" else "b") + created["code"][10:]
    replay = await proof(client, clock)
    # a failed code check does not consume the nonce; a proof check does
    await problem(await redeem(client, wrong, replay), 403, "validity.offer-code")
    bad_domain = await proof(client, clock, audience="did:example:other")
    await problem(await redeem(client, created["code"], bad_domain), 422, "validity.domain")
    await problem(await redeem(client, created["code"], bad_domain), 422, "validity.nonce-used")
    clock.now += 301
    await problem(await redeem(client, created["code"], vp), 422, "validity.nonce-expired")
    forged = key_proof(WALLET, nonce="never-handed-out", audience=NODE.did, created=iso(clock()))
    await problem(await redeem(client, created["code"], forged), 422, "validity.nonce-unknown")


async def test_tampered_proof_is_refused(client: TestClient, clock: FakeClock) -> None:
    created = await offer(client)
    vp = await proof(client, clock)
    vp["holder"] = KeyPair.from_seed(bytes([9]) * 32).did
    resp = await redeem(client, created["code"], vp)
    assert resp.status in (400, 422)
    assert (await resp.json(content_type=None))["code"].startswith(("signature.", "validity."))
    # the offer is still open: a good proof redeems it
    resp = await redeem(client, created["code"], await proof(client, clock))
    assert resp.status == 201


# --- revocation -----------------------------------------------------------------------------------------


async def test_revocation_publishes_a_new_status_list_version(client: TestClient, clock: FakeClock) -> None:
    created = await offer(client)
    credential = await (await redeem(client, created["code"], await proof(client, clock))).json(
        content_type=None
    )
    index = int(credential["credentialStatus"]["statusListIndex"])
    before = status_list_from_credential(await (await client.get("/status/1")).json(content_type=None))
    resp = await client.post("/admin/revocations", json={"credential": credential["id"]})
    await problem(resp, 401, "auth.missing")
    clock.now += 10
    resp = await client.post("/admin/revocations", json={"credential": credential["id"]}, headers=AUTH)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["version"] == before.version + 1
    document = await (await client.get("/status/1")).json(content_type=None)
    after = status_list_from_credential(document)
    assert after.get(index) and after.version == before.version + 1
    assert verify_proof(document, expected_purpose="assertionMethod").controller == NODE.did
    resp = await client.post("/admin/revocations", json={"credential": credential["id"]}, headers=AUTH)
    await problem(resp, 409, "office.already-revoked")
    resp = await client.post("/admin/revocations", json={"credential": "urn:uuid:nope"}, headers=AUTH)
    await problem(resp, 404, "office.unknown-credential")
    listed = await (await client.get("/admin/credentials", headers=AUTH)).json()
    assert listed["credentials"][0]["revoked_at"] == NOW + 10


async def test_unknown_status_list(client: TestClient) -> None:
    await problem(await client.get("/status/1"), 404, "office.unknown-status-list")


async def test_status_list_etag(client: TestClient, clock: FakeClock) -> None:
    created = await offer(client)
    await redeem(client, created["code"], await proof(client, clock))
    first = await client.get("/status/1")
    etag = first.headers["ETag"]
    again = await client.get("/status/1", headers={"If-None-Match": etag})
    assert again.status == 304
    listed = await (await client.get("/admin/credentials", headers=AUTH)).json()
    await client.post("/admin/revocations", json={"credential": listed["credentials"][0]["id"]}, headers=AUTH)
    changed = await client.get("/status/1", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag


async def test_oversized_redemption(client: TestClient) -> None:
    big = json.dumps({"code": "x", "proof": {"pad": "x" * (64 * 1024)}}).encode()
    resp = await client.post("/issuance/credential", data=big, headers={"Content-Type": "application/json"})
    await problem(resp, 413, "request.too-large")


async def test_status_list_versions_are_objects(client: TestClient, clock: FakeClock) -> None:
    created = await offer(client)
    await redeem(client, created["code"], await proof(client, clock))
    listed = await (await client.get("/admin/credentials", headers=AUTH)).json()
    clock.now += 5  # the new version is the newer object
    await client.post("/admin/revocations", json={"credential": listed["credentials"][0]["id"]}, headers=AUTH)
    objects = await (await client.get("/admin/objects", params={"kind": "status-list"}, headers=AUTH)).json()
    assert len(objects["objects"]) == 2
    served = await (await client.get("/status/1")).read()
    newest = await client.get(f"/objects/{objects['objects'][0]['id']}")
    assert await newest.read() == served  # the same bytes under the same id
