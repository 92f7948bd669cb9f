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

from protocol.acceptance import STATUS_LIST_KIND, Accept, Decision, Refuse, decide, decide_status_list
from protocol.cbor import Limits
from protocol.errors import DecodeError
from protocol.messages import verify_message
from protocol.status_list import LIST_TYPE, verify_status_list_credential
from protocol.vc import credential_types, format_datetime, load_json, parse_datetime

from .config import NodeConfig
from .storage.db import transaction
from .storage.objects import ObjectStore
from .trust import held_status_list_version, load_trust_store, trust_state


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


def ingest_message(config: NodeConfig, store: ObjectStore, raw: bytes, now: int) -> Ingested:
    """A COSE message: verified (size, structure, signature, times), then decided by acceptance."""
    message = verify_message(raw, now, limits=Limits(max_bytes=config.max_object))
    if store.has(message.id_hex):
        return _known(store, message.id_hex)
    with transaction(store.db):
        accept = _refuse_if(decide(message, trust_state(config, store)))
        id_hex, inserted = store.put(
            message.raw,
            kind=message.kind,
            signer=message.signer,
            created=message.created,
            expires=message.expires,
            fields=accept.fields,
            received_at=now,
        )
    return Ingested(id_hex, message.kind, message.signer, message.created, message.expires, inserted)


def ingest_credential(config: NodeConfig, store: ObjectStore, raw: bytes, now: int) -> Ingested:
    """A JSON credential: only a Bitstring Status List credential from an accredited office, for now."""
    id_hex = hashlib.sha256(raw).hexdigest()
    if store.has(id_hex):
        return _known(store, id_hex)
    if len(raw) > config.max_object:
        raise DecodeError("decode.too-large", f"an object is at most {config.max_object} bytes")
    document = load_json(raw)
    if not isinstance(document, dict):
        raise Refused("schema.credential", "a credential is a JSON object")
    if LIST_TYPE not in credential_types(document):
        raise Refused("objects.kind-not-accepted", f"this node accepts only {LIST_TYPE} credentials as JSON")
    moment = datetime.fromtimestamp(now, UTC)
    status_list = verify_status_list_credential(document, now=moment)
    with transaction(store.db):
        trust = load_trust_store(config, store, now)
        held = held_status_list_version(store, status_list.url)
        accept = _refuse_if(decide_status_list(status_list, trust, held, now))
        valid_from = parse_datetime(document.get("validFrom", format_datetime(moment)), "validFrom")
        valid_until = document.get("validUntil")
        created = int(valid_from.timestamp())
        expires = None if valid_until is None else int(parse_datetime(valid_until, "validUntil").timestamp())
        stored_id, inserted = store.put(
            raw,
            kind=STATUS_LIST_KIND,
            signer=status_list.issuer,
            created=created,
            expires=expires,
            fields=accept.fields,
            received_at=now,
        )
    return Ingested(stored_id, STATUS_LIST_KIND, status_list.issuer, created, expires, inserted)


def ingest_object(config: NodeConfig, store: ObjectStore, raw: bytes, now: int) -> Ingested:
    """Either form, told apart by its first byte (gossip carries objects without a content type)."""
    if is_json_credential(raw):
        return ingest_credential(config, store, raw, now)
    return ingest_message(config, store, raw, now)
