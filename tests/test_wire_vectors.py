"""specs/vectors/wire.json: every valid message verifies to the listed fields, every invalid one fails
with exactly the listed error code; the CBOR cases likewise for the bare decoder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cddl_util import assert_matches_cddl, assert_not_matches_cddl

from protocol import cbor
from protocol.errors import ProtocolError
from protocol.messages import cose_parts, verify_message

VECTORS = json.loads((Path(__file__).resolve().parent.parent / "specs" / "vectors" / "wire.json").read_text())
NOW: int = VECTORS["now"]
SKEW: int = VECTORS["max_skew"]


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


@pytest.mark.parametrize("case", VECTORS["valid"], ids=_ids(VECTORS["valid"]))
def test_valid_message(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["hex"])
    message = verify_message(data, NOW, max_skew=SKEW)
    assert message.kind == case["kind"]
    assert message.signer == case["signer"] == VECTORS["signer"]["did"]
    assert message.kid == case["kid"]
    assert message.id_hex == case["id"]
    assert message.created == case["created"]
    assert message.expires == case["expires"]
    assert message.payload == cbor.decode(bytes.fromhex(case["payload_hex"]))
    assert cbor.encode(message.payload).hex() == case["payload_hex"]
    protected, payload, _ = cose_parts(data)
    assert_matches_cddl("cose-sign1", data)
    assert_matches_cddl("protected-header", protected)
    assert_matches_cddl("common", payload)
    if case["kind"] == "test":
        assert_matches_cddl("test", payload)


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=_ids(VECTORS["invalid"]))
def test_invalid_message(case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        verify_message(bytes.fromhex(case["hex"]), NOW, max_skew=SKEW)
    assert info.value.code == case["error"]
    assert info.value.code.split(".")[0] == info.value.category


@pytest.mark.parametrize("case", VECTORS["cbor"]["valid"], ids=_ids(VECTORS["cbor"]["valid"]))
def test_valid_cbor(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["hex"])
    assert cbor.encode(cbor.decode(data)) == data


@pytest.mark.parametrize("case", VECTORS["cbor"]["invalid"], ids=_ids(VECTORS["cbor"]["invalid"]))
def test_invalid_cbor(case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        cbor.decode(bytes.fromhex(case["hex"]))
    assert info.value.code == case["error"]


def test_cddl_rules_are_not_vacuous() -> None:
    valid = bytes.fromhex(VECTORS["valid"][0]["hex"])
    protected, _, _ = cose_parts(valid)
    assert_not_matches_cddl("cose-sign1", b"\xd1" + valid[1:])
    assert_not_matches_cddl("protected-header", protected.replace(b"+cbor", b"+json"))
    assert_not_matches_cddl("common", cbor.encode({"note": "no created"}))
    assert_not_matches_cddl("common", cbor.encode({"created": "yesterday"}))
    assert_not_matches_cddl("test", cbor.encode({"created": 1, "note": 5}))


def test_every_error_code_is_documented_in_wire_md() -> None:
    spec = (Path(__file__).resolve().parent.parent / "specs" / "wire.md").read_text()
    codes = {case["error"] for case in VECTORS["invalid"]} | {c["error"] for c in VECTORS["cbor"]["invalid"]}
    missing = sorted(code for code in codes if f"`{code}`" not in spec)
    assert not missing, f"error codes missing from specs/wire.md: {missing}"
