"""Published did:key vectors (w3c-ccg/did-method-key ed25519-x25519.json) and the W3C Data Integrity
EdDSA key pair (Multikey round trip). Read from ../shared/vectors; skipped when that folder is absent."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from protocol.keys import (
    KeyPair,
    did_url,
    public_key_from_did,
    public_key_from_multibase,
    x25519_did_url,
    x25519_public_key,
)
from protocol.multibase import b58decode

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "vectors"
DID_KEY_FILE = SHARED / "did-key" / "ed25519-x25519.json"
KEYPAIR_FILE = SHARED / "w3c-vc-di-eddsa" / "keyPair.json"

pytestmark = pytest.mark.skipif(not DID_KEY_FILE.exists(), reason=f"{DID_KEY_FILE} not present")


def _vectors() -> list[tuple[str, dict[str, Any]]]:
    if not DID_KEY_FILE.exists():
        return []
    return list(json.loads(DID_KEY_FILE.read_text()).items())


def _public(method: dict[str, Any]) -> bytes:
    """Key bytes from publicKeyBase58 or (last vector, JsonWebKey2020) publicKeyJwk."""
    if "publicKeyBase58" in method:
        return b58decode(method["publicKeyBase58"])
    return _b64url(method["publicKeyJwk"]["x"])


def _private(method: dict[str, Any]) -> bytes:
    if "privateKeyBase58" in method:
        return b58decode(method["privateKeyBase58"])
    return _b64url(method["privateKeyJwk"]["d"])


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _absolute(did: str, ref: str) -> str:
    """Vector ids are relative ('#z6LS…') except the last, which is an absolute DID URL."""
    return did + ref if ref.startswith("#") else ref


@pytest.mark.parametrize(("did", "vector"), _vectors(), ids=[d[-12:] for d, _ in _vectors()])
def test_did_key_vector(did: str, vector: dict[str, Any]) -> None:
    key = KeyPair.from_seed(bytes.fromhex(vector["seed"]))
    assert key.did == did
    verification = vector["verificationKeyPair"]
    assert public_key_from_did(did) == key.public_key == _public(verification)
    if "privateKeyJwk" in verification:
        assert _private(verification) == key.seed
    assert _absolute(did, verification["id"]) == key.kid == did_url(did)
    assert verification["controller"] == did

    agreement = vector["keyAgreementKeyPair"]
    assert _absolute(did, agreement["id"]) == x25519_did_url(did)
    assert x25519_public_key(key.public_key) == _public(agreement)
    assert key.x25519_private_key() == _private(agreement)

    document = vector["didDocument"]
    assert document["id"] == did
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert key.kid in methods and x25519_did_url(did) in methods
    assert document["assertionMethod"] == [key.kid] == document["authentication"]
    assert document["keyAgreement"] == [x25519_did_url(did)]


def test_last_vector_uses_an_absolute_key_agreement_id() -> None:
    vectors = _vectors()
    assert vectors[-1][1]["keyAgreementKeyPair"]["id"].startswith("did:key:")
    assert all(v["keyAgreementKeyPair"]["id"].startswith("#") for _, v in vectors[:-1])


@pytest.mark.skipif(not KEYPAIR_FILE.exists(), reason=f"{KEYPAIR_FILE} not present")
def test_w3c_multikey_pair_round_trip() -> None:
    pair = json.loads(KEYPAIR_FILE.read_text())
    key = KeyPair.from_private_multibase(pair["privateKeyMultibase"])
    assert key.public_multibase == pair["publicKeyMultibase"]
    assert key.private_multibase == pair["privateKeyMultibase"]
    assert public_key_from_multibase(pair["publicKeyMultibase"]) == key.public_key
    assert key.did == "did:key:" + pair["publicKeyMultibase"]
