"""Vectors for the wire format (specs/wire.md): deterministic CBOR and COSE_Sign1 messages.

Every invalid message is built so that exactly one rule breaks (the signature is valid over whatever
bytes it carries unless the case is about the signature), and names the error code the verifier must
give. Fixed key (RFC 8032 test 1 seed) and fixed times, so the output never changes.
"""

from __future__ import annotations

from typing import Any

from protocol import cbor
from protocol.cbor import encode_head
from protocol.keys import KeyPair
from protocol.messages import object_id, sig_structure, sign_message, typ_for

SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
OTHER_SEED = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
NOW = 1767225600  # 2026-01-01T00:00:00Z
MAX_SKEW = 300
KEY = KeyPair.from_seed(SEED)
OTHER = KeyPair.from_seed(OTHER_SEED)
TEST_TYP = typ_for("test")


def bstr(data: bytes) -> bytes:
    return encode_head(2, len(data)) + data


def text(value: str) -> bytes:
    raw = value.encode()
    return encode_head(3, len(raw)) + raw


def header(kid: str = KEY.kid, typ: str = TEST_TYP, alg: Any = -8, ctype: Any = "application/cbor") -> bytes:
    return cbor.encode({1: alg, 3: ctype, 4: kid.encode(), 16: typ})


def envelope(
    protected: bytes,
    payload: bytes,
    signature: bytes,
    *,
    prefix: bytes = b"\xd2\x84",
    unprotected: bytes = b"\xa0",
) -> bytes:
    return prefix + bstr(protected) + unprotected + bstr(payload) + bstr(signature)


def signed(protected: bytes, payload: bytes, *, key: KeyPair = KEY, **kw: Any) -> bytes:
    """A COSE_Sign1 whose signature is valid over ``protected`` and ``payload`` as given."""
    return envelope(protected, payload, key.sign(sig_structure(protected, payload)), **kw)


def base_payload(**extra: Any) -> dict[str, Any]:
    return {"created": NOW - 60, "note": "rightsmesh wire vector", **extra}


def valid_cases() -> list[dict[str, Any]]:
    cases = [
        ("minimal", "test", {"created": NOW}),
        ("with-expires", "test", base_payload(expires=NOW + 3600)),
        ("created-at-skew-limit", "test", {"created": NOW + MAX_SKEW}),
        ("expires-one-second-later", "test", {"created": NOW - 10, "expires": NOW + 1}),
        (
            "all-data-model-types",
            "test",
            base_payload(
                ints=[
                    0,
                    23,
                    24,
                    255,
                    256,
                    65535,
                    65536,
                    4294967295,
                    4294967296,
                    18446744073709551615,
                    -1,
                    -24,
                    -25,
                    -18446744073709551616,
                ],
                bytes=bytes(range(40)),
                text="Grüße, 商標 ✓",
                flags=[True, False, None],
                nested={"a": [{"b": []}], "mixed": {1: "int key", "t": "text key", b"\x00": "bytes key"}},
            ),
        ),
        ("notice-kind", "notice", base_payload(listing="https://market.example/item/1")),
    ]
    out = []
    for name, kind, payload in cases:
        data = sign_message(KEY, kind, payload)
        out.append(
            {
                "name": name,
                "hex": data.hex(),
                "kind": kind,
                "signer": KEY.did,
                "kid": KEY.kid,
                "id": object_id(data).hex(),
                "created": payload["created"],
                "expires": payload.get("expires"),
                "payload_hex": cbor.encode(payload).hex(),
            }
        )
    return out


def invalid_cases() -> list[dict[str, Any]]:
    good_payload = cbor.encode(base_payload())
    good = sign_message(KEY, "test", base_payload())
    h = header()
    cases: list[tuple[str, bytes, str]] = []

    def add(name: str, data: bytes, error: str) -> None:
        cases.append((name, data, error))

    # Envelope
    add("wrong-tag-17", b"\xd1" + good[1:], "unsupported.cose-tag")
    add("untagged", good[1:], "decode.cose-structure")
    add("array-of-three", b"\xd2\x83" + bstr(h) + b"\xa0" + bstr(good_payload), "decode.cose-structure")
    add("trailing-bytes", good + b"\x00", "decode.trailing-bytes")
    add("truncated", good[:-1], "decode.truncated")
    add("empty", b"", "decode.truncated")
    add(
        "unprotected-not-empty",
        signed(h, good_payload, unprotected=b"\xa1\x04" + bstr(KEY.kid.encode())),
        "schema.unprotected-header",
    )
    add(
        "payload-length-not-shortest",
        b"\xd2\x84"
        + bstr(h)
        + b"\xa0"
        + b"\x59"
        + len(good_payload).to_bytes(2, "big")
        + good_payload
        + bstr(KEY.sign(sig_structure(h, good_payload))),
        "decode.non-shortest",
    )
    add(
        "payload-nil-detached",
        b"\xd2\x84" + bstr(h) + b"\xa0\xf6" + bstr(KEY.sign(b"")),
        "decode.cose-structure",
    )
    # Protected header
    add("wrong-alg-es256", signed(header(alg=-7), good_payload), "unsupported.alg")
    add("alg-as-text", signed(header(alg="EdDSA"), good_payload), "unsupported.alg")
    add(
        "missing-kid",
        signed(cbor.encode({1: -8, 3: "application/cbor", 16: TEST_TYP}), good_payload),
        "schema.kid-missing",
    )
    add(
        "kid-not-did-key", signed(header(kid="did:web:example.com#key-1"), good_payload), "schema.kid-invalid"
    )
    add("kid-without-fragment", signed(header(kid=KEY.did), good_payload), "schema.kid-invalid")
    add(
        "kid-fragment-mismatch",
        signed(header(kid=KEY.did + "#" + OTHER.did[8:]), good_payload),
        "schema.kid-invalid",
    )
    add(
        "kid-as-text",
        signed(cbor.encode({1: -8, 3: "application/cbor", 4: KEY.kid, 16: TEST_TYP}), good_payload),
        "schema.kid-invalid",
    )
    add(
        "unknown-typ",
        signed(header(typ="application/vnd.rightsmesh.unknown+cbor"), good_payload),
        "unsupported.typ",
    )
    add(
        "missing-typ",
        signed(cbor.encode({1: -8, 3: "application/cbor", 4: KEY.kid.encode()}), good_payload),
        "schema.typ-missing",
    )
    add("wrong-content-type", signed(header(ctype="application/json"), good_payload), "schema.content-type")
    add(
        "unknown-header-label",
        signed(
            cbor.encode({1: -8, 2: [1], 3: "application/cbor", 4: KEY.kid.encode(), 16: TEST_TYP}),
            good_payload,
        ),
        "unsupported.header",
    )
    unsorted_header = (
        b"\xa4"
        + b"\x04"
        + bstr(KEY.kid.encode())
        + b"\x01\x27"
        + b"\x03"
        + text("application/cbor")
        + b"\x10"
        + text(TEST_TYP)
    )
    add("header-unsorted-keys", signed(unsorted_header, good_payload), "decode.unsorted-keys")
    long_alg = b"\xa4" + b"\x01\x38\x07" + h[3:]  # alg -8 written as 0x38 0x07
    add("header-alg-not-shortest", signed(long_alg, good_payload), "decode.non-shortest")
    add("header-not-a-map", signed(cbor.encode([1, -8]), good_payload), "decode.cose-header")
    # Signature
    flipped = bytearray(good)
    flipped[-1] ^= 0x01
    add("bad-signature-bit-flip", bytes(flipped), "signature.invalid")
    add("signed-by-other-key", signed(h, good_payload, key=OTHER), "signature.invalid")
    tampered = cbor.encode(base_payload(note="rightsmesh wire vectoR"))
    add(
        "payload-changed-after-signing",
        envelope(h, tampered, KEY.sign(sig_structure(h, good_payload))),
        "signature.invalid",
    )
    add(
        "signature-63-bytes",
        envelope(h, good_payload, KEY.sign(sig_structure(h, good_payload))[:63]),
        "signature.invalid",
    )
    # Payload encoding (each signed correctly over the bad bytes)
    created = encode_head(0, NOW - 60)
    unsorted = b"\xa2" + text("created") + created + text("a") + text("x")
    add("payload-unsorted-keys", signed(h, unsorted), "decode.unsorted-keys")
    dup = b"\xa2" + text("created") + created + text("created") + created
    add("payload-duplicate-key", signed(h, dup), "decode.duplicate-key")
    non_shortest = b"\xa1" + text("created") + b"\x1b" + (NOW - 60).to_bytes(8, "big")
    add("payload-int-not-shortest", signed(h, non_shortest), "decode.non-shortest")
    small_long = b"\xa2" + text("n") + b"\x18\x05" + text("created") + created
    add("payload-small-int-one-byte-head", signed(h, small_long), "decode.non-shortest")
    add(
        "payload-indefinite-map",
        signed(h, b"\xbf" + text("created") + created + b"\xff"),
        "decode.indefinite-length",
    )
    add(
        "payload-indefinite-text",
        signed(h, b"\xa2" + text("n") + b"\x7f" + text("ab") + b"\xff" + text("created") + created),
        "decode.indefinite-length",
    )
    add(
        "payload-float",
        signed(h, b"\xa2" + text("f") + b"\xf9\x3c\x00" + text("created") + created),
        "unsupported.float",
    )
    add(
        "payload-tag",
        signed(h, b"\xa2" + text("t") + b"\xc1\x00" + text("created") + created),
        "unsupported.tag",
    )
    add(
        "payload-undefined",
        signed(h, b"\xa2" + text("u") + b"\xf7" + text("created") + created),
        "unsupported.simple",
    )
    add(
        "payload-invalid-utf8",
        signed(h, b"\xa2" + text("s") + b"\x62\xc3\x28" + text("created") + created),
        "decode.invalid-utf8",
    )
    add("payload-trailing-bytes", signed(h, good_payload + b"\x00"), "decode.trailing-bytes")
    deep: Any = 0
    for _ in range(17):
        deep = [deep]
    add(
        "payload-too-deep",
        signed(h, b"\xa2" + text("d") + _encode_unchecked(deep) + text("created") + created),
        "decode.too-deep",
    )
    # Payload schema
    add("payload-not-a-map", signed(h, cbor.encode([NOW])), "schema.payload-not-map")
    add("payload-missing-created", signed(h, cbor.encode({"note": "x"})), "schema.created")
    add("payload-created-text", signed(h, cbor.encode({"created": "2026-01-01"})), "schema.created")
    add("payload-created-negative", signed(h, cbor.encode({"created": -1})), "schema.created")
    add(
        "payload-expires-before-created",
        signed(h, cbor.encode({"created": NOW, "expires": NOW - 1})),
        "schema.expires",
    )
    add("payload-int-key", signed(h, cbor.encode({1: "x", "created": NOW})), "schema.payload-key")
    # Size
    big = cbor.encode({"created": NOW, "blob": bytes(65536)})
    add("oversize", signed(h, big), "decode.too-large")
    # Time
    add(
        "created-in-future",
        sign_message(KEY, "test", {"created": NOW + MAX_SKEW + 1}),
        "validity.not-yet-valid",
    )
    add("expired", sign_message(KEY, "test", {"created": NOW - 3600, "expires": NOW}), "validity.expired")
    return [{"name": n, "hex": d.hex(), "error": e} for n, d, e in cases]


def _encode_unchecked(value: Any) -> bytes:
    """Deterministic CBOR without the depth limit (to build over-deep vectors)."""
    return cbor.encode(value, cbor.Limits(max_depth=1000))


def cbor_cases() -> dict[str, list[dict[str, Any]]]:
    valid = [
        ("uint-0", "00"),
        ("uint-23", "17"),
        ("uint-24", "1818"),
        ("uint-1000", "1903e8"),
        ("uint-max", "1bffffffffffffffff"),
        ("nint-1", "20"),
        ("nint-min", "3bffffffffffffffff"),
        ("bytes-empty", "40"),
        ("bytes", "4401020304"),
        ("text-empty", "60"),
        ("text-ietf", "6449455446"),
        ("text-utf8", "62c3bc"),
        ("false", "f4"),
        ("true", "f5"),
        ("null", "f6"),
        ("array", "83010203"),
        ("map-int-keys-bytewise", "a2181801200a"),
        ("map-text-keys-length-first", "a261620162616102"),
        ("map-types-order", "a3010240036003"),
    ]
    invalid = [
        ("empty", "", "decode.truncated"),
        ("truncated-uint16", "19 03", "decode.truncated"),
        ("truncated-text", "63 6162", "decode.truncated"),
        ("non-shortest-uint", "1805", "decode.non-shortest"),
        ("non-shortest-uint16", "190017", "decode.non-shortest"),
        ("non-shortest-uint16-255", "1900ff", "decode.non-shortest"),
        ("non-shortest-uint32", "1a0000ffff", "decode.non-shortest"),
        ("non-shortest-uint64", "1b00000000ffffffff", "decode.non-shortest"),
        ("non-shortest-nint", "3800", "decode.non-shortest"),
        ("non-shortest-text-length", "780161", "decode.non-shortest"),
        ("non-shortest-array-length", "9800", "decode.non-shortest"),
        ("indefinite-bytes", "5f4101ff", "decode.indefinite-length"),
        ("indefinite-array", "9f01ff", "decode.indefinite-length"),
        ("indefinite-map", "bf6161 01ff", "decode.indefinite-length"),
        ("unsorted-text-keys", "a2616201616101", "decode.unsorted-keys"),
        ("unsorted-length-first", "a2626161016162 02", "decode.unsorted-keys"),
        ("unsorted-int-after-nint", "a2200118 1802", "decode.unsorted-keys"),
        ("duplicate-key", "a2616101616102", "decode.duplicate-key"),
        ("trailing-bytes", "0000", "decode.trailing-bytes"),
        ("invalid-utf8", "62c328", "decode.invalid-utf8"),
        ("half-float", "f93c00", "unsupported.float"),
        ("double-float", "fb3ff0000000000000", "unsupported.float"),
        ("undefined", "f7", "unsupported.simple"),
        ("simple-value", "e0", "unsupported.simple"),
        ("simple-value-one-byte", "f820", "unsupported.simple"),
        ("tag-epoch", "c11a514b67b0", "unsupported.tag"),
        ("bignum", "c249010000000000000000", "unsupported.tag"),
        ("break-alone", "ff", "decode.unexpected-break"),
        ("reserved-info-28", "1c", "decode.malformed"),
        ("array-map-key", "a18001", "unsupported.map-key"),
        ("array-too-many-items", "991001", "decode.too-many-items"),
        ("array-longer-than-input", "9903e8 00", "decode.truncated"),
        ("too-deep", "81" * 17 + "00", "decode.too-deep"),
    ]
    return {
        "valid": [{"name": n, "hex": x} for n, x in valid],
        "invalid": [{"name": n, "hex": x.replace(" ", ""), "error": e} for n, x, e in invalid],
    }


def generate() -> dict[str, Any]:
    return {
        "wire.json": {
            "description": "rightsmesh wire-format vectors (specs/wire.md): verify each message at 'now' "
            "with max_skew; valid ones give the listed fields, invalid ones the listed error code. "
            "'cbor' lists bytes for protocol.cbor.decode with the default limits.",
            "now": NOW,
            "max_skew": MAX_SKEW,
            "limits": {"max_bytes": 65536, "max_depth": 16, "max_items": 4096},
            "signer": {"seed": SEED.hex(), "did": KEY.did, "kid": KEY.kid},
            "valid": valid_cases(),
            "invalid": invalid_cases(),
            "cbor": cbor_cases(),
        }
    }
