"""RFC 9421 peer request signatures: a real aiohttp server with a peer route, and the policy checks."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, MappingKeyResolver, algorithms

from node import httpsig
from node.appkeys import CLOCK
from node.httpsig import (
    PEER_DID,
    HttpSignatureError,
    NonceCache,
    peer_auth_middleware,
    peer_endpoint,
    setup_peer_auth,
    sign_request,
    signed_request,
    verify_message,
)
from node.problems import problem_middleware
from protocol.keys import KeyPair

NOW = 1_800_000_000
ALICE = KeyPair.from_seed(bytes(range(32)))
BOB = KeyPair.from_seed(bytes(range(1, 33)))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@peer_endpoint
async def push(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"peer": request[PEER_DID], "body": body.decode("latin-1")})


async def open_route(request: web.Request) -> web.Response:
    return web.json_response({"open": True})


async def mw_route(request: web.Request) -> web.Response:
    return web.json_response({"peer": request[PEER_DID]})


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def client(aiohttp_client: Any, clock: Clock) -> Any:
    middlewares = [problem_middleware, peer_auth_middleware("/mw/")]
    app = web.Application(middlewares=middlewares, client_max_size=1024)
    app[CLOCK] = clock
    setup_peer_auth(app)
    app.router.add_post("/peer/push", push)
    app.router.add_get("/peer/push", push)
    app.router.add_route("*", "/peer/any", push)
    app.router.add_get("/open", open_route)
    app.router.add_get("/mw/thing", mw_route)
    return await aiohttp_client(app)


def url_of(client: Any, path: str) -> str:
    return str(client.make_url(path))


def signed(client: Any, method: str, path: str, body: bytes = b"", *, key: KeyPair = ALICE,
           now: float = NOW, headers: dict[str, str] | None = None) -> dict[str, str]:
    base = dict(headers or {})
    return {**base, **sign_request(method, url_of(client, path), base, body, key, now)}


async def problem(resp: Any, code: str) -> None:
    assert resp.status == 401
    assert resp.content_type == "application/problem+json"
    assert "Accept-Signature" in resp.headers and "WWW-Authenticate" not in resp.headers
    doc = json.loads(await resp.text())
    assert doc["code"] == code and doc["status"] == 401 and doc["type"].endswith(code)


async def test_signed_post_is_accepted_and_names_the_peer(client: Any) -> None:
    body = b'{"objects": []}'
    headers = signed(client, "POST", "/peer/push?batch=1", body, headers={"Content-Type": "application/json"})
    assert "content-type" in headers["Signature-Input"] and "content-digest" in headers["Signature-Input"]
    resp = await client.post("/peer/push?batch=1", data=body, headers=headers)
    assert resp.status == 200
    assert await resp.json() == {"peer": ALICE.did, "body": body.decode()}


async def test_signed_get_without_body_and_default_content_type(client: Any) -> None:
    resp = await client.get("/peer/push", headers=signed(client, "GET", "/peer/push"))
    assert resp.status == 200 and (await resp.json())["peer"] == ALICE.did
    # A body without a Content-Type gets one, covered by the signature.
    headers = signed(client, "POST", "/peer/push", b"\x00\x01")
    assert headers["Content-Type"] == "application/octet-stream"
    resp = await client.post("/peer/push", data=b"\x00\x01", headers=headers)
    assert resp.status == 200


async def test_unsigned_is_refused(client: Any) -> None:
    await problem(await client.post("/peer/push", data=b"x"), "httpsig.missing")
    assert (await client.get("/open")).status == 200


async def test_wrong_key_is_refused(client: Any) -> None:
    headers = signed(client, "POST", "/peer/push", b"hello")
    headers["Signature-Input"] = headers["Signature-Input"].replace(ALICE.kid, BOB.kid)
    await problem(await client.post("/peer/push", data=b"hello", headers=headers), "httpsig.invalid")


async def test_signature_of_another_request_is_refused(client: Any) -> None:
    mine = signed(client, "POST", "/peer/push", b"hello")
    other = signed(client, "POST", "/peer/push", b"hello", key=BOB)
    mine["Signature"] = other["Signature"]
    await problem(await client.post("/peer/push", data=b"hello", headers=mine), "httpsig.invalid")


async def test_tampered_body_is_refused(client: Any) -> None:
    headers = signed(client, "POST", "/peer/push", b"hello")
    await problem(await client.post("/peer/push", data=b"hellO", headers=headers), "httpsig.digest-mismatch")


async def test_replaced_digest_is_refused(client: Any) -> None:
    headers = signed(client, "POST", "/peer/push", b"hello")
    headers["Content-Digest"] = sign_request("POST", url_of(client, "/peer/push"), {}, b"bye", ALICE, NOW)[
        "Content-Digest"
    ]
    await problem(await client.post("/peer/push", data=b"bye", headers=headers), "httpsig.invalid")


async def test_tampered_path_query_method_and_type_are_refused(client: Any) -> None:
    headers = signed(client, "POST", "/peer/other", b"hello")
    await problem(await client.post("/peer/push", data=b"hello", headers=headers), "httpsig.invalid")
    headers = signed(client, "POST", "/peer/push?a=1", b"hello")
    await problem(await client.post("/peer/push?a=2", data=b"hello", headers=headers), "httpsig.invalid")
    headers = signed(client, "GET", "/peer/push")
    await problem(await client.post("/peer/push", headers=headers), "httpsig.invalid")
    headers = signed(client, "POST", "/peer/push", b"{}", headers={"Content-Type": "application/json"})
    headers["Content-Type"] = "application/cbor"
    await problem(await client.post("/peer/push", data=b"{}", headers=headers), "httpsig.invalid")


async def test_other_authority_is_refused(client: Any) -> None:
    url = "http://peer.example:8443/peer/push"
    headers = sign_request("POST", url, {}, b"hello", ALICE, NOW)
    await problem(await client.post("/peer/push", data=b"hello", headers=headers), "httpsig.invalid")


async def test_expired_and_future_signatures_are_refused(client: Any, clock: Clock) -> None:
    too_old = NOW - httpsig.DEFAULT_VALIDITY - httpsig.MAX_SKEW - 1
    old = signed(client, "POST", "/peer/push", b"x", now=too_old)
    await problem(await client.post("/peer/push", data=b"x", headers=old), "httpsig.expired")
    future = signed(client, "POST", "/peer/push", b"x", now=NOW + httpsig.MAX_SKEW + 1)
    await problem(await client.post("/peer/push", data=b"x", headers=future), "httpsig.expired")
    # Inside the window (with the tolerated skew) both directions are fine.
    ok = signed(client, "POST", "/peer/push", b"x", now=NOW + httpsig.MAX_SKEW)
    assert (await client.post("/peer/push", data=b"x", headers=ok)).status == 200
    ok = signed(client, "POST", "/peer/push", b"x", now=NOW - httpsig.DEFAULT_VALIDITY)
    assert (await client.post("/peer/push", data=b"x", headers=ok)).status == 200


async def test_over_long_validity_is_refused(client: Any) -> None:
    url = url_of(client, "/peer/push")
    headers = sign_request("POST", url, {}, b"x", ALICE, NOW, validity=httpsig.MAX_VALIDITY + 1)
    await problem(await client.post("/peer/push", data=b"x", headers=headers), "httpsig.invalid")


async def test_replayed_nonce_is_refused(client: Any, clock: Clock) -> None:
    headers = signed(client, "POST", "/peer/push", b"x")
    assert (await client.post("/peer/push", data=b"x", headers=headers)).status == 200
    await problem(await client.post("/peer/push", data=b"x", headers=headers), "httpsig.replay")
    clock.now += 30
    await problem(await client.post("/peer/push", data=b"x", headers=headers), "httpsig.replay")
    # The same nonce from another key is another nonce.
    other = signed(client, "POST", "/peer/push", b"x", key=BOB)
    assert (await client.post("/peer/push", data=b"x", headers=other)).status == 200


async def test_middleware_guards_its_prefix(client: Any) -> None:
    await problem(await client.get("/mw/thing"), "httpsig.missing")
    resp = await client.get("/mw/thing", headers=signed(client, "GET", "/mw/thing"))
    assert resp.status == 200 and (await resp.json())["peer"] == ALICE.did


# --- policy checks on plain values -------------------------------------------------------------------------

URL = "http://127.0.0.1:9999/peer/push"


class Message:
    """The request shape the library signs and verifies."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers


def lib_sign(key: ed25519.Ed25519PrivateKey, keyid: str, **options: Any) -> dict[str, str]:
    message = Message("POST", URL, {})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={keyid: key}),
    )
    signer.sign(message, key_id=keyid, body=b"x", **options)
    return message.headers


def when(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def full_options(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "created": when(NOW),
        "expires": when(NOW + 60),
        "nonce": "n" * 22,
        "tag": httpsig.SIGNATURE_TAG,
        "label": "peer",
        "covered_component_ids": ("@method", "@authority", "@path", "@query", "content-digest"),
    }
    options.update(overrides)
    return options


def alice_private() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(ALICE.seed)


def test_library_signer_interoperates_with_our_verifier() -> None:
    headers = lib_sign(alice_private(), ALICE.kid, **full_options())
    assert verify_message("POST", URL, headers, b"x", NOW, NonceCache()).did == ALICE.did


def test_our_signature_verifies_with_a_plain_library_verifier() -> None:
    import time

    now = time.time()
    headers = sign_request("PUT", URL + "?q=1", {"Content-Type": "application/cbor"}, b"payload", ALICE, now)

    message = Message("PUT", URL + "?q=1", {"Content-Type": "application/cbor", **headers})
    public = ed25519.Ed25519PublicKey.from_public_bytes(ALICE.public_key)
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={ALICE.kid: public}, private_keys={}),
    )
    [result] = verifier.verify(message, body=b"payload", expect_tag=httpsig.SIGNATURE_TAG)
    assert result.parameters["keyid"] == ALICE.kid and result.body == b"payload"


@pytest.mark.parametrize(
    "overrides",
    [
        {"tag": None},
        {"tag": "someone-else"},
        {"nonce": None},
        {"nonce": "short"},
        {"expires": None},
        {"include_alg": False},
        {"covered_component_ids": ("@method", "@authority", "@path", "content-digest")},
        {"covered_component_ids": ("@method", "@path", "@query", "content-digest")},
        {"covered_component_ids": ("@authority", "@path", "@query", "content-digest")},
    ],
)
def test_incomplete_signatures_are_refused(overrides: dict[str, Any]) -> None:
    headers = lib_sign(alice_private(), ALICE.kid, **full_options(**overrides))
    with pytest.raises(HttpSignatureError) as info:
        verify_message("POST", URL, headers, b"x", NOW, NonceCache())
    assert info.value.code == "httpsig.invalid"


def test_body_must_be_digested() -> None:
    # Signed without a body digest: the verifier insists on one even for a request it could otherwise accept.
    message = Message("POST", URL, {})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={ALICE.kid: alice_private()}),
    )
    options = full_options(covered_component_ids=("@method", "@authority", "@path", "@query"))
    signer.sign(message, key_id=ALICE.kid, **options)
    with pytest.raises(HttpSignatureError) as info:
        verify_message("POST", URL, message.headers, b"", NOW, NonceCache())
    assert info.value.code == "httpsig.invalid"


@pytest.mark.parametrize(
    "keyid",
    ["did:key:" + ALICE.public_multibase, "did:web:example.com#k", "not a did", ALICE.kid + "x"],
)
def test_keyid_must_be_a_did_key_url(keyid: str) -> None:
    headers = lib_sign(alice_private(), keyid, **full_options())
    with pytest.raises(HttpSignatureError) as info:
        verify_message("POST", URL, headers, b"x", NOW, NonceCache())
    assert info.value.code == "httpsig.invalid"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: {**h, "Signature": "peer=:AAAA:"},
        lambda h: {**h, "Signature": "garbage ("},
        lambda h: {**h, "Signature-Input": 'peer=("@method");created=1'},
        lambda h: {k: v for k, v in h.items() if k != "Signature"},
        lambda h: {k: v for k, v in h.items() if k != "Content-Digest"},
    ],
)
def test_malformed_headers_are_invalid(mangle: Any) -> None:
    headers = mangle(sign_request("POST", URL, {}, b"x", ALICE, NOW))
    with pytest.raises(HttpSignatureError) as info:
        verify_message("POST", URL, headers, b"x", NOW, NonceCache())
    assert info.value.code == "httpsig.invalid"


def test_two_signatures_are_refused() -> None:
    headers = sign_request("POST", URL, {}, b"x", ALICE, NOW)
    other = sign_request("POST", URL, {}, b"x", BOB, NOW)
    headers["Signature-Input"] += ", " + other["Signature-Input"].replace("peer=", "second=")
    headers["Signature"] += ", " + other["Signature"].replace("peer=", "second=")
    with pytest.raises(HttpSignatureError) as info:
        verify_message("POST", URL, headers, b"x", NOW, NonceCache())
    assert info.value.code == "httpsig.invalid"


def test_ed25519_agrees_with_rfc9421_b26() -> None:
    """RFC 9421 appendix B.2.6: our KeyPair and the library's ed25519 algorithm give the RFC's signature."""
    seed = base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
    base = (
        b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n"@method": POST\n"@path": /foo\n"@authority": example.com\n'
        b'"content-type": application/json\n"content-length": 18\n"@signature-params": ("date" "@method" '
        b'"@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"'
    )
    expected = base64.b64decode(
        "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
    )
    assert KeyPair.from_seed(seed).sign(base) == expected

    headers = {
        "Host": "example.com",
        "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
        "Content-Type": "application/json",
        "Content-Length": "18",
    }
    message = Message("POST", "https://example.com/foo?param=Value&Pet=dog", headers)
    private = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={"test-key-ed25519": private}),
    )
    signer.sign(
        message,
        key_id="test-key-ed25519",
        created=when(1618884473),
        include_alg=False,
        label="sig-b26",
        covered_component_ids=("date", "@method", "@path", "@authority", "content-type", "content-length"),
    )
    assert message.headers["Signature"] == "sig-b26=:" + base64.b64encode(expected).decode() + ":"


# --- nonce cache -------------------------------------------------------------------------------------------


def test_nonce_cache_forgets_nonces_after_they_expire() -> None:
    cache = NonceCache()
    assert cache.check_and_store("k", "a", created=100, until=200, now=100)
    assert not cache.check_and_store("k", "a", created=100, until=200, now=199)
    assert cache.check_and_store("k", "b", created=150, until=250, now=150)
    assert len(cache) == 2
    assert cache.check_and_store("k", "c", created=201, until=300, now=201)
    assert len(cache) == 2  # "a" expired and was dropped


def test_nonce_cache_per_key_bound_refuses_instead_of_forgetting() -> None:
    cache = NonceCache(max_per_key=3)
    for i, nonce in enumerate("abc"):
        assert cache.check_and_store("k", nonce, created=100 + i, until=1000, now=100)
    assert cache.check_and_store("k", "d", created=110, until=1000, now=110)  # evicts "a" (created 100)
    assert len(cache) == 3
    # "a" is forgotten but cannot be replayed: everything created at or before 100 is now refused.
    assert not cache.check_and_store("k", "a", created=100, until=1000, now=111)
    assert not cache.check_and_store("k", "z", created=99, until=1000, now=111)
    assert cache.check_and_store("k", "e", created=111, until=1000, now=111)
    # Other keys are unaffected.
    assert cache.check_and_store("other", "a", created=100, until=1000, now=111)


def test_nonce_cache_key_bound_evicts_least_recently_used() -> None:
    cache = NonceCache(max_keys=2)
    assert cache.check_and_store("k1", "a", created=100, until=200, now=100)
    assert cache.check_and_store("k2", "a", created=101, until=200, now=101)
    assert cache.check_and_store("k1", "b", created=102, until=200, now=102)  # k1 most recent
    assert cache.check_and_store("k3", "a", created=103, until=200, now=103)  # evicts k2
    # k2's nonce "a" is forgotten; keys seen from now on refuse anything created at or before 101.
    assert not cache.check_and_store("k2", "a", created=101, until=200, now=104)
    assert not cache.check_and_store("k4", "a", created=101, until=200, now=104)
    assert cache.check_and_store("k5", "a", created=104, until=200, now=104)
    assert not cache.check_and_store("k1", "a", created=100, until=200, now=104)  # k1 remembered "a"


def test_nonce_cache_eviction_of_expired_keys_raises_no_floor() -> None:
    cache = NonceCache(max_keys=1)
    assert cache.check_and_store("k1", "a", created=100, until=200, now=100)
    assert cache.check_and_store("k2", "a", created=50, until=400, now=300)  # k1 had only expired nonces
    # k2's nonce was still live when k3 pushed k2 out, so new keys refuse what was created at or before 50.
    assert not cache.check_and_store("k3", "a", created=50, until=400, now=300)
    assert cache.check_and_store("k4", "a", created=51, until=400, now=300)


def test_nonce_cache_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        NonceCache(max_keys=0)


async def test_setup_uses_the_given_cache(aiohttp_client: Any) -> None:
    cache = NonceCache()
    app = web.Application()
    setup_peer_auth(app, Clock(NOW), cache)
    app.router.add_post("/peer/push", push)
    client = await aiohttp_client(app)
    resp = await client.post("/peer/push", data=b"x", headers=signed(client, "POST", "/peer/push", b"x"))
    assert resp.status == 200 and len(cache) == 1


async def test_oversized_body_is_a_413_problem(client: Any) -> None:
    body = b"x" * 2048
    resp = await client.post("/peer/push", data=body, headers=signed(client, "POST", "/peer/push", body))
    assert resp.status == 413 and (await resp.json(content_type=None))["code"] == "request.too-large"


async def test_signed_request_helper_with_a_real_client_session(client: Any) -> None:
    url = url_of(client, "/peer/push?since=5")
    body = b"\xa1\x01\x02"
    cbor = {"Content-Type": "application/cbor"}
    async with signed_request(client.session, "post", url, BOB, NOW, body=body, headers=cbor) as resp:
        assert resp.status == 200 and (await resp.json())["peer"] == BOB.did
    async with signed_request(client.session, "GET", url, BOB, NOW) as resp:
        assert resp.status == 200
    async with signed_request(client.session, "POST", url, BOB, NOW, body=b"raw") as resp:
        assert resp.status == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_signed_request_with_empty_body_gets_no_unsigned_content_type(client: Any, method: str) -> None:
    """aiohttp adds ``Content-Type: application/octet-stream`` to a body-less POST (and PUT, PATCH,
    DELETE) it sends; signed_request must keep it from doing so, or the receiver sees an uncovered type."""
    async with signed_request(client.session, method, url_of(client, "/peer/any"), ALICE, NOW) as resp:
        assert resp.status == 200, await resp.text()
        assert await resp.json() == {"peer": ALICE.did, "body": ""}
