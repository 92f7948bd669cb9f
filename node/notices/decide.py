"""Turn an operator's decision request into a signed ``decision`` (art. 17 statement of reasons).

The operator states the action and the facts; everything the notice already says is filled in: the TDB
category and keywords from the infringement type, the source (art. 16 notice, trusted flagger, or
voluntary when this marketplace was not named), the content type, the application date, redress (with
this node's complaint endpoint), and ``supersedes`` = this marketplace's standing decision, so a new
decision after a complaint replaces the old one. Any TDB field given in the request overrides a default.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from protocol.decision import Decision, Redress, build_decision_payload
from protocol.errors import SchemaError
from protocol.keys import KeyPair
from protocol.messages import SignedMessage
from protocol.notice import Notice
from protocol.outcome import Outcome

_FIELDS = {f.name for f in fields(Decision)}
_NOT_GIVEN = frozenset({"created", "expires", "notice", "marketplace", "redress"})
_TUPLES = {f.name for f in fields(Decision) if str(f.type).startswith("tuple")}
LEGAL_GROUND = {
    "counterfeit": "Regulation (EU) 2017/1001 on the EU trade mark, art. 9",
    "trade-mark-misuse": "Regulation (EU) 2017/1001 on the EU trade mark, art. 9",
    "design": "Regulation (EC) No 6/2002 on Community designs, art. 19",
    "copyright": "Directive 2001/29/EC, arts. 2-4",
    "other": "National and Union law on intellectual property",
}


def _hex_digest(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise SchemaError(f"schema.decision-request.bad-{name}", f"{name} is a 64-hex-digit object id")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise SchemaError(
            f"schema.decision-request.bad-{name}", f"{name} is a 64-hex-digit object id"
        ) from None


def build_decision(
    key: KeyPair,
    request: Mapping[str, Any],
    *,
    notice_message: SignedMessage,
    notice: Notice,
    standing: Outcome | None,
    trusted_flagger: bool,
    complaint_url: str,
    now: int,
) -> dict[str, Any]:
    """The checked decision payload for ``request`` (JSON: ``action``, ``decision_facts`` and any TDB
    field; optional ``complaint`` id). Raises SchemaError with the decision's codes."""
    unknown = set(request) - _FIELDS - {"notice"} | (set(request) & _NOT_GIVEN - {"notice"})
    if unknown:
        raise SchemaError("schema.decision-request.unknown-field", f"unknown field {sorted(unknown)[0]!r}")
    action = request.get("action")
    if notice.is_target(key.did):
        source = "SOURCE_TRUSTED_FLAGGER" if trusted_flagger else "SOURCE_ARTICLE_16"
    else:
        source = "SOURCE_VOLUNTARY"
    values: dict[str, Any] = {
        "created": now,
        "expires": None,
        "notice": notice_message.id,
        "marketplace": key.did,
        "puid": notice.items[0].listing_id,
        "action": action,
        "content_type": ("CONTENT_TYPE_PRODUCT",),
        "application_date": datetime.datetime.fromtimestamp(now, datetime.UTC).date().isoformat(),
        "source_type": source,
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "redress": Redress(
            internal_complaint=True, out_of_court=True, judicial=True, complaint_url=complaint_url
        ),
    }
    if action == "restrict":
        values.update(
            decision_visibility=("DECISION_VISIBILITY_CONTENT_REMOVED",),
            decision_ground="DECISION_GROUND_ILLEGAL_CONTENT",
            illegal_content_legal_ground=LEGAL_GROUND[notice.infringement],
            illegal_content_explanation=notice.explanation[:5000],
            category=notice.tdb_category,
            category_specification=notice.tdb_keywords,
        )
        if notice.product.gtins and len(notice.product.gtins[0]) == 13:
            values["content_id_ean"] = notice.product.gtins[0]
    for name, value in request.items():
        if name in ("notice", "complaint", "supersedes"):
            continue
        values[name] = tuple(value) if name in _TUPLES and isinstance(value, list) else value
    if action == "no-action":
        for name in (
            "decision_visibility",
            "decision_ground",
            "illegal_content_legal_ground",
            "illegal_content_explanation",
            "category",
            "category_specification",
            "content_id_ean",
        ):
            if name not in request:
                values.pop(name, None)
    if "complaint" in request:
        values["complaint"] = _hex_digest(request["complaint"], "complaint")
    if standing is not None:
        values["supersedes"] = standing.decision_id
    try:
        decision = Decision(**values)
    except TypeError as exc:
        raise SchemaError("schema.decision-request.bad", str(exc)[:200]) from None
    return build_decision_payload(decision)
