"""SQLite storage for a node: one database file in WAL mode, numbered migrations, signed objects as bytes."""

from .db import open_database, schema_version, transaction
from .migrations import MIGRATIONS, Migration
from .objects import ObjectMeta, ObjectStore

__all__ = [
    "MIGRATIONS",
    "Migration",
    "ObjectMeta",
    "ObjectStore",
    "open_database",
    "schema_version",
    "transaction",
]
