"""specs/vectors/roles.json: signed role messages verify and check, invalid payloads give their codes,
register lines give their verdicts, the offer steps replay, the key proof verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pycddl
import pytest

from protocol import cbor
from protocol.errors import SchemaError
from protocol.issuance import Offer, check_key_proof, make_offer, mark_redeemed, redeem
from protocol.messages import verify_message
from protocol.register import CSV_COLUMNS, parse_register
from protocol.role_payloads import check_enrolment_result, check_profile, check_search_result

ROOT = Path(__file__).resolve().parent.parent
VECTORS = json.loads((ROOT / "specs" / "vectors" / "roles.json").read_text())
KINDS = {
    "search_result": ("search-result", check_search_result, "office"),
    "marketplace_profile": ("marketplace-profile", check_profile, "marketplace"),
    "enrolment_result": ("enrolment-result", check_enrolment_result, "marketplace"),
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_signed_messages(name: str) -> None:
    kind, check, signer = KINDS[name]
    vector = VECTORS[name]
    message = verify_message(bytes.fromhex(vector["message"]), VECTORS["now"])
    assert message.kind == kind and message.signer == VECTORS["keys"][signer]
    assert message.id_hex == vector["id"]
    assert cbor.encode(message.payload).hex() == vector["payload"]
    check(message.payload)
    pycddl.Schema((ROOT / "specs" / "cddl" / f"{kind}.cddl").read_text()).validate_cbor(
        bytes.fromhex(vector["payload"])
    )


@pytest.mark.parametrize(
    ("name", "case"),
    [(n, c) for n in sorted(KINDS) for c in VECTORS[n]["invalid"]],
    ids=lambda v: str(v)[:40],
)
def test_invalid_payloads(name: str, case: dict[str, Any]) -> None:
    _, check, _ = KINDS[name]
    with pytest.raises(SchemaError) as exc:
        check(cbor.decode(bytes.fromhex(case["payload"])))
    assert exc.value.code == case["code"]


@pytest.mark.parametrize("case", VECTORS["register_lines"], ids=lambda c: c["name"])
def test_register_lines(case: dict[str, Any]) -> None:
    result = parse_register(",".join(CSV_COLUMNS) + "\n" + case["line"] + "\n")
    assert (result.rejected[0].code if result.rejected else None) == case["code"]


def test_offer_steps() -> None:
    vector = VECTORS["offer"]
    offer, code = make_offer(
        vector["right"],
        bytes.fromhex(vector["random"]),
        vector["created"],
        ttl=vector["ttl"],
        max_attempts=vector["max_attempts"],
    )
    assert (offer.id, code, offer.code_hash) == (vector["id"], vector["code"], vector["code_hash"])
    state: Offer = offer
    for step in vector["steps"]:
        start = mark_redeemed(offer, "did:example:x") if step["name"] == "already used" else state
        if step["name"] in ("right code", "expired"):
            start = offer
        result = redeem(start, step["code"], step["now"])
        assert (result.error.code if result.error else None) == step["error"], step["name"]
        if "attempts" in step:
            assert (result.offer.attempts, result.offer.state) == (step["attempts"], step["state"])
            state = result.offer


def test_key_proof() -> None:
    vector = VECTORS["key_proof"]
    holder = check_key_proof(vector["presentation"], nonce=vector["nonce"], audience=vector["audience"])
    assert holder == vector["holder"]
