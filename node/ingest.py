"""Validate a signed object and store it if the node may hold it: the one path POST /objects and gossip share.

Why one function: an object a peer pushes must pass exactly the checks a client's upload passes (size,
structure, signature, freshness, the signer's right to publish that kind, newer-than-held versions)
*before* it is stored or forwarded. :func:`ingest_object` raises a typed ``ProtocolError`` (decode,
signature, schema, validity) or :class:`Refused` (an acceptance rule said no, with its stable code);
the caller maps those to an HTTP answer (POST /objects) or to a peer's score (gossip).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from protocol.acceptance import STATUS_LIST_KIND, Accept, Decision, Refuse, decide_status_list
from protocol.authorisation import CREDENTIAL_TYPE as AUTHORISATION_TYPE
from protocol.cbor import Limits
from protocol.errors import DecodeError
from protocol.ip_right import CREDENTIAL_TYPE as RIGHT_TYPE
from protocol.messages import SignedMessage, verify_message
from protocol.notice_acceptance import CREDENTIAL_KIND, credential_fields
from protocol.retention import check_retained, window_seconds
from protocol.status_list import LIST_TYPE, StatusList, verify_status_list_credential
from protocol.vc import credential_types, format_datetime, load_json, parse_datetime

from .config import NodeConfig
from .notice_accept import decide_credential, decide_message
from .storage.db import joined_transaction
from .storage.objects import ObjectStore
from .trust import held_status_list_version, load_trust_store


class Refused(Exception):
    """An acceptance rule refused the object (``code`` as :mod:`protocol.acceptance` states it)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Ingested:
    """A valid object the node now holds (``inserted``: it was new)."""

    id: str
    kind: str
    signer: str
    created: int
    expires: int | None
    inserted: bool


def is_json_credential(raw: bytes) -> bool:
    """Stored objects are COSE_Sign1 (CBOR tag 18, first byte 0xd2) or a JSON credential."""
    return raw.lstrip()[:1] == b"{"


def _refuse_if(decision: Decision) -> Accept:
    if isinstance(decision, Refuse):
        raise Refused(decision.code, decision.detail)
    return decision


def _known(store: ObjectStore, id_hex: str) -> Ingested:
    meta = store.get_meta(id_hex)
    return Ingested(meta.id, meta.kind, meta.signer, meta.created, meta.expires, False)


@dataclass(frozen=True)
class Checked:
    """An object whose structure, signature and times verified; acceptance has not been asked yet."""

    raw: bytes
    id: str
    kind: str
    signer: str
    created: int
    expires: int | None
    message: SignedMessage | None = None  # a COSE message
    status_list: StatusList | None = None  # a JSON status list credential
    document: dict[str, Any] | None = None  # a right or authorisation credential (node/notice_accept.py)


def check_message(config: NodeConfig, raw: bytes, now: int) -> Checked:
    """A COSE message: size, structure, signature, times (including the retention window: an event-like
    message older than ``retention_days`` is ``validity.retention``). Credentials (the JSON forms) are
    state-like and never age out by ``created`` (protocol/retention.py)."""
    message = verify_message(raw, now, limits=Limits(max_bytes=config.max_object))
    check_retained(message.kind, message.created, now, window_seconds(config.retention_days))
    return Checked(
        message.raw, message.id_hex, message.kind, message.signer, message.created, message.expires, message
    )


def check_credential(config: NodeConfig, raw: bytes, now: int) -> Checked:
    """A JSON credential: only a Bitstring Status List credential, for now (proof and dates verified)."""
    if len(raw) > config.max_object:
        raise DecodeError("decode.too-large", f"an object is at most {config.max_object} bytes")
    document = load_json(raw)
    if not isinstance(document, dict):
        raise Refused("schema.credential", "a credential is a JSON object")
    types = credential_types(document)
    if RIGHT_TYPE in types or AUTHORISATION_TYPE in types:
        return _reference_credential(raw, document)
    if LIST_TYPE not in types:
        raise Refused(
            "objects.kind-not-accepted",
            f"this node accepts {LIST_TYPE}, {RIGHT_TYPE} and {AUTHORISATION_TYPE} credentials as JSON",
        )
    moment = datetime.fromtimestamp(now, UTC)
    status_list = verify_status_list_credential(document, now=moment)
    valid_from = parse_datetime(document.get("validFrom", format_datetime(moment)), "validFrom")
    valid_until = document.get("validUntil")
    expires = None if valid_until is None else int(parse_datetime(valid_until, "validUntil").timestamp())
    id_hex = hashlib.sha256(raw).hexdigest()
    created = int(valid_from.timestamp())
    return Checked(raw, id_hex, STATUS_LIST_KIND, status_list.issuer, created, expires, None, status_list)


def _reference_credential(raw: bytes, document: dict[str, Any]) -> Checked:
    """A right or authorisation credential that notices reference; proof and trust are checked at
    acceptance (:func:`node.notice_accept.decide_credential`); times come from the credential."""
    fields = credential_fields(document)
    valid_from, valid_until = document.get("validFrom"), document.get("validUntil")
    created = int(parse_datetime(valid_from, "validFrom").timestamp()) if valid_from else 0
    expires = None if valid_until is None else int(parse_datetime(valid_until, "validUntil").timestamp())
    id_hex = hashlib.sha256(raw).hexdigest()
    return Checked(raw, id_hex, CREDENTIAL_KIND, fields["issuer"], created, expires, document=document)


def check_object(config: NodeConfig, raw: bytes, now: int) -> Checked:
    """Either form, told apart by its first byte (gossip carries objects without a content type)."""
    if is_json_credential(raw):
        return check_credential(config, raw, now)
    return check_message(config, raw, now)


def _decide(config: NodeConfig, store: ObjectStore, checked: Checked, now: int) -> Accept:
    if checked.message is not None:
        return _refuse_if(decide_message(config, store, checked.message, now))
    if checked.document is not None:
        return _refuse_if(decide_credential(config, store, checked.document, now))
    assert checked.status_list is not None
    trust = load_trust_store(config, store, now)
    held = held_status_list_version(store, checked.status_list.url)
    return _refuse_if(decide_status_list(checked.status_list, trust, held, now))


def accept_object(
    config: NodeConfig, store: ObjectStore, checked: Checked, now: int, *, known_new: bool = False
) -> Ingested:
    """Store a checked object if the acceptance rules allow it (raises :class:`Refused` otherwise).

    ``known_new``: the caller looked the id up in the same transaction (gossip does, per chunk), so
    the lookup is not repeated (the insert still ignores a duplicate)."""
    if not known_new and store.has(checked.id):
        return _known(store, checked.id)
    with joined_transaction(store.db):  # decide reads, put writes: no write to undo on a refusal
        accept = _decide(config, store, checked, now)
        id_hex, inserted = store.put(
            checked.raw,
            kind=checked.kind,
            signer=checked.signer,
            created=checked.created,
            expires=checked.expires,
            fields=accept.fields,
            received_at=now,
        )
    return Ingested(id_hex, checked.kind, checked.signer, checked.created, checked.expires, inserted)


def _ingest(config: NodeConfig, store: ObjectStore, raw: bytes, now: int, json: bool) -> Ingested:
    id_hex = hashlib.sha256(raw).hexdigest()
    if store.has(id_hex):
        return _known(store, id_hex)
    checked = check_credential(config, raw, now) if json else check_message(config, raw, now)
    return accept_object(config, store, checked, now)


def ingest_message(config: NodeConfig, store: ObjectStore, raw: bytes, now: int) -> Ingested:
    """Check and store a COSE message (POST /objects with a COSE body)."""
    return _ingest(config, store, raw, now, False)


def ingest_credential(config: NodeConfig, store: ObjectStore, raw: bytes, now: int) -> Ingested:
    """Check and store a JSON credential (POST /objects with a JSON body)."""
    return _ingest(config, store, raw, now, True)


def ingest_object(config: NodeConfig, store: ObjectStore, raw: bytes, now: int) -> Ingested:
    """Either form, told apart by its first byte."""
    return _ingest(config, store, raw, now, is_json_credential(raw))
