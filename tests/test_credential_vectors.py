"""specs/vectors/credentials.json: every case gives exactly the expected result (valid, codes in order)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocol.keys import KeyPair
from protocol.trust_list import TrustStore, verify_trust_list
from protocol.vc import parse_datetime
from protocol.verify import MemoryChallengeStore, VerificationResult, verify_credential, verify_presentation

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "specs" / "vectors" / "credentials.json").read_text()
)


def _trust(now: int) -> TrustStore:
    trust = VECTORS["trust_list"]
    held = verify_trust_list(bytes.fromhex(trust["cose_hex"]), now)
    return TrustStore.with_roots([trust["root"]]).accept(held)


def _inputs(case: dict[str, Any]) -> dict[str, Any]:
    now = parse_datetime(case["now"], "now")
    return {
        "now": now,
        "trust": _trust(int(now.timestamp())) if case["trust"] else None,
        "status_lists": {VECTORS["status_lists"][n]["id"]: VECTORS["status_lists"][n]
                         for n in case["status_lists"]},
        "require_status": case["require_status"],
    }


def _document(case: dict[str, Any]) -> Any:
    """The document as the verifier gets it: raw bytes (``document_hex``), JSON text, or a JSON value."""
    if "document_hex" in case:
        return bytes.fromhex(case["document_hex"])
    return case["document_text"] if "document_text" in case else case["document"]


def _assert(result: VerificationResult, case: dict[str, Any]) -> None:
    assert (result.valid, list(result.codes)) == (case["expected"]["valid"], case["expected"]["codes"]), (
        case["name"], result.failures)


def test_keys_match_their_seeds() -> None:
    for entry in VECTORS["keys"].values():
        assert KeyPair.from_seed(bytes.fromhex(entry["seed"])).did == entry["did"]


@pytest.mark.parametrize("case", VECTORS["credentials"], ids=lambda c: c["name"])
def test_credential_case(case: dict[str, Any]) -> None:
    result = verify_credential(_document(case), **_inputs(case))
    _assert(result, case)
    assert result.checks.trust_checked is case["trust"]


@pytest.mark.parametrize("case", VECTORS["presentations"], ids=lambda c: c["name"])
def test_presentation_case(case: dict[str, Any]) -> None:
    store = MemoryChallengeStore()
    if case["challenge_used"]:
        assert store.use(case["challenge"])
    result = verify_presentation(_document(case), challenge=case["challenge"], domain=case["domain"],
                                 challenges=store, action=case["action"], **_inputs(case))
    _assert(result, case)


def test_every_documented_failure_code_has_a_vector() -> None:
    """Each code specs/credentials.md lists under 'Failure codes' appears in some vector (or is exempt).

    A wildcard row (``schema.right.*``) documents the sub-codes it names in backticks; each needs a vector.
    """
    spec = (Path(__file__).resolve().parent.parent / "specs" / "credentials.md").read_text()
    section = spec.split("## Failure codes", 1)[1].split("\n## ", 1)[0]
    documented: set[str] = set()
    exempt: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        quoted = line.split("`")[1::2]
        codes = {quoted[0][:-1] + sub for sub in quoted[1:]} if quoted[0].endswith(".*") else {quoted[0]}
        assert codes, f"wildcard row without sub-codes: {line}"
        documented |= codes
        if "(no vector" in line:
            exempt |= codes
    covered = {code for case in VECTORS["credentials"] + VECTORS["presentations"]
               for code in case["expected"]["codes"]}
    assert documented, "no failure codes found in specs/credentials.md"
    assert documented - covered - exempt == set()
    right_codes = {code for code in documented | covered if code.startswith("schema.right.")}
    assert right_codes <= documented, "a schema.right.* code in the vectors is not documented"
