"""In-process tests of the node core's HTTP API (pytest-aiohttp): every endpoint, happy path and failures."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cddl_util import assert_matches_cddl, assert_not_matches_cddl

from node.app import create_app
from node.appkeys import DB, OBJECTS
from protocol import cbor
from protocol.keys import KeyPair, x25519_did_url
from protocol.messages import cose_parts, sign_message, verify_message
from tests.node_fixtures import NODE, NOW, OTHER_ROOT, ROOT, TOKEN, FakeClock, make_config, trust_list

COSE = "application/cose"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, clock: FakeClock) -> TestClient:
    app = create_app(make_config(tmp_path), NODE, TOKEN, clock=clock)
    return await aiohttp_client(app)


async def post(client: TestClient, body: bytes, content_type: str = COSE) -> Any:
    return await client.post("/objects", data=body, headers={"Content-Type": content_type})


async def assert_problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body = await resp.json(content_type=None)
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code) and body["title"]
    return dict(body)


# --- descriptor, health ---------------------------------------------------------------------------------


async def test_descriptor_is_signed_by_the_node(client: TestClient) -> None:
    resp = await client.get("/.well-known/rightsmesh")
    assert resp.status == 200
    assert resp.content_type == "application/cose"
    message = verify_message(await resp.read(), NOW)
    assert message.kind == "node-descriptor"
    assert message.signer == NODE.did
    payload = message.payload
    assert (
        payload["did"] == NODE.did and payload["role"] == "marketplace" and payload["name"] == "Test Market"
    )
    assert payload["url"] == "http://127.0.0.1:8470"
    assert payload["endpoints"]["objects"] == "http://127.0.0.1:8470/objects"
    assert payload["software"].startswith("rightsmesh/")
    assert payload["x25519"] == x25519_did_url(NODE.did)
    assert payload["created"] == NOW and payload["expires"] > NOW


async def test_descriptor_matches_its_cddl(client: TestClient) -> None:
    raw = await (await client.get("/.well-known/rightsmesh")).read()
    _, payload_bytes, _ = cose_parts(raw)
    assert_matches_cddl("node-descriptor", payload_bytes)
    payload = cbor.decode(payload_bytes)
    minimal = {"created": NOW, "did": NODE.did, "role": "office", "url": "https://office.example"}
    assert_matches_cddl("node-descriptor", cbor.encode(minimal))  # what protocol/acceptance.py requires
    assert_matches_cddl("node-descriptor", cbor.encode({**payload, "later": [1]}))  # unknown: ignored
    bad: list[dict[str, Any]] = [
        {"role": "wallet"},
        {"url": "ftp://p"},
        {"did": "did:web:example.com"},
        {"expires": "tomorrow"},
        {"name": 5},
        {"endpoints": {"objects": "/objects"}},
        {"x25519": NODE.kid},  # the Ed25519 key, not the key-agreement one
    ]
    for change in bad:
        assert_not_matches_cddl("node-descriptor", cbor.encode({**payload, **change}))
    for field in ("created", "did", "role", "url"):
        assert_not_matches_cddl(
            "node-descriptor", cbor.encode({k: v for k, v in payload.items() if k != field})
        )


async def test_descriptor_json_view(client: TestClient) -> None:
    resp = await client.get("/.well-known/rightsmesh", params={"format": "json"})
    assert resp.status == 200
    body = await resp.json()
    assert body["kind"] == "node-descriptor" and body["signer"] == NODE.did
    assert body["payload"]["role"] == "marketplace"


async def test_descriptor_is_resigned_before_it_expires(client: TestClient, clock: FakeClock) -> None:
    first = await (await client.get("/.well-known/rightsmesh")).read()
    again = await (await client.get("/.well-known/rightsmesh")).read()
    assert first == again
    clock.now = NOW + 86400  # at expiry
    later = await (await client.get("/.well-known/rightsmesh")).read()
    message = verify_message(later, int(clock.now))
    assert later != first and message.created == NOW + 86400


async def test_healthz(client: TestClient) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json())["status"] == "ok"


# --- POST /objects ----------------------------------------------------------------------------------------


async def test_post_trust_list_then_get_exact_bytes(client: TestClient) -> None:
    raw = trust_list(1)
    resp = await post(client, raw)
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body == {"id": hashlib.sha256(raw).hexdigest(), "stored": True}
    got = await client.get(f"/objects/{body['id']}")
    assert got.status == 200
    assert await got.read() == raw
    assert got.content_type == "application/cose"
    assert got.headers["ETag"] == f'"{body["id"]}"'
    meta = client.app[OBJECTS].get_meta(body["id"])
    assert (meta.kind, meta.signer, meta.received_at) == ("trust-list", ROOT.did, NOW)
    assert client.app[OBJECTS].fields(body["id"])["member"] == [NODE.did]


async def test_post_same_object_twice_answers_200(client: TestClient) -> None:
    raw = trust_list(1)
    assert (await post(client, raw)).status == 201
    resp = await post(client, raw, "application/cbor")
    assert resp.status == 200
    assert (await resp.json())["stored"] is False
    assert client.app[OBJECTS].count() == 1


async def test_get_object_if_none_match(client: TestClient) -> None:
    raw = trust_list(1)
    id_hex = (await (await post(client, raw)).json())["id"]
    resp = await client.get(f"/objects/{id_hex}", headers={"If-None-Match": f'"{id_hex}"'})
    assert resp.status == 304


async def test_higher_sequence_replaces_lower_is_refused(client: TestClient) -> None:
    assert (await post(client, trust_list(5))).status == 201
    await assert_problem(await post(client, trust_list(4)), 409, "validity.stale-sequence")
    await assert_problem(await post(client, trust_list(5, created=NOW - 30)), 409, "validity.stale-sequence")
    assert (await post(client, trust_list(6))).status == 201
    assert client.app[OBJECTS].count("trust-list") == 2


async def test_untrusted_trust_list_signer(client: TestClient) -> None:
    await assert_problem(await post(client, trust_list(1, key=OTHER_ROOT)), 403, "validity.untrusted-root")
    assert client.app[OBJECTS].count() == 0


async def test_trust_list_without_sequence(client: TestClient) -> None:
    raw = sign_message(ROOT, "trust-list", {"created": NOW, "entries": []})
    await assert_problem(await post(client, raw), 422, "schema.trust-list")
    await assert_problem(await post(client, trust_list(1, colour="red")), 422, "schema.trust-list")


async def test_node_descriptor_from_anyone_is_accepted(client: TestClient) -> None:
    peer = KeyPair.from_seed(bytes(32 * [9]))
    payload = {"created": NOW, "did": peer.did, "role": "office", "name": "Peer", "url": "http://127.0.0.1:1"}
    resp = await post(client, sign_message(peer, "node-descriptor", payload))
    assert resp.status == 201
    lying = {**payload, "did": NODE.did}
    await assert_problem(
        await post(client, sign_message(peer, "node-descriptor", lying)), 422, "objects.descriptor-mismatch"
    )


async def test_unknown_kind_is_refused(client: TestClient) -> None:
    raw = sign_message(ROOT, "test", {"created": NOW})
    await assert_problem(await post(client, raw), 422, "objects.kind-not-accepted")


async def test_bad_signature(client: TestClient) -> None:
    raw = bytearray(trust_list(1))
    raw[-1] ^= 1
    await assert_problem(await post(client, bytes(raw)), 400, "signature.invalid")


async def test_malformed_cbor(client: TestClient) -> None:
    resp = await post(client, b"\xd2\x84\xff\x00")
    body = await assert_problem(resp, 400, (await resp.json(content_type=None))["code"])
    assert body["code"].startswith("decode.")
    await assert_problem(await post(client, cbor.encode({"a": 1})), 400, "decode.cose-structure")
    await assert_problem(await post(client, trust_list(1) + b"\x00"), 400, "decode.trailing-bytes")


async def test_expired_and_future_objects(client: TestClient) -> None:
    await assert_problem(
        await post(client, trust_list(1, created=NOW - 100, expires=NOW - 1)), 422, "validity.expired"
    )
    await assert_problem(await post(client, trust_list(1, created=NOW + 3600)), 422, "validity.not-yet-valid")


async def test_empty_body(client: TestClient) -> None:
    await assert_problem(await post(client, b""), 400, "request.empty")


async def test_oversized_body(client: TestClient) -> None:
    await assert_problem(await post(client, b"\xd2" * 70000), 413, "request.too-large")


async def test_oversized_chunked_body(client: TestClient) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b"\xd2" * 8192

    resp = await client.post("/objects", data=chunks(), headers={"Content-Type": COSE})
    await assert_problem(resp, 413, "request.too-large")


async def test_body_over_app_limit(aiohttp_client: Any, tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path, max_body=1000, max_object=4000), NODE, TOKEN, clock=FakeClock())
    client = await aiohttp_client(app)
    await assert_problem(await post(client, b"\xd2" * 2000), 413, "request.too-large")


async def test_wrong_content_type(client: TestClient) -> None:
    body = await assert_problem(await post(client, trust_list(1), "text/plain"), 415, "request.content-type")
    assert "application/cose" in body["accepted"]
    resp = await client.post("/objects", data=trust_list(1), headers={"Content-Type": ""})
    await assert_problem(resp, 415, "request.content-type")


# --- GET /objects/{id} -----------------------------------------------------------------------------------


async def test_get_unknown_object(client: TestClient) -> None:
    await assert_problem(await client.get("/objects/" + "0" * 64), 404, "objects.not-found")
    await assert_problem(await client.get("/objects/not-an-id"), 404, "objects.not-found")


async def test_unknown_route_and_method(client: TestClient) -> None:
    await assert_problem(await client.get("/nowhere"), 404, "http.not-found")
    resp = await client.delete("/objects")
    await assert_problem(resp, 405, "http.method-not-allowed")


# --- admin ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/status", "/admin/objects", "/admin/no-such-route"])
async def test_admin_without_token(client: TestClient, path: str) -> None:
    body = await assert_problem(await client.get(path), 401, "auth.missing")
    assert "admin" in body["detail"]


@pytest.mark.parametrize(
    "header", ["Bearer wrong-token", "Basic dGVzdDp0ZXN0", "Bearer", f"Bearer {TOKEN}x", TOKEN]
)
async def test_admin_with_wrong_token(client: TestClient, header: str) -> None:
    resp = await client.get("/admin/status", headers={"Authorization": header})
    await assert_problem(resp, 401, "auth.invalid")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_admin_status_and_objects(client: TestClient) -> None:
    await post(client, trust_list(1))
    resp = await client.get("/admin/status", headers=AUTH)
    assert resp.status == 200
    body = await resp.json()
    assert body["did"] == NODE.did and body["objects"] == {"trust-list": 1} and body["schema_version"] >= 1
    resp = await client.get("/admin/objects", params={"kind": "trust-list"}, headers=AUTH)
    listed = (await resp.json())["objects"]
    assert [o["signer"] for o in listed] == [ROOT.did]
    resp = await client.get("/admin/objects", params={"limit": "x"}, headers=AUTH)
    await assert_problem(resp, 400, "request.query")
    resp = await client.get("/admin/no-such-route", headers=AUTH)
    await assert_problem(resp, 404, "http.not-found")


async def test_internal_error_hides_details(client: TestClient) -> None:
    client.app[DB].conn.execute("DROP TABLE object_fields")
    resp = await client.get("/healthz")
    assert resp.status == 200  # health needs only the connection
    resp = await post(client, trust_list(1))
    body = await assert_problem(resp, 500, "internal.error")
    assert "object_fields" not in body["detail"]


async def test_trust_store_is_built_from_the_newest_held_list(client: TestClient, clock: FakeClock) -> None:
    from node.appkeys import CONFIG
    from node.trust import load_trust_store

    app = client.app
    assert load_trust_store(app[CONFIG], app[OBJECTS], NOW).lists == ()
    await post(client, trust_list(2))
    await post(client, trust_list(7, expires=NOW + 1000))
    trust = load_trust_store(app[CONFIG], app[OBJECTS], NOW)
    assert [tl.sequence for tl in trust.lists] == [7]
    assert trust.is_trusted(NODE.did, "marketplace", NOW)
    assert not trust.is_trusted(NODE.did, "office", NOW)
    assert load_trust_store(app[CONFIG], app[OBJECTS], NOW + 1000).lists == ()  # the newest has expired
