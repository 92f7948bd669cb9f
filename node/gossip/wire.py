"""Bodies of the peer endpoints: deterministic CBOR arrays of byte strings (objects or 32-byte ids).

Why CBOR and not JSON: objects are opaque signed bytes (COSE or JSON credentials) and ids are raw
SHA-256 digests; a CBOR array of byte strings carries both without base64 and is decoded with the same
bounded decoder as every other network input.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol import cbor
from protocol.errors import DecodeError

CBOR_TYPE = "application/cbor"
RECONCILE_TYPE = "application/octet-stream"
COSE_TYPE = "application/cose"
ID_SIZE = 32
MAX_ITEMS = 4096


_BIG = cbor.Limits(max_bytes=1 << 30, max_items=1 << 20)


def encode_list(items: Sequence[bytes]) -> bytes:
    return cbor.encode([bytes(item) for item in items], _BIG)


def decode_list(body: bytes, max_bytes: int, max_items: int = MAX_ITEMS) -> list[bytes]:
    """A CBOR array of byte strings, bounded in size and count (DecodeError otherwise)."""
    value = cbor.decode(body, cbor.Limits(max_bytes=max_bytes, max_depth=2, max_items=max_items))
    if not isinstance(value, list) or not all(isinstance(item, bytes) for item in value):
        raise DecodeError("decode.peer-body", "expected a CBOR array of byte strings")
    return value


def decode_ids(body: bytes, max_items: int = MAX_ITEMS) -> list[bytes]:
    """A CBOR array of 32-byte ids."""
    ids = decode_list(body, 16 + max_items * (ID_SIZE + 2), max_items)
    if any(len(item) != ID_SIZE for item in ids):
        raise DecodeError("decode.peer-body", "an id is 32 bytes (SHA-256)")
    return ids


def encode_push(entries: Sequence[tuple[bytes, int, str]]) -> bytes:
    """An eager push: ``[[object bytes, hops, root], ...]`` (the tree's tags travel with each copy)."""
    return cbor.encode([[bytes(raw), hops, root] for raw, hops, root in entries], _BIG)


def decode_push(body: bytes, max_bytes: int) -> list[tuple[bytes, int, str]]:
    value = cbor.decode(body, cbor.Limits(max_bytes=max_bytes, max_depth=3, max_items=MAX_ITEMS))
    out = []
    for entry in value if isinstance(value, list) else [None]:
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], bytes)
            and isinstance(entry[1], int)
            and 0 <= entry[1] < 1 << 16
            and isinstance(entry[2], str)
            and len(entry[2]) <= 256
        ):
            raise DecodeError("decode.peer-body", "expected a CBOR array of [bytes, hops, root]")
        out.append((entry[0], entry[1], entry[2]))
    return out


def encode_ihave(entries: Sequence[tuple[bytes, int]]) -> bytes:
    """Announcements: ``[[id, hops], ...]``."""
    return cbor.encode([[bytes(item_id), hops] for item_id, hops in entries], _BIG)


def decode_ihave(body: bytes) -> list[tuple[bytes, int]]:
    value = cbor.decode(body, cbor.Limits(max_bytes=16 + MAX_ITEMS * 48, max_depth=3, max_items=MAX_ITEMS))
    out = []
    for entry in value if isinstance(value, list) else [None]:
        if not (
            isinstance(entry, list)
            and len(entry) == 2
            and isinstance(entry[0], bytes)
            and len(entry[0]) == ID_SIZE
            and isinstance(entry[1], int)
            and 0 <= entry[1] < 1 << 16
        ):
            raise DecodeError("decode.peer-body", "expected a CBOR array of [32-byte id, hops]")
        out.append((entry[0], entry[1]))
    return out
