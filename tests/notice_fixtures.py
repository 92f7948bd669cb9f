"""Shared builders for the notice-lifecycle tests: fixed keys and one valid payload of each kind."""

from __future__ import annotations

from typing import Any

from protocol.decision import Decision, Redress, build_decision_payload
from protocol.keys import KeyPair
from protocol.notice import NoticeItem, Product, build_notice_payload
from protocol.sealed import Contact

HOLDER = KeyPair.from_seed(bytes([1]) * 32)
MARKET_A = KeyPair.from_seed(bytes([2]) * 32)
MARKET_B = KeyPair.from_seed(bytes([3]) * 32)
OUTSIDER = KeyPair.from_seed(bytes([4]) * 32)
CONTACT = Contact(name="Ana Holder", email="ana@brand.example")
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
NOTICE_ID = bytes(range(32))


def notice_payload(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "created": T0,
        "notifier": HOLDER.did,
        "contact": CONTACT,
        "explanation": "The listed sneakers bear our registered word mark but are not genuine.",
        "items": [NoticeItem("https://shop-a.example/item/123", "123", "seller-9")],
        "rights": ["urn:uuid:6f1c9a4e-0000-4000-8000-000000000001"],
        "infringement": "counterfeit",
        "targets": [MARKET_A.did, MARKET_B.did],
        "product": Product(
            brand="Acme",
            gtins=("4006381333931",),
            image_sha256=(b"\x11" * 32,),
            phashes=(0x8F3C_0000_FFFF_1234,),
        ),
        "evidence": [b"\x22" * 32],
        "ephemeral_seeds": {MARKET_A.did: b"\x05" * 32, MARKET_B.did: b"\x06" * 32},
    }
    args.update(overrides)
    return build_notice_payload(**args)


def decision(**overrides: Any) -> Decision:
    args: dict[str, Any] = {
        "created": T0 + 3600,
        "expires": None,
        "notice": NOTICE_ID,
        "marketplace": MARKET_A.did,
        "puid": "listing-123",
        "action": "restrict",
        "decision_facts": "The listing offered goods bearing the notified trade mark without consent.",
        "content_type": ("CONTENT_TYPE_PRODUCT",),
        "application_date": "2026-01-01",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "redress": Redress(internal_complaint=True, out_of_court=True, judicial=True),
        "decision_visibility": ("DECISION_VISIBILITY_CONTENT_REMOVED",),
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "Regulation (EU) 2017/1001, art. 9",
        "illegal_content_explanation": "Counterfeit goods infringe the EU trade mark.",
        "category": "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "category_specification": ("KEYWORD_TRADEMARK_INFRINGEMENT",),
        "territorial_scope": ("DE", "FR"),
        "content_date": "2025-12-20",
    }
    args.update(overrides)
    return Decision(**args)


def decision_payload(**overrides: Any) -> dict[str, Any]:
    return build_decision_payload(decision(**overrides))
