"""Receipts (art. 16(4)), decisions (art. 17, TDB vocabulary), complaints (art. 20) and outcome resolution."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notice_fixtures import HOLDER, MARKET_A, MARKET_B, NOTICE_ID, T0, decision, decision_payload

from protocol.complaint import (
    build_complaint_payload,
    check_complaint,
    complaint_from_message,
    parse_complaint,
)
from protocol.decision import (
    build_decision_payload,
    decision_from_message,
    export_statement_of_reasons,
    parse_decision,
)
from protocol.errors import SchemaError, ValidityError
from protocol.messages import sign_message, verify_message
from protocol.outcome import DecisionRecord, resolve_outcomes
from protocol.receipt import build_receipt_payload, parse_receipt, receipt_from_message

# a decision that restricts nothing: every restriction field empty
NO_ACTION: dict[str, Any] = {
    "action": "no-action",
    "decision_visibility": (),
    "decision_ground": None,
    "illegal_content_legal_ground": None,
    "illegal_content_explanation": None,
    "category": None,
    "category_specification": (),
}


def test_receipt_round_trip_and_signer_binding() -> None:
    payload = build_receipt_payload(
        created=T0,
        notice=NOTICE_ID,
        received_at=T0,
        marketplace=MARKET_A.did,
        enrolled=True,
        trusted_flagger=False,
        reference="case-1",
    )
    receipt = receipt_from_message(verify_message(sign_message(MARKET_A, "receipt", payload), T0))
    assert receipt.enrolled and not receipt.trusted_flagger and receipt.notice == NOTICE_ID
    with pytest.raises(SchemaError) as exc:
        receipt_from_message(verify_message(sign_message(MARKET_B, "receipt", payload), T0))
    assert exc.value.code == "schema.receipt.wrong-signer"
    bad = dict(payload, notice=b"\x00" * 31)
    with pytest.raises(SchemaError) as exc:
        parse_receipt(bad)
    assert exc.value.code == "schema.receipt.bad-notice"
    with pytest.raises(SchemaError) as exc:
        parse_receipt({k: v for k, v in payload.items() if k != "trusted_flagger"})
    assert exc.value.code == "schema.receipt.missing-trusted-flagger"


def test_decision_round_trip_and_signer_binding() -> None:
    payload = decision_payload()
    assert parse_decision(payload) == decision()
    message = verify_message(sign_message(MARKET_A, "decision", payload), T0 + 3600)
    assert decision_from_message(message).restricts
    with pytest.raises(SchemaError) as exc:
        decision_from_message(verify_message(sign_message(MARKET_B, "decision", payload), T0 + 3600))
    assert exc.value.code == "schema.decision.wrong-signer"


def _bad(change: Any) -> dict[str, Any]:
    payload = copy.deepcopy(decision_payload())
    change(payload)
    return payload


BAD = [
    (
        "unknown visibility",
        lambda p: p.update(decision_visibility=["DECISION_VISIBILITY_HIDDEN"]),
        "schema.decision.bad-decision-visibility",
    ),
    (
        "visibility other without text",
        lambda p: p.update(decision_visibility=["DECISION_VISIBILITY_OTHER"]),
        "schema.decision.missing-decision-visibility-other",
    ),
    (
        "restrict without restriction",
        lambda p: p.pop("decision_visibility"),
        "schema.decision.missing-restriction",
    ),
    (
        "illegal without legal ground",
        lambda p: p.pop("illegal_content_legal_ground"),
        "schema.decision.missing-illegal-content-legal-ground",
    ),
    (
        "incompatible without ground",
        lambda p: p.update(decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT"),
        "schema.decision.missing-incompatible-content-ground",
    ),
    ("bad category", lambda p: p.update(category="STATEMENT_CATEGORY_FAKES"), "schema.decision.bad-category"),
    (
        "keyword other without text",
        lambda p: p.update(category_specification=["KEYWORD_OTHER"]),
        "schema.decision.missing-category-specification-other",
    ),
    ("bad source", lambda p: p.update(source_type="SOURCE_GOSSIP"), "schema.decision.bad-source-type"),
    (
        "bad automated detection",
        lambda p: p.update(automated_detection=True),
        "schema.decision.bad-automated-detection",
    ),
    (
        "bad automated decision",
        lambda p: p.update(automated_decision="AUTOMATED_DECISION_MAYBE"),
        "schema.decision.bad-automated-decision",
    ),
    ("non-EEA scope", lambda p: p.update(territorial_scope=["US"]), "schema.decision.bad-territorial-scope"),
    ("bad date", lambda p: p.update(application_date="2026-02-30"), "schema.decision.bad-application-date"),
    (
        "content after application",
        lambda p: p.update(content_date="2026-01-02"),
        "schema.decision.bad-content-date",
    ),
    (
        "no-action with restriction",
        lambda p: p.update(action="no-action"),
        "schema.decision.restriction-without-action",
    ),
    ("no redress", lambda p: p.pop("redress"), "schema.decision.missing-redress"),
    ("bad redress", lambda p: p.update(redress={"internal_complaint": True}), "schema.decision.bad-redress"),
    ("missing content type", lambda p: p.pop("content_type"), "schema.decision.missing-content-type"),
    ("bad ean", lambda p: p.update(content_id_ean="96385074"), "schema.decision.bad-content-id-ean"),
    ("bad supersedes", lambda p: p.update(supersedes=b"x"), "schema.decision.bad-supersedes"),
    (
        "monetary other without text",
        lambda p: p.update(decision_monetary="DECISION_MONETARY_OTHER"),
        "schema.decision.missing-decision-monetary-other",
    ),
    (
        "unknown monetary",
        lambda p: p.update(decision_monetary="DECISION_MONETARY_FINE"),
        "schema.decision.bad-decision-monetary",
    ),
    (
        "unknown provision",
        lambda p: p.update(decision_provision="DECISION_PROVISION_SUSPENSION"),
        "schema.decision.bad-decision-provision",
    ),
    (
        "unknown account decision",
        lambda p: p.update(decision_account="DECISION_ACCOUNT_WARNED"),
        "schema.decision.bad-decision-account",
    ),
    (
        "no-action with an account restriction",
        lambda p: p.update(action="no-action", decision_account="DECISION_ACCOUNT_SUSPENDED"),
        "schema.decision.restriction-without-action",
    ),
]


@pytest.mark.parametrize(("name", "change", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_decisions(name: str, change: Any, code: str) -> None:
    with pytest.raises(SchemaError) as exc:
        parse_decision(_bad(change))
    assert exc.value.code == code


def test_no_action_decision_parses_but_exports_nothing() -> None:
    d = decision(**NO_ACTION)
    parsed = parse_decision(decision_payload(**{f.name: getattr(d, f.name) for f in dataclasses.fields(d)}))
    assert not parsed.restricts
    with pytest.raises(SchemaError) as exc:
        export_statement_of_reasons(parsed)
    assert exc.value.code == "schema.decision.not-a-restriction"


def test_export_has_tdb_shape_and_no_personal_data() -> None:
    sor = export_statement_of_reasons(decision(content_id_ean="4006381333931"))
    assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert sor["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert sor["category"] == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    assert sor["content_type"] == ["CONTENT_TYPE_PRODUCT"]
    assert sor["content_id"] == {"EAN-13": "4006381333931"}
    assert sor["puid"] == "listing-123" and sor["territorial_scope"] == ["DE", "FR"]
    text = json.dumps(sor)
    for private in ("marketplace", "notice", "redress", "did:key", "source_identity", "@"):
        assert private not in text


# every restriction but visibility: money, service provision and the account (TDB fields)
RESTRICTIONS: dict[str, Any] = {
    "decision_visibility": (),
    "decision_monetary": "DECISION_MONETARY_OTHER",
    "decision_monetary_other": "Payouts for the listing withheld until the seller proves the goods genuine.",
    "decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "decision_account": "DECISION_ACCOUNT_SUSPENDED",
    "account_type": "ACCOUNT_TYPE_BUSINESS",
}


def test_monetary_provision_account_round_trip_and_export() -> None:
    d = decision(**RESTRICTIONS)
    payload = build_decision_payload(d)
    assert "decision_visibility" not in payload
    assert {k: payload[k] for k in RESTRICTIONS if k != "decision_visibility"} == {
        k: v for k, v in RESTRICTIONS.items() if k != "decision_visibility"
    }
    message = verify_message(sign_message(MARKET_A, "decision", payload), T0 + 3600)
    parsed = decision_from_message(message)
    assert parsed == d and parsed.restricts
    assert parsed.decision_monetary == "DECISION_MONETARY_OTHER"
    assert parsed.decision_provision == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert parsed.decision_account == "DECISION_ACCOUNT_SUSPENDED"
    assert parsed.account_type == "ACCOUNT_TYPE_BUSINESS"
    sor = export_statement_of_reasons(parsed)
    assert {k: sor[k] for k in RESTRICTIONS if k != "decision_visibility"} == {
        k: v for k, v in RESTRICTIONS.items() if k != "decision_visibility"
    }
    assert "decision_visibility" not in sor
    # each one alone is a restriction too
    for key in ("decision_provision", "decision_account"):
        alone = decision(**{"decision_visibility": (), key: RESTRICTIONS[key]})
        assert parse_decision(build_decision_payload(alone)) == alone
        assert export_statement_of_reasons(alone)[key] == RESTRICTIONS[key]
    with pytest.raises(SchemaError) as exc:
        build_decision_payload(decision(**dict(RESTRICTIONS, decision_monetary_other=None)))
    assert exc.value.code == "schema.decision.missing-decision-monetary-other"


def test_complaints() -> None:
    payload = build_complaint_payload(
        created=T0 + 7200,
        decision=b"\x09" * 32,
        notice=NOTICE_ID,
        marketplace=MARKET_A.did,
        complainant="seller",
        explanation="The seller shows an invoice from the brand's distributor.",
        seller_ref="seller-9",
    )
    complaint = complaint_from_message(
        verify_message(sign_message(MARKET_A, "complaint", payload), T0 + 7200)
    )
    ctx = {
        "notice_signer": HOLDER.did,
        "decision_id": b"\x09" * 32,
        "decision_marketplace": MARKET_A.did,
        "decision_created": T0 + 3600,
    }
    check_complaint(complaint, signer=MARKET_A.did, **ctx)
    with pytest.raises(SchemaError) as exc:
        check_complaint(complaint, signer=HOLDER.did, **ctx)
    assert exc.value.code == "schema.complaint.wrong-signer"
    late = parse_complaint(dict(payload, created=T0 + 3600 + 200 * 86400))
    with pytest.raises(ValidityError) as vexc:
        check_complaint(late, signer=MARKET_A.did, **ctx)
    assert vexc.value.code == "validity.complaint-too-late"
    notifier = parse_complaint(
        {k: v for k, v in payload.items() if k != "seller_ref"} | {"complainant": "notifier"}
    )
    check_complaint(notifier, signer=HOLDER.did, **ctx)
    with pytest.raises(SchemaError) as exc:
        parse_complaint(dict(payload, complainant="notifier"))
    assert exc.value.code == "schema.complaint.bad-seller-ref"
    with pytest.raises(SchemaError) as exc:
        parse_complaint(dict(payload, explanation="no"))
    assert exc.value.code == "schema.complaint.explanation-too-short"


def _rec(i: int, **kw: Any) -> DecisionRecord:
    return DecisionRecord(id=bytes([i]) * 32, decision=decision(**kw))


def test_outcome_supersession_latest_and_ties() -> None:
    first = _rec(1, created=T0 + 10)
    reversal = _rec(
        2,
        created=T0 + 20,
        **NO_ACTION,
        supersedes=first.id,
        complaint=b"\x07" * 32,
    )
    other_market = _rec(3, created=T0 + 5, marketplace=MARKET_B.did)
    other_notice = _rec(4, created=T0 + 99, notice=b"\xff" * 32)
    outcomes = resolve_outcomes(NOTICE_ID, [reversal, other_notice, first, other_market])
    assert list(outcomes) == sorted([MARKET_A.did, MARKET_B.did])
    a = outcomes[MARKET_A.did]
    assert (
        a.decision_id == reversal.id and not a.restricted and a.superseded == (first.id,) and not a.contested
    )
    assert outcomes[MARKET_B.did].restricted
    # Order of arrival never matters.
    assert resolve_outcomes(NOTICE_ID, [first, reversal, other_market]) == {k: v for k, v in outcomes.items()}
    # A fork (two decisions not superseded) picks the latest, then the greatest id.
    stale = _rec(5, created=T0 + 30, supersedes=None)
    assert resolve_outcomes(NOTICE_ID, [first, reversal, stale])[MARKET_A.did].decision_id == stale.id
    tie_a, tie_b = _rec(6, created=T0 + 40), _rec(9, created=T0 + 40)
    out = resolve_outcomes(NOTICE_ID, [tie_b, tie_a])[MARKET_A.did]
    assert out.decision_id == tie_b.id and out.contested
    # Only the same marketplace can supersede: B naming A's decision does not remove it.
    hijack = _rec(7, created=T0 + 50, marketplace=MARKET_B.did, supersedes=first.id)
    assert resolve_outcomes(NOTICE_ID, [first, hijack])[MARKET_A.did].decision_id == first.id


_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.text(max_size=20)
    | st.binary(max_size=40)
    | st.sampled_from(["DECISION_VISIBILITY_OTHER", "restrict", "no-action", "Yes"])
)
_junk = st.recursive(
    _leaf,
    lambda i: st.lists(i, max_size=3) | st.dictionaries(st.text(max_size=10), i, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["decision", "receipt", "complaint"]), st.data())
def test_parsers_only_raise_schema_errors_on_junk_fields(kind: str, data: st.DataObject) -> None:
    parsers = {
        "decision": (parse_decision, decision_payload()),
        "receipt": (
            parse_receipt,
            build_receipt_payload(
                created=T0,
                notice=NOTICE_ID,
                received_at=T0,
                marketplace=MARKET_A.did,
                enrolled=False,
                trusted_flagger=True,
            ),
        ),
        "complaint": (
            parse_complaint,
            build_complaint_payload(
                created=T0,
                decision=NOTICE_ID,
                notice=NOTICE_ID,
                marketplace=MARKET_A.did,
                complainant="notifier",
                explanation="The decision ignored the registered design.",
            ),
        ),
    }
    parse, payload = parsers[kind]
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        key = data.draw(st.sampled_from([*sorted(payload), "extra"]))
        if data.draw(st.booleans()):
            payload.pop(key, None)
        else:
            payload[key] = data.draw(_junk)
    with contextlib.suppress(SchemaError):
        parse(payload)


def test_notice_status_per_marketplace() -> None:
    from protocol.keys import KeyPair
    from protocol.outcome import notice_status

    third = KeyPair.from_seed(bytes([9]) * 32)
    receipts = [
        parse_receipt(
            build_receipt_payload(
                created=T0 + s,
                notice=NOTICE_ID,
                received_at=T0 + s,
                marketplace=m.did,
                enrolled=False,
                trusted_flagger=False,
            )
        )
        for m, s in ((MARKET_A, 9), (MARKET_A, 2), (MARKET_B, 3))
    ]
    other = parse_receipt(
        build_receipt_payload(
            created=T0,
            notice=b"\xff" * 32,
            received_at=T0,
            marketplace=third.did,
            enrolled=False,
            trusted_flagger=False,
        )
    )
    status = notice_status(
        NOTICE_ID, [MARKET_A.did, MARKET_B.did, third.did], [*receipts, other], [_rec(1, created=T0 + 10)]
    )
    by = {s.marketplace: s for s in status}
    assert [s.marketplace for s in status] == sorted(by)
    assert by[MARKET_A.did].state == "restricted" and by[MARKET_A.did].receipt.received_at == T0 + 2
    assert by[MARKET_B.did].state == "received" and by[third.did].state == "pending"
    assert all(s.targeted for s in status)


def test_decision_checked_against_its_notice() -> None:
    from notice_fixtures import OUTSIDER, notice_payload

    from protocol.decision import check_decision_for_notice
    from protocol.notice import parse_notice

    notice = parse_notice(notice_payload())
    check_decision_for_notice(decision(listings=("123",)), notice, notice_id=NOTICE_ID)
    for bad, code in [
        (decision(listings=("999",)), "schema.decision.unknown-listing"),
        (decision(marketplace=OUTSIDER.did), "schema.decision.not-notified"),
        (decision(notice=b"\xff" * 32), "schema.decision.wrong-notice"),
    ]:
        with pytest.raises(SchemaError) as exc:
            check_decision_for_notice(bad, notice, notice_id=NOTICE_ID)
        assert exc.value.code == code
    check_decision_for_notice(
        decision(marketplace=OUTSIDER.did, source_type="SOURCE_VOLUNTARY"), notice, notice_id=NOTICE_ID
    )


@pytest.mark.parametrize(
    ("reader", "kind"),
    [
        (receipt_from_message, "receipt"),
        (decision_from_message, "decision"),
        (complaint_from_message, "complaint"),
    ],
)
def test_reader_refuses_another_message_kind(reader: Any, kind: str) -> None:
    # A decision's payload under another kind: each reader checks the COSE typ before the payload.
    message = verify_message(sign_message(MARKET_A, "test", decision_payload()), T0 + 3600)
    with pytest.raises(SchemaError) as exc:
        reader(message)
    assert exc.value.code == f"schema.{kind}.wrong-kind"
