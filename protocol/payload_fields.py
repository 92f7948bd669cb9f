"""Strict readers for the fields of a decoded message payload, each failure a SchemaError with a stable code.

Why one helper: notices, receipts, decisions and complaints all need the same checks (exact key set,
bounded text without control characters, 32-byte digests, did:key DIDs) and the same code scheme:
``schema.<kind>.missing-<field>`` when a required key is absent and ``schema.<kind>.bad-<field>`` when a
value has the wrong type, size or form. Field names use ``-`` in codes where the key has ``_``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ProtocolError, SchemaError
from .keys import public_key_from_did

UINT64_MAX = (1 << 64) - 1
_CONTROL_ALLOWED_IN_PROSE = frozenset("\t\n\r")


def code_name(key: str) -> str:
    return key.replace("_", "-")


def check_text(value: object, *, max_len: int, min_len: int = 1, prose: bool = False) -> str | None:
    """Return ``value`` if it is text of allowed length without control characters, else None.

    ``prose`` admits tab and line breaks (explanations); identifiers admit no control character at all.
    Length counts code points.
    """
    if not isinstance(value, str) or not min_len <= len(value) <= max_len:
        return None
    for ch in value:
        o = ord(ch)
        if (o < 0x20 or 0x7F <= o < 0xA0 or 0xD800 <= o < 0xE000) and not (
            prose and ch in _CONTROL_ALLOWED_IN_PROSE
        ):
            return None
    return value


def is_did_key(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 128 or "#" in value:
        return False
    try:
        public_key_from_did(value)
    except ProtocolError:
        return False
    return True


class Fields:
    """A view of one payload map that checks its key set and reads typed fields."""

    def __init__(
        self, payload: object, kind: str, required: frozenset[str], optional: frozenset[str]
    ) -> None:
        self.kind = kind
        if not isinstance(payload, Mapping):
            raise self.error("not-a-map", f"a {kind} payload is a map")
        for key in payload:
            if not isinstance(key, str):
                raise self.error("bad-key", "payload keys are text")
        unknown = sorted(k for k in payload if k not in required and k not in optional)
        if unknown:
            raise self.error("unknown-field", f"unknown field {unknown[0]!r}")
        for key in sorted(required):
            if key not in payload:
                raise self.error(f"missing-{code_name(key)}", f"{key} is required")
        self.payload: Mapping[str, Any] = payload

    def error(self, what: str, detail: str = "") -> SchemaError:
        return SchemaError(f"schema.{self.kind}.{what}", detail or what)

    def bad(self, key: str, detail: str) -> SchemaError:
        return self.error(f"bad-{code_name(key)}", f"{key}: {detail}")

    def has(self, key: str) -> bool:
        return key in self.payload

    def raw(self, key: str) -> Any:
        return self.payload.get(key)

    def uint(self, key: str, *, maximum: int = UINT64_MAX) -> int:
        value = self.payload[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise self.bad(key, f"an unsigned integer up to {maximum}")
        return value

    def opt_uint(self, key: str, *, maximum: int = UINT64_MAX) -> int | None:
        return self.uint(key, maximum=maximum) if key in self.payload else None

    def times(self) -> tuple[int, int | None]:
        """The common ``created`` and optional ``expires`` (later than ``created``)."""
        created = self.uint("created")
        expires = self.opt_uint("expires")
        if expires is not None and expires <= created:
            raise self.bad("expires", "later than created")
        return created, expires

    def boolean(self, key: str) -> bool:
        value = self.payload[key]
        if not isinstance(value, bool):
            raise self.bad(key, "true or false")
        return value

    def text(self, key: str, *, max_len: int, min_len: int = 1, prose: bool = False) -> str:
        value = check_text(self.payload[key], max_len=max_len, min_len=min_len, prose=prose)
        if value is None:
            raise self.bad(key, f"text of {min_len}..{max_len} characters without control characters")
        return value

    def opt_text(self, key: str, *, max_len: int, min_len: int = 1, prose: bool = False) -> str | None:
        if key not in self.payload:
            return None
        return self.text(key, max_len=max_len, min_len=min_len, prose=prose)

    def digest(self, key: str) -> bytes:
        value = self.payload[key]
        if not isinstance(value, bytes) or len(value) != 32:
            raise self.bad(key, "a 32-byte SHA-256 digest")
        return value

    def opt_digest(self, key: str) -> bytes | None:
        return self.digest(key) if key in self.payload else None

    def did(self, key: str) -> str:
        value = self.payload[key]
        if not is_did_key(value):
            raise self.bad(key, "a did:key DID")
        assert isinstance(value, str)
        return value

    def array(self, key: str, *, max_len: int, min_len: int = 0) -> list[Any]:
        value = self.payload[key]
        if not isinstance(value, list | tuple):
            raise self.bad(key, "an array")
        if len(value) < min_len:
            raise self.bad(key, f"at least {min_len} entries")
        if len(value) > max_len:
            raise self.error(f"too-many-{code_name(key)}", f"{key}: at most {max_len} entries")
        return list(value)

    def enum(self, key: str, allowed: frozenset[str]) -> str:
        value = self.payload[key]
        if not isinstance(value, str) or value not in allowed:
            raise self.bad(key, "one of " + ", ".join(sorted(allowed)))
        return value
