"""Vectors for the office and marketplace roles (specs/office-marketplace.md): signed search-result,
marketplace-profile and enrolment-result messages, invalid payloads with their codes, register lines
with their verdicts, an issuance offer and its redemption outcomes, and a key-possession proof.

Fixed seeds and times: Ed25519 and the encodings are deterministic, so the file never changes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol import cbor
from protocol.issuance import RANDOM_BYTES, key_proof, make_offer, mark_redeemed, redeem
from protocol.keys import KeyPair
from protocol.messages import object_id, sign_message
from protocol.register import CSV_COLUMNS, parse_register, public_view
from protocol.role_payloads import enrolment_result_payload, profile_payload, search_result_payload

ROOT = Path(__file__).resolve().parent.parent.parent
NOW = 1767225600  # 2026-01-01T00:00:00Z
OFFICE = KeyPair.from_seed(bytes([0x51]) * 32)
MARKET = KeyPair.from_seed(bytes([0x52]) * 32)
HOLDER = KeyPair.from_seed(bytes([0x53]) * 32)


def _signed(key: KeyPair, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    raw = sign_message(key, kind, payload)
    return {"payload": cbor.encode(payload).hex(), "message": raw.hex(), "id": object_id(raw).hex()}


def _invalid(
    base: dict[str, Any], cases: list[tuple[str, Callable[[dict[str, Any]], Any], str]]
) -> list[Any]:
    out = []
    for name, change, code in cases:
        payload = copy.deepcopy(base)
        change(payload)
        out.append({"name": name, "payload": cbor.encode(payload).hex(), "code": code})
    return out


def _register() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    lines = (ROOT / "specs" / "examples" / "register-em.csv").read_text().splitlines()
    good = lines[1]
    cells = good.split(",")

    def variant(index: int, value: str) -> str:
        changed = list(cells)
        changed[index] = value
        return ",".join(changed)

    cases = [
        ("valid", good, None),
        ("unknown status", variant(13, "alive"), "schema.vocabulary"),
        ("Nice class 46", variant(7, "9;46"), "schema.nice-class"),
        ("date without dashes", variant(10, "20190112"), "schema.date"),
        ("registered before filed", variant(11, "2018-01-01"), "schema.date-order"),
        ("office not in WIPO ST.3 list", variant(1, "ZZ"), "schema.right.office-code"),
        ("missing holder", variant(14, ""), "schema.missing-field"),
        ("too few cells", ",".join(cells[:5]), "schema.csv-columns"),
    ]
    out = []
    for name, line, code in cases:
        result = parse_register(",".join(CSV_COLUMNS) + "\n" + line + "\n")
        got = result.rejected[0].code if result.rejected else None
        assert got == code, (name, got, code)
        out.append({"name": name, "line": line, "code": code})
    entries = [public_view(e) for _, e in parse_register("\n".join(lines[:4]) + "\n").entries]
    return out, entries


def generate() -> dict[str, Any]:
    register_cases, entries = _register()
    query = {"number": entries[0]["application_number"], "limit": 20}
    search = search_result_payload(OFFICE.did, query, entries[:1], 1, NOW)
    search_invalid = _invalid(
        search,
        [
            (
                "contact leaked",
                lambda p: p["results"][0].update(contact_email="x@y.example"),
                "schema.search-result.bad-results",
            ),
            ("office not a DID", lambda p: p.update(office="EUIPO"), "schema.search-result.bad-office"),
            ("query without limit", lambda p: p["query"].pop("limit"), "schema.search-result.bad-query"),
            ("no total", lambda p: p.pop("total"), "schema.search-result.missing-total"),
        ],
    )
    profile_file = json.loads((ROOT / "specs" / "examples" / "marketplace-profile.json").read_text())
    profile = profile_payload(MARKET.did, profile_file, NOW)
    profile_invalid = _invalid(
        profile,
        [
            (
                "unknown right type",
                lambda p: p.update(accepted_rights=["copyright"]),
                "schema.marketplace-profile.bad-accepted-rights",
            ),
            ("no languages", lambda p: p.update(languages=[]), "schema.marketplace-profile.bad-languages"),
            (
                "notice endpoint not http(s)",
                lambda p: p.update(notice_endpoint="mailto:ip@x.example"),
                "schema.marketplace-profile.bad-notice-endpoint",
            ),
            (
                "contact point without email",
                lambda p: p["contact_point"].pop("email"),
                "schema.marketplace-profile.contact-point.missing-email",
            ),
            ("extra field", lambda p: p.update(colour="blue"), "schema.marketplace-profile.unknown-field"),
        ],
    )
    enrolment = enrolment_result_payload(
        marketplace=MARKET.did,
        enrolment="urn:uuid:00000000-0000-4000-8000-000000000001",
        holder=HOLDER.did,
        challenge="q1R2c3RfY2hhbGxlbmdlXzE",
        presentation_hash=bytes(range(32)),
        rights=[
            {
                "credential": "urn:uuid:00000000-0000-4000-8000-000000000002",
                "issuer": OFFICE.did,
                "office": "EM",
                "number": entries[0]["application_number"],
                "verbal_element": entries[0]["verbal_element"],
                "valid_until": "2029-01-12T23:59:59Z",
            }
        ],
        checks=[
            "schema",
            "proof",
            "issuer",
            "validity",
            "status",
            "trust",
            "challenge",
            "domain",
            "holder-binding",
        ],
        created=NOW,
    )
    enrolment_invalid = _invalid(
        enrolment,
        [
            ("no rights", lambda p: p.update(rights=[]), "schema.enrolment-result.bad-rights"),
            ("unknown check", lambda p: p.update(checks=["vibes"]), "schema.enrolment-result.bad-checks"),
            (
                "short digest",
                lambda p: p.update(presentation=b"\x00" * 31),
                "schema.enrolment-result.bad-presentation",
            ),
        ],
    )

    random = bytes(range(RANDOM_BYTES))
    offer, code = make_offer(f"EM:{entries[0]['application_number']}", random, NOW, ttl=600, max_attempts=2)
    wrong = code[:-1] + ("a" if code[-1] != "a" else "b")
    once = redeem(offer, wrong, NOW + 1)
    twice = redeem(once.offer, wrong, NOW + 2)
    steps = [
        {"name": "right code", "code": code, "now": NOW + 1, "error": redeem(offer, code, NOW + 1).error},
        {
            "name": "wrong code",
            "code": wrong,
            "now": NOW + 1,
            "error": once.error,
            "attempts": once.offer.attempts,
            "state": once.offer.state,
        },
        {
            "name": "wrong code again: locked",
            "code": wrong,
            "now": NOW + 2,
            "error": twice.error,
            "attempts": twice.offer.attempts,
            "state": twice.offer.state,
        },
        {"name": "expired", "code": code, "now": NOW + 600, "error": redeem(offer, code, NOW + 600).error},
        {
            "name": "already used",
            "code": code,
            "now": NOW + 3,
            "error": redeem(mark_redeemed(offer, HOLDER.did), code, NOW + 3).error,
        },
    ]
    for step in steps:
        step["error"] = None if step["error"] is None else step["error"].code

    proof = key_proof(
        HOLDER, nonce="bm9uY2Utb2YtdGhlLW9mZmljZQ", audience=OFFICE.did, created="2026-01-01T00:00:00Z"
    )
    return {
        "roles.json": {
            "description": "Office and marketplace vectors: see specs/office-marketplace.md",
            "now": NOW,
            "keys": {"office": OFFICE.did, "marketplace": MARKET.did, "holder": HOLDER.did},
            "register_lines": register_cases,
            "search_result": {**_signed(OFFICE, "search-result", search), "invalid": search_invalid},
            "marketplace_profile": {
                **_signed(MARKET, "marketplace-profile", profile),
                "invalid": profile_invalid,
            },
            "enrolment_result": {
                **_signed(MARKET, "enrolment-result", enrolment),
                "invalid": enrolment_invalid,
            },
            "offer": {
                "right": offer.right_key,
                "random": random.hex(),
                "created": NOW,
                "ttl": 600,
                "max_attempts": 2,
                "id": offer.id,
                "code": code,
                "code_hash": offer.code_hash,
                "steps": steps,
            },
            "key_proof": {
                "nonce": "bm9uY2Utb2YtdGhlLW9mZmljZQ",
                "audience": OFFICE.did,
                "holder": HOLDER.did,
                "presentation": proof,
            },
        }
    }
