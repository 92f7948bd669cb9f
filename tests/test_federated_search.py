"""Federated register search (GET /search/rights) with real office apps served on 127.0.0.1.

Offices: one answering (a real office app), one that never answers within the timeout, one whose
descriptor names a DID but whose server signs with another key, and one whose port is closed; all four
accredited by a trust list the asking node holds. Offices no trust list accredits are never contacted.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from node.app import create_app
from node.appkeys import DB
from node.office import store
from node.search.answers import (
    MAX_ANSWER_AGE,
    MAX_OFFICES,
    MAX_SKIPPED,
    InvalidAnswer,
    SearchQuery,
    b64url_decode,
    check_answer,
)
from protocol.keys import KeyPair
from protocol.messages import sign_message, verify_message
from protocol.register import parse_register
from protocol.role_payloads import search_result_payload
from tests.node_fixtures import NODE, NOW, OFFICE, TOKEN, FakeClock, accreditation, make_config, trust_list

REPO = Path(__file__).resolve().parent.parent
REGISTERED = "018003578"
IMPOSTOR = KeyPair.from_seed(bytes([61]) * 32)  # names itself in a descriptor...
FORGER = KeyPair.from_seed(bytes([62]) * 32)  # ...but its server signs with this key
SLOW = KeyPair.from_seed(bytes([63]) * 32)
GONE = KeyPair.from_seed(bytes([64]) * 32)
SELF_OFFICE = KeyPair.from_seed(bytes([65]) * 32)
TIMEOUT = 0.5
#: The four offices of the ``offices`` fixture, accredited as offices by ROOT (sequence 1).
FOUR = (
    (OFFICE, "Honest Office"), (IMPOSTOR, "Impostor Office"), (SLOW, "Slow Office"), (GONE, "Gone Office")
)


def accrediting(sequence: int, *offices: tuple[KeyPair, str]) -> bytes:
    """A trust list from ROOT accrediting ``offices`` (key, name) as offices (and NODE as a marketplace)."""
    return trust_list(sequence, also=[accreditation(key, "office", name) for key, name in offices])


def descriptor(key: KeyPair, name: str, base: str, role: str = "office", created: int = NOW - 10) -> bytes:
    payload = {
        "created": created,
        "did": key.did,
        "role": role,
        "name": name,
        "url": base,
        "endpoints": {"search": base + "/rights/search"},
        "expires": created + 86400,
    }
    return sign_message(key, "node-descriptor", payload)


def office_app(tmp: Path, key: KeyPair, name: str, clock: FakeClock) -> web.Application:
    directory = tmp / name.lower().replace(" ", "-")
    directory.mkdir()
    app = create_app(make_config(directory, role="office", name=name), key, TOKEN, clock=clock)
    parsed = parse_register((REPO / "specs" / "examples" / "register-em.csv").read_bytes())
    store.import_entries(app[DB], (e for _, e in parsed.entries), NOW)
    return app


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def offices(aiohttp_server: Any, tmp_path: Path, clock: FakeClock) -> AsyncIterator[list[bytes]]:
    """Descriptors of the four offices, their servers running."""
    honest = await aiohttp_server(office_app(tmp_path, OFFICE, "Honest Office", clock))
    forged = await aiohttp_server(office_app(tmp_path, FORGER, "Forged Office", clock))
    release = asyncio.Event()

    async def never_answers(request: web.Request) -> web.Response:
        await asyncio.wait_for(release.wait(), 30)
        return web.Response(status=503)

    slow_app = web.Application()
    slow_app.router.add_get("/rights/search", never_answers)
    slow = await aiohttp_server(slow_app)
    yield [
        descriptor(OFFICE, "Honest Office", str(honest.make_url("")).rstrip("/")),
        descriptor(IMPOSTOR, "Impostor Office", str(forged.make_url("")).rstrip("/")),
        descriptor(SLOW, "Slow Office", str(slow.make_url("")).rstrip("/")),
        descriptor(GONE, "Gone Office", f"http://127.0.0.1:{closed_port()}"),
    ]
    release.set()


async def asking_node(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock, descriptors: list[bytes], **config: Any
) -> TestClient:
    config.setdefault("role", "marketplace")
    (tmp_path / "asker").mkdir()
    app = create_app(
        make_config(tmp_path / "asker", search_timeout=TIMEOUT, **config), NODE, TOKEN, clock=clock
    )
    client: TestClient = await aiohttp_client(app)
    for raw in descriptors:
        resp = await client.post("/objects", data=raw, headers={"Content-Type": "application/cose"})
        assert resp.status == 201, await resp.text()
    return client


def by_did(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {office["did"]: office for office in body["offices"]}


async def test_fan_out_marks_every_office(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock, offices: list[bytes]
) -> None:
    client = await asking_node(aiohttp_client, tmp_path, clock, [accrediting(1, *FOUR), *offices])
    resp = await client.get("/search/rights", params={"number": REGISTERED})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["query"] == {"number": REGISTERED, "limit": 20}
    assert body["complete"] is False
    assert body["summary"] == {
        "offices": 4, "answered": 1, "invalid": 1, "timeout": 1, "failed": 1, "skipped": 0
    }
    assert all(office["accredited"] for office in body["offices"])
    outcome = by_did(body)

    honest = outcome[OFFICE.did]
    assert honest["status"] == "answered" and honest["name"] == "Honest Office"
    message = verify_message(b64url_decode(honest["signed"]), NOW)  # the exact signed bytes
    assert message.signer == OFFICE.did and message.kind == "search-result"
    assert honest["result"]["office"] == OFFICE.did
    assert [r["application_number"] for r in honest["result"]["results"]] == [REGISTERED]

    impostor = outcome[IMPOSTOR.did]
    assert impostor["status"] == "invalid" and impostor["error"]["code"] == "search.wrong-signer"
    assert verify_message(b64url_decode(impostor["signed"]), NOW).signer == FORGER.did
    assert "result" not in impostor

    assert outcome[SLOW.did]["status"] == "timeout"
    assert outcome[SLOW.did]["error"]["code"] == "search.timeout"
    assert outcome[GONE.did]["status"] == "failed"
    assert outcome[GONE.did]["error"]["code"] == "search.unreachable"

    # Only the valid answer is merged, tagged with its office.
    assert [(r["office_did"], r["application_number"]) for r in body["results"]] == [(OFFICE.did, REGISTERED)]


async def office_node(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock, objects: list[bytes]
) -> TestClient:
    """An asking node that is itself an office (NODE's key) with five register entries."""
    client = await asking_node(aiohttp_client, tmp_path, clock, objects, role="office", name="Self Office")
    parsed = parse_register((REPO / "specs" / "examples" / "register-em.csv").read_bytes())
    store.import_entries(client.server.app[DB], (e for _, e in list(parsed.entries)[:5]), NOW)
    return client


async def test_an_accredited_office_node_asks_itself_too(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock, offices: list[bytes]
) -> None:
    accredit = accrediting(1, (OFFICE, "Honest Office"), (NODE, "Self Office"))
    client = await office_node(aiohttp_client, tmp_path, clock, [accredit, offices[0]])
    resp = await client.get("/search/rights", params={"number": REGISTERED, "limit": "5"})
    body = await resp.json()
    assert body["complete"] is True and body["summary"]["answered"] == 2
    local = body["offices"][0]
    assert local["local"] is True and local["did"] == NODE.did and local["status"] == "answered"
    assert local["accredited"] is True
    assert verify_message(b64url_decode(local["signed"]), NOW).signer == NODE.did
    assert by_did(body)[OFFICE.did]["accredited"] is True
    assert {r["office_did"] for r in body["results"]} == {NODE.did, OFFICE.did}
    assert body["query"] == {"number": REGISTERED, "limit": 5}


async def test_an_unaccredited_office_node_skips_itself(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock, offices: list[bytes]
) -> None:
    client = await office_node(aiohttp_client, tmp_path, clock, [accrediting(1, FOUR[0]), offices[0]])
    body = await (await client.get("/search/rights", params={"number": REGISTERED, "limit": "5"})).json()
    assert body["complete"] is True
    assert body["summary"] == {
        "offices": 2, "answered": 1, "invalid": 0, "timeout": 0, "failed": 0, "skipped": 1
    }
    local = by_did(body)[NODE.did]
    assert local["local"] is True and local["accredited"] is False and local["status"] == "skipped"
    assert local["error"]["code"] == "search.not-accredited" and "signed" not in local
    assert {r["office_did"] for r in body["results"]} == {OFFICE.did}


def counting_app(hits: list[str]) -> web.Application:
    """A server that records every request it gets and answers 418 to all of them."""

    async def count(request: web.Request) -> web.Response:
        hits.append(request.path_qs)
        return web.Response(status=418, text="teapot")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", count)
    return app


async def test_an_unaccredited_office_is_never_contacted(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path, clock: FakeClock, offices: list[bytes]
) -> None:
    hits: list[str] = []
    target = str((await aiohttp_server(counting_app(hits))).make_url("")).rstrip("/")
    stranger = descriptor(SELF_OFFICE, "Stranger Office", target)
    objects = [accrediting(1, FOUR[0]), offices[0], stranger]
    client = await asking_node(aiohttp_client, tmp_path, clock, objects)
    body = await (await client.get("/search/rights", params={"number": REGISTERED})).json()
    assert hits == []  # its URL was never fetched
    assert body["complete"] is True
    assert body["summary"] == {
        "offices": 2, "answered": 1, "invalid": 0, "timeout": 0, "failed": 0, "skipped": 1
    }
    skipped = by_did(body)[SELF_OFFICE.did]
    assert skipped["status"] == "skipped" and skipped["accredited"] is False
    assert skipped["url"] == target + "/rights/search" and skipped["elapsed_ms"] == 0
    assert skipped["error"]["code"] == "search.not-accredited" and "418" not in skipped["error"]["detail"]
    assert "signed" not in skipped and "result" not in skipped
    assert [r["office_did"] for r in body["results"]] == [OFFICE.did]

    # Once a trust list accredits it, the same office is asked, and its HTTP status is reported.
    resp = await client.post(
        "/objects",
        data=accrediting(2, FOUR[0], (SELF_OFFICE, "Stranger Office")),
        headers={"Content-Type": "application/cose"},
    )
    assert resp.status == 201, await resp.text()
    body = await (await client.get("/search/rights", params={"number": REGISTERED})).json()
    assert len(hits) == 1 and hits[0].startswith("/rights/search?")
    asked = by_did(body)[SELF_OFFICE.did]
    assert asked["status"] == "failed" and asked["accredited"] is True
    assert asked["error"] == {"code": "search.http-status", "detail": "HTTP 418"}


FLOOD_URL = "http://127.0.0.1:9"


async def test_a_flood_of_unaccredited_descriptors_cannot_push_out_an_accredited_office(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock, offices: list[bytes]
) -> None:
    # Newer than the accredited office's descriptor, and more of them than either bound.
    flood = [
        descriptor(KeyPair.from_seed(bytes([200, i]) + bytes(30)), f"Flood {i}", FLOOD_URL, created=NOW - 5)
        for i in range(max(MAX_OFFICES, MAX_SKIPPED) + 6)
    ]
    objects = [accrediting(1, FOUR[0]), offices[0], *flood]
    client = await asking_node(aiohttp_client, tmp_path, clock, objects)
    body = await (await client.get("/search/rights", params={"number": REGISTERED})).json()
    assert body["summary"]["answered"] == 1 and body["summary"]["skipped"] == MAX_SKIPPED
    assert body["summary"]["offices"] == 1 + MAX_SKIPPED
    assert body["offices"][0]["did"] == OFFICE.did and body["offices"][0]["status"] == "answered"
    assert [r["office_did"] for r in body["results"]] == [OFFICE.did]


async def test_expired_and_marketplace_descriptors_are_not_asked(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock
) -> None:
    old = descriptor(SELF_OFFICE, "Old Office", "http://127.0.0.1:9", created=NOW - 90000)
    market = descriptor(IMPOSTOR, "A Market", "http://127.0.0.1:9", role="marketplace")
    client = await asking_node(aiohttp_client, tmp_path, clock, [])
    for moment, raw in ((NOW - 89000, old), (NOW, market)):  # the old descriptor was valid then
        clock.now = moment
        resp = await client.post("/objects", data=raw, headers={"Content-Type": "application/cose"})
        assert resp.status == 201, await resp.text()
    body = await (await client.get("/search/rights", params={"q": "x"})).json()
    assert body["offices"] == [] and body["results"] == [] and body["complete"] is True


@pytest.mark.parametrize("params", [{"class": "0"}, {"class": "x"}, {"limit": "101"}, {"owner": "y" * 201}])
async def test_bad_parameters(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock, params: dict[str, str]
) -> None:
    client = await asking_node(aiohttp_client, tmp_path, clock, [])
    resp = await client.get("/search/rights", params=params)
    assert resp.status == 400
    assert (await resp.json(content_type=None))["code"] == "request.query"


async def test_descriptor_announces_the_federated_endpoint(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock
) -> None:
    client = await asking_node(aiohttp_client, tmp_path, clock, [])
    raw = await (await client.get("/.well-known/rightsmesh")).read()
    endpoints = verify_message(raw, NOW).payload["endpoints"]
    assert endpoints["federated_search"].endswith("/search/rights")


# --- check_answer, without the network -----------------------------------------------------------------

QUERY = SearchQuery(q="ovalux", limit=5)


def answer(
    key: KeyPair = OFFICE,
    query: dict[str, Any] | None = None,
    created: int = NOW,
    kind: str = "search-result",
    office: str | None = None,
) -> bytes:
    payload = search_result_payload(office or key.did, query or QUERY.echo(), [], 0, created)
    return sign_message(key, kind, payload)


def test_check_answer_accepts_the_offices_own_answer() -> None:
    message = check_answer(answer(), OFFICE.did, QUERY, NOW + MAX_ANSWER_AGE)
    assert message.signer == OFFICE.did and message.payload["query"] == {"q": "ovalux", "limit": 5}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (answer(key=FORGER), "search.wrong-signer"),
        (answer(office=FORGER.did), "search.wrong-office"),
        (answer(query={"q": "other", "limit": 5}), "search.query-mismatch"),
        (answer(created=NOW - MAX_ANSWER_AGE - 1), "search.stale"),
        (answer(created=NOW + 3600), "validity.not-yet-valid"),
        (sign_message(OFFICE, "test", {"created": NOW}), "search.wrong-kind"),
        (
            sign_message(OFFICE, "search-result", {"created": NOW, "office": OFFICE.did}),
            "schema.search-result.missing-query",
        ),
        (answer()[:-1] + bytes([answer()[-1] ^ 1]), "signature.invalid"),
        (b"\xd2\x84", "decode.truncated"),
    ],
)
def test_check_answer_refuses(raw: bytes, code: str) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        check_answer(raw, OFFICE.did, QUERY, NOW)
    assert caught.value.code == code


def test_query_parameters_round_trip() -> None:
    query = SearchQuery.from_params({"q": " ovalux ", "class": "25", "owner": "", "limit": "7"})
    assert query.echo() == {"q": "ovalux", "class": 25, "limit": 7}
    assert SearchQuery.from_params(query.params()) == query
