"""Vectors for peer request signatures (specs/peers.md): RFC 9421 over Ed25519 with did:key keyids.

Each case is a request (method, URL, headers, body in hex) verified at ``now`` with an empty nonce cache,
in file order (so a replay case follows the case it replays), and the outcome: the peer DID, or the
``httpsig.*`` error code. Valid cases carry the RFC 9421 signature base, for implementers. Fixed key
(RFC 8032 test 1 seed), fixed nonces and fixed times: Ed25519 is deterministic, so the output never changes.
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms

from node.httpsig import (
    DEFAULT_VALIDITY,
    MAX_SKEW,
    SIGNATURE_TAG,
    HttpSignatureError,
    NonceCache,
    sign_request,
    verify_message,
)
from protocol.keys import KeyPair

SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
OTHER_SEED = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
NOW = 1767225600  # 2026-01-01T00:00:00Z
KEY = KeyPair.from_seed(SEED)
OTHER = KeyPair.from_seed(OTHER_SEED)
URL = "https://node-a.example:8443/peer/objects?since=1767225000"
BODY = b'{"ids":[]}'


def _nonce(n: int) -> str:
    return f"vector-nonce-{n:04d}-AAAAAAAA"


def _request(
    method: str, url: str, body: bytes, key: KeyPair, now: int, n: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    base = dict(headers or {})
    signed = {**base, **sign_request(method, url, base, body, key, now, nonce=_nonce(n))}
    return {"method": method, "url": url, "headers": signed, "body_hex": body.hex()}


def _signature_base(case: dict[str, Any]) -> str:
    class Message:
        method = case["method"]
        url = case["url"]
        headers = case["headers"]

    public = ed25519.Ed25519PublicKey.from_public_bytes(KEY.public_key)
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={KEY.kid: public}, private_keys={}),
    )
    verifier.max_clock_skew = datetime.timedelta(days=36500)  # the base, not the window, is wanted here
    [result] = verifier.verify(Message(), max_age=None, expect_tag=SIGNATURE_TAG)
    return "\n".join(f"{name}: {value}" for name, value in result.covered_components.items())


def _outcome(case: dict[str, Any], cache: NonceCache) -> dict[str, str]:
    try:
        did = verify_message(
            case["method"], case["url"], case["headers"], bytes.fromhex(case["body_hex"]), case["now"], cache
        ).did
    except HttpSignatureError as error:
        return {"error": error.code}
    return {"did": did}


def generate() -> dict[str, Any]:
    json_type = {"Content-Type": "application/json"}
    cases: list[dict[str, Any]] = []
    cache = NonceCache()
    ok = {"did": KEY.did}

    def add(name: str, request: dict[str, Any], expect: dict[str, str]) -> dict[str, Any]:
        """Record a case after checking that the verifier gives the outcome the case is built for."""
        case = {"name": name, "now": NOW, **request, "expect": expect}
        got = _outcome(case, cache)
        if got != expect:
            raise SystemExit(f"httpsig vector {name}: expected {expect}, the verifier says {got}")
        if "did" in expect:
            case["signature_base"] = _signature_base(case)
        cases.append(case)
        return case

    post = add("post-json", _request("POST", URL, BODY, KEY, NOW, 1, json_type), ok)
    add("get-empty-body", _request("GET", "http://127.0.0.1:9001/peer/ranges", b"", KEY, NOW, 2), ok)
    octets = _request("PUT", "http://127.0.0.1:9001/peer/push", b"\x00\xff", KEY, NOW, 3)
    add("octet-stream-default", octets, ok)
    replay = {k: post[k] for k in ("method", "url", "headers", "body_hex")}
    add("replay", replay, {"error": "httpsig.replay"})
    unsigned = {"method": "POST", "url": URL, "headers": json_type, "body_hex": BODY.hex()}
    add("unsigned", unsigned, {"error": "httpsig.missing"})
    tampered = _request("POST", URL, BODY, KEY, NOW, 4, json_type)
    add("tampered-body", {**tampered, "body_hex": (BODY + b" ").hex()}, {"error": "httpsig.digest-mismatch"})
    moved = _request("POST", URL, BODY, KEY, NOW, 5, json_type)
    moved["url"] = URL.replace("/peer/objects", "/peer/other")
    add("other-path", moved, {"error": "httpsig.invalid"})
    wrong = _request("POST", URL, BODY, KEY, NOW, 6, json_type)
    wrong["headers"] = dict(wrong["headers"])
    wrong["headers"]["Signature-Input"] = wrong["headers"]["Signature-Input"].replace(KEY.kid, OTHER.kid)
    add("wrong-key", wrong, {"error": "httpsig.invalid"})
    old = _request("POST", URL, BODY, KEY, NOW - DEFAULT_VALIDITY - MAX_SKEW - 1, 7, json_type)
    add("expired", old, {"error": "httpsig.expired"})
    future = _request("POST", URL, BODY, KEY, NOW + MAX_SKEW + 1, 8, json_type)
    add("future", future, {"error": "httpsig.expired"})
    return {
        "httpsig.json": {
            "description": "RFC 9421 peer request signatures; verify in order with one empty nonce cache",
            "keyid": KEY.kid,
            "other_keyid": OTHER.kid,
            "cases": cases,
        }
    }
