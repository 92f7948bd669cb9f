"""Numbered schema migrations, applied in order by :func:`node.storage.db.open_database`.

Append only: a migration that shipped never changes, a later one alters what it made. Numbers are
consecutive from 1; the office and marketplace roles append theirs at the end with the next free number.
Each migration's SQL runs in the same transaction as the ``schema_version`` row recording it, so a crash
mid-migration leaves the database at the previous version.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "objects",
        """
        CREATE TABLE objects (
            id TEXT PRIMARY KEY NOT NULL,          -- lower-case hex SHA-256 of raw
            kind TEXT NOT NULL,
            signer TEXT NOT NULL,                  -- DID
            created INTEGER NOT NULL,              -- Unix seconds, set by the signer
            expires INTEGER,                       -- Unix seconds or NULL
            received_at INTEGER NOT NULL,          -- Unix seconds, this node's clock
            raw BLOB NOT NULL                      -- the exact bytes, as received
        );
        CREATE INDEX objects_kind_signer ON objects (kind, signer, created);
        CREATE INDEX objects_created_id ON objects (created, id);
        CREATE TABLE object_fields (
            object_id TEXT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (object_id, name, value)
        );
        CREATE INDEX object_fields_lookup ON object_fields (name, value);
        """,
    ),
    Migration(
        2,
        "office",
        """
        CREATE TABLE register_entries (
            key TEXT PRIMARY KEY NOT NULL,         -- OFFICE:application_number
            office TEXT NOT NULL,
            application_number TEXT NOT NULL,
            registration_number TEXT,
            verbal_element TEXT,
            holder_name TEXT NOT NULL,
            status TEXT NOT NULL,
            entry TEXT NOT NULL,                   -- the whole entry as canonical JSON (with contact)
            imported_at INTEGER NOT NULL
        );
        CREATE INDEX register_application ON register_entries (application_number);
        CREATE INDEX register_registration ON register_entries (registration_number);
        CREATE TABLE register_classes (
            key TEXT NOT NULL REFERENCES register_entries (key) ON DELETE CASCADE,
            class INTEGER NOT NULL,
            PRIMARY KEY (class, key)
        );
        CREATE TABLE offers (
            id TEXT PRIMARY KEY NOT NULL,
            right_key TEXT NOT NULL REFERENCES register_entries (key),
            code_hash TEXT NOT NULL,               -- SHA-256 of the secret; the code is never stored
            created INTEGER NOT NULL,
            expires INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            state TEXT NOT NULL,                   -- open | redeemed | locked
            holder TEXT
        );
        CREATE TABLE nonces (
            nonce TEXT PRIMARY KEY NOT NULL,       -- office c_nonce or marketplace enrolment challenge
            purpose TEXT NOT NULL,
            expires INTEGER NOT NULL,
            used_at INTEGER
        );
        CREATE INDEX nonces_expires ON nonces (expires);
        CREATE TABLE status_lists (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            next_index INTEGER NOT NULL,
            size INTEGER NOT NULL,
            credential TEXT NOT NULL,              -- the current signed BitstringStatusListCredential
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE credentials (
            id TEXT PRIMARY KEY NOT NULL,
            right_key TEXT NOT NULL REFERENCES register_entries (key),
            holder TEXT NOT NULL,
            status_list TEXT NOT NULL REFERENCES status_lists (id),
            status_index INTEGER NOT NULL,
            issued_at INTEGER NOT NULL,
            valid_until TEXT,
            revoked_at INTEGER,
            credential TEXT NOT NULL,
            UNIQUE (status_list, status_index)
        );
        """,
    ),
    Migration(
        3,
        "marketplace",
        """
        CREATE TABLE enrolments (
            id TEXT PRIMARY KEY NOT NULL,
            holder TEXT NOT NULL,
            created INTEGER NOT NULL,
            challenge TEXT NOT NULL UNIQUE,
            presentation_hash TEXT NOT NULL,
            rights TEXT NOT NULL,                  -- JSON list of enrolled rights
            checks TEXT NOT NULL,                  -- JSON list of the checks performed
            receipt BLOB NOT NULL                  -- the signed enrolment-result (COSE), kept local
        );
        CREATE INDEX enrolments_holder ON enrolments (holder);
        CREATE TABLE status_cache (
            url TEXT PRIMARY KEY NOT NULL,
            fetched_at INTEGER NOT NULL,
            etag TEXT,
            credential TEXT NOT NULL
        );
        """,
    ),
    Migration(
        4,
        "gossip-peers",
        """
        CREATE TABLE gossip_peers (
            key TEXT PRIMARY KEY NOT NULL,         -- the peer's DID, or its URL until the DID is known
            did TEXT,
            url TEXT,
            state TEXT NOT NULL,                   -- new | active | backing-off | banned
            added REAL NOT NULL,
            last_seen REAL,
            failures INTEGER NOT NULL,
            next_attempt REAL NOT NULL,
            score REAL NOT NULL,
            score_at REAL NOT NULL,
            invalid INTEGER NOT NULL,
            bans INTEGER NOT NULL,
            banned_until REAL NOT NULL,
            pinned INTEGER NOT NULL
        );
        """,
    ),
    Migration(
        5,
        "notices",
        """
        CREATE TABLE notice_inbox (
            notice_id TEXT PRIMARY KEY NOT NULL,   -- object id of a notice naming this marketplace
            received_at INTEGER NOT NULL,
            via TEXT NOT NULL,                     -- direct | gossip
            notifier TEXT NOT NULL,                -- signer DID
            holder TEXT NOT NULL,
            role TEXT NOT NULL,                    -- holder | agent
            trusted_flagger INTEGER NOT NULL,
            enrolled INTEGER NOT NULL,
            receipt_id TEXT,
            decision_id TEXT,                      -- the standing decision of this marketplace
            outcome TEXT                           -- restrict | no-action, NULL while open
        );
        CREATE INDEX notice_inbox_order ON notice_inbox (trusted_flagger DESC, received_at);
        CREATE INDEX notice_inbox_notifier ON notice_inbox (notifier);
        CREATE TABLE notifiers (
            did TEXT PRIMARY KEY NOT NULL,
            warned_at INTEGER,
            warning TEXT,
            suspended_at INTEGER,
            suspended_until INTEGER,
            reason TEXT
        );
        CREATE TABLE complaint_inbox (
            complaint_id TEXT PRIMARY KEY NOT NULL,
            decision_id TEXT NOT NULL,
            notice_id TEXT NOT NULL,
            complainant TEXT NOT NULL,             -- notifier | seller
            received_at INTEGER NOT NULL,
            answer_id TEXT                         -- the superseding decision, once decided
        );
        """,
    ),
)
