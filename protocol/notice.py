"""The notice of infringement (signed message kind ``notice``) with every element of DSA art. 16(2).

(a) ``explanation``: the substantiated explanation; (b) ``items``: the exact location of each listing
(URL plus the marketplace's listing id), 1..300; (c) ``notifier``: name and e-mail sealed to each recipient
marketplace (see :mod:`protocol.sealed`); (d) ``good_faith``: must be ``true``. Besides: the rights relied
on, the infringement type (mapped to the Transparency Database vocabulary), what lets other platforms
recognise the product, evidence digests and the targets. The normative text is specs/notices.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import cbor
from .errors import SchemaError, ValidityError
from .identifiers import check_gtin, check_listing_url
from .payload_fields import UINT64_MAX, Fields, check_text, is_did_key
from .sealed import MAX_SEALED, SEAL_OVERHEAD, Contact, seal_contact
from .tdb import INFRINGEMENT_TDB, INFRINGEMENT_TYPES
from .vc import MAX_ID, require_absolute_id

if TYPE_CHECKING:
    from .authorisation import Authorisation

ANY = "any"
MAX_ITEMS = 300
MAX_LISTING_ID = 256
MAX_SELLER_ID = 256
MIN_EXPLANATION = 20
MAX_EXPLANATION = 10_000
MAX_RIGHTS = 32
MAX_REF = MAX_ID
MAX_TARGETS = 64
MAX_BRAND = 200
MAX_PRODUCT_IDS = 32
MAX_EVIDENCE = 64
MAX_DETAIL = 500
# The signed message must fit the default message limit (64 KiB); this leaves room for the envelope.
# 300 items therefore average at most ~180 bytes of URL and listing id each.
MAX_PAYLOAD_BYTES = 60_000

_REQUIRED = frozenset(
    {"created", "explanation", "items", "notifier", "good_faith", "rights", "infringement", "targets"}
)
_OPTIONAL = frozenset({"expires", "authorisation", "infringement_detail", "product", "evidence"})
_ITEM_KEYS = frozenset({"url", "listing_id", "seller_id"})
_PRODUCT_KEYS = frozenset({"brand", "gtin", "image_sha256", "phash"})


@dataclass(frozen=True)
class NoticeItem:
    """Exact location of one listing: its URL and the marketplace's listing id, optionally the seller id."""

    url: str
    listing_id: str
    seller_id: str | None = None


@dataclass(frozen=True)
class Product:
    """What lets another platform recognise the product: brand, GTINs, image SHA-256s, 64-bit pHashes."""

    brand: str | None = None
    gtins: tuple[str, ...] = ()
    image_sha256: tuple[bytes, ...] = ()
    phashes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Notice:
    created: int
    expires: int | None
    explanation: str
    items: tuple[NoticeItem, ...]
    notifier: tuple[tuple[str, bytes], ...]  # (recipient DID, sealed contact), sorted by DID
    rights: tuple[str, ...]
    authorisation: str | None
    infringement: str
    infringement_detail: str | None
    product: Product
    evidence: tuple[bytes, ...]
    targets: tuple[str, ...]  # empty when any_target
    any_target: bool

    @property
    def recipients(self) -> tuple[str, ...]:
        """The marketplaces that can read the notifier's contact (for ``any``: those the notifier chose)."""
        return tuple(did for did, _ in self.notifier)

    @property
    def sealed(self) -> dict[str, bytes]:
        return dict(self.notifier)

    @property
    def tdb_category(self) -> str:
        return INFRINGEMENT_TDB[self.infringement][0]

    @property
    def tdb_keywords(self) -> tuple[str, ...]:
        return INFRINGEMENT_TDB[self.infringement][1]

    def is_target(self, marketplace: str) -> bool:
        """Whether ``marketplace`` is asked to act (named, or any marketplace when the target is ``any``)."""
        return self.any_target or marketplace in self.targets


def _is_credential_id(value: object) -> bool:
    """Credentials are referenced by their ``id``, an absolute IRI (protocol/vc.py rules)."""
    try:
        require_absolute_id(value, "credential id")
    except SchemaError:
        return False
    return True


def _parse_item(f: Fields, index: int, value: object, seen: set[tuple[str, str]]) -> NoticeItem:
    if not isinstance(value, Mapping) or any(not isinstance(k, str) for k in value):
        raise f.error("bad-item", f"items[{index}] is a map")
    if set(value) - _ITEM_KEYS:
        raise f.error("bad-item", f"items[{index}] has an unknown field")
    if "url" not in value:
        raise f.error("missing-url", f"items[{index}].url is required")
    url = check_listing_url(value["url"])
    if url is None:
        raise f.error("bad-url", f"items[{index}].url is not an absolute http(s) URL")
    if "listing_id" not in value:
        raise f.error("missing-listing-id", f"items[{index}].listing_id is required")
    listing_id = check_text(value["listing_id"], max_len=MAX_LISTING_ID)
    if listing_id is None:
        raise f.error("bad-listing-id", f"items[{index}].listing_id is text of 1..{MAX_LISTING_ID}")
    seller_id = None
    if "seller_id" in value:
        seller_id = check_text(value["seller_id"], max_len=MAX_SELLER_ID)
        if seller_id is None:
            raise f.error("bad-seller-id", f"items[{index}].seller_id is text of 1..{MAX_SELLER_ID}")
    if (url, listing_id) in seen:
        raise f.error("duplicate-item", f"items[{index}] repeats an earlier item")
    seen.add((url, listing_id))
    return NoticeItem(url=url, listing_id=listing_id, seller_id=seller_id)


def _digests(f: Fields, what: str, value: object, max_len: int) -> tuple[bytes, ...]:
    if not isinstance(value, list | tuple) or len(value) > max_len:
        raise f.error(f"bad-{what}", f"{what}: an array of at most {max_len} digests")
    if any(not isinstance(d, bytes) or len(d) != 32 for d in value):
        raise f.error(f"bad-{what}", f"{what}: 32-byte SHA-256 digests")
    if len(set(value)) != len(value):
        raise f.error(f"bad-{what}", f"{what}: no repeated digest")
    return tuple(value)


def _parse_product(f: Fields, value: object) -> Product:
    if not isinstance(value, Mapping) or any(not isinstance(k, str) for k in value):
        raise f.error("bad-product", "product is a map of brand, gtin, image_sha256, phash")
    if set(value) - _PRODUCT_KEYS:
        raise f.error("bad-product", "product is a map of brand, gtin, image_sha256, phash")
    brand = None
    if "brand" in value:
        brand = check_text(value["brand"], max_len=MAX_BRAND)
        if brand is None or not brand.strip():
            raise f.error("bad-brand", f"product.brand is text of 1..{MAX_BRAND}")
    gtins: list[str] = []
    raw_gtins = value.get("gtin", [])
    if not isinstance(raw_gtins, list | tuple) or len(raw_gtins) > MAX_PRODUCT_IDS:
        raise f.error("bad-gtin", f"product.gtin is an array of at most {MAX_PRODUCT_IDS} GTINs")
    for g in raw_gtins:
        checked = check_gtin(g)
        if checked is None:
            raise f.error("bad-gtin", f"{g!r} is not a GTIN-8/12/13/14 with a valid check digit")
        gtins.append(checked)
    images = _digests(f, "image-sha256", value.get("image_sha256", []), MAX_PRODUCT_IDS)
    raw_ph = value.get("phash", [])
    if (
        not isinstance(raw_ph, list | tuple)
        or len(raw_ph) > MAX_PRODUCT_IDS
        or any(isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= UINT64_MAX for p in raw_ph)
    ):
        raise f.error("bad-phash", f"product.phash is an array of at most {MAX_PRODUCT_IDS} 64-bit integers")
    return Product(brand=brand, gtins=tuple(gtins), image_sha256=images, phashes=tuple(raw_ph))


def parse_notice(payload: object) -> Notice:
    """Check a notice payload (the decoded CBOR map) and return it as a :class:`Notice`.

    Every refusal is a SchemaError whose code names the element (see specs/notices.md).
    """
    f = Fields(payload, "notice", _REQUIRED, _OPTIONAL)
    created, expires = f.times()
    explanation = f.raw("explanation")
    if not isinstance(explanation, str) or not explanation.strip():
        raise f.error("missing-explanation", "a substantiated explanation is required (art. 16(2)(a))")
    if len(explanation.strip()) < MIN_EXPLANATION:
        raise f.error("explanation-too-short", f"the explanation needs at least {MIN_EXPLANATION} characters")
    f.text("explanation", max_len=MAX_EXPLANATION, prose=True)
    raw_items = f.raw("items")
    if not isinstance(raw_items, list | tuple):
        raise f.bad("items", "an array of listing locations")
    if not raw_items:
        raise f.error("missing-items", "at least one listing location is required (art. 16(2)(b))")
    if len(raw_items) > MAX_ITEMS:
        raise f.error("too-many-items", f"at most {MAX_ITEMS} items per notice")
    seen: set[tuple[str, str]] = set()
    items = tuple(_parse_item(f, i, v, seen) for i, v in enumerate(raw_items))
    good_faith = f.raw("good_faith")
    if good_faith is not True:
        raise f.error("no-good-faith", "the statement of good faith must be true (art. 16(2)(d))")
    rights = f.array("rights", min_len=1, max_len=MAX_RIGHTS)
    if not all(_is_credential_id(r) for r in rights) or len(set(rights)) < len(rights):
        raise f.bad("rights", "distinct right-credential ids (absolute IRIs)")
    authorisation = f.raw("authorisation")
    if authorisation is not None and not _is_credential_id(authorisation):
        raise f.bad("authorisation", "an authorisation-credential id (absolute IRI)")
    infringement = f.enum("infringement", INFRINGEMENT_TYPES)
    detail = f.opt_text("infringement_detail", max_len=MAX_DETAIL)
    if infringement == "other" and detail is None:
        raise f.error("missing-infringement-detail", "infringement 'other' needs infringement_detail")
    product = _parse_product(f, f.raw("product")) if f.has("product") else Product()
    evidence = _digests(f, "evidence", f.raw("evidence"), MAX_EVIDENCE) if f.has("evidence") else ()
    raw_targets = f.raw("targets")
    any_target = raw_targets == ANY
    targets: tuple[str, ...] = ()
    if not any_target:
        t = f.array("targets", min_len=1, max_len=MAX_TARGETS)
        if any(not is_did_key(d) for d in t) or len(set(t)) != len(t):
            raise f.bad("targets", "'any' or distinct marketplace did:key DIDs")
        targets = tuple(sorted(t))
    raw_notifier = f.raw("notifier")
    if not isinstance(raw_notifier, Mapping) or not raw_notifier:
        raise f.error("missing-notifier", "the sealed notifier contact is required (art. 16(2)(c))")
    if len(raw_notifier) > MAX_TARGETS or any(
        not is_did_key(k) or not isinstance(v, bytes) or not SEAL_OVERHEAD < len(v) <= MAX_SEALED
        for k, v in raw_notifier.items()
    ):
        raise f.bad("notifier", "a map of marketplace DID to sealed contact")
    notifier = tuple(sorted(raw_notifier.items()))
    if not any_target and set(raw_notifier) != set(targets):
        raise f.error("recipients-mismatch", "one sealed contact for each target, and only for targets")
    return Notice(
        created=created,
        expires=expires,
        explanation=explanation,
        items=items,
        notifier=notifier,
        rights=tuple(rights),
        authorisation=authorisation,
        infringement=infringement,
        infringement_detail=detail,
        product=product,
        evidence=evidence,
        targets=targets,
        any_target=any_target,
    )


def build_notice_payload(
    *,
    created: int,
    notifier: str,
    contact: Contact,
    explanation: str,
    items: Sequence[NoticeItem],
    rights: Sequence[str],
    infringement: str,
    targets: Sequence[str] | str,
    recipients: Iterable[str] = (),
    authorisation: str | None = None,
    infringement_detail: str | None = None,
    product: Product | None = None,
    evidence: Sequence[bytes] = (),
    expires: int | None = None,
    ephemeral_seeds: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """The payload to sign with ``sign_message(key, "notice", payload)``; ``notifier`` is the signer DID.

    ``targets`` is a list of marketplace DIDs or ``"any"``; for ``any``, ``recipients`` names who may read
    the contact. The result is checked with :func:`parse_notice`, so bad input fails with the same codes.
    """
    readers = list(recipients) if targets == ANY else list(targets)
    if not all(is_did_key(r) for r in readers):
        raise SchemaError("schema.notice.bad-targets", "targets and recipients are marketplace did:key DIDs")
    payload: dict[str, Any] = {
        "created": created,
        "explanation": explanation,
        "items": [
            {"url": i.url, "listing_id": i.listing_id} | ({"seller_id": i.seller_id} if i.seller_id else {})
            for i in items
        ],
        "notifier": seal_contact(
            contact, notifier=notifier, recipients=readers, ephemeral_seeds=ephemeral_seeds
        ),
        "good_faith": True,
        "rights": list(rights),
        "infringement": infringement,
        "targets": ANY if targets == ANY else list(targets),
    }
    if expires is not None:
        payload["expires"] = expires
    if authorisation is not None:
        payload["authorisation"] = authorisation
    if infringement_detail is not None:
        payload["infringement_detail"] = infringement_detail
    if product is not None and product != Product():
        p: dict[str, Any] = {}
        if product.brand is not None:
            p["brand"] = product.brand
        if product.gtins:
            p["gtin"] = list(product.gtins)
        if product.image_sha256:
            p["image_sha256"] = list(product.image_sha256)
        if product.phashes:
            p["phash"] = list(product.phashes)
        payload["product"] = p
    if evidence:
        payload["evidence"] = list(evidence)
    parse_notice(payload)
    if len(cbor.encode(payload)) > MAX_PAYLOAD_BYTES:
        raise SchemaError("schema.notice.too-large", f"the encoded notice exceeds {MAX_PAYLOAD_BYTES} bytes")
    return payload


def check_notice_authority(
    notice: Notice,
    *,
    signer: str,
    right_holders: Mapping[str, str],
    authorisation: Authorisation | None = None,
    authorisation_issuer: str | None = None,
) -> str:
    """Whether ``signer`` may file ``notice``: returns ``"holder"`` or ``"agent"``, else ValidityError.

    ``right_holders`` maps each right-credential id the node has *verified* (signature, issuer
    accreditation, dates, status) to its subject DID; ``authorisation`` is the verified authorisation
    credential named by ``notice.authorisation`` and ``authorisation_issuer`` its issuer. A holder signs
    for its own rights; an agent needs an authorisation issued by that holder, naming the agent, every
    right, the action ``notify`` and every target marketplace (``any`` targets need an authorisation for
    any marketplace). All rights of one notice belong to one holder.
    """
    missing = [r for r in notice.rights if r not in right_holders]
    if missing:
        raise ValidityError("validity.notice.unknown-right", f"no verified right credential {missing[0]!r}")
    holders = {right_holders[r] for r in notice.rights}
    if len(holders) != 1:
        raise ValidityError("validity.notice.mixed-holders", "all rights of a notice belong to one holder")
    (holder,) = holders
    if signer == holder:
        return "holder"
    if notice.authorisation is None or authorisation is None:
        raise ValidityError("validity.notice.not-authorised", "the signer holds none of the rights")
    if authorisation.agent != signer or authorisation_issuer != holder:
        raise ValidityError(
            "validity.notice.not-authorised", "the authorisation is not from the holder to the signer"
        )
    if notice.any_target and authorisation.marketplaces is not None:
        raise ValidityError(
            "validity.notice.not-authorised", "the authorisation does not cover any marketplace"
        )
    for right in notice.rights:
        for target in notice.targets or (None,):
            if not authorisation.allows(right, "notify", target):
                raise ValidityError(
                    "validity.notice.not-authorised", f"the authorisation does not cover {right}"
                )
    return "agent"
