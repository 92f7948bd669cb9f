"""Marketplace HTTP API in process (pytest-aiohttp): profile, enrolment challenge, enrolment and its failures.

The office side is played by a small aiohttp server serving status list credentials that the test
controls, so revocation and an unreachable office can be tested directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from node.app import create_app
from protocol.keys import KeyPair
from protocol.messages import verify_message
from protocol.presentation import create_presentation
from protocol.role_payloads import check_enrolment_result, check_profile
from protocol.status_list import issue_status_list_credential, new_status_list, revoke
from protocol.trust_list import sign_trust_list
from tests.node_fixtures import (
    NODE,
    NOW,
    ROOT,
    TOKEN,
    FakeClock,
    example_right_credential,
    iso,
    make_config,
    problem,
)

REPO = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OFFICE = KeyPair.from_seed(bytes([11]) * 32)
WALLET = KeyPair.from_seed(bytes([12]) * 32)
THIEF = KeyPair.from_seed(bytes([13]) * 32)
PROFILE = json.loads((REPO / "specs" / "examples" / "marketplace-profile.json").read_text())


class FakeOffice:
    """Serves /status/1 from a list the test can revoke in, or answers 503 when ``down``."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {}
        self.down = False
        self.hits = 0
        self.app = web.Application()
        self.app.router.add_get("/status/1", self.handle)
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.down:
            return web.Response(status=503)
        return web.json_response(self.document)

    def publish(self, status_list: Any) -> None:
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
    return await aiohttp_client(app)


async def publish_trust(client: TestClient, *entries: tuple[str, str]) -> None:
    payload = [
        {
            "did": did,
            "role": role,
            "name": role,
            "jurisdiction": "EU",
            "valid_from": NOW - 86400,
            "valid_until": NOW + 365 * 86400,
        }
        for did, role in entries
    ]
    raw = sign_trust_list(ROOT, payload, sequence=1, created=NOW - 60)
    resp = await client.post("/objects", data=raw, headers={"Content-Type": "application/cose"})
    assert resp.status in (200, 201), await resp.text()


def credential(office: FakeOffice, holder: str = WALLET.did, index: int = 5) -> dict[str, Any]:
    return example_right_credential(OFFICE, holder, status_list_url=office.url, index=index)


async def challenge(client: TestClient) -> str:
    resp = await client.post("/enrol/challenge")
    assert resp.status == 200
    body = await resp.json()
    assert body["domain"] == NODE.did and body["expires"] == NOW + 300
    return str(body["challenge"])


async def presentation(
    client: TestClient,
    office: FakeOffice,
    *,
    key: KeyPair = WALLET,
    cred: dict[str, Any] | None = None,
    domain: str = NODE.did,
) -> dict[str, Any]:
    nonce = await challenge(client)
    return create_presentation(
        key, [cred or credential(office)], challenge=nonce, domain=domain, created=iso(NOW)
    )


@pytest.fixture
async def trusted(client: TestClient) -> TestClient:
    await publish_trust(client, (OFFICE.did, "office"), (NODE.did, "marketplace"))
    return client


# --- profile --------------------------------------------------------------------------------------------


async def test_profile_publish_and_read(client: TestClient) -> None:
    await problem(await client.get("/profile"), 404, "marketplace.no-profile")
    await problem(await client.put("/admin/profile", json=PROFILE), 401, "auth.missing")
    bad = dict(PROFILE, accepted_rights=["copyright"])
    resp = await client.put("/admin/profile", json=bad, headers=AUTH)
    await problem(resp, 422, "schema.marketplace-profile.bad-accepted-rights")
    resp = await client.put("/admin/profile", json=PROFILE, headers=AUTH)
    assert resp.status == 201
    message = verify_message(await (await client.get("/profile")).read(), NOW)
    assert message.kind == "marketplace-profile" and message.signer == NODE.did
    check_profile(message.payload)
    assert message.payload["programme"] == PROFILE["programme"]
    view = await (await client.get("/profile", params={"format": "json"})).json()
    assert view["payload"]["marketplace"] == NODE.did


# --- enrolment ------------------------------------------------------------------------------------------


async def test_enrolment_happy_path(trusted: TestClient, office: FakeOffice) -> None:
    vp = await presentation(trusted, office)
    resp = await trusted.post("/enrol", json=vp)
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["holder"] == WALLET.did
    assert body["rights"][0]["number"] == "018003578" and body["rights"][0]["issuer"] == OFFICE.did
    assert {"proof", "challenge", "domain", "trust", "status", "holder-binding"} <= set(body["checks"])
    import base64

    receipt = verify_message(base64.urlsafe_b64decode(body["receipt"] + "=="), NOW)
    assert receipt.kind == "enrolment-result" and receipt.signer == NODE.did
    check_enrolment_result(receipt.payload)
    assert receipt.payload["holder"] == WALLET.did
    await problem(await trusted.get("/admin/enrolments"), 401, "auth.missing")
    listed = await (await trusted.get("/admin/enrolments", headers=AUTH)).json()
    assert [e["holder"] for e in listed["enrolments"]] == [WALLET.did]
    # the same presentation again: its challenge is spent
    await problem(await trusted.post("/enrol", json=vp), 422, "validity.challenge-replayed")


async def test_challenge_unknown_and_expired(
    trusted: TestClient, office: FakeOffice, clock: FakeClock
) -> None:
    forged = create_presentation(
        WALLET, [credential(office)], challenge="made-up", domain=NODE.did, created=iso(NOW)
    )
    await problem(await trusted.post("/enrol", json=forged), 422, "validity.challenge-unknown")
    vp = await presentation(trusted, office)
    clock.now += 301
    await problem(await trusted.post("/enrol", json=vp), 422, "validity.challenge-expired")
    no_challenge = {k: v for k, v in vp.items() if k != "proof"}
    await problem(await trusted.post("/enrol", json=no_challenge), 422, "validity.challenge")


async def test_revoked_credential_is_refused(trusted: TestClient, office: FakeOffice) -> None:
    office.publish(revoke(new_status_list(office.url, OFFICE.did, "revocation"), 5))
    body = await problem(
        await trusted.post("/enrol", json=await presentation(trusted, office)), 422, "status.revoked"
    )
    assert "status" in body["checked"]
    listed = await (await trusted.get("/admin/enrolments", headers=AUTH)).json()
    assert listed["enrolments"] == []


async def test_unreachable_office_uses_cache_or_fails_closed(trusted: TestClient, office: FakeOffice) -> None:
    office.down = True
    await problem(
        await trusted.post("/enrol", json=await presentation(trusted, office)), 422, "status.unavailable"
    )
    office.down = False
    assert (await trusted.post("/enrol", json=await presentation(trusted, office))).status == 201
    office.down = True  # a cached copy (fetched just now) is used
    assert (await trusted.post("/enrol", json=await presentation(trusted, office))).status == 201


async def test_untrusted_issuer(client: TestClient, office: FakeOffice) -> None:
    await publish_trust(client, (NODE.did, "marketplace"))  # the office is not accredited
    body = await problem(
        await client.post("/enrol", json=await presentation(client, office)), 422, "trust.untrusted-issuer"
    )
    assert any(f["code"] == "status.unavailable" for f in body["failures"])  # never fetched: not trusted


async def test_wrong_audience_and_stolen_credential(trusted: TestClient, office: FakeOffice) -> None:
    vp = await presentation(
        trusted, office, domain="did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"
    )
    await problem(await trusted.post("/enrol", json=vp), 422, "validity.domain")
    stolen = await presentation(trusted, office, key=THIEF)  # the wallet's credential, the thief's key
    await problem(await trusted.post("/enrol", json=stolen), 422, "validity.holder-not-subject")


async def test_tampered_presentation(trusted: TestClient, office: FakeOffice) -> None:
    vp = await presentation(trusted, office)
    vp["verifiableCredential"][0]["credentialSubject"]["holderName"] = "Someone Else Ltd"
    body = await problem(await trusted.post("/enrol", json=vp), 422, "signature.invalid")
    assert body["failures"]


async def test_bad_bodies(trusted: TestClient) -> None:
    headers = {"Content-Type": "application/json"}
    await problem(await trusted.post("/enrol", data=b"{", headers=headers), 400, "request.json")
    await problem(await trusted.post("/enrol", data=b"[1]", headers=headers), 422, "schema.presentation")
    await problem(
        await trusted.post("/enrol", data=b"{}", headers={"Content-Type": "text/plain"}),
        415,
        "request.content-type",
    )
    big = json.dumps({"pad": "x" * (256 * 1024)}).encode()
    await problem(await trusted.post("/enrol", data=big, headers=headers), 413, "request.too-large")


async def test_profile_bad_bodies(client: TestClient) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    await problem(await client.put("/admin/profile", data=b"{", headers=headers), 400, "request.json")
    big = json.dumps(dict(PROFILE, counter_notice="x" * (64 * 1024))).encode()
    await problem(await client.put("/admin/profile", data=big, headers=headers), 413, "request.too-large")
    await problem(
        await client.put("/admin/profile", data=b"[]", headers=headers),
        422,
        "schema.marketplace-profile.not-a-map",
    )
    await problem(await client.get("/profile"), 404, "marketplace.no-profile")  # nothing stored


async def test_revocation_learnt_by_gossip_beats_a_stale_office(
    trusted: TestClient, office: FakeOffice
) -> None:
    assert (await trusted.post("/enrol", json=await presentation(trusted, office))).status == 201
    newer = issue_status_list_credential(
        OFFICE, revoke(new_status_list(office.url, OFFICE.did, "revocation"), 5), created=iso(NOW - 50)
    )
    resp = await trusted.post(
        "/objects", data=json.dumps(newer).encode(), headers={"Content-Type": "application/vc+json"}
    )
    assert resp.status == 201, await resp.text()
    # the office still serves version 1 (not revoked); the held version 2 wins
    await problem(
        await trusted.post("/enrol", json=await presentation(trusted, office)), 422, "status.revoked"
    )


async def test_outstanding_challenges_are_capped(
    client: TestClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node import nonces

    monkeypatch.setattr(nonces, "MAX_OUTSTANDING_NONCES", 2)
    await challenge(client)
    await challenge(client)
    await problem(await client.post("/enrol/challenge"), 429, "rate.nonces")
    clock.now += 301  # the first two expired
    assert (await client.post("/enrol/challenge")).status == 200


async def test_one_credential_given_bare(trusted: TestClient, office: FakeOffice) -> None:
    from protocol.data_integrity import add_proof

    nonce = await challenge(trusted)
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": WALLET.did,
        "verifiableCredential": credential(office),
    }
    signed = add_proof(
        vp, WALLET, created=iso(NOW), purpose="authentication", challenge=nonce, domain=NODE.did
    )
    resp = await trusted.post("/enrol", json=signed)
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["rights"][0]["office"] == "EM"


def test_verified_status_lists_cache() -> None:
    from node.marketplace.status import VerifiedLists
    from protocol.status_list import StatusList

    cache = VerifiedLists(size=1)
    url = "https://office.example/status/1"
    document = issue_status_list_credential(
        OFFICE, new_status_list(url, OFFICE.did, "revocation"), created=iso(NOW - 10)
    )
    first = cache.get(document, NOW)
    assert isinstance(first, StatusList) and cache.get(document, NOW) is first
    tampered = copy_with(document, statusListVersion=9)
    assert cache.get(tampered, NOW) == tampered  # fails verification: left to the verifier
    bounded = issue_status_list_credential(
        OFFICE,
        new_status_list(url, OFFICE.did, "revocation"),
        created=iso(NOW - 10),
        valid_until=iso(NOW + 10),
    )
    assert cache.get(bounded, NOW) is bounded  # may expire: verified each time


def copy_with(document: dict[str, Any], **subject: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(document))
    out["credentialSubject"].update(subject)
    return out


async def test_presentation_without_a_right_credential(trusted: TestClient) -> None:
    # A valid presentation (proof, challenge, domain, holder binding all pass) that carries only an
    # agent authorisation: nothing to enrol. An empty one is refused earlier, by the verifier.
    from protocol.authorisation import issue_authorisation_credential, make_authorisation

    grant = make_authorisation(THIEF.did, ["urn:uuid:0e8b0d9c-0000-4000-8000-000000000001"], ["notify"], None)
    authorisation = issue_authorisation_credential(
        WALLET, grant, created=iso(NOW - 1000), valid_until=iso(NOW + 86400)
    )
    cases = ((THIEF, [authorisation], "enrol.no-rights"), (WALLET, [], "schema.presentation"))
    for key, creds, code in cases:
        nonce = await challenge(trusted)
        vp = create_presentation(key, creds, challenge=nonce, domain=NODE.did, created=iso(NOW))
        await problem(await trusted.post("/enrol", json=vp), 422, code)
    listed = await (await trusted.get("/admin/enrolments", headers=AUTH)).json()
    assert listed["enrolments"] == []


async def test_unsigned_claims_of_a_trusted_office_fetch_nothing(
    trusted: TestClient, office: FakeOffice
) -> None:
    # The status URL of a credential is fetched only once a trusted office's proof on it checks out:
    # a tampered credential, or one signed by someone else in the office's name, must not make the
    # marketplace send requests to URLs of the presenter's choosing.
    import copy

    from protocol.data_integrity import add_proof

    tampered = copy.deepcopy(credential(office))
    tampered["credentialSubject"]["verbalElement"] = "SOMETHING ELSE"
    forged = credential(office)
    del forged["proof"]
    forged = add_proof(forged, THIEF, created=iso(NOW - 1000))  # issuer still names OFFICE
    for cred in (tampered, forged):
        office.hits = 0
        vp = await presentation(trusted, office, cred=cred)
        resp = await trusted.post("/enrol", json=vp)
        assert resp.status == 422, await resp.text()
        assert office.hits == 0
    vp = await presentation(trusted, office)  # the genuine credential is fetched and enrols
    assert (await trusted.post("/enrol", json=vp)).status == 201
    assert office.hits == 1
