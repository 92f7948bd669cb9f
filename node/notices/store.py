"""The marketplace's notice inbox, notifier records (DSA art. 23) and complaint inbox (art. 20), in SQLite.

Plain functions over the node database shared by the HTTP handlers, the store listener and
``rightsmesh market``. The signed objects themselves live in the object store; these tables hold only
this marketplace's handling of them (who sent what, the standing decision, warnings, suspensions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from protocol.decision import Decision, decision_from_message, export_statement_of_reasons
from protocol.errors import ProtocolError
from protocol.messages import SignedMessage, verify_message
from protocol.outcome import DecisionRecord, Outcome, resolve_outcomes

from ..storage.objects import ObjectStore


@dataclass(frozen=True)
class InboxEntry:
    notice_id: str
    received_at: int
    via: str
    notifier: str
    holder: str
    role: str
    trusted_flagger: bool
    enrolled: bool
    receipt_id: str | None
    decision_id: str | None
    outcome: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> InboxEntry:
        return cls(
            notice_id=row["notice_id"],
            received_at=int(row["received_at"]),
            via=row["via"],
            notifier=row["notifier"],
            holder=row["holder"],
            role=row["role"],
            trusted_flagger=bool(row["trusted_flagger"]),
            enrolled=bool(row["enrolled"]),
            receipt_id=row["receipt_id"],
            decision_id=row["decision_id"],
            outcome=row["outcome"],
        )


def is_enrolled(db: sqlite_utils.Database, *dids: str) -> bool:
    marks = ", ".join("?" for _ in dids)
    row = db.execute(f"SELECT 1 FROM enrolments WHERE holder IN ({marks}) LIMIT 1", list(dids)).fetchone()
    return row is not None


def add_to_inbox(db: sqlite_utils.Database, entry: InboxEntry) -> bool:
    cursor = db.execute(
        "INSERT OR IGNORE INTO notice_inbox (notice_id, received_at, via, notifier, holder, role,"
        " trusted_flagger, enrolled, receipt_id, decision_id, outcome) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            entry.notice_id,
            entry.received_at,
            entry.via,
            entry.notifier,
            entry.holder,
            entry.role,
            int(entry.trusted_flagger),
            int(entry.enrolled),
            entry.receipt_id,
            entry.decision_id,
            entry.outcome,
        ],
    )
    return cursor.rowcount == 1


def mark_direct(db: sqlite_utils.Database, notice_id: str) -> None:
    db.execute("UPDATE notice_inbox SET via = 'direct' WHERE notice_id = ?", [notice_id])


def inbox_entry(db: sqlite_utils.Database, notice_id: str) -> InboxEntry | None:
    rows = list(db.query("SELECT * FROM notice_inbox WHERE notice_id = ?", [notice_id]))
    return InboxEntry.from_row(rows[0]) if rows else None


def list_inbox(
    db: sqlite_utils.Database,
    *,
    status: str | None = None,
    right: str | None = None,
    trusted_flagger: bool | None = None,
    notifier: str | None = None,
    since: int | None = None,
    until: int | None = None,
    limit: int = 500,
) -> list[InboxEntry]:
    """Trusted flaggers' notices first (art. 22(1)), then oldest first (first come, first handled)."""
    where: list[str] = []
    params: list[Any] = []
    if status == "open":
        where.append("outcome IS NULL")
    elif status == "decided":
        where.append("outcome IS NOT NULL")
    elif status in ("restrict", "no-action"):
        where.append("outcome = ?")
        params.append(status)
    if right is not None:
        where.append("notice_id IN (SELECT object_id FROM object_fields WHERE name = 'right' AND value = ?)")
        params.append(right)
    if trusted_flagger is not None:
        where.append("trusted_flagger = ?")
        params.append(int(trusted_flagger))
    if notifier is not None:
        where.append("notifier = ?")
        params.append(notifier)
    if since is not None:
        where.append("received_at >= ?")
        params.append(since)
    if until is not None:
        where.append("received_at < ?")
        params.append(until)
    sql = "SELECT * FROM notice_inbox"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY trusted_flagger DESC, received_at, notice_id LIMIT ?"
    return [InboxEntry.from_row(r) for r in db.query(sql, [*params, limit])]


def decision_records(objects: ObjectStore, notice_id: str, now: int) -> list[tuple[SignedMessage, Decision]]:
    """Every decision held on ``notice_id`` (any marketplace), verified again from its bytes."""
    out = []
    for meta in objects.list(kind="decision", field=("notice", notice_id), limit=10_000):
        try:
            message = verify_message(objects.get(meta.id), now, max_skew=10**9)
            out.append((message, decision_from_message(message)))
        except ProtocolError:
            continue  # expired since it was stored
    return out


def outcomes(objects: ObjectStore, notice_id: str, now: int) -> dict[str, Outcome]:
    records = [DecisionRecord(m.id, d) for m, d in decision_records(objects, notice_id, now)]
    return resolve_outcomes(bytes.fromhex(notice_id), records)


def refresh_outcome(
    db: sqlite_utils.Database, objects: ObjectStore, notice_id: str, me: str, now: int
) -> None:
    """Record this marketplace's standing decision on ``notice_id`` in the inbox (art. 23 counts use it)."""
    standing = outcomes(objects, notice_id, now).get(me)
    if standing is None:
        return
    db.execute(
        "UPDATE notice_inbox SET decision_id = ?, outcome = ? WHERE notice_id = ?",
        [standing.decision_id.hex(), standing.decision.action, notice_id],
    )


def export_statements(objects: ObjectStore, me: str, now: int) -> list[dict[str, Any]]:
    """This marketplace's standing restrictions as TDB statements of reasons (no personal data);
    a restriction later reversed (superseded by a no-action decision) is not exported."""
    notice_ids = sorted(
        {
            value
            for meta in objects.list(kind="decision", signer=me, limit=10**9)
            for value in objects.fields(meta.id).get("notice", [])
        }
    )
    out = []
    for notice_id in notice_ids:
        standing = outcomes(objects, notice_id, now).get(me)
        if standing is not None and standing.restricted:
            out.append(export_statement_of_reasons(standing.decision))
    return out


# ---------------------------------------------------------------------------------------------------
# notifiers (art. 23)


def notifier_record(db: sqlite_utils.Database, did: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM notifiers WHERE did = ?", [did]))
    record: dict[str, Any] = dict(rows[0]) if rows else {"did": did}
    counts = db.execute(
        "SELECT COUNT(*), SUM(outcome = 'restrict'), SUM(outcome = 'no-action'), SUM(outcome IS NULL)"
        " FROM notice_inbox WHERE notifier = ?",
        [did],
    ).fetchone()
    record.update(
        notices=int(counts[0] or 0),
        accepted=int(counts[1] or 0),
        rejected=int(counts[2] or 0),
        open=int(counts[3] or 0),
    )
    return record


def list_notifiers(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    dids = [
        r[0]
        for r in db.execute("SELECT notifier FROM notice_inbox UNION SELECT did FROM notifiers ORDER BY 1")
    ]
    return [notifier_record(db, did) for did in dids]


def is_suspended(db: sqlite_utils.Database, did: str, now: int) -> bool:
    row = db.execute("SELECT suspended_at, suspended_until FROM notifiers WHERE did = ?", [did]).fetchone()
    return row is not None and row[0] is not None and (row[1] is None or row[1] > now)


def warn(db: sqlite_utils.Database, did: str, reason: str, now: int) -> None:
    db.execute(
        "INSERT INTO notifiers (did, warned_at, warning) VALUES (?, ?, ?)"
        " ON CONFLICT (did) DO UPDATE SET warned_at = excluded.warned_at, warning = excluded.warning",
        [did, now, reason],
    )


def warned(db: sqlite_utils.Database, did: str) -> bool:
    row = db.execute("SELECT warned_at FROM notifiers WHERE did = ?", [did]).fetchone()
    return row is not None and row[0] is not None


def suspend(db: sqlite_utils.Database, did: str, reason: str, now: int, until: int | None) -> None:
    db.execute(
        "UPDATE notifiers SET suspended_at = ?, suspended_until = ?, reason = ? WHERE did = ?",
        [now, until, reason, did],
    )


def reinstate(db: sqlite_utils.Database, did: str) -> None:
    db.execute(
        "UPDATE notifiers SET suspended_at = NULL, suspended_until = NULL, reason = NULL WHERE did = ?", [did]
    )


# ---------------------------------------------------------------------------------------------------
# complaints (art. 20)


def add_complaint(
    db: sqlite_utils.Database, complaint_id: str, decision_id: str, notice_id: str, complainant: str, now: int
) -> None:
    db.execute(
        "INSERT OR IGNORE INTO complaint_inbox (complaint_id, decision_id, notice_id, complainant,"
        " received_at) VALUES (?, ?, ?, ?, ?)",
        [complaint_id, decision_id, notice_id, complainant, now],
    )


def answer_complaint(db: sqlite_utils.Database, complaint_id: str, decision_id: str) -> None:
    db.execute("UPDATE complaint_inbox SET answer_id = ? WHERE complaint_id = ?", [decision_id, complaint_id])


def list_complaints(db: sqlite_utils.Database, open_only: bool = False) -> list[dict[str, Any]]:
    sql = "SELECT * FROM complaint_inbox"
    if open_only:
        sql += " WHERE answer_id IS NULL"
    return [dict(r) for r in db.query(sql + " ORDER BY received_at, complaint_id")]
