"""OpenAPI path items of the notice routes (merged into /openapi.json)."""

from __future__ import annotations

from typing import Any

from ..openapi import ADMIN, AUTH_ERRORS, json_answer, problem

_JSON_BODY = {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}
_COSE_BODY = {"requestBody": {"required": True, "content": {"application/cose": {}}}}
_NOTICE_PARAM = [{"name": "notice", "in": "query", "required": True, "schema": {"type": "string"}}]


def _ok(description: str, status: str = "200") -> dict[str, Any]:
    return {status: json_answer(description)}


def _op(op_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"operationId": op_id, "summary": summary, "responses": responses, **extra}


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/notices": {
        "post": _op(
            "postNotice",
            "File a signed notice (DSA art. 16); the answer carries the signed receipt (art. 16(4))",
            {
                **_ok("the notice id, signed receipt, enrolled and trusted_flagger", "201"),
                **_ok("already held: the same receipt"),
                "400": problem("decode.*, signature.invalid"),
                "403": problem("notice.notifier-suspended (art. 23)"),
                "413": problem("request.too-large"),
                "415": problem("request.content-type"),
                "422": problem(
                    "schema.notice.* (a missing art. 16 element, > 300 items, bad URL), notice.not-addressed,"
                    " validity.notice.credential-missing / unknown-right / not-authorised, status.revoked,"
                    " validity.expired, trust.untrusted-issuer"
                ),
            },
            **_COSE_BODY,
        )
    },
    "/complaints": {
        "post": _op(
            "postComplaint",
            "A notifier's signed complaint (art. 20) against a decision of this marketplace",
            {
                **_ok("the complaint id", "201"),
                "400": problem("decode.*, signature.invalid"),
                "422": problem("complaint.not-addressed, schema.complaint.*, validity.complaint*"),
            },
            **_COSE_BODY,
        )
    },
    "/decisions": {
        "get": _op(
            "getDecisions",
            "Decisions held on a notice (any marketplace), signed, with the standing outcome per marketplace",
            {**_ok("decisions and outcomes"), "400": problem("request.bad-notice")},
            parameters=_NOTICE_PARAM,
        )
    },
    "/receipts": {
        "get": _op(
            "getReceipts",
            "Receipts held for a notice (any marketplace), signed",
            {**_ok("receipts"), "400": problem("request.bad-notice")},
            parameters=_NOTICE_PARAM,
        )
    },
    "/match": {
        "post": _op(
            "match",
            "Match listings (title, brand, gtin, seller_id, image_sha256, phash) against held notices",
            {
                **_ok("ranked matches per listing with outcomes"),
                "422": problem("schema.match.*, schema.listing.*"),
            },
            **_JSON_BODY,
        )
    },
    "/admin/notices": {
        "get": _op(
            "listNotices",
            "The inbox, trusted flaggers first (filters: status, right, trusted_flagger, notifier, dates)",
            {
                **_ok("notices with the notifier's opened contact"),
                **AUTH_ERRORS,
                "400": problem("request.bad-*"),
            },
            **ADMIN,
        )
    },
    "/admin/decisions": {
        "post": _op(
            "decide",
            "Decide on a held notice: a signed statement of reasons (TDB vocabulary), superseding the last",
            {
                **_ok("the decision id and signed bytes", "201"),
                **AUTH_ERRORS,
                "404": problem("notice.not-found, complaint.not-found"),
                "422": problem("schema.decision.*, schema.decision-request.*"),
            },
            **ADMIN,
            **_JSON_BODY,
        )
    },
    "/admin/complaints": {
        "post": _op(
            "recordComplaint",
            "Record a seller's complaint (art. 20) against a decision of this marketplace",
            {
                **_ok("the complaint id", "201"),
                **AUTH_ERRORS,
                "404": problem("decision.not-found"),
                "422": problem("schema.complaint.*"),
            },
            **ADMIN,
            **_JSON_BODY,
        ),
        "get": _op(
            "listComplaints",
            "Complaints received (status=open: unanswered)",
            {**_ok("complaints"), **AUTH_ERRORS},
            **ADMIN,
        ),
    },
    "/admin/notifiers": {
        "get": _op(
            "listNotifiers",
            "Per notifier: notices, accepted, rejected, open; warning and suspension (art. 23)",
            {**_ok("notifiers"), **AUTH_ERRORS},
            **ADMIN,
        )
    },
    "/admin/notifiers/{did}/warn": {
        "post": _op(
            "warnNotifier", "Warn a notifier (art. 23(2))", {**_ok("the record"), **AUTH_ERRORS}, **ADMIN
        )
    },
    "/admin/notifiers/{did}/suspend": {
        "post": _op(
            "suspendNotifier",
            "Suspend a warned notifier; new notices are refused with notice.notifier-suspended",
            {**_ok("the record"), **AUTH_ERRORS, "409": problem("notifier.not-warned")},
            **ADMIN,
        )
    },
    "/admin/notifiers/{did}/reinstate": {
        "post": _op("reinstateNotifier", "End a suspension", {**_ok("the record"), **AUTH_ERRORS}, **ADMIN)
    },
    "/admin/sor": {
        "get": _op(
            "exportStatements",
            "Standing restrictions as Transparency Database statements of reasons (no personal data)",
            {**_ok("statements"), **AUTH_ERRORS},
            **ADMIN,
        )
    },
}
