"""Matching a platform's listings against the notices and decisions a node holds (pure, in memory).

Why: a small marketplace has no brand-protection team; the notices other platforms received say what to
look for. A listing matches a notice by the same GTIN, the same image SHA-256, a perceptual hash within a
Hamming distance, the same seller id, or the same brand (the notice relies on a right for it). Each result
says why, with a score, and what the other marketplaces decided (:mod:`protocol.outcome`).

Perceptual hashes use multi-index hashing (Norouzi, Punjani, Fleet, CVPR 2012): the 64 bits are cut into
``BANDS`` disjoint 16-bit bands, each with its own table. If two hashes differ in at most ``d`` bits, by the
pigeonhole principle at least one band differs in at most ``d // BANDS`` bits, so probing, per band, every
value within that radius of the query's band finds every hash within ``d`` — exactly, no false negatives
(for d = 10: radius 2, 1 + 16 + 120 = 137 probes per band). Candidates are then checked on all 64 bits.
Every other feature is an exact-key lookup. The same keys map onto SQLite indexes (specs/notices.md).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any

from .decision import Decision
from .errors import SchemaError
from .identifiers import check_gtin, gtin14
from .notice import Notice
from .outcome import DecisionRecord, Outcome, resolve_outcomes
from .payload_fields import UINT64_MAX, check_text

BANDS = 4
BAND_BITS = 64 // BANDS
DEFAULT_MAX_DISTANCE = 10
DEFAULT_LIMIT = 20
FEATURE_CAP = 2000  # newest postings considered per feature and query: bounds the cost of hot keys
WEIGHTS = {"image": 0.95, "gtin": 0.9, "phash": 0.85, "seller": 0.6, "brand": 0.3}
_WORD = re.compile(r"[^\w]+")
_BAND_MASK = (1 << BAND_BITS) - 1


def brand_key(text: str) -> str:
    """Brands compare case-insensitively, punctuation and spacing folded: ``"ACME-Co."`` ~ ``"acme co"``."""
    return " ".join(w for w in _WORD.split(text.casefold()) if w)


@lru_cache(maxsize=16)
def _masks(bits: int, radius: int) -> tuple[int, ...]:
    out = [0]
    for r in range(1, radius + 1):
        for positions in combinations(range(bits), r):
            m = 0
            for p in positions:
                m |= 1 << p
            out.append(m)
    return tuple(out)


def phash_score(distance: int) -> float:
    """0.85 for identical perceptual hashes, falling linearly with the Hamming distance."""
    return WEIGHTS["phash"] * max(0.0, 1.0 - distance / 32)


@dataclass(frozen=True)
class NoticeFeatures:
    """What the index keeps of a notice: only the keys it matches on (the node has the notice itself)."""

    created: int
    gtins: tuple[str, ...] = ()  # GTIN-14 form
    images: tuple[bytes, ...] = ()
    phashes: tuple[int, ...] = ()
    sellers: tuple[str, ...] = ()
    brand: str | None = None  # brand_key form


def features_of(notice: Notice) -> NoticeFeatures:
    sellers = tuple(sorted({i.seller_id for i in notice.items if i.seller_id}))
    brand = brand_key(notice.product.brand) if notice.product.brand else None
    return NoticeFeatures(
        created=notice.created,
        gtins=tuple(sorted({gtin14(g) for g in notice.product.gtins})),
        images=notice.product.image_sha256,
        phashes=notice.product.phashes,
        sellers=sellers,
        brand=brand or None,
    )


@dataclass(frozen=True)
class Listing:
    """A listing to check. Every field is optional; an empty listing matches nothing."""

    title: str | None = None
    brand: str | None = None
    gtin: str | None = None
    seller_id: str | None = None
    image_sha256: bytes | None = None
    phash: int | None = None


def parse_listing(obj: object) -> Listing:
    """A listing from its JSON form (``image_sha256`` hex, ``phash`` 16 hex digits or an integer)."""
    if not isinstance(obj, Mapping) or set(obj) - {
        "title",
        "brand",
        "gtin",
        "seller_id",
        "image_sha256",
        "phash",
    }:
        raise SchemaError(
            "schema.listing.bad", "a listing is a map of title, brand, gtin, seller_id, image_sha256, phash"
        )
    out: dict[str, Any] = {}
    for key, max_len in (("title", 1000), ("brand", 200), ("seller_id", 256)):
        if obj.get(key) is not None:
            if check_text(obj[key], max_len=max_len) is None:
                raise SchemaError(
                    f"schema.listing.bad-{key.replace('_', '-')}", f"{key}: text of 1..{max_len}"
                )
            out[key] = obj[key]
    if obj.get("gtin") is not None:
        if check_gtin(obj["gtin"]) is None:
            raise SchemaError("schema.listing.bad-gtin", "a GTIN-8/12/13/14 with a valid check digit")
        out["gtin"] = obj["gtin"]
    image = obj.get("image_sha256")
    if image is not None:
        if not isinstance(image, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", image):
            raise SchemaError("schema.listing.bad-image-sha256", "64 hex digits")
        out["image_sha256"] = bytes.fromhex(image)
    ph = obj.get("phash")
    if ph is not None:
        if isinstance(ph, str) and re.fullmatch(r"[0-9a-fA-F]{16}", ph):
            ph = int(ph, 16)
        if isinstance(ph, bool) or not isinstance(ph, int) or not 0 <= ph <= UINT64_MAX:
            raise SchemaError("schema.listing.bad-phash", "16 hex digits or an unsigned 64-bit integer")
        out["phash"] = ph
    return Listing(**out)


@dataclass(frozen=True)
class Reason:
    kind: str  # image | gtin | phash | seller | brand
    detail: str
    score: float


@dataclass(frozen=True)
class Match:
    notice_id: bytes
    score: float  # 1 - prod(1 - reason scores): more independent evidence, higher score, never above 1
    reasons: tuple[Reason, ...]
    outcomes: tuple[Outcome, ...]  # the standing decision of each marketplace that decided, by DID

    @property
    def restricted_by(self) -> tuple[str, ...]:
        return tuple(o.marketplace for o in self.outcomes if o.restricted)

    def to_json(self) -> dict[str, Any]:
        """The JSON form a node returns from ``POST /match`` (ids in hex)."""
        return {
            "notice": self.notice_id.hex(),
            "score": self.score,
            "reasons": [{"kind": r.kind, "detail": r.detail, "score": r.score} for r in self.reasons],
            "outcomes": [
                {
                    "marketplace": o.marketplace,
                    "decision": o.decision_id.hex(),
                    "action": o.decision.action,
                    "decision_visibility": list(o.decision.decision_visibility),
                    "decision_account": o.decision.decision_account,
                    "superseded": [x.hex() for x in o.superseded],
                    "contested": o.contested,
                }
                for o in self.outcomes
            ],
        }


@dataclass(frozen=True)
class MatchReport:
    matches: tuple[Match, ...]
    truncated: tuple[str, ...]  # features whose postings exceeded FEATURE_CAP (older ones not considered)

    def to_json(self) -> dict[str, Any]:
        return {"matches": [m.to_json() for m in self.matches], "truncated": list(self.truncated)}


class MatchIndex:
    """In-memory inverted index over notice features plus the decisions known for each notice."""

    def __init__(self) -> None:
        self._ids: list[bytes] = []
        self._created = array("Q")
        self._doc_of: dict[bytes, int] = {}
        self._gtin: dict[str, list[int]] = {}
        self._image: dict[bytes, list[int]] = {}
        self._seller: dict[str, list[int]] = {}
        self._brand: dict[str, list[int]] = {}
        self._ph_value = array("Q")
        self._ph_doc = array("I")
        self._bands: tuple[dict[int, list[int]], ...] = tuple({} for _ in range(BANDS))
        self._decisions: dict[bytes, dict[bytes, DecisionRecord]] = {}
        self._max_brand_words = 1
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return len(self._ids) - len(self._removed)

    def add_notice(self, notice_id: bytes, notice: Notice) -> bool:
        return self.add_features(notice_id, features_of(notice))

    def add_features(self, notice_id: bytes, features: NoticeFeatures) -> bool:
        """Index a notice once (False if already indexed)."""
        if notice_id in self._doc_of:
            return False
        doc = len(self._ids)
        self._ids.append(notice_id)
        self._created.append(features.created)
        self._doc_of[notice_id] = doc
        for g in features.gtins:
            self._gtin.setdefault(g, []).append(doc)
        for image in features.images:
            self._image.setdefault(image, []).append(doc)
        for seller in features.sellers:
            self._seller.setdefault(seller, []).append(doc)
        if features.brand:
            self._brand.setdefault(features.brand, []).append(doc)
            self._max_brand_words = max(self._max_brand_words, features.brand.count(" ") + 1)
        for ph in features.phashes:
            entry = len(self._ph_value)
            self._ph_value.append(ph)
            self._ph_doc.append(doc)
            for b in range(BANDS):
                self._bands[b].setdefault((ph >> (b * BAND_BITS)) & _BAND_MASK, []).append(entry)
        return True

    def remove(self, notice_id: bytes) -> bool:
        """Stop returning a notice (expired, or its right revoked); its postings stay but are skipped."""
        doc = self._doc_of.get(notice_id)
        if doc is None or doc in self._removed:
            return False
        self._removed.add(doc)
        return True

    def add_decision(self, decision_id: bytes, decision: Decision) -> None:
        """Remember a decision (signer already checked) so matches can report the standing outcomes."""
        self._decisions.setdefault(decision.notice, {})[decision_id] = DecisionRecord(decision_id, decision)

    def outcomes(self, notice_id: bytes) -> tuple[Outcome, ...]:
        records = self._decisions.get(notice_id)
        return tuple(resolve_outcomes(notice_id, records.values()).values()) if records else ()

    def _phash_candidates(self, query: int, max_distance: int) -> dict[int, int]:
        """doc -> smallest Hamming distance among its hashes within ``max_distance`` of ``query``."""
        found: dict[int, int] = {}
        masks = _masks(BAND_BITS, max_distance // BANDS)
        values, docs = self._ph_value, self._ph_doc
        for b in range(BANDS):
            table = self._bands[b]
            band = (query >> (b * BAND_BITS)) & _BAND_MASK
            for m in masks:
                bucket = table.get(band ^ m)
                if bucket is None:
                    continue
                for entry in bucket:  # an entry found again through another band yields the same d
                    d = (values[entry] ^ query).bit_count()
                    if d <= max_distance:
                        doc = docs[entry]
                        if d < found.get(doc, 65):
                            found[doc] = d
        return found

    def _brands_in(self, listing: Listing) -> list[str]:
        keys = []
        if listing.brand:
            keys.append(brand_key(listing.brand))
        if listing.title:
            words = brand_key(listing.title).split(" ")
            for n in range(1, self._max_brand_words + 1):
                for i in range(len(words) - n + 1):
                    keys.append(" ".join(words[i : i + n]))
        return [k for k in dict.fromkeys(keys) if k and k in self._brand]

    def match(
        self, listing: Listing, *, limit: int = DEFAULT_LIMIT, max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> MatchReport:
        """Ranked notices concerning ``listing``: score descending, then newest, then notice id."""
        if not 0 <= max_distance <= 64:
            raise SchemaError("schema.listing.bad-max-distance", "a Hamming distance of 0..64")
        reasons: dict[int, list[Reason]] = {}
        truncated: list[str] = []

        def post(kind: str, postings: list[int] | None, detail: str, score: float) -> None:
            if not postings:
                return
            if len(postings) > FEATURE_CAP:
                truncated.append(kind)
                postings = postings[-FEATURE_CAP:]
            reason = Reason(kind, detail, score)
            for doc in postings:
                reasons.setdefault(doc, []).append(reason)

        if listing.image_sha256 is not None:
            post("image", self._image.get(listing.image_sha256), listing.image_sha256.hex(), WEIGHTS["image"])
        if listing.gtin is not None:
            g = gtin14(listing.gtin)
            post("gtin", self._gtin.get(g), g, WEIGHTS["gtin"])
        if listing.seller_id is not None:
            post("seller", self._seller.get(listing.seller_id), listing.seller_id, WEIGHTS["seller"])
        for brand in self._brands_in(listing):
            post("brand", self._brand.get(brand), brand, WEIGHTS["brand"])
        if listing.phash is not None:
            for doc, d in self._phash_candidates(listing.phash, max_distance).items():
                reasons.setdefault(doc, []).append(Reason("phash", f"distance {d}", round(phash_score(d), 4)))
        scored = []
        for doc, rs in reasons.items():
            if doc in self._removed:
                continue
            miss = 1.0
            for r in rs:
                miss *= 1.0 - r.score
            scored.append((-round(1.0 - miss, 4), -self._created[doc], self._ids[doc], doc))
        scored.sort()
        matches = tuple(
            Match(notice_id=nid, score=-neg, reasons=tuple(reasons[doc]), outcomes=self.outcomes(nid))
            for neg, _, nid, doc in scored[:limit]
        )
        return MatchReport(matches=matches, truncated=tuple(dict.fromkeys(truncated)))

    def match_many(self, listings: Iterable[Listing], **kw: Any) -> list[MatchReport]:
        return [self.match(listing, **kw) for listing in listings]
