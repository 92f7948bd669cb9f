"""Base58btc (the Bitcoin alphabet) and its multibase form with the ``z`` prefix, as did:key uses them."""

from __future__ import annotations

from .errors import DecodeError

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        try:
            n = n * 58 + _INDEX[ch]
        except KeyError:
            raise DecodeError("decode.base58", f"character {ch!r} is not in the base58btc alphabet") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def multibase_b58_encode(data: bytes) -> str:
    return "z" + b58encode(data)


def multibase_b58_decode(text: str) -> bytes:
    """Decode ``z…``; quadratic in the length, so callers bound what they pass."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise DecodeError("decode.multibase", "expected a base58btc multibase value starting with 'z'")
    return b58decode(text[1:])
