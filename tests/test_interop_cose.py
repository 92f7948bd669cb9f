"""Two-way interoperability of our COSE_Sign1 with cose-kit (JavaScript, on cbor-x).

What cose-kit does and how it is driven (tests/interop/cose.mjs):
- Its verifier (coseVerify) accepts our messages and decodes our protected header to the same labels.
- Its high-level signer (coseSign) cannot produce our header: it has no name for label 16 (typ) and it
  turns every string header value into a byte string (so content type "application/cbor" would become a
  bstr). Its output is refused here with ``schema.typ-missing``, although its Sig_structure and signature
  are right (checked below).
- Its Sign1 class takes the protected header as a Map; cbor-x writes Map entries in insertion order and
  does not sort them. Built in label order 1, 3, 4, 16 the header is deterministic, and the whole message
  is then byte-identical to ours (Ed25519 is deterministic). In any other order we refuse it
  (``decode.unsorted-keys``): cose-kit is deterministic only when the caller orders the Map.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from protocol import cbor
from protocol.errors import ProtocolError
from protocol.keys import KeyPair, verify_signature
from protocol.messages import sig_structure, sign_message, typ_for, verify_message

INTEROP = Path(__file__).resolve().parent / "interop"
SCRIPT = INTEROP / "cose.mjs"
NODE = shutil.which("node")
HAVE_COSE_KIT = (INTEROP / "node_modules" / "cose-kit" / "package.json").exists()

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(NODE is None, reason="node is not installed"),
    pytest.mark.skipif(
        not HAVE_COSE_KIT, reason="cose-kit missing: run `make interop-setup` (npm ci in tests/interop)"
    ),
]

KEY = KeyPair.from_seed(bytes(range(32)))
OTHER = KeyPair.from_seed(bytes(range(1, 33)))
NOW = 1767225600
PAYLOAD = {"created": NOW, "note": "interop", "blob": b"\x00\x01", "n": [-1, 2**33], "m": {"k": None}}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _run(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(SCRIPT)],
        input=json.dumps(requests).encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers


def _sign_request(key: KeyPair, payload: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "op": "sign",
        "d": _b64(key.seed),
        "x": _b64(key.public_key),
        "kid": key.kid,
        "typ": typ_for("test"),
        "payload": payload.hex(),
        **extra,
    }


def test_ours_verifies_in_cose_kit() -> None:
    ours = [sign_message(KEY, kind, PAYLOAD) for kind in ("test", "notice", "decision")]
    tampered = bytearray(ours[0])
    tampered[-1] ^= 1
    requests = [{"op": "verify", "message": m.hex(), "x": _b64(KEY.public_key)} for m in ours]
    requests.append({"op": "verify", "message": bytes(tampered).hex(), "x": _b64(KEY.public_key)})
    requests.append({"op": "verify", "message": ours[0].hex(), "x": _b64(OTHER.public_key)})
    answers = _run(requests)
    for message, answer in zip(ours, answers[:3], strict=True):
        assert answer["isValid"] is True
        assert answer["protected"][0] == [1, -8]
        assert answer["protected"][1] == [3, "application/cbor"]
        assert answer["protected"][2] == [4, {"hex": KEY.kid.encode().hex()}]
        assert answer["protected"][3][0] == 16
        assert answer["protected"][3][1] == typ_for(verify_message(message, NOW).kind)
        assert answer["unprotectedSize"] == 0
        assert cbor.decode(bytes.fromhex(answer["payload"])) == PAYLOAD
    assert [a["protected"][3][1] for a in answers[:3]] == [typ_for(k) for k in ("test", "notice", "decision")]
    assert answers[3]["isValid"] is False  # cose-kit really checks: a flipped bit fails there too
    assert answers[4]["isValid"] is False  # and so does another key


def test_cose_kit_message_verifies_here_and_is_byte_identical() -> None:
    body = cbor.encode(PAYLOAD)
    [answer] = _run([_sign_request(KEY, body)])
    theirs = bytes.fromhex(answer["message"])
    message = verify_message(theirs, NOW)
    assert message.signer == KEY.did
    assert message.kind == "test"
    assert message.payload == PAYLOAD
    assert theirs == sign_message(KEY, "test", PAYLOAD)


def test_cose_kit_with_header_in_another_order_is_refused() -> None:
    body = cbor.encode(PAYLOAD)
    answers = _run([_sign_request(KEY, body, order=[4, 1, 3, 16]), _sign_request(OTHER, body)])
    with pytest.raises(ProtocolError) as info:
        verify_message(bytes.fromhex(answers[0]["message"]), NOW)
    assert info.value.code == "decode.unsorted-keys"
    # Signed by OTHER but naming OTHER's kid: valid; proves the signature comes from cose-kit's input.
    assert verify_message(bytes.fromhex(answers[1]["message"]), NOW).signer == OTHER.did


def test_cose_kit_high_level_sign_lacks_typ() -> None:
    body = cbor.encode(PAYLOAD)
    [answer] = _run(
        [
            {
                "op": "sign-simple",
                "d": _b64(KEY.seed),
                "x": _b64(KEY.public_key),
                "kid": KEY.kid,
                "payload": body.hex(),
            }
        ]
    )
    theirs = bytes.fromhex(answer["message"])
    envelope = cbor.decode(theirs, tags=frozenset({18}))
    protected, unprotected, payload, signature = envelope.value
    assert cbor.decode(protected) == {1: -8, 4: KEY.kid.encode()}
    assert unprotected == {} and payload == body
    verify_signature(KEY.public_key, sig_structure(protected, payload), signature)
    with pytest.raises(ProtocolError) as info:
        verify_message(theirs, NOW)
    assert info.value.code == "schema.typ-missing"
