"""The marketplace's state: its signed profile, enrolment challenges, enrolments, and the trust store.

Plain functions over the node database, shared by the HTTP handlers and ``rightsmesh market``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from protocol.errors import ProtocolError
from protocol.keys import KeyPair
from protocol.messages import sign_message
from protocol.role_payloads import profile_payload
from protocol.trust_list import TrustStore, verify_trust_list

from ..errors import NotFound
from ..nonces import nonce_state
from ..storage.objects import ObjectStore

PROFILE_KIND = "marketplace-profile"
CHALLENGE_PURPOSE = "enrol"


def publish_profile(objects: ObjectStore, key: KeyPair, profile: Any, now: int) -> str:
    """Sign ``profile`` (the operator's JSON, checked: SchemaError) and store it; returns its object id."""
    payload = profile_payload(key.did, profile, now)
    raw = sign_message(key, PROFILE_KIND, payload)
    id_hex, _ = objects.put(
        raw,
        kind=PROFILE_KIND,
        signer=key.did,
        created=now,
        expires=None,
        fields={"marketplace": key.did},
        received_at=now,
    )
    return id_hex


def current_profile(objects: ObjectStore, did: str) -> bytes:
    metas = objects.list(kind=PROFILE_KIND, signer=did, limit=1)
    if not metas:
        raise NotFound("marketplace.no-profile", "this marketplace has not published its profile yet")
    return objects.get(metas[0].id)


class DbChallenges:
    """The verifier's :class:`protocol.verify.ChallengeStore` over the ``nonces`` table."""

    def __init__(self, db: sqlite_utils.Database, now: int) -> None:
        self.db = db
        self.now = now

    def use(self, challenge: str) -> bool:
        cursor = self.db.execute(
            "UPDATE nonces SET used_at = ?"
            " WHERE nonce = ? AND purpose = ? AND used_at IS NULL AND expires > ?",
            [self.now, challenge, CHALLENGE_PURPOSE, self.now],
        )
        return cursor.rowcount == 1


def challenge_state(db: sqlite_utils.Database, challenge: str, now: int) -> str | None:
    """None if the challenge was handed out, is unused and unexpired; else unknown, replayed or expired."""
    state = nonce_state(db, challenge, CHALLENGE_PURPOSE, now)
    return "replayed" if state == "used" else state


@dataclass(frozen=True)
class Enrolment:
    id: str
    holder: str
    created: int
    challenge: str
    presentation_hash: str
    rights: list[dict[str, Any]]
    checks: list[str]
    receipt: bytes


def save_enrolment(db: sqlite_utils.Database, enrolment: Enrolment) -> None:
    db.execute(
        "INSERT INTO enrolments (id, holder, created, challenge, presentation_hash, rights, checks, receipt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            enrolment.id,
            enrolment.holder,
            enrolment.created,
            enrolment.challenge,
            enrolment.presentation_hash,
            json.dumps(enrolment.rights),
            json.dumps(enrolment.checks),
            enrolment.receipt,
        ],
    )


def list_enrolments(
    db: sqlite_utils.Database, holder: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    sql = "SELECT id, holder, created, challenge, presentation_hash, rights, checks FROM enrolments"
    params: list[Any] = []
    if holder:
        sql += " WHERE holder = ?"
        params.append(holder)
    rows = db.query(sql + " ORDER BY created DESC, id LIMIT ?", [*params, limit])
    return [dict(r, rights=json.loads(r["rights"]), checks=json.loads(r["checks"])) for r in rows]


class TrustCache:
    """The trust store built from the trust lists held in the object store, rebuilt when they change."""

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = roots
        self._ids: tuple[str, ...] | None = None
        self._store = TrustStore.with_roots(roots)

    def get(self, objects: ObjectStore, now: int) -> TrustStore:
        if not self.roots:
            return self._store
        marks = ", ".join("?" for _ in self.roots)
        ids = tuple(
            r[0]
            for r in objects.db.execute(
                f"SELECT id FROM objects WHERE kind = 'trust-list' AND signer IN ({marks}) ORDER BY id",
                list(self.roots),
            )
        )
        if ids == self._ids:
            return self._store
        lists = []
        for id_hex in ids:
            try:
                lists.append(verify_trust_list(objects.get(id_hex), now))
            except ProtocolError:
                continue  # expired or otherwise no longer usable
        store = TrustStore.with_roots(self.roots)
        for trust_list in sorted(lists, key=lambda tl: tl.sequence):
            try:
                store = store.accept(trust_list)
            except ProtocolError:
                continue
        self._ids, self._store = ids, store
        return store
