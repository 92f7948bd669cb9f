"""Marketplace notice endpoints on junk: every answer is a 4xx problem+json (or a success), never a 500.

One in-process marketplace holding a real notice (from a credential whose status list a fake office
serves) and a decision on it; hypothesis then sends junk bytes, signed messages with one payload value
replaced, and JSON bodies shaped like the real ones (right keys, wrong values) to POST /notices,
/complaints, /match and the admin decision, complaint and notifier routes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import assume, given
from hypothesis import strategies as st

from protocol.complaint import build_complaint_payload
from protocol.errors import ProtocolError
from protocol.messages import sign_message, verify_message
from protocol.status_list import new_status_list
from protocol.trust_list import sign_trust_list
from tests.node_fixtures import NODE, NOW, ROOT, accreditation
from tests.test_notices_api import COSE, FLAGGER, HOLDER, OFFICE, FakeOffice, notice, right_credential
from tests.test_role_api_fuzz import AUTH, FUZZ, Served, _no_server_error, _replace_one, junk


class NoticeMarket(Served):
    """A marketplace with a trust list, a right credential, one filed notice and one decision on it."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp, "marketplace")
        self.office = FakeOffice()
        self.office_server = TestServer(self.office.app, loop=self.loop)
        self.loop.run_until_complete(self.office_server.start_server())
        self.office.url = str(self.office_server.make_url("/status/1"))
        self.office.publish(new_status_list(self.office.url, OFFICE.did, "revocation"))
        entries = [
            accreditation(k, r, r)
            for k, r in ((OFFICE, "office"), (NODE, "marketplace"), (FLAGGER, "trusted-flagger"))
        ]
        trust = sign_trust_list(ROOT, entries, sequence=1, created=NOW - 60)
        self.ok(self.call("POST", "/objects", data=trust, headers=COSE))
        credential = right_credential(self.office)
        self.ok(self.call("POST", "/objects", json=credential))
        self.notice_raw = notice(HOLDER, credential["id"])
        self.notice_id = json.loads(
            self.ok(self.call("POST", "/notices", data=self.notice_raw, headers=COSE))
        )["notice"]
        decided = self.call("POST", "/admin/decisions", json=self.decision_request(), headers=AUTH)
        self.decision_id = json.loads(self.ok(decided))["decision"]

    @staticmethod
    def ok(answer: tuple[int, str, str]) -> str:
        assert answer[0] in (200, 201), answer[2]
        return answer[2]

    def decision_request(self) -> dict[str, Any]:
        return {
            "notice": self.notice_id,
            "action": "restrict",
            "decision_facts": "The listing offered goods bearing the notified mark without consent.",
            "territorial_scope": ["DE", "FR"],
        }

    def close(self) -> None:
        self.loop.run_until_complete(self.office_server.close())
        super().close()


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NoticeMarket]:
    served = NoticeMarket(tmp_path_factory.mktemp("notice-market"))
    yield served
    served.close()


def _signed(kind: str, payload: Any) -> bytes:
    """A message signed over a junk payload; examples whose payload cannot be encoded are discarded."""
    try:
        return sign_message(HOLDER, kind, payload)
    except (ProtocolError, TypeError, ValueError, OverflowError):
        assume(False)
        raise AssertionError("unreachable") from None


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["application/cose", "application/json", "text/plain"]))
def test_junk_bytes(market: NoticeMarket, body: bytes, content_type: str) -> None:
    for path in ("/notices", "/complaints"):
        _no_server_error(market.call("POST", path, data=body, headers={"Content-Type": content_type}))
    _no_server_error(market.call("POST", "/match", data=body, headers={"Content-Type": content_type}))


@FUZZ
@given(st.data())
def test_signed_notice_with_one_value_replaced(market: NoticeMarket, data: st.DataObject) -> None:
    payload = dict(verify_message(market.notice_raw, NOW).payload)
    raw = _signed("notice", _replace_one(payload, data))
    _no_server_error(market.call("POST", "/notices", data=raw, headers=COSE))


@FUZZ
@given(st.data())
def test_signed_complaint_with_one_value_replaced(market: NoticeMarket, data: st.DataObject) -> None:
    payload = build_complaint_payload(
        created=NOW,
        decision=bytes.fromhex(market.decision_id),
        notice=bytes.fromhex(market.notice_id),
        marketplace=NODE.did,
        complainant="notifier",
        explanation="Only part of the listings were removed.",
    )
    raw = _signed("complaint", _replace_one(dict(payload), data))
    _no_server_error(market.call("POST", "/complaints", data=raw, headers=COSE))


@FUZZ
@given(st.data(), junk)
def test_match_junk(market: NoticeMarket, data: st.DataObject, body: Any) -> None:
    listing = {
        "title": "Acme sneakers",
        "brand": "Acme",
        "gtin": "4006381333931",
        "seller_id": "seller-9",
        "image_sha256": "00" * 32,
        "phash": "0123456789abcdef",
    }
    valid = {"listings": [listing], "limit": 5, "max_distance": 8}
    _no_server_error(market.call("POST", "/match", json=_replace_one(valid, data)))
    _no_server_error(market.call("POST", "/match", json={"listings": [_replace_one(listing, data)]}))
    _no_server_error(market.call("POST", "/match", json=body))


@FUZZ
@given(st.data(), junk)
def test_admin_decision_and_complaint_junk(market: NoticeMarket, data: st.DataObject, body: Any) -> None:
    _no_server_error(
        market.call(
            "POST", "/admin/decisions", json=_replace_one(market.decision_request(), data), headers=AUTH
        )
    )
    complaint = {"decision": market.decision_id, "explanation": "The seller says the goods are genuine."}
    _no_server_error(
        market.call("POST", "/admin/complaints", json=_replace_one(complaint, data), headers=AUTH)
    )
    for path in ("/admin/decisions", "/admin/complaints"):
        _no_server_error(market.call("POST", path, json=body, headers=AUTH))


@FUZZ
@given(
    junk,
    st.dictionaries(
        st.sampled_from(["status", "since", "until", "trusted_flagger", "right"]), st.text(max_size=12)
    ),
)
def test_admin_notifier_and_inbox_junk(market: NoticeMarket, body: Any, query: dict[str, str]) -> None:
    for action in ("warn", "suspend", "reinstate"):
        _no_server_error(
            market.call("POST", f"/admin/notifiers/{HOLDER.did}/{action}", json=body, headers=AUTH)
        )
    _no_server_error(market.call("GET", "/admin/notices", params=query, headers=AUTH))
    _no_server_error(market.call("GET", "/decisions", params={"notice": query.get("right", "")}))
