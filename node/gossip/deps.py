"""Dependencies of notices: a notice names the right credentials (and authorisation) it relies on by their
credential ids; a node that lacks one fetches it from the peer that sent the notice, then decides again.

Why from that peer: it accepted the notice, so it holds the credentials (its acceptance needed them).
A peer that cannot produce them after being asked is charged for the notice like any invalid object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from protocol.errors import ProtocolError
from protocol.notice import parse_notice
from protocol.notice_acceptance import CONTEXT_CODES, CREDENTIAL_KIND

from ..ingest import Checked
from ..storage.objects import ObjectStore
from .client import PeerCallError
from .wire import CBOR_TYPE, decode_list, encode_list

if TYPE_CHECKING:
    from .engine import GossipEngine

MISSING = "validity.notice.credential-missing"
# Refusals that depend on what this node holds or knows now: no penalty for the sender.
NO_FAULT = CONTEXT_CODES - {MISSING}
MAX_REFERENCES = 256


def references(outcome: object) -> tuple[str, ...]:
    """The credential ids a checked notice relies on (empty if it is not a readable notice)."""
    if not isinstance(outcome, Checked) or outcome.message is None or outcome.kind != "notice":
        return ()
    try:
        notice = parse_notice(outcome.message.payload)
    except ProtocolError:
        return ()
    ids = list(notice.rights)
    if notice.authorisation is not None:
        ids.append(notice.authorisation)
    return tuple(ids)


def held_credentials(store: ObjectStore, credential_ids: Iterable[str]) -> list[bytes]:
    """The exact bytes of the held credential objects with these credential ids."""
    out = []
    for cid in credential_ids:
        for meta in store.list(kind=CREDENTIAL_KIND, field=("credential_id", cid), limit=1):
            out.append(store.get(meta.id))
    return out


def encode_ids(credential_ids: Sequence[str]) -> bytes:
    return encode_list([cid.encode("utf-8") for cid in credential_ids])


def decode_ids(body: bytes) -> list[str]:
    items = decode_list(body, 16 + MAX_REFERENCES * 520, MAX_REFERENCES)
    try:
        return [item.decode("utf-8") for item in items if len(item) <= 512]
    except UnicodeDecodeError:
        return []


async def fetch_credentials(engine: GossipEngine, did: str, credential_ids: Sequence[str]) -> int:
    """Ask ``did`` for the credentials, validate and store them; returns how many were stored."""
    wanted = [cid for cid in dict.fromkeys(credential_ids) if not held_credentials(engine.store, [cid])]
    if not wanted:
        return 0
    try:
        answer = await engine.call(did, "/peer/credentials", encode_ids(wanted[:MAX_REFERENCES]), CBOR_TYPE)
        raws = decode_list(answer, engine.config.max_body)
    except (PeerCallError, ProtocolError):
        return 0
    result = await engine.receive(did, [(raw, 0, "") for raw in raws], solicited=True)
    return result.stored
