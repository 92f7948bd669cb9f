"""specs/vectors/httpsig.json: every case gives its stated outcome, and each valid case's signature base and
signature check out with nothing but the did:key and Ed25519 (no HTTP signature library involved)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from node.httpsig import HttpSignatureError, NonceCache, verify_message
from protocol.keys import public_key_from_did, verify_signature

VECTORS = json.loads((Path(__file__).parent.parent / "specs" / "vectors" / "httpsig.json").read_text())
CASES: list[dict[str, Any]] = VECTORS["cases"]


def outcome(case: dict[str, Any], cache: NonceCache) -> dict[str, str]:
    try:
        body = bytes.fromhex(case["body_hex"])
        verified = verify_message(case["method"], case["url"], case["headers"], body, case["now"], cache)
        return {"did": verified.did}
    except HttpSignatureError as error:
        return {"error": error.code}


def test_cases_in_order_give_their_outcomes() -> None:
    cache = NonceCache()
    assert [outcome(case, cache) for case in CASES] == [case["expect"] for case in CASES]
    codes = {case["expect"].get("error") for case in CASES}
    assert codes == {None, "httpsig.missing", "httpsig.invalid", "httpsig.expired", "httpsig.replay",
                     "httpsig.digest-mismatch"}


@pytest.mark.parametrize("case", [c for c in CASES if "did" in c["expect"]], ids=lambda c: c["name"])
def test_signature_base_and_signature_check_out_independently(case: dict[str, Any]) -> None:
    base: str = case["signature_base"]
    params = base.rsplit("\n", 1)[1]
    assert params == '"@signature-params": ' + case["headers"]["Signature-Input"].removeprefix("peer=")
    keyid = re.search(r';keyid="([^"]+)"', params)
    assert keyid is not None
    signature = case["headers"]["Signature"].removeprefix("peer=:").removesuffix(":")
    verify_signature(public_key_from_did(keyid.group(1)), base.encode(), base64.b64decode(signature))
    assert f'"@method": {case["method"]}' in base
