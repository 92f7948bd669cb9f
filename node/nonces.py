"""Single-use nonces in the ``nonces`` table: the office's c_nonces and the marketplace's challenges.

Anyone may ask for one, so the number outstanding per purpose is capped and expired ones are purged
whenever a new one is handed out. Callers run these inside their request's transaction.
"""

from __future__ import annotations

import sqlite_utils

from .errors import NodeError

MAX_OUTSTANDING_NONCES = 10_000
PURGE_AFTER = 3600


class RateLimited(NodeError):
    """Too many requests of a kind (the routes answer 429)."""


def add_nonce(db: sqlite_utils.Database, nonce: str, purpose: str, expires: int, now: int) -> None:
    """Hand out a nonce; refuse (``rate.nonces``) when too many unexpired ones are outstanding."""
    db.execute("DELETE FROM nonces WHERE expires < ?", [now - PURGE_AFTER])
    outstanding = db.execute(
        "SELECT COUNT(*) FROM nonces WHERE purpose = ? AND expires > ? AND used_at IS NULL", [purpose, now]
    ).fetchone()[0]
    if outstanding >= MAX_OUTSTANDING_NONCES:
        raise RateLimited("rate.nonces", "too many outstanding challenges; retry in a few minutes")
    db.execute("INSERT INTO nonces (nonce, purpose, expires) VALUES (?, ?, ?)", [nonce, purpose, expires])


def nonce_state(db: sqlite_utils.Database, nonce: str, purpose: str, now: int) -> str | None:
    """Look a nonce up without consuming it: None if handed out, unused and unexpired; else why not
    (``unknown``, ``used``, ``expired``)."""
    row = db.execute(
        "SELECT expires, used_at FROM nonces WHERE nonce = ? AND purpose = ?", [nonce, purpose]
    ).fetchone()
    if row is None:
        return "unknown"
    if row[1] is not None:
        return "used"
    return "expired" if row[0] <= now else None


def take_nonce(db: sqlite_utils.Database, nonce: str, purpose: str, now: int) -> str | None:
    """Consume a nonce: None if it was fresh, else why not (``unknown``, ``used``, ``expired``)."""
    state = nonce_state(db, nonce, purpose, now)
    if state in (None, "expired"):
        db.execute("UPDATE nonces SET used_at = ? WHERE nonce = ?", [now, nonce])
    return state
