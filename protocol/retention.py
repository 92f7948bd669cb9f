"""The retention window: which signed objects a node keeps, refuses and prunes by age.

Why split by kind: event-like objects (a notice, its receipt, a decision, a complaint, a search result,
an enrolment result) describe something that happened at ``created``; past the window they are history
and may go. State-like objects (trust lists, status lists, node descriptors, marketplace profiles,
credentials) describe what holds *now*: they are governed by their own supersession (sequence, version,
newest descriptor) and expiry (``expires`` / ``validUntil``) rules and are never dropped by age, so
current state is never lost however old it is. A credential only referenced by notices that aged out
stays until it expires itself (it may back a new notice, and peers would otherwise refetch it).

Pure: ``now`` and the window (seconds; 0 = keep forever) are passed in.
"""

from __future__ import annotations

from .errors import ValidityError

#: Kinds whose objects age out of the window by ``created``.
EVENT_KINDS = frozenset(
    {"notice", "receipt", "decision", "complaint", "search-result", "enrolment-result", "test"}
)
RETENTION_CODE = "validity.retention"
DAY = 86400


def window_seconds(days: int) -> int:
    """A ``retention_days`` setting as seconds (0 = keep forever)."""
    return max(days, 0) * DAY


def cutoff(now: int, window: int) -> int | None:
    """Event-like objects with ``created`` below this are outside the window (None: keep forever)."""
    return None if window <= 0 else now - window


def is_retained(kind: str, created: int, now: int, window: int) -> bool:
    """Whether a node with this window keeps (and accepts, and reconciles) an object of ``kind``."""
    limit = cutoff(now, window)
    return limit is None or kind not in EVENT_KINDS or created >= limit


def check_retained(kind: str, created: int, now: int, window: int) -> None:
    """Raise ``ValidityError('validity.retention')`` for an object older than the window."""
    if not is_retained(kind, created, now, window):
        raise ValidityError(
            RETENTION_CODE, f"{kind!r} objects older than {window // DAY} days are outside this node's window"
        )
