"""The published W3C vc-di-eddsa test vectors reproduce byte for byte and verify (both cryptosuites)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from protocol import data_integrity as di
from protocol.errors import SignatureError
from protocol.keys import KeyPair
from protocol.multibase import multibase_b58_decode

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "w3c-vc-di-eddsa"
pytestmark = pytest.mark.skipif(not VECTORS.is_dir(), reason=f"W3C vectors not found at {VECTORS}")

# suite -> (folder, file-name suffix used by the W3C vector set)
SETS = {"eddsa-jcs-2022": ("eddsa-jcs-2022", "JCS"), "eddsa-rdfc-2022": ("eddsa-rdfc-2022", "DataInt")}


def _text(suite: str, stem: str) -> str:
    folder, suffix = SETS[suite]
    return (VECTORS / folder / f"{stem}{suffix}.txt").read_text(encoding="utf-8")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _signed(suite: str) -> dict[str, Any]:
    folder, suffix = SETS[suite]
    return dict(_json(VECTORS / folder / f"signed{suffix}.json"))


def _key() -> KeyPair:
    pair = _json(VECTORS / "keyPair.json")
    key = KeyPair.from_private_multibase(pair["privateKeyMultibase"])
    assert key.public_multibase == pair["publicKeyMultibase"]
    return key


@pytest.mark.parametrize("suite", di.SUITES)
def test_intermediate_values(suite: str) -> None:
    folder, suffix = SETS[suite]
    unsecured = _json(VECTORS / "unsigned.json")
    options = _json(VECTORS / folder / f"proofConfig{suffix}.json")
    canon_doc = di.canonical_document(suite, unsecured)
    assert canon_doc == _text(suite, "canonDoc").encode()
    # The published config carries the document's @context, as the proof configuration algorithm adds it.
    config = di.proof_config(suite, unsecured, {k: v for k, v in options.items() if k != "@context"})
    if suite == "eddsa-jcs-2022":
        config["@context"] = unsecured["@context"]
    assert config == options
    canon_config = di.canonical_proof_config(suite, config)
    assert canon_config == _text(suite, "proofCanon").encode()
    assert hashlib.sha256(canon_doc).hexdigest() == _text(suite, "docHash").strip()
    assert hashlib.sha256(canon_config).hexdigest() == _text(suite, "proofHash").strip()
    data = di.hash_data(canon_config, canon_doc)
    assert data.hex() == _text(suite, "combinedHash").strip()
    signature = _key().sign(data)
    assert signature.hex() == _text(suite, "sigHex").strip()
    assert multibase_b58_decode(_text(suite, "sigBTC58").strip()) == signature


@pytest.mark.parametrize("suite", di.SUITES)
def test_signing_reproduces_signed_document(suite: str) -> None:
    unsecured = _json(VECTORS / "unsigned.json")
    signed = di.add_proof(unsecured, _key(), created="2023-02-24T23:36:38Z", suite=suite)
    expected = _signed(suite)
    assert signed == expected
    assert json.dumps(signed) == json.dumps(expected)  # same member order too
    assert signed["proof"]["proofValue"] == _text(suite, "sigBTC58").strip()


@pytest.mark.parametrize("suite", di.SUITES)
def test_signed_vector_verifies(suite: str) -> None:
    result = di.verify_proof(_signed(suite), expected_purpose="assertionMethod")
    key = _key()
    assert result == di.VerifiedProof(
        suite=suite, verification_method=key.kid, controller=key.did, purpose="assertionMethod",
        created="2023-02-24T23:36:38Z", challenge=None, domain=None,
    )


@pytest.mark.parametrize("suite", di.SUITES)
def test_signed_vector_tampered_fails(suite: str) -> None:
    signed = _signed(suite)
    signed["credentialSubject"] = {**signed["credentialSubject"], "alumniOf": "Another School"}
    with pytest.raises(SignatureError) as info:
        di.verify_proof(signed, expected_purpose="assertionMethod")
    assert info.value.code == "signature.invalid"
