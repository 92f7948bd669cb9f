"""Acceptance of notice-lifecycle objects against what the node holds; called by :mod:`node.ingest`.

:func:`decide_message` answers whether a verified message may be stored: the kinds ``notice``,
``decision``, ``receipt``, ``complaint`` and ``marketplace-profile`` by the pure rules of
:mod:`protocol.notice_acceptance`, reading the trust lists, credentials, status lists, notices and
decisions the node holds; every other kind by :func:`protocol.acceptance.decide`.
:func:`decide_credential` does the same for right and authorisation credentials (JSON) that notices
reference, so they travel by gossip with the notices. POST /objects, POST /notices and gossip all go
through :mod:`node.ingest`, so an object has the same fate whichever way it arrives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from protocol.acceptance import STATUS_LIST_KIND, Accept, Decision, Refuse, decide
from protocol.errors import ProtocolError
from protocol.matching import NoticeFeatures, features_of
from protocol.messages import SignedMessage, verify_message
from protocol.notice_acceptance import (
    CREDENTIAL_KIND,
    check_complaint_message,
    check_decision,
    check_notice,
    check_profile_message,
    check_receipt,
    check_storable_credential,
)
from protocol.status_list import parse_status_entry
from protocol.trust_list import TrustStore

from .config import NodeConfig
from .errors import NotFound
from .storage.objects import ObjectStore
from .trust import load_trust_store, trust_state

NOTICE_KINDS = frozenset({"notice", "decision", "receipt", "complaint", "marketplace-profile"})


# ---------------------------------------------------------------------------------------------------
# what the node holds


def held_credentials(store: ObjectStore, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cid in ids:
        metas = store.list(kind=CREDENTIAL_KIND, field=("credential_id", cid), limit=1)
        if metas:
            out[cid] = json.loads(store.get(metas[0].id))
    return out


def held_status_list_object(db: sqlite_utils.Database, url: str) -> dict[str, Any] | None:
    """The newest version of the list at ``url`` the node holds as an object (``POST /objects`` or
    gossip): it was verified and its issuer accredited when it was stored."""
    row = db.execute(
        "SELECT o.raw FROM objects o"
        " JOIN object_fields u ON u.object_id = o.id AND u.name = 'url' AND u.value = ?"
        " JOIN object_fields v ON v.object_id = o.id AND v.name = 'version'"
        " WHERE o.kind = ? ORDER BY v.value DESC LIMIT 1",
        [url, STATUS_LIST_KIND],
    ).fetchone()
    if row is None:
        return None
    try:
        document = json.loads(bytes(row[0]))
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def held_status_list(store: ObjectStore, url: str) -> dict[str, Any] | None:
    """The newest status list for ``url``: a held object (gossip, POST /objects) or the fetch cache."""
    best = held_status_list_object(store.db, url)
    cached = store.db.execute("SELECT credential FROM status_cache WHERE url = ?", [url]).fetchone()
    if cached is not None:
        doc = json.loads(cached[0])
        if best is None or status_list_version(doc) > status_list_version(best):
            best = doc
    return best


def status_list_version(document: Mapping[str, Any] | None) -> int:
    """A status list credential's ``statusListVersion``; -1 when absent or not an integer."""
    subject = document.get("credentialSubject") if document is not None else None
    version = subject.get("statusListVersion") if isinstance(subject, Mapping) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else -1


def status_urls(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    urls: list[str] = []
    for doc in documents:
        if "credentialStatus" not in doc:
            continue
        try:
            entries = parse_status_entry(doc["credentialStatus"])
        except ProtocolError:
            continue
        urls.extend(e.url for e in entries if e.url not in urls)
    return urls


def held_status_lists(store: ObjectStore, documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for url in status_urls(documents):
        held = held_status_list(store, url)
        if held is not None:
            out[url] = held
    return out


def held_message(store: ObjectStore, id_hex: str, now: int) -> SignedMessage | None:
    try:
        raw = store.get(id_hex)
    except NotFound:
        return None
    try:
        return verify_message(raw, now, max_skew=10**9)
    except ProtocolError:
        # held objects may have expired since; re-read without the expiry check is not offered, so
        # callers treat an expired object as absent
        return None


# ---------------------------------------------------------------------------------------------------
# decisions


def _refusal(exc: ProtocolError) -> Refuse:
    return Refuse(exc.code, exc.detail)


def notice_fields(message: SignedMessage, store: ObjectStore, trust: TrustStore, now: int) -> Decision:
    payload = message.payload
    rights = payload.get("rights")
    ids = [r for r in rights if isinstance(r, str)] if isinstance(rights, list) else []
    auth = payload.get("authorisation")
    if isinstance(auth, str):
        ids.append(auth)
    credentials = held_credentials(store, ids)
    lists = held_status_lists(store, credentials.values())
    try:
        checked = check_notice(message, credentials=credentials, status_lists=lists, trust=trust, now=now)
    except ProtocolError as exc:
        return _refusal(exc)
    fields: dict[str, str | tuple[str, ...]] = {
        "holder": checked.holder,
        "right": checked.notice.rights,
        "role": checked.role,
    }
    targets = checked.notice.targets or ("any",)
    fields["target"] = targets
    if checked.trusted_flagger:
        fields["trusted_flagger"] = "1"
    fields.update(match_fields(features_of(checked.notice)))
    return Accept(fields)


def match_fields(features: NoticeFeatures) -> dict[str, str | tuple[str, ...]]:
    """The notice's match features as indexed fields, so a node rebuilds its match index at start from
    one query instead of re-reading every notice (node/notices/state.py; specs/notices.md §7)."""
    fields: dict[str, str | tuple[str, ...]] = {
        "m.created": str(features.created),
        "m.gtin": features.gtins,
        "m.image": tuple(i.hex() for i in features.images),
        "m.phash": tuple(f"{p:016x}" for p in features.phashes),
        "m.seller": features.sellers,
    }
    if features.brand:
        fields["m.brand"] = features.brand
    return fields


def decide_message(config: NodeConfig, store: ObjectStore, message: SignedMessage, now: int) -> Decision:
    """Whether this node may store ``message`` (signature and times already verified)."""
    if message.kind not in NOTICE_KINDS:
        return decide(message, trust_state(config, store))
    trust = load_trust_store(config, store, now)
    try:
        if message.kind == "notice":
            return notice_fields(message, store, trust, now)
        if message.kind == "decision":
            decision = check_decision(message, trust=trust, now=now)
            fields: dict[str, str | tuple[str, ...]] = {"notice": decision.notice.hex()}
            if decision.supersedes is not None:
                fields["supersedes"] = decision.supersedes.hex()
            return Accept(fields)
        if message.kind == "receipt":
            receipt = check_receipt(message, trust=trust, now=now)
            return Accept({"notice": receipt.notice.hex()})
        if message.kind == "complaint":
            complaint = check_complaint_message(
                message,
                notice=_held_ref(store, message.payload.get("notice"), now),
                decision=_held_ref(store, message.payload.get("decision"), now),
            )
            return Accept({"notice": complaint.notice.hex(), "decision": complaint.decision.hex()})
        check_profile_message(message, trust=trust, now=now)
        return Accept({"marketplace": message.signer})
    except ProtocolError as exc:
        return _refusal(exc)


def _held_ref(store: ObjectStore, ref: object, now: int) -> SignedMessage | None:
    return held_message(store, ref.hex(), now) if isinstance(ref, bytes) and len(ref) == 32 else None


def decide_credential(
    config: NodeConfig, store: ObjectStore, document: Mapping[str, Any], now: int
) -> Decision:
    """A right credential (issuer an accredited office, not revoked by a held list) or an authorisation."""
    trust = load_trust_store(config, store, now)
    try:
        fields = check_storable_credential(
            document, now=now, trust=trust, status_lists=held_status_lists(store, [document])
        )
    except ProtocolError as exc:
        return _refusal(exc)
    if store.list(kind=CREDENTIAL_KIND, field=("credential_id", fields["credential_id"]), limit=1):
        return Refuse("objects.credential-held", "another credential with this id is held")
    return Accept(fields)
