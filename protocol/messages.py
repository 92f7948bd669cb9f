"""Signed network messages: COSE_Sign1 (RFC 9052, tag 18) with EdDSA over a deterministic CBOR payload.

Layout (normative text in ``specs/wire.md``)::

    18([ protected: bstr .cbor {1: -8, 3: "application/cbor", 4: kid, 16: typ},
         unprotected: {},            ; always empty: everything that matters is signed
         payload: bstr .cbor {"created": int, ? "expires": int, * tstr => any},
         signature: bstr .size 64 ])

``kid`` is the UTF-8 DID URL of the signer's did:key verification method; ``typ`` (RFC 9596) is
``application/vnd.rightsmesh.<kind>+cbor``. The whole message, the protected header and the payload must
each be the deterministic encoding of their value, so a message has exactly one byte form and one id.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.bindings
import nacl.exceptions

from . import cbor
from .cbor import DEFAULT_LIMITS, Limits, encode_head
from .errors import DecodeError, ProtocolError, SchemaError, SignatureError, UnsupportedError, ValidityError
from .keys import KeyPair, public_key_from_did, split_did_url

__all__ = [
    "CONTENT_TYPE",
    "MESSAGE_KINDS",
    "SignedMessage",
    "cose_parts",
    "kind_from_typ",
    "object_id",
    "sig_structure",
    "sign_message",
    "typ_for",
    "verify_message",
]

MESSAGE_KINDS: frozenset[str] = frozenset(
    {
        "trust-list",
        "node-descriptor",
        "marketplace-profile",
        "search-result",
        "notice",
        "receipt",
        "decision",
        "complaint",
        "enrolment-result",
        "test",
    }
)

COSE_SIGN1_TAG = 18
ALG_EDDSA = -8
H_ALG, H_CONTENT_TYPE, H_KID, H_TYP = 1, 3, 4, 16
CONTENT_TYPE = "application/cbor"
TYP_PREFIX, TYP_SUFFIX = "application/vnd.rightsmesh.", "+cbor"
SIGNATURE_LENGTH = 64

# Sig_structure = ["Signature1", body_protected, external_aad = h'', payload]: its fixed prefix.
_SIG1_PREFIX = b"\x84\x6aSignature1"


def typ_for(kind: str) -> str:
    """The COSE ``typ`` media type of a message kind."""
    if kind not in MESSAGE_KINDS:
        raise UnsupportedError("unsupported.typ", f"unknown message kind {kind!r}")
    return f"{TYP_PREFIX}{kind}{TYP_SUFFIX}"


_KIND_BY_TYP = {typ_for(k): k for k in MESSAGE_KINDS}


def kind_from_typ(typ: object) -> str:
    kind = _KIND_BY_TYP.get(typ) if isinstance(typ, str) else None
    if kind is None:
        raise UnsupportedError("unsupported.typ", f"unknown message type {typ!r}")
    return kind


def object_id(data: bytes) -> bytes:
    """An object's id: SHA-256 of its exact bytes."""
    return hashlib.sha256(data).digest()


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """A verified message. ``payload`` is the decoded payload map (treat it as read-only)."""

    id: bytes
    raw: bytes
    kind: str
    kid: str
    signer: str
    payload: Mapping[str, Any]
    created: int
    expires: int | None

    @property
    def id_hex(self) -> str:
        return self.id.hex()

    def __hash__(self) -> int:
        return hash(self.id)

    def payload_of(self, kind: str) -> Mapping[str, Any]:
        """The payload if this message is of ``kind``, else SchemaError ``schema.<kind>.wrong-kind``."""
        if self.kind != kind:
            raise SchemaError(f"schema.{kind}.wrong-kind", f"expected a {kind}, got {self.kind}")
        return self.payload


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes an Ed25519 signature covers: ``["Signature1", protected, h'', payload]``."""
    return b"".join(
        (
            _SIG1_PREFIX,
            encode_head(2, len(protected)),
            protected,
            b"\x40",
            encode_head(2, len(payload)),
            payload,
        )
    )


def _check_payload_fields(payload: Mapping[str, Any]) -> tuple[int, int | None]:
    """The common payload rules: text keys, int ``created``, optional int ``expires`` after it."""
    for key in payload:
        if type(key) is not str:
            raise SchemaError("schema.payload-key", "payload map keys must be text strings")
    return _payload_times(payload)


def _payload_times(payload: Mapping[str, Any]) -> tuple[int, int | None]:
    """``created`` (a non-negative int) and ``expires`` (None or an int later than ``created``)."""
    created = payload.get("created")
    if type(created) is not int or created < 0:
        raise SchemaError("schema.created", "payload needs a non-negative int 'created' (Unix seconds)")
    expires = payload.get("expires")
    if expires is not None and (type(expires) is not int or expires <= created):
        raise SchemaError("schema.expires", "'expires' must be an int later than 'created'")
    return created, expires


_PROTECTED_CACHE: dict[tuple[str, str], bytes] = {}
_KID_CACHE: dict[bytes, str] = {}


def _protected_header(kid: str, kind: str) -> bytes:
    """The protected header bytes for a signer and kind (cached: a node signs with one key)."""
    cached = _PROTECTED_CACHE.get((kid, kind))
    if cached is None:
        header = {H_ALG: ALG_EDDSA, H_CONTENT_TYPE: CONTENT_TYPE, H_KID: kid.encode(), H_TYP: typ_for(kind)}
        cached = cbor.encode(header)
        if len(_PROTECTED_CACHE) >= _HEADER_CACHE_MAX:
            _PROTECTED_CACHE.clear()
        _PROTECTED_CACHE[(kid, kind)] = cached
    return cached


def sign_message(key: KeyPair, kind: str, payload: Mapping[str, Any]) -> bytes:
    """Sign ``payload`` as a message of ``kind``; the payload must already carry ``created``."""
    if not isinstance(payload, Mapping):
        raise SchemaError("schema.payload-not-map", "a payload is a map")
    _check_payload_fields(payload)
    kid = _KID_CACHE.get(key.public_key)
    if kid is None:  # KeyPair.kid re-encodes base58 on every call
        if len(_KID_CACHE) >= _HEADER_CACHE_MAX:
            _KID_CACHE.clear()
        kid = _KID_CACHE[key.public_key] = key.kid
    protected = _protected_header(kid, kind)
    body = cbor.encode(payload)
    signature = key.sign(sig_structure(protected, body))
    data = b"".join(
        (
            b"\xd2\x84",
            encode_head(2, len(protected)),
            protected,
            b"\xa0",
            encode_head(2, len(body)),
            body,
            b"\x58\x40",
            signature,
        )
    )
    if len(data) > DEFAULT_LIMITS.max_bytes:
        raise SchemaError("schema.too-large", f"the message exceeds {DEFAULT_LIMITS.max_bytes} bytes")
    return data


@dataclass(frozen=True, slots=True)
class _Header:
    kind: str
    kid: str
    signer: str
    public_key: bytes
    tbs_prefix: bytes  # Sig_structure up to the payload: 84 6a "Signature1" bstr(protected) 40


# Protected headers repeat (one per signer and kind): cache their validated meaning, keyed by exact bytes.
_HEADER_CACHE: dict[bytes, _Header] = {}
_HEADER_CACHE_MAX = 1024
_HEADER_LIMITS = Limits(max_bytes=4096, max_depth=4, max_items=16)


def _parse_header(protected: bytes) -> _Header:
    cached = _HEADER_CACHE.get(protected)
    if cached is not None:
        return cached
    header = cbor.decode(protected, _HEADER_LIMITS)
    if not isinstance(header, dict):
        raise DecodeError("decode.cose-header", "the protected header is not a map")
    unknown = set(header) - {H_ALG, H_CONTENT_TYPE, H_KID, H_TYP}
    if unknown:
        labels = sorted(map(str, unknown))
        raise UnsupportedError("unsupported.header", f"unsupported protected header labels {labels}")
    if header.get(H_ALG) != ALG_EDDSA:
        raise UnsupportedError("unsupported.alg", "only alg EdDSA (-8) is supported")
    if H_KID not in header:
        raise SchemaError("schema.kid-missing", "the protected header has no kid")
    kid_raw = header[H_KID]
    if type(kid_raw) is not bytes:
        raise SchemaError("schema.kid-invalid", "kid must be a byte string")
    try:
        kid = kid_raw.decode("utf-8")
        did, fragment = split_did_url(kid)
        if not fragment:
            raise SchemaError("schema.kid-invalid", "kid must be a did:key DID URL with a fragment")
        public_key = public_key_from_did(kid)
    except UnicodeDecodeError:
        raise SchemaError("schema.kid-invalid", "kid is not UTF-8") from None
    except SchemaError:
        raise
    except ProtocolError as exc:
        raise SchemaError("schema.kid-invalid", f"kid is not a did:key URL ({exc.code})") from None
    if H_TYP not in header:
        raise SchemaError("schema.typ-missing", "the protected header has no typ")
    kind = kind_from_typ(header[H_TYP])
    if header.get(H_CONTENT_TYPE) != CONTENT_TYPE:
        raise SchemaError("schema.content-type", f"content type must be {CONTENT_TYPE!r}")
    tbs_prefix = _SIG1_PREFIX + encode_head(2, len(protected)) + protected + b"\x40"
    parsed = _Header(kind=kind, kid=kid, signer=did, public_key=public_key, tbs_prefix=tbs_prefix)
    if len(_HEADER_CACHE) >= _HEADER_CACHE_MAX:
        _HEADER_CACHE.clear()
    _HEADER_CACHE[protected] = parsed
    return parsed


def _bstr(data: bytes, pos: int, what: str) -> tuple[bytes, int]:
    """Read one definite, shortest-form byte string at ``pos``; returns it and the next position."""
    ib = data[pos]
    if ib >> 5 != 2:
        raise DecodeError("decode.cose-structure", f"{what} is not a byte string")
    info = ib & 31
    pos += 1
    if info < 24:
        n = info
    elif info < 28:
        size = 1 << (info - 24)
        n = int.from_bytes(data[pos : pos + size], "big")
        if len(data) < pos + size:
            raise DecodeError("decode.truncated", "the input ends inside a head")
        pos += size
        if n < (24, 0x100, 0x10000, 0x100000000)[info - 24]:
            raise DecodeError("decode.non-shortest", f"the length of {what} is not in shortest form")
    elif info == 31:
        raise DecodeError("decode.indefinite-length", f"{what} has an indefinite length")
    else:
        raise DecodeError("decode.malformed", "reserved additional information value")
    end = pos + n
    if end > len(data):
        raise DecodeError("decode.truncated", f"the input ends inside {what}")
    return data[pos:end], end


def _split(data: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """The protected header, payload, signature and payload-with-its-bstr-head of a COSE_Sign1 in
    deterministic form (the last is what the Sig_structure ends with).

    The fast path covers the usual shape (header of 24-255 bytes, payload of 24-65535 bytes, 64-byte
    signature) without calls; anything else goes through the general reader, which also names the error.
    """
    n = len(data)
    if n > 72 and data[0] == 0xD2 and data[1] == 0x84 and data[2] == 0x58 and data[n - 66] == 0x58:
        hlen = data[3]
        pend = 4 + hlen
        if hlen >= 24 and data[pend] == 0xA0 and data[n - 65] == 0x40:
            ib = data[pend + 1]
            if ib == 0x59:
                blen = (data[pend + 2] << 8) | data[pend + 3]
                bstart = pend + 4
                ok = blen >= 0x100
            elif ib == 0x58:
                blen = data[pend + 2]
                bstart = pend + 3
                ok = blen >= 24
            else:
                ok = False
            if ok and bstart + blen == n - 66:
                return data[4:pend], data[bstart : n - 66], data[n - 64 :], data[pend + 1 : n - 66]
    return _split_general(data)


def _split_general(data: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    if data[0] != 0xD2:
        if data[0] >> 5 == 6:
            raise UnsupportedError("unsupported.cose-tag", "only COSE_Sign1 (tag 18) is supported")
        raise DecodeError("decode.cose-structure", "a message is a tagged COSE_Sign1 (tag 18)")
    if data[1] != 0x84:
        raise DecodeError("decode.cose-structure", "a COSE_Sign1 is an array of four items")
    protected, pos = _bstr(data, 2, "the protected header")
    if data[pos] != 0xA0:
        raise SchemaError("schema.unprotected-header", "the unprotected header must be an empty map")
    payload_start = pos + 1
    payload, pos = _bstr(data, payload_start, "the payload")
    payload_with_head = data[payload_start:pos]
    signature, pos = _bstr(data, pos, "the signature")
    if pos != len(data):
        raise DecodeError("decode.trailing-bytes", "bytes follow the COSE_Sign1")
    if len(signature) != SIGNATURE_LENGTH:
        raise SignatureError("signature.invalid", "the signature does not verify")
    return protected, payload, signature, payload_with_head


def cose_parts(data: bytes) -> tuple[bytes, bytes, bytes]:
    """The protected header, payload and signature bytes of a deterministic COSE_Sign1 (structure only:
    nothing is verified). For tools and tests that need the raw parts."""
    try:
        protected, payload, signature, _ = _split(data)
    except IndexError:
        raise DecodeError("decode.truncated", "the message ends early") from None
    return protected, payload, signature


def verify_message(
    data: bytes, now: int, *, limits: Limits = DEFAULT_LIMITS, max_skew: int = 300
) -> SignedMessage:
    """Decode and verify a signed message at time ``now`` (Unix seconds).

    Checks, in order: size, envelope, protected header, payload encoding and common fields, signature,
    then time (``created`` at most ``max_skew`` seconds ahead of ``now``; ``expires`` after ``now``).
    """
    if type(data) is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise DecodeError("decode.type", "a message is bytes")
        data = bytes(data)
    if len(data) > limits.max_bytes:
        raise DecodeError("decode.too-large", f"the message exceeds {limits.max_bytes} bytes")
    try:
        protected, body, signature, body_bstr = _split(data)
    except IndexError:
        raise DecodeError("decode.truncated", "the message ends early") from None
    header = _HEADER_CACHE.get(protected) or _parse_header(protected)
    payload = cbor.decode_text_map(body, limits)
    created, expires = _payload_times(payload)
    _sign_open(b"".join((signature, header.tbs_prefix, body_bstr)), header.public_key)
    if created > now + max_skew:
        raise ValidityError("validity.not-yet-valid", "the message was created in the future")
    if expires is not None and expires <= now:
        raise ValidityError("validity.expired", "the message has expired")
    return _new_message(
        hashlib.sha256(data).digest(), data, header.kind, header.kid, header.signer, payload, created, expires
    )


_SETTERS = tuple(
    SignedMessage.__dict__[name].__set__
    for name in ("id", "raw", "kind", "kid", "signer", "payload", "created", "expires")
)


_S_ID, _S_RAW, _S_KIND, _S_KID, _S_SIGNER, _S_PAYLOAD, _S_CREATED, _S_EXPIRES = _SETTERS

try:  # libsodium through PyNaCl's own cffi module, without the per-call buffer allocation and copy
    from nacl._sodium import ffi as _ffi
    from nacl._sodium import lib as _lib
except ImportError:  # pragma: no cover - PyNaCl layout changed: use the public binding
    _ffi = _lib = None

_scratch = threading.local()


def _sign_open(signed: bytes, public_key: bytes) -> None:
    """``crypto_sign_open`` (signature ‖ message) into a reused per-thread scratch buffer; the opened
    message is never read (we already hold it). Raises SignatureError when the signature is wrong.

    Same libsodium check as ``nacl.bindings.crypto_sign_open``; it saves that wrapper's two allocations
    and the copy of the opened message, which matter at tens of thousands of messages per second."""
    if _lib is None:  # pragma: no cover
        try:
            nacl.bindings.crypto_sign_open(signed, public_key)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError, TypeError):
            raise SignatureError("signature.invalid", "the signature does not verify") from None
        return
    n = len(signed)
    buf = getattr(_scratch, "buf", None)
    if buf is None or len(buf) < n:
        buf = _scratch.buf = _ffi.new("unsigned char[]", max(n, 4096))
        _scratch.mlen = _ffi.new("unsigned long long *")
    if len(public_key) != 32 or _lib.crypto_sign_open(buf, _scratch.mlen, signed, n, public_key) != 0:
        raise SignatureError("signature.invalid", "the signature does not verify")


def _new_message(
    id: bytes,
    raw: bytes,
    kind: str,
    kid: str,
    signer: str,
    payload: dict[str, Any],
    created: int,
    expires: int | None,
) -> SignedMessage:
    """Build a SignedMessage through its slot descriptors: the frozen-dataclass ``__init__`` costs twice
    as much, and verification runs once per message received."""
    message: SignedMessage = object.__new__(SignedMessage)
    _S_ID(message, id)
    _S_RAW(message, raw)
    _S_KIND(message, kind)
    _S_KID(message, kid)
    _S_SIGNER(message, signer)
    _S_PAYLOAD(message, payload)
    _S_CREATED(message, created)
    _S_EXPIRES(message, expires)
    return message
