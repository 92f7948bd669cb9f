"""specs/vectors/notices.json: valid payloads parse and match their CDDL, signed messages verify, invalid
payloads fail with exactly the listed code; sealed contacts open only for their recipients; the TDB export,
outcome resolution and matching give the recorded results."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cddl_util import assert_matches_cddl, assert_not_matches_cddl

from protocol import cbor
from protocol.complaint import complaint_from_message, parse_complaint
from protocol.decision import decision_from_message, export_statement_of_reasons, parse_decision
from protocol.errors import ProtocolError
from protocol.keys import KeyPair
from protocol.matching import MatchIndex, parse_listing
from protocol.messages import verify_message
from protocol.notice import parse_notice
from protocol.outcome import DecisionRecord, resolve_outcomes
from protocol.receipt import parse_receipt, receipt_from_message
from protocol.sealed import Contact, open_contact, unseal

V = json.loads((Path(__file__).resolve().parent.parent / "specs" / "vectors" / "notices.json").read_text())
NOW: int = V["now"]
KEYS = {name: KeyPair.from_seed(bytes.fromhex(k["seed"])) for name, k in V["keys"].items()}
PARSERS: dict[str, Callable[[Any], Any]] = {
    "notice": parse_notice,
    "receipt": parse_receipt,
    "decision": parse_decision,
    "complaint": parse_complaint,
}
FROM_MESSAGE: dict[str, Callable[[Any], Any]] = {
    "notice": lambda m: parse_notice(m.payload),
    "receipt": receipt_from_message,
    "decision": decision_from_message,
    "complaint": complaint_from_message,
}
VALID = [(kind, case) for kind in PARSERS for case in V[kind]["valid"]]
INVALID = [(kind, case) for kind in PARSERS for case in V[kind]["invalid"]]


def test_keys_are_what_the_seeds_give() -> None:
    for name, key in KEYS.items():
        assert key.did == V["keys"][name]["did"]


@pytest.mark.parametrize(("kind", "case"), VALID, ids=[f"{k}: {c['name']}" for k, c in VALID])
def test_valid(kind: str, case: dict[str, Any]) -> None:
    payload = bytes.fromhex(case["payload"])
    assert_matches_cddl(kind, payload)
    PARSERS[kind](cbor.decode(payload))
    message = verify_message(bytes.fromhex(case["message"]), NOW + 86400)
    assert message.kind == kind and message.id.hex() == case["id"]
    assert cbor.encode(message.payload) == payload
    FROM_MESSAGE[kind](message)


@pytest.mark.parametrize(("kind", "case"), INVALID, ids=[f"{k}: {c['name']}" for k, c in INVALID])
def test_invalid(kind: str, case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as exc:
        PARSERS[kind](cbor.decode(bytes.fromhex(case["payload"])))
    assert exc.value.code == case["code"]


@pytest.mark.parametrize("case", V["sealed"], ids=[f"{c['notice']} / {c['key']}" for c in V["sealed"]])
def test_sealed_contacts(case: dict[str, Any]) -> None:
    (source,) = [n for n in V["notice"]["valid"] if n["name"] == case["notice"]]
    message = verify_message(bytes.fromhex(source["message"]), NOW)
    notice = parse_notice(message.payload)
    key = KEYS[case["key"]]
    if case.get("contact"):
        assert open_contact(notice.sealed, key, notifier=message.signer) == Contact(**V["contact"])
    else:
        with pytest.raises(ProtocolError) as exc:
            open_contact(notice.sealed, key, notifier=message.signer)
        assert exc.value.code == case["code"]


def _decisions() -> list[DecisionRecord]:
    out = []
    for case in V["decision"]["valid"]:
        message = verify_message(bytes.fromhex(case["message"]), NOW + 86400)
        out.append(DecisionRecord(message.id, decision_from_message(message)))
    return out


def test_statement_of_reasons_export() -> None:
    (record,) = [
        r
        for r, c in zip(_decisions(), V["decision"]["valid"], strict=True)
        if c["name"] == V["decision"]["statement_of_reasons"]["decision"]
    ]
    assert export_statement_of_reasons(record.decision) == V["decision"]["statement_of_reasons"]["export"]


def test_outcome_resolution() -> None:
    records = _decisions()
    assert [r.id.hex() for r in records] == V["outcome"]["decisions"]
    for order in (records, records[::-1]):
        got = resolve_outcomes(bytes.fromhex(V["outcome"]["notice"]), order)
        assert {
            did: {
                "decision": o.decision_id.hex(),
                "restricted": o.restricted,
                "superseded": [x.hex() for x in o.superseded],
            }
            for did, o in got.items()
        } == V["outcome"]["expected"]


def test_matching() -> None:
    index = MatchIndex()
    message = verify_message(bytes.fromhex(V["notice"]["valid"][0]["message"]), NOW)
    index.add_notice(message.id, parse_notice(message.payload))
    for record in _decisions():
        index.add_decision(record.id, record.decision)
    for case in V["matching"]:
        report = index.match(parse_listing(case["listing"]))
        got = [
            {
                "notice": m.notice_id.hex(),
                "score": m.score,
                "reasons": [r.kind for r in m.reasons],
                "restricted_by": list(m.restricted_by),
            }
            for m in report.matches
        ]
        assert got == case["matches"], case["name"]


CDDL_DETECTS = {
    ("notice", "good faith false (d)"),
    ("notice", "non-http url"),
    ("notice", "relative url"),
    ("notice", "no items (b)"),
    ("notice", "301 items"),
    ("notice", "image hash 31 bytes"),
    ("notice", "phash negative"),
    ("notice", "target not did:key"),
    ("notice", "unknown infringement"),
    ("decision", "unknown visibility"),
    ("decision", "unknown source"),
    ("decision", "no redress"),
    ("receipt", "short notice id"),
    ("receipt", "no trusted flag"),
    ("complaint", "unknown complainant"),
}


@pytest.mark.parametrize(("kind", "name"), sorted(CDDL_DETECTS))
def test_cddl_is_not_vacuous(kind: str, name: str) -> None:
    (case,) = [c for c in V[kind]["invalid"] if c["name"] == name]
    assert_not_matches_cddl(kind, bytes.fromhex(case["payload"]))


def test_sealed_plaintext_matches_its_cddl() -> None:
    message = verify_message(bytes.fromhex(V["notice"]["valid"][0]["message"]), NOW)
    key = KEYS["market_a"]
    plaintext = unseal(parse_notice(message.payload).sealed[key.did], key.x25519_private_key())
    assert_matches_cddl("sealed-contact", plaintext)
