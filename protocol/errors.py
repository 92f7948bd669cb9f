"""One exception hierarchy for the protocol package, each error carrying a stable machine-readable code.

Codes are part of the wire contract (see ``specs/wire.md``): nodes put them in problem+json answers and
test vectors name them, so they never change meaning once published.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every error the protocol package raises on bad input.

    ``code`` is a stable, dotted, lower-case identifier such as ``decode.trailing-bytes``; ``detail`` is
    a human-readable explanation that may change between versions.
    """

    category = "protocol"

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail or code
        super().__init__(f"{code}: {self.detail}")


class DecodeError(ProtocolError):
    """The bytes are not a well-formed encoding (CBOR, COSE, JSON, multibase, did:key)."""

    category = "decode"


class SchemaError(ProtocolError):
    """The value decodes but its structure or field values break the schema for its kind."""

    category = "schema"


class SignatureError(ProtocolError):
    """A signature or proof does not verify. Deliberately opaque: it never says which byte was wrong."""

    category = "signature"


class ValidityError(ProtocolError):
    """Well-formed and signed, but not acceptable now: expired, not yet valid, revoked, untrusted."""

    category = "validity"


class UnsupportedError(ProtocolError):
    """Uses an algorithm, tag, type or version this implementation does not support."""

    category = "unsupported"
