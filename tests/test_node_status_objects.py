"""POST /objects with JSON credentials: Bitstring Status List credentials from accredited offices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from node.app import create_app
from node.appkeys import OBJECTS
from protocol.status_list import StatusList, issue_status_list_credential, new_status_list, revoke
from protocol.vc import format_datetime
from tests.node_fixtures import NODE, NOW, OFFICE, TOKEN, FakeClock, accreditation, make_config, trust_list
from tests.test_node_app import assert_problem, post

LIST_URL = "https://office.example/status/1"
VC = "application/vc+json"


def signed(status_list: StatusList, at: int = NOW - 10, key: Any = OFFICE) -> bytes:
    created = format_datetime(datetime.fromtimestamp(at, UTC))
    return json.dumps(issue_status_list_credential(key, status_list, created=created)).encode()


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    app = create_app(make_config(tmp_path), NODE, TOKEN, clock=FakeClock())
    client = await aiohttp_client(app)
    resp = await post(client, trust_list(1, also=[accreditation(OFFICE, "office")]))
    assert resp.status == 201
    return client


async def test_status_list_from_accredited_office(client: TestClient) -> None:
    first = new_status_list(LIST_URL, OFFICE.did, "revocation")
    raw = signed(first)
    resp = await post(client, raw, VC)
    assert resp.status == 201, await resp.text()
    id_hex = (await resp.json())["id"]
    got = await client.get(f"/objects/{id_hex}")
    assert await got.read() == raw and got.content_type == VC
    meta = client.app[OBJECTS].get_meta(id_hex)
    assert (meta.kind, meta.signer, meta.created) == ("status-list", OFFICE.did, NOW - 10)
    assert (await post(client, raw, "application/json")).status == 200
    # the same version signed again is not newer; a revocation is
    await assert_problem(await post(client, signed(first, NOW - 5), VC), 409, "validity.stale-version")
    assert (await post(client, signed(revoke(first, 3), NOW - 5), VC)).status == 201
    assert client.app[OBJECTS].count("status-list") == 2


async def test_status_list_from_unaccredited_issuer(client: TestClient) -> None:
    rogue = new_status_list(LIST_URL, NODE.did, "revocation")
    resp = await post(client, signed(rogue, key=NODE), VC)  # NODE is a marketplace, not an office
    await assert_problem(resp, 403, "validity.untrusted-issuer")


async def test_tampered_status_list(client: TestClient) -> None:
    document = json.loads(signed(new_status_list(LIST_URL, OFFICE.did, "revocation")))
    document["credentialSubject"]["statusListVersion"] = 9
    resp = await post(client, json.dumps(document).encode(), VC)
    await assert_problem(resp, 400, "signature.invalid")


async def test_future_status_list(client: TestClient) -> None:
    resp = await post(client, signed(new_status_list(LIST_URL, OFFICE.did, "revocation"), NOW + 3600), VC)
    await assert_problem(resp, 422, "validity.not-yet-valid")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "decode.json"),
        (b"[1, 2]", 422, "schema.credential"),
        (b'{"a": 1, "a": 2}', 400, "decode.duplicate-key"),
        (b'{"type": ["VerifiableCredential", "IPRightCredential"]}', 422, "schema.credential"),
        (b'{"type": ["VerifiableCredential", "OtherCredential"]}', 422, "objects.kind-not-accepted"),
    ],
)
async def test_bad_json_objects(client: TestClient, body: bytes, status: int, code: str) -> None:
    await assert_problem(await post(client, body, VC), status, code)
