"""Vectors for the notice lifecycle (specs/notices.md): notices, sealed contacts, receipts, decisions,
complaints, the Transparency Database export, outcome resolution and matching.

Each invalid payload is a valid one with exactly one rule broken, and names the SchemaError code the
parser must give. Fixed key seeds, fixed ephemeral keys for the sealed boxes and fixed times, so the file
never changes between runs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from protocol import cbor
from protocol.complaint import build_complaint_payload
from protocol.decision import Decision, Redress, build_decision_payload, export_statement_of_reasons
from protocol.keys import KeyPair, x25519_public_key
from protocol.matching import Listing, MatchIndex
from protocol.messages import object_id, sign_message
from protocol.notice import ANY, NoticeItem, Product, build_notice_payload, parse_notice
from protocol.outcome import DecisionRecord, resolve_outcomes
from protocol.receipt import build_receipt_payload
from protocol.sealed import Contact

NOW = 1767225600  # 2026-01-01T00:00:00Z
HOLDER = KeyPair.from_seed(bytes([0x11]) * 32)
MARKET_A = KeyPair.from_seed(bytes([0x22]) * 32)
MARKET_B = KeyPair.from_seed(bytes([0x33]) * 32)
OUTSIDER = KeyPair.from_seed(bytes([0x44]) * 32)
CONTACT = Contact(name="Ana Holder", email="ana@brand.example")
SEEDS = {MARKET_A.did: bytes([0xA1]) * 32, MARKET_B.did: bytes([0xB1]) * 32}
GTIN = "4006381333931"
IMAGE = bytes.fromhex("5d41402abc4b2a76b9719d911017c592" * 2)
PHASH = 0xC3A5_0F0F_3C3C_9669


def notice(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "created": NOW,
        "notifier": HOLDER.did,
        "contact": CONTACT,
        "explanation": "The listed handbags bear our registered word mark ACME but are not genuine: "
        "the stitching, the serial plate and the price differ from our products.",
        "items": [
            NoticeItem("https://shop-a.example/item/123", "123", "seller-9"),
            NoticeItem("https://shop-b.example/p/77?ref=x", "77"),
        ],
        "rights": ["urn:uuid:6f1c9a4e-0000-4000-8000-000000000001"],
        "infringement": "counterfeit",
        "targets": [MARKET_A.did, MARKET_B.did],
        "product": Product(brand="ACME", gtins=(GTIN,), image_sha256=(IMAGE,), phashes=(PHASH,)),
        "evidence": [bytes([0xEE]) * 32],
        "ephemeral_seeds": SEEDS,
    }
    args.update(overrides)
    return build_notice_payload(**args)


def decision(**overrides: Any) -> Decision:
    args: dict[str, Any] = {
        "created": NOW + 3600,
        "expires": None,
        "notice": bytes(32),
        "marketplace": MARKET_A.did,
        "puid": "listing-123",
        "action": "restrict",
        "decision_facts": "The listing offered handbags bearing the notified trade mark without consent.",
        "content_type": ("CONTENT_TYPE_PRODUCT",),
        "application_date": "2026-01-01",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "redress": Redress(True, True, True, "https://shop-a.example/appeals"),
        "decision_visibility": ("DECISION_VISIBILITY_CONTENT_REMOVED",),
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "Regulation (EU) 2017/1001, art. 9(2)(a)",
        "illegal_content_explanation": "Goods bearing an identical sign for identical goods without consent.",
        "category": "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "category_specification": ("KEYWORD_TRADEMARK_INFRINGEMENT",),
        "territorial_scope": ("AT", "DE"),
        "content_date": "2025-12-20",
        "content_id_ean": GTIN,
    }
    args.update(overrides)
    return Decision(**args)


NO_ACTION = {
    "action": "no-action",
    "decision_visibility": (),
    "decision_ground": None,
    "illegal_content_legal_ground": None,
    "illegal_content_explanation": None,
    "category": None,
    "category_specification": (),
}


def _invalid(
    base: dict[str, Any], name: str, change: Callable[[dict[str, Any]], Any], code: str
) -> dict[str, Any]:
    payload = copy.deepcopy(base)
    change(payload)
    return {"name": name, "payload": cbor.encode(payload).hex(), "code": code}


def _signed(key: KeyPair, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    raw = sign_message(key, kind, payload)
    return {"payload": cbor.encode(payload).hex(), "message": raw.hex(), "id": object_id(raw).hex()}


def _notice_cases() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    base = notice()
    item = {"url": "https://s.example/1", "listing_id": "1"}
    bad: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
        ("missing explanation (a)", lambda p: p.pop("explanation"), "schema.notice.missing-explanation"),
        ("blank explanation", lambda p: p.update(explanation="  \n "), "schema.notice.missing-explanation"),
        (
            "explanation too short",
            lambda p: p.update(explanation="Fake bags."),
            "schema.notice.explanation-too-short",
        ),
        ("no items (b)", lambda p: p.update(items=[]), "schema.notice.missing-items"),
        (
            "301 items",
            lambda p: p.update(items=[dict(item, listing_id=str(i)) for i in range(301)]),
            "schema.notice.too-many-items",
        ),
        (
            "non-http url",
            lambda p: p["items"][0].update(url="ftp://shop-a.example/1"),
            "schema.notice.bad-url",
        ),
        ("relative url", lambda p: p["items"][0].update(url="/item/123"), "schema.notice.bad-url"),
        (
            "url with user info",
            lambda p: p["items"][0].update(url="https://shop-a.example@evil.example/"),
            "schema.notice.bad-url",
        ),
        (
            "url with space",
            lambda p: p["items"][0].update(url="https://shop-a.example/a b"),
            "schema.notice.bad-url",
        ),
        (
            "url over 2048",
            lambda p: p["items"][0].update(url="https://shop-a.example/" + "x" * 2030),
            "schema.notice.bad-url",
        ),
        ("missing listing id", lambda p: p["items"][0].pop("listing_id"), "schema.notice.missing-listing-id"),
        ("duplicate item", lambda p: p["items"].append(dict(p["items"][0])), "schema.notice.duplicate-item"),
        ("no notifier contact (c)", lambda p: p.pop("notifier"), "schema.notice.missing-notifier"),
        (
            "contact in clear",
            lambda p: p.update(notifier={MARKET_A.did: "Ana Holder <ana@brand.example>"}),
            "schema.notice.bad-notifier",
        ),
        (
            "contact for a non-target",
            lambda p: p["notifier"].update({OUTSIDER.did: p["notifier"][MARKET_A.did]}),
            "schema.notice.recipients-mismatch",
        ),
        ("good faith false (d)", lambda p: p.update(good_faith=False), "schema.notice.no-good-faith"),
        ("good faith missing", lambda p: p.pop("good_faith"), "schema.notice.missing-good-faith"),
        ("no rights", lambda p: p.update(rights=[]), "schema.notice.bad-rights"),
        ("unknown infringement", lambda p: p.update(infringement="piracy"), "schema.notice.bad-infringement"),
        (
            "other without detail",
            lambda p: p.update(infringement="other"),
            "schema.notice.missing-infringement-detail",
        ),
        ("gtin check digit", lambda p: p["product"].update(gtin=["4006381333932"]), "schema.notice.bad-gtin"),
        (
            "image hash 31 bytes",
            lambda p: p["product"].update(image_sha256=[bytes(31)]),
            "schema.notice.bad-image-sha256",
        ),
        ("phash negative", lambda p: p["product"].update(phash=[-1]), "schema.notice.bad-phash"),
        (
            "target not did:key",
            lambda p: p.update(targets=["did:web:shop-a.example"]),
            "schema.notice.bad-targets",
        ),
        ("unknown field", lambda p: p.update(note="x"), "schema.notice.unknown-field"),
        ("expires before created", lambda p: p.update(expires=NOW), "schema.notice.bad-expires"),
    ]
    return base, [_invalid(base, name, change, code) for name, change, code in bad]


def generate() -> dict[str, Any]:
    base, notice_invalid = _notice_cases()
    signed_notice = _signed(HOLDER, "notice", base)
    any_notice = notice(targets=ANY, recipients=[MARKET_B.did])
    nid = bytes.fromhex(signed_notice["id"])

    receipt = build_receipt_payload(
        created=NOW + 5,
        notice=nid,
        received_at=NOW + 5,
        marketplace=MARKET_A.did,
        enrolled=True,
        trusted_flagger=False,
        reference="A-2026-0001",
    )
    d1 = decision(notice=nid)
    d1_signed = _signed(MARKET_A, "decision", build_decision_payload(d1))
    d1_id = bytes.fromhex(d1_signed["id"])
    complaint = build_complaint_payload(
        created=NOW + 7200,
        decision=d1_id,
        notice=nid,
        marketplace=MARKET_A.did,
        complainant="seller",
        seller_ref="seller-9",
        explanation="The seller produced invoices from the brand's distributor.",
    )
    complaint_signed = _signed(MARKET_A, "complaint", complaint)
    d2 = decision(
        notice=nid,
        created=NOW + 9000,
        supersedes=d1_id,
        complaint=bytes.fromhex(complaint_signed["id"]),
        **NO_ACTION,
        decision_facts="On complaint, the seller showed the goods were genuine; the listing is restored.",
    )
    d2_signed = _signed(MARKET_A, "decision", build_decision_payload(d2))
    d3 = decision(
        notice=nid,
        marketplace=MARKET_B.did,
        created=NOW + 5000,
        source_type="SOURCE_VOLUNTARY",
        puid="77",
        decision_visibility=("DECISION_VISIBILITY_CONTENT_DISABLED",),
        decision_account="DECISION_ACCOUNT_SUSPENDED",
    )
    d3_signed = _signed(MARKET_B, "decision", build_decision_payload(d3))
    records = [
        DecisionRecord(bytes.fromhex(s["id"]), d)
        for s, d in ((d1_signed, d1), (d2_signed, d2), (d3_signed, d3))
    ]
    outcomes = resolve_outcomes(nid, records)

    dec_base = build_decision_payload(d1)
    decision_invalid = [
        _invalid(
            dec_base,
            "unknown visibility",
            lambda p: p.update(decision_visibility=["HIDDEN"]),
            "schema.decision.bad-decision-visibility",
        ),
        _invalid(
            dec_base,
            "restrict without restriction",
            lambda p: p.pop("decision_visibility"),
            "schema.decision.missing-restriction",
        ),
        _invalid(
            dec_base,
            "illegal without legal ground",
            lambda p: p.pop("illegal_content_legal_ground"),
            "schema.decision.missing-illegal-content-legal-ground",
        ),
        _invalid(
            dec_base,
            "unknown category",
            lambda p: p.update(category="STATEMENT_CATEGORY_FAKES"),
            "schema.decision.bad-category",
        ),
        _invalid(
            dec_base,
            "unknown source",
            lambda p: p.update(source_type="SOURCE_GOSSIP"),
            "schema.decision.bad-source-type",
        ),
        _invalid(
            dec_base,
            "non-EEA territory",
            lambda p: p.update(territorial_scope=["US"]),
            "schema.decision.bad-territorial-scope",
        ),
        _invalid(
            dec_base,
            "impossible date",
            lambda p: p.update(application_date="2026-02-30"),
            "schema.decision.bad-application-date",
        ),
        _invalid(dec_base, "no redress", lambda p: p.pop("redress"), "schema.decision.missing-redress"),
        _invalid(
            dec_base,
            "no-action with restriction",
            lambda p: p.update(action="no-action"),
            "schema.decision.restriction-without-action",
        ),
    ]
    receipt_invalid = [
        _invalid(
            receipt, "short notice id", lambda p: p.update(notice=bytes(31)), "schema.receipt.bad-notice"
        ),
        _invalid(
            receipt,
            "no trusted flag",
            lambda p: p.pop("trusted_flagger"),
            "schema.receipt.missing-trusted-flagger",
        ),
    ]
    complaint_invalid = [
        _invalid(
            complaint,
            "unknown complainant",
            lambda p: p.update(complainant="buyer"),
            "schema.complaint.bad-complainant",
        ),
        _invalid(
            complaint,
            "seller ref on notifier complaint",
            lambda p: p.update(complainant="notifier"),
            "schema.complaint.bad-seller-ref",
        ),
    ]

    index = MatchIndex()
    index.add_notice(nid, parse_notice(base))
    for record in records:
        index.add_decision(record.id, record.decision)
    listings = {
        "same gtin": Listing(gtin="0" + GTIN),
        "same image": Listing(image_sha256=IMAGE),
        "phash 7 bits away": Listing(phash=PHASH ^ 0x0101_0101_0001_0101),
        "phash 11 bits away": Listing(phash=PHASH ^ 0x0707_0303_0000_0001),
        "seller and brand in title": Listing(title="Acme handbag, leather", seller_id="seller-9"),
        "unrelated": Listing(title="garden hose", gtin="96385074"),
    }
    matching = []
    for name, listing in listings.items():
        report = index.match(listing)
        matching.append(
            {
                "name": name,
                "listing": {
                    k: (v.hex() if isinstance(v, bytes) else f"{v:016x}" if k == "phash" else v)
                    for k, v in listing.__dict__.items()
                    if v is not None
                },
                "matches": [
                    {
                        "notice": m.notice_id.hex(),
                        "score": m.score,
                        "reasons": [r.kind for r in m.reasons],
                        "restricted_by": list(m.restricted_by),
                    }
                    for m in report.matches
                ],
            }
        )

    return {
        "notices.json": {
            "description": "specs/notices.md vectors; payloads are deterministic CBOR in hex",
            "now": NOW,
            "keys": {
                name: {"seed": k.seed.hex(), "did": k.did, "x25519": x25519_public_key(k.public_key).hex()}
                for name, k in (
                    ("holder", HOLDER),
                    ("market_a", MARKET_A),
                    ("market_b", MARKET_B),
                    ("outsider", OUTSIDER),
                )
            },
            "contact": {"name": CONTACT.name, "email": CONTACT.email},
            "notice": {
                "valid": [
                    dict(signed_notice, name="two targets"),
                    dict(_signed(HOLDER, "notice", any_notice), name="any target, sealed to market_b only"),
                ],
                "invalid": notice_invalid,
            },
            "sealed": [
                {"notice": "two targets", "key": "market_a", "contact": True},
                {"notice": "two targets", "key": "market_b", "contact": True},
                {"notice": "two targets", "key": "outsider", "code": "schema.sealed.not-recipient"},
                {
                    "notice": "any target, sealed to market_b only",
                    "key": "market_a",
                    "code": "schema.sealed.not-recipient",
                },
            ],
            "receipt": {
                "valid": [dict(_signed(MARKET_A, "receipt", receipt), name="receipt")],
                "invalid": receipt_invalid,
            },
            "decision": {
                "valid": [
                    dict(d1_signed, name="removal"),
                    dict(d2_signed, name="reversal after complaint"),
                    dict(d3_signed, name="other marketplace"),
                ],
                "invalid": decision_invalid,
                "statement_of_reasons": {"decision": "removal", "export": export_statement_of_reasons(d1)},
            },
            "complaint": {
                "valid": [dict(complaint_signed, name="seller complaint")],
                "invalid": complaint_invalid,
            },
            "outcome": {
                "notice": nid.hex(),
                "decisions": [s["id"] for s in (d1_signed, d2_signed, d3_signed)],
                "expected": {
                    did: {
                        "decision": o.decision_id.hex(),
                        "restricted": o.restricted,
                        "superseded": [x.hex() for x in o.superseded],
                    }
                    for did, o in outcomes.items()
                },
            },
            "matching": matching,
        }
    }
