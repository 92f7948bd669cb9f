"""The notifier's personal data (name, e-mail) sealed to each target marketplace, one ciphertext each.

Why sealed boxes: a notice travels by gossip to every node, but DSA art. 16(2)(c) data is for the
marketplace that must act on it. libsodium's ``crypto_box_seal`` (X25519 + XSalsa20-Poly1305 with an
ephemeral sender key) needs only the recipient's public key, which its did:key already gives (the X25519
key derived from the Ed25519 key). The plaintext is deterministic CBOR
``{"name", "email", "notifier": signer DID, "recipient": marketplace DID}``: naming both DIDs inside the
ciphertext stops anyone from pasting another notifier's sealed contact into their own notice, or a
ciphertext made for one marketplace into the slot of another.

:func:`seal` with ``ephemeral_seed`` makes the same bytes libsodium would with that ephemeral key pair,
so test vectors are reproducible; production code never passes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.public

from . import cbor
from .errors import DecodeError, ProtocolError, SchemaError
from .keys import KeyPair, public_key_from_did, x25519_public_key
from .payload_fields import check_text

MAX_NAME = 200
MAX_EMAIL = 254
MAX_SEALED = 1024  # bytes of one ciphertext: 48 bytes overhead + a bounded plaintext
SEAL_OVERHEAD = 48


@dataclass(frozen=True)
class Contact:
    """The notifier's name and e-mail address (DSA art. 16(2)(c))."""

    name: str
    email: str


def check_email(value: object) -> str | None:
    """A pragmatic addr-spec check: one ``@``, a non-empty local part, a dotted domain, no spaces."""
    text = check_text(value, max_len=MAX_EMAIL, min_len=3)
    if text is None or text.count("@") != 1 or any(c.isspace() for c in text):
        return None
    local, domain = text.split("@")
    labels = domain.split(".")
    if not local or len(local) > 64 or len(labels) < 2 or any(not label for label in labels):
        return None
    return text


def check_contact(contact: Contact) -> Contact:
    if check_text(contact.name, max_len=MAX_NAME) is None or not contact.name.strip():
        raise SchemaError("schema.contact.bad-name", f"a name of 1..{MAX_NAME} characters")
    if check_email(contact.email) is None:
        raise SchemaError("schema.contact.bad-email", "an e-mail address")
    return contact


def seal(plaintext: bytes, recipient_x25519: bytes, *, ephemeral_seed: bytes | None = None) -> bytes:
    """libsodium sealed box: ephemeral pk (32) || crypto_box(m, blake2b-24(epk || rpk), rpk, esk)."""
    if ephemeral_seed is None:
        return bytes(nacl.public.SealedBox(nacl.public.PublicKey(recipient_x25519)).encrypt(plaintext))
    epk, esk = nacl.bindings.crypto_box_seed_keypair(ephemeral_seed)
    nonce = hashlib.blake2b(epk + recipient_x25519, digest_size=24).digest()
    return bytes(epk) + bytes(nacl.bindings.crypto_box_easy(plaintext, nonce, recipient_x25519, esk))


def unseal(ciphertext: bytes, x25519_private: bytes) -> bytes:
    try:
        box = nacl.public.SealedBox(nacl.public.PrivateKey(x25519_private))
        return bytes(box.decrypt(ciphertext))
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, ValueError, TypeError):
        raise DecodeError("decode.sealed", "the sealed contact does not open with this key") from None


def seal_contact(
    contact: Contact,
    *,
    notifier: str,
    recipients: Iterable[str],
    ephemeral_seeds: Mapping[str, bytes] | None = None,
) -> dict[str, bytes]:
    """One ciphertext per recipient marketplace DID (keys of the returned map)."""
    check_contact(contact)
    out: dict[str, bytes] = {}
    for did in recipients:
        plaintext = cbor.encode(
            {"name": contact.name, "email": contact.email, "notifier": notifier, "recipient": did}
        )
        seed = ephemeral_seeds.get(did) if ephemeral_seeds is not None else None
        out[did] = seal(plaintext, x25519_public_key(public_key_from_did(did)), ephemeral_seed=seed)
    return out


def open_contact(sealed: Mapping[str, bytes], key: KeyPair, *, notifier: str) -> Contact:
    """Open the ciphertext addressed to ``key.did`` and check it names this notifier and this recipient.

    Raises SchemaError ``schema.sealed.not-recipient`` when ``key`` has no ciphertext,
    DecodeError ``decode.sealed`` when it does not decrypt or is not CBOR, SchemaError
    ``schema.sealed.bad-contact`` for a malformed plaintext and ``schema.sealed.wrong-binding`` when the
    plaintext names another notifier or recipient.
    """
    ciphertext = sealed.get(key.did)
    if ciphertext is None:
        raise SchemaError("schema.sealed.not-recipient", "no sealed contact for this marketplace")
    try:
        value = cbor.decode(unseal(ciphertext, key.x25519_private_key()), cbor.Limits(max_bytes=MAX_SEALED))
    except ProtocolError as exc:
        raise DecodeError("decode.sealed", f"sealed contact: {exc.code}") from None
    if not isinstance(value, dict) or set(value) != {"name", "email", "notifier", "recipient"}:
        raise SchemaError("schema.sealed.bad-contact", "expected name, email, notifier, recipient")
    if value["notifier"] != notifier or value["recipient"] != key.did:
        raise SchemaError("schema.sealed.wrong-binding", "the sealed contact was made for another notice")
    name, email = value["name"], value["email"]
    if not isinstance(name, str) or not isinstance(email, str):
        raise SchemaError("schema.sealed.bad-contact", "name and email are text")
    try:
        return check_contact(Contact(name=name, email=email))
    except SchemaError as exc:
        raise SchemaError("schema.sealed.bad-contact", exc.detail) from None
