"""Ed25519 key pairs and their ``did:key`` names (multicodec ed25519-pub 0xed01, base58btc multibase).

A ``did:key`` DID *is* the public key, so resolving one needs no network: :func:`public_key_from_did`
decodes it. DID URLs name the verification method as ``did:key:z6Mk…#z6Mk…`` (the fragment repeats the
key). The X25519 key-agreement key is derived from the Ed25519 key as the did:key method specifies; notices
use it to encrypt personal data to a marketplace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import nacl.bindings
import nacl.exceptions
import nacl.signing

from .errors import DecodeError, SignatureError, UnsupportedError
from .multibase import multibase_b58_decode, multibase_b58_encode

ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"
X25519_PUB_PREFIX = b"\xec\x01"
DID_KEY_PREFIX = "did:key:"
# Base58 decoding is quadratic in the length, and DIDs arrive unauthenticated (a credential's issuer is read
# before its proof is checked): refuse absurd lengths first. RSA-4096 multikeys, the longest did:key keys,
# are about 750 characters; an Ed25519 one is 48.
MAX_MULTIKEY_CHARS = 1024


def public_key_multibase(public_key: bytes) -> str:
    """Multikey encoding of an Ed25519 public key (``z6Mk…``)."""
    if len(public_key) != 32:
        raise DecodeError("decode.key-length", "an Ed25519 public key is 32 bytes")
    return multibase_b58_encode(ED25519_PUB_PREFIX + public_key)


def public_key_from_multibase(value: str) -> bytes:
    if len(value) > MAX_MULTIKEY_CHARS:
        raise DecodeError("decode.key-length", f"a multikey is at most {MAX_MULTIKEY_CHARS} characters")
    raw = multibase_b58_decode(value)
    if raw[:2] != ED25519_PUB_PREFIX:
        raise UnsupportedError("unsupported.key-type", "only Ed25519 (multicodec 0xed01) keys are supported")
    if len(raw) != 34:
        raise DecodeError("decode.key-length", "an Ed25519 public key is 32 bytes")
    return raw[2:]


def did_from_public_key(public_key: bytes) -> str:
    return DID_KEY_PREFIX + public_key_multibase(public_key)


def split_did_url(did_url: str) -> tuple[str, str]:
    """Split ``did:key:z…#frag`` into DID and fragment (fragment may be empty)."""
    did, _, fragment = did_url.partition("#")
    return did, fragment


def public_key_from_did(did_or_url: str) -> bytes:
    """Decode the Ed25519 key a ``did:key`` DID or DID URL names.

    A DID URL's fragment, when present, must repeat the method-specific id: did:key has exactly one
    verification method per DID, and accepting another fragment would let two strings name one key.
    """
    if not isinstance(did_or_url, str) or not did_or_url.startswith(DID_KEY_PREFIX):
        raise UnsupportedError("unsupported.did-method", "only did:key identifiers are supported")
    did, fragment = split_did_url(did_or_url)
    msid = did[len(DID_KEY_PREFIX) :]
    if fragment and fragment != msid:
        raise DecodeError("decode.did-url", "the fragment of a did:key URL must repeat its key")
    return public_key_from_multibase(msid)


def did_url(did: str) -> str:
    """The verification-method DID URL of a did:key DID."""
    public_key_from_did(did)
    return f"{did}#{did[len(DID_KEY_PREFIX):]}"


def x25519_public_key(ed25519_public_key: bytes) -> bytes:
    """The X25519 key-agreement key derived from an Ed25519 key (birational map)."""
    try:
        return bytes(nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(ed25519_public_key))
    except (nacl.exceptions.RuntimeError, ValueError, TypeError) as exc:
        raise DecodeError("decode.key", "not a valid Ed25519 point") from exc


def x25519_did_url(did: str) -> str:
    """The key-agreement DID URL (``#z6LS…``) that did:key derives for an Ed25519 DID."""
    x = x25519_public_key(public_key_from_did(did))
    return f"{did}#{multibase_b58_encode(X25519_PUB_PREFIX + x)}"


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature; raise the one opaque :class:`SignatureError` if it fails."""
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError, TypeError):
        raise SignatureError("signature.invalid", "the signature does not verify") from None


@dataclass(frozen=True)
class KeyPair:
    """An Ed25519 key pair. ``seed`` is the 32-byte private seed; never log or print it."""

    seed: bytes = field(repr=False)
    public_key: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        return cls.from_seed(bytes(nacl.signing.SigningKey.generate()))

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        if len(seed) != 32:
            raise DecodeError("decode.key-length", "an Ed25519 seed is 32 bytes")
        signing = nacl.signing.SigningKey(seed)
        return cls(seed=seed, public_key=bytes(signing.verify_key))

    @classmethod
    def from_private_multibase(cls, value: str) -> KeyPair:
        if len(value) > MAX_MULTIKEY_CHARS:
            raise DecodeError("decode.key", "expected an ed25519-priv (0x8026) multikey of 32 bytes")
        raw = multibase_b58_decode(value)
        if raw[:2] != ED25519_PRIV_PREFIX or len(raw) != 34:
            raise DecodeError("decode.key", "expected an ed25519-priv (0x8026) multikey of 32 bytes")
        return cls.from_seed(raw[2:])

    @cached_property
    def did(self) -> str:
        return did_from_public_key(self.public_key)

    @cached_property
    def kid(self) -> str:
        """The DID URL of the verification method, used as COSE ``kid`` and Data Integrity method."""
        return did_url(self.did)

    @cached_property
    def public_multibase(self) -> str:
        return public_key_multibase(self.public_key)

    @property
    def private_multibase(self) -> str:
        return multibase_b58_encode(ED25519_PRIV_PREFIX + self.seed)

    def sign(self, message: bytes) -> bytes:
        return bytes(nacl.bindings.crypto_sign(message, self.seed + self.public_key)[:64])

    def x25519_private_key(self) -> bytes:
        return bytes(nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(self.seed + self.public_key))
