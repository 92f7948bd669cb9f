"""Notices (DSA art. 16(2)) and the sealed notifier contact."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import nacl.public
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notice_fixtures import CONTACT, HOLDER, MARKET_A, MARKET_B, OUTSIDER, T0, notice_payload

from protocol import cbor
from protocol.errors import DecodeError, ProtocolError, SchemaError
from protocol.identifiers import check_gtin, check_listing_url, gtin14
from protocol.keys import x25519_public_key
from protocol.messages import sign_message, verify_message
from protocol.notice import ANY, MAX_ITEMS, NoticeItem, parse_notice
from protocol.sealed import Contact, open_contact, seal, seal_contact, unseal


def test_valid_notice_round_trips_through_a_signed_message() -> None:
    payload = notice_payload()
    raw = sign_message(HOLDER, "notice", payload)
    message = verify_message(raw, T0)
    notice = parse_notice(message.payload)
    assert notice.items == (NoticeItem("https://shop-a.example/item/123", "123", "seller-9"),)
    assert notice.targets == tuple(sorted([MARKET_A.did, MARKET_B.did]))
    assert notice.recipients == notice.targets
    assert notice.tdb_category == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    assert notice.tdb_keywords == ("KEYWORD_TRADEMARK_INFRINGEMENT",)
    assert notice.product.gtins == ("4006381333931",)
    assert notice.is_target(MARKET_A.did) and not notice.is_target(OUTSIDER.did)


def test_personal_data_is_not_in_clear_anywhere_in_the_notice() -> None:
    encoded = cbor.encode(notice_payload())
    assert CONTACT.email.encode() not in encoded and CONTACT.name.encode() not in encoded


def test_only_each_target_marketplace_can_open_its_contact() -> None:
    notice = parse_notice(notice_payload())
    assert open_contact(notice.sealed, MARKET_A, notifier=HOLDER.did) == CONTACT
    assert open_contact(notice.sealed, MARKET_B, notifier=HOLDER.did) == CONTACT
    with pytest.raises(SchemaError) as exc:
        open_contact(notice.sealed, OUTSIDER, notifier=HOLDER.did)
    assert exc.value.code == "schema.sealed.not-recipient"
    # B's ciphertext put under A's name does not open with A's key.
    swapped = {MARKET_A.did: notice.sealed[MARKET_B.did]}
    with pytest.raises(DecodeError) as dexc:
        open_contact(swapped, MARKET_A, notifier=HOLDER.did)
    assert dexc.value.code == "decode.sealed"


def test_a_contact_copied_into_another_notifiers_notice_is_refused() -> None:
    notice = parse_notice(notice_payload())
    with pytest.raises(SchemaError) as exc:
        open_contact(notice.sealed, MARKET_A, notifier=OUTSIDER.did)
    assert exc.value.code == "schema.sealed.wrong-binding"


def test_sealed_box_is_libsodium_compatible_both_ways() -> None:
    pk = x25519_public_key(MARKET_A.public_key)
    fixed = seal(b"hello", pk, ephemeral_seed=b"\x07" * 32)
    assert fixed == seal(b"hello", pk, ephemeral_seed=b"\x07" * 32)
    box = nacl.public.SealedBox(nacl.public.PrivateKey(MARKET_A.x25519_private_key()))
    assert box.decrypt(fixed) == b"hello"
    random_ct = seal(b"hello", pk)
    assert random_ct != seal(b"hello", pk)
    assert unseal(random_ct, MARKET_A.x25519_private_key()) == b"hello"


def test_any_target_seals_to_the_chosen_recipients_only() -> None:
    payload = notice_payload(targets=ANY, recipients=[MARKET_B.did], ephemeral_seeds=None)
    notice = parse_notice(payload)
    assert notice.any_target and notice.targets == () and notice.recipients == (MARKET_B.did,)
    assert notice.is_target(OUTSIDER.did)
    assert open_contact(notice.sealed, MARKET_B, notifier=HOLDER.did) == CONTACT
    with pytest.raises(SchemaError):
        open_contact(notice.sealed, MARKET_A, notifier=HOLDER.did)
    with pytest.raises(SchemaError) as exc:
        notice_payload(targets=ANY, recipients=[])
    assert exc.value.code == "schema.notice.missing-notifier"


def _mutated(change: Any) -> dict[str, Any]:
    payload = copy.deepcopy(notice_payload())
    change(payload)
    return payload


BAD_CASES = [
    ("missing explanation", lambda p: p.pop("explanation"), "schema.notice.missing-explanation"),
    ("blank explanation", lambda p: p.update(explanation="   "), "schema.notice.missing-explanation"),
    ("short explanation", lambda p: p.update(explanation="fake!"), "schema.notice.explanation-too-short"),
    ("no items", lambda p: p.update(items=[]), "schema.notice.missing-items"),
    (
        "301 items",
        lambda p: p.update(
            items=[{"url": f"https://s.example/{i}", "listing_id": str(i)} for i in range(MAX_ITEMS + 1)]
        ),
        "schema.notice.too-many-items",
    ),
    ("ftp url", lambda p: p["items"][0].update(url="ftp://s.example/1"), "schema.notice.bad-url"),
    ("userinfo url", lambda p: p["items"][0].update(url="https://a@s.example/1"), "schema.notice.bad-url"),
    ("space in url", lambda p: p["items"][0].update(url="https://s.example/a b"), "schema.notice.bad-url"),
    (
        "long url",
        lambda p: p["items"][0].update(url="https://s.example/" + "a" * 2100),
        "schema.notice.bad-url",
    ),
    ("missing listing id", lambda p: p["items"][0].pop("listing_id"), "schema.notice.missing-listing-id"),
    ("duplicate item", lambda p: p["items"].append(dict(p["items"][0])), "schema.notice.duplicate-item"),
    ("good faith false", lambda p: p.update(good_faith=False), "schema.notice.no-good-faith"),
    ("good faith missing", lambda p: p.pop("good_faith"), "schema.notice.missing-good-faith"),
    ("no notifier", lambda p: p.pop("notifier"), "schema.notice.missing-notifier"),
    ("empty notifier", lambda p: p.update(notifier={}), "schema.notice.missing-notifier"),
    (
        "contact in clear",
        lambda p: p.update(notifier={MARKET_A.did: "ana@brand.example"}),
        "schema.notice.bad-notifier",
    ),
    (
        "recipient not target",
        lambda p: p["notifier"].update({OUTSIDER.did: p["notifier"][MARKET_A.did]}),
        "schema.notice.recipients-mismatch",
    ),
    ("no rights", lambda p: p.update(rights=[]), "schema.notice.bad-rights"),
    ("bad infringement", lambda p: p.update(infringement="piracy"), "schema.notice.bad-infringement"),
    (
        "other without detail",
        lambda p: p.update(infringement="other"),
        "schema.notice.missing-infringement-detail",
    ),
    ("bad gtin", lambda p: p["product"].update(gtin=["4006381333932"]), "schema.notice.bad-gtin"),
    (
        "short image hash",
        lambda p: p["product"].update(image_sha256=[b"\x00" * 31]),
        "schema.notice.bad-image-sha256",
    ),
    ("phash too big", lambda p: p["product"].update(phash=[1 << 64]), "schema.notice.bad-phash"),
    ("bad target", lambda p: p.update(targets=["did:web:example.com"]), "schema.notice.bad-targets"),
    ("unknown field", lambda p: p.update(colour="red"), "schema.notice.unknown-field"),
    ("expires before created", lambda p: p.update(expires=T0 - 1), "schema.notice.bad-expires"),
]


@pytest.mark.parametrize(("name", "change", "code"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_notices_fail_with_precise_codes(name: str, change: Any, code: str) -> None:
    with pytest.raises(SchemaError) as exc:
        parse_notice(_mutated(change))
    assert exc.value.code == code


def test_300_items_is_accepted_and_the_message_fits() -> None:
    items = [NoticeItem(f"https://shop-a.example/item/{i}", str(i)) for i in range(MAX_ITEMS)]
    payload = notice_payload(items=items)
    assert len(parse_notice(payload).items) == MAX_ITEMS
    sign_message(HOLDER, "notice", payload)


def test_builder_refuses_a_notice_too_large_to_sign() -> None:
    items = [NoticeItem(f"https://shop-a.example/item/{i}?" + "q" * 400, str(i)) for i in range(MAX_ITEMS)]
    with pytest.raises(SchemaError) as exc:
        notice_payload(items=items)
    assert exc.value.code == "schema.notice.too-large"


def test_contact_is_checked_before_sealing() -> None:
    with pytest.raises(SchemaError) as exc:
        seal_contact(Contact("Ana", "not-an-address"), notifier=HOLDER.did, recipients=[MARKET_A.did])
    assert exc.value.code == "schema.contact.bad-email"


@pytest.mark.parametrize("value", ["4006381333931", "96385074", "036000291452", "10614141000415"])
def test_valid_gtins(value: str) -> None:
    assert check_gtin(value) == value
    assert len(gtin14(value)) == 14


@pytest.mark.parametrize(
    "value", ["4006381333930", "1234567", "40063813339311", "４００６３８１３３３９３１", 4006381333931]
)
def test_invalid_gtins(value: object) -> None:
    assert check_gtin(value) is None


@pytest.mark.parametrize(
    "url", ["https://shop.example/p/1?x=2#f", "http://[2001:db8::1]:8080/a", "HTTPS://Shop.Example"]
)
def test_valid_urls(url: str) -> None:
    assert check_listing_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://",
        "javascript:alert(1)",
        "https://shop.example:99999/",
        "https://shop_.example/",
        "https://sh\u00f6p.example/",
        "//shop.example/a",
        "https://shop.example/\n",
        "https://shop.example:/",
    ],
)
def test_invalid_urls(url: str) -> None:
    assert check_listing_url(url) is None


_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.text(max_size=30)
    | st.binary(max_size=40)
)
_values = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "created",
        "expires",
        "explanation",
        "items",
        "notifier",
        "good_faith",
        "rights",
        "infringement",
        "infringement_detail",
        "product",
        "evidence",
        "targets",
        "authorisation",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys | st.text(max_size=8), _values, max_size=14))
def test_random_maps_only_raise_protocol_errors(payload: dict[str, Any]) -> None:
    with contextlib.suppress(ProtocolError):
        parse_notice(payload)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(notice_payload())), _values)
def test_one_field_replaced_by_junk_only_raises_schema_errors(key: str, value: Any) -> None:
    payload = notice_payload()
    payload[key] = value
    with contextlib.suppress(SchemaError):
        parse_notice(payload)


def test_notice_authority_holder_and_agent() -> None:
    from protocol.authorisation import make_authorisation
    from protocol.errors import ValidityError
    from protocol.notice import check_notice_authority

    notice = parse_notice(notice_payload())
    (right,) = notice.rights
    assert check_notice_authority(notice, signer=HOLDER.did, right_holders={right: HOLDER.did}) == "holder"
    with pytest.raises(ValidityError) as exc:
        check_notice_authority(notice, signer=HOLDER.did, right_holders={})
    assert exc.value.code == "validity.notice.unknown-right"
    agent = OUTSIDER
    agent_notice = parse_notice(notice_payload(notifier=agent.did, authorisation="urn:uuid:auth-1"))
    good = make_authorisation(agent.did, [right], ["notify"], [MARKET_A.did, MARKET_B.did])
    kw = {"signer": agent.did, "right_holders": {right: HOLDER.did}, "authorisation_issuer": HOLDER.did}
    assert check_notice_authority(agent_notice, authorisation=good, **kw) == "agent"
    for bad in (
        make_authorisation(agent.did, [right], ["complain"], None),  # wrong action
        make_authorisation(agent.did, [right], ["notify"], [MARKET_A.did]),  # one target missing
        make_authorisation(HOLDER.did, [right], ["notify"], None),  # another agent
        None,
    ):
        with pytest.raises(ValidityError) as exc:
            check_notice_authority(agent_notice, authorisation=bad, **kw)
        assert exc.value.code == "validity.notice.not-authorised"
    with pytest.raises(ValidityError):
        check_notice_authority(
            agent_notice, authorisation=good, **(kw | {"authorisation_issuer": MARKET_A.did})
        )
    any_notice = parse_notice(
        notice_payload(
            notifier=agent.did, authorisation="urn:uuid:auth-1", targets=ANY, recipients=[MARKET_A.did]
        )
    )
    with pytest.raises(ValidityError):
        check_notice_authority(any_notice, authorisation=good, **kw)
    anywhere = make_authorisation(agent.did, [right], ["notify"], None)
    assert check_notice_authority(any_notice, authorisation=anywhere, **kw) == "agent"
