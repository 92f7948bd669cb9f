"""What the marketplace does when a notice-lifecycle object is stored, whichever way it came.

:class:`NoticeState` listens to :attr:`ObjectStore.on_insert` (POST /notices, POST /objects, gossip):
a notice is indexed for matching and, if it names this marketplace (or any), lands in the inbox with a
signed receipt (DSA art. 16(4)); a decision updates the match index, the standing outcome and the
complaint it answers; a complaint addressed here lands in the complaint inbox. The match index is built
from the stored objects at start (:meth:`NoticeState.load`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlite_utils

from protocol.complaint import complaint_from_message
from protocol.decision import decision_from_message
from protocol.errors import ProtocolError
from protocol.keys import KeyPair
from protocol.matching import MatchIndex, NoticeFeatures
from protocol.messages import SignedMessage, sign_message, verify_message
from protocol.notice import parse_notice
from protocol.receipt import build_receipt_payload

from ..storage.objects import ObjectStore
from . import store

log = logging.getLogger("rightsmesh.notices")

NOTICE_KINDS = ("notice", "decision", "complaint")


class NoticeState:
    def __init__(self, objects: ObjectStore, key: KeyPair, clock: Callable[[], float]) -> None:
        self.objects = objects
        self.db: sqlite_utils.Database = objects.db
        self.key = key
        self.clock = clock
        self.index = MatchIndex()

    def now(self) -> int:
        return int(self.clock())

    def _message(self, id_hex: str) -> SignedMessage | None:
        try:
            return verify_message(self.objects.get(id_hex), self.now(), max_skew=10**9)
        except ProtocolError:
            return None

    def load(self) -> None:
        """Index every held notice (from its indexed match fields, one query) and decision (at start)."""
        features: dict[str, dict[str, list[str]]] = {}
        rows = self.db.execute(
            "SELECT o.id, f.name, f.value FROM objects o JOIN object_fields f ON f.object_id = o.id"
            " WHERE o.kind = 'notice' AND f.name LIKE 'm.%'"
        )
        for id_hex, name, value in rows:
            features.setdefault(id_hex, {}).setdefault(name, []).append(value)
        for id_hex, values in features.items():
            self.index.add_features(bytes.fromhex(id_hex), _features(values))
        unindexed = self.db.execute(  # stored before match fields were indexed: read the notices
            "SELECT id FROM objects WHERE kind = 'notice' AND id NOT IN"
            " (SELECT object_id FROM object_fields WHERE name = 'm.created')"
        ).fetchall()
        for (id_hex,) in unindexed:
            message = self._message(id_hex)
            if message is not None:
                self._index(message)
        for meta in self.objects.list(kind="decision", limit=10**9):
            message = self._message(meta.id)
            if message is not None:
                self._index(message)
        log.info("match index: %d notices", len(self.index))

    def _index(self, message: SignedMessage) -> None:
        try:
            if message.kind == "notice":
                self.index.add_notice(message.id, parse_notice(message.payload))
            elif message.kind == "decision":
                self.index.add_decision(message.id, decision_from_message(message))
        except ProtocolError:
            pass  # stored objects were validated; a parse failure here means a rule changed since

    def on_insert(self, id_hex: str, kind: str, created: int, expires: int | None) -> None:
        """ObjectStore listener: never raises (a failure is logged; the object stays stored)."""
        if kind not in NOTICE_KINDS:
            return
        try:
            message = self._message(id_hex)
            if message is None:
                return
            self._index(message)
            if kind == "notice":
                self._inbox(message)
            elif kind == "decision":
                self._decided(message)
            else:
                self._complaint(message)
        except Exception:  # a listener must not break the store
            log.exception("notice listener failed on %s %s", kind, id_hex)

    def _inbox(self, message: SignedMessage) -> None:
        notice = parse_notice(message.payload)
        me = self.key.did
        if not notice.is_target(me) or store.is_suspended(self.db, message.signer, self.now()):
            return
        fields = self.objects.fields(message.id_hex)
        holder = fields.get("holder", [message.signer])[0]
        enrolled = store.is_enrolled(self.db, message.signer, holder)
        trusted = bool(fields.get("trusted_flagger"))
        now = self.now()
        receipt = sign_message(
            self.key,
            "receipt",
            build_receipt_payload(
                created=now,
                notice=message.id,
                received_at=now,
                marketplace=me,
                enrolled=enrolled,
                trusted_flagger=trusted,
                reference=message.id_hex[:16],
            ),
        )
        receipt_id, _ = self.objects.put(
            receipt,
            kind="receipt",
            signer=me,
            created=now,
            expires=None,
            fields={"notice": message.id_hex},
            received_at=now,
        )
        store.add_to_inbox(
            self.db,
            store.InboxEntry(
                notice_id=message.id_hex,
                received_at=now,
                via="gossip",
                notifier=message.signer,
                holder=holder,
                role=fields.get("role", ["holder"])[0],
                trusted_flagger=trusted,
                enrolled=enrolled,
                receipt_id=receipt_id,
                decision_id=None,
                outcome=None,
            ),
        )

    def _decided(self, message: SignedMessage) -> None:
        decision = decision_from_message(message)
        if decision.marketplace != self.key.did:
            return
        store.refresh_outcome(self.db, self.objects, decision.notice.hex(), self.key.did, self.now())
        if decision.complaint is not None:
            store.answer_complaint(self.db, decision.complaint.hex(), message.id_hex)

    def _complaint(self, message: SignedMessage) -> None:
        complaint = complaint_from_message(message)
        if complaint.marketplace != self.key.did:
            return
        store.add_complaint(
            self.db,
            message.id_hex,
            complaint.decision.hex(),
            complaint.notice.hex(),
            complaint.complainant,
            self.now(),
        )


def _features(values: dict[str, list[str]]) -> NoticeFeatures:
    brand = values.get("m.brand")
    return NoticeFeatures(
        created=int(values["m.created"][0]),
        gtins=tuple(sorted(values.get("m.gtin", []))),
        images=tuple(bytes.fromhex(v) for v in values.get("m.image", [])),
        phashes=tuple(int(v, 16) for v in values.get("m.phash", [])),
        sellers=tuple(sorted(values.get("m.seller", []))),
        brand=brand[0] if brand else None,
    )
