"""Matching listings against notices: each feature, ranking, outcomes, and MIH exactness vs a linear scan."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notice_fixtures import MARKET_A, MARKET_B, T0, decision, notice_payload

from protocol import matching
from protocol.errors import SchemaError
from protocol.matching import Listing, MatchIndex, NoticeFeatures, brand_key, parse_listing
from protocol.notice import NoticeItem, Product, parse_notice

GTIN = "4006381333931"
IMAGE = b"\x11" * 32
PHASH = 0x8F3C_0000_FFFF_1234


def _index() -> tuple[MatchIndex, bytes, bytes]:
    index = MatchIndex()
    n1 = parse_notice(notice_payload())
    n2 = parse_notice(
        notice_payload(
            created=T0 + 10,
            items=[NoticeItem("https://shop-b.example/p/9", "9", "bad-seller")],
            product=Product(brand="Other Brand"),
        )
    )
    id1, id2 = b"\x01" * 32, b"\x02" * 32
    assert index.add_notice(id1, n1) and index.add_notice(id2, n2)
    assert not index.add_notice(id1, n1)
    return index, id1, id2


def test_each_feature_matches_and_says_why() -> None:
    index, id1, id2 = _index()
    cases = {
        "gtin": Listing(gtin="04006381333931"),  # GTIN-14 form of the same EAN
        "image": Listing(image_sha256=IMAGE),
        "phash": Listing(phash=PHASH ^ 0b1011),
        "seller": Listing(seller_id="seller-9"),
        "brand": Listing(title="ACME running shoes, brand new"),
    }
    for kind, listing in cases.items():
        (m,) = index.match(listing).matches
        assert m.notice_id == id1 and [r.kind for r in m.reasons] == [kind]
    (m,) = index.match(Listing(phash=PHASH ^ 0b1011)).matches
    assert m.reasons[0].detail == "distance 3"
    assert index.match(Listing(phash=PHASH ^ ((1 << 11) - 1))).matches == ()  # 11 bits: beyond 10
    assert index.match(Listing(phash=PHASH ^ ((1 << 11) - 1)), max_distance=11).matches[0].notice_id == id1
    assert index.match(Listing(brand="other-brand")).matches[0].notice_id == id2
    assert index.match(Listing(title="nothing to see", gtin="96385074")).matches == ()


def test_ranking_combines_evidence_and_reports_outcomes() -> None:
    index, id1, id2 = _index()
    index.add_decision(b"\xd1" * 32, decision(notice=id1))
    index.add_decision(b"\xd2" * 32, decision(notice=id1, marketplace=MARKET_B.did, created=T0 + 5))
    report = index.match(Listing(title="acme", brand="Other Brand", gtin=GTIN, image_sha256=IMAGE))
    first, second = report.matches
    assert first.notice_id == id1 and {r.kind for r in first.reasons} == {"gtin", "image", "brand"}
    assert first.score == pytest.approx(1 - (1 - 0.9) * (1 - 0.95) * (1 - 0.3), abs=1e-4)
    assert second.notice_id == id2 and second.score == 0.3
    assert first.restricted_by == tuple(sorted([MARKET_A.did, MARKET_B.did]))
    assert second.outcomes == ()


def test_ties_rank_newest_first_and_limit_applies() -> None:
    index = MatchIndex()
    for i in range(5):
        index.add_features(bytes([i]) * 32, NoticeFeatures(created=T0 + i, brand="acme"))
    report = index.match(Listing(brand="Acme"), limit=3)
    assert [m.notice_id[0] for m in report.matches] == [4, 3, 2]


def test_hot_keys_are_capped_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "FEATURE_CAP", 3)
    index = MatchIndex()
    for i in range(5):
        index.add_features(bytes([i]) * 32, NoticeFeatures(created=T0 + i, sellers=("s",)))
    report = index.match(Listing(seller_id="s"), limit=10)
    assert report.truncated == ("seller",) and len(report.matches) == 3


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=20))
def test_multi_index_hashing_finds_exactly_what_a_linear_scan_finds(seed: int, max_distance: int) -> None:
    rng = random.Random(seed)
    base = [rng.getrandbits(64) for _ in range(40)]
    stored = base + [b ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) for b in base]
    stored += [b ^ sum(1 << p for p in rng.sample(range(64), rng.randrange(3, 16))) for b in base]
    index = MatchIndex()
    for i, ph in enumerate(stored):
        index.add_features(i.to_bytes(32, "big"), NoticeFeatures(created=i, phashes=(ph,)))
    for query in base[:5]:
        expected = {i for i, ph in enumerate(stored) if (ph ^ query).bit_count() <= max_distance}
        got = {
            int.from_bytes(m.notice_id, "big")
            for m in index.match(Listing(phash=query), limit=10**6, max_distance=max_distance).matches
        }
        assert got == expected


def test_parse_listing() -> None:
    listing = parse_listing(
        {"title": "Acme shoe", "gtin": GTIN, "image_sha256": IMAGE.hex(), "phash": f"{PHASH:016x}"}
    )
    assert listing.image_sha256 == IMAGE and listing.phash == PHASH
    for bad, code in [
        ({"gtin": "4006381333932"}, "schema.listing.bad-gtin"),
        ({"image_sha256": "zz"}, "schema.listing.bad-image-sha256"),
        ({"phash": 1 << 64}, "schema.listing.bad-phash"),
        ({"title": ""}, "schema.listing.bad-title"),
        ({"colour": "red"}, "schema.listing.bad"),
        ([], "schema.listing.bad"),
    ]:
        with pytest.raises(SchemaError) as exc:
            parse_listing(bad)
        assert exc.value.code == code


def test_brand_key_folds_case_and_punctuation() -> None:
    assert brand_key("ACME-Co.") == brand_key("acme co") == "acme co"


def test_report_json_is_serialisable_and_complete() -> None:
    import json

    index, id1, _ = _index()
    index.add_decision(b"\xd1" * 32, decision(notice=id1))
    out = json.loads(json.dumps(index.match(Listing(gtin=GTIN)).to_json()))
    (m,) = out["matches"]
    assert m["notice"] == id1.hex() and m["reasons"][0]["kind"] == "gtin"
    assert m["outcomes"][0]["action"] == "restrict" and m["outcomes"][0]["marketplace"] == MARKET_A.did
    assert out["truncated"] == []


def test_removed_notices_are_not_returned() -> None:
    index, id1, id2 = _index()
    assert index.remove(id1) and not index.remove(id1) and not index.remove(b"\x00" * 32)
    assert len(index) == 1
    assert [m.notice_id for m in index.match(Listing(title="acme other brand")).matches] == [id2]
