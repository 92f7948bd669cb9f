"""Gossip health as the object store shows it: per kind, objects held, received lately, and lag.

Lag is ``received_at - created`` of objects received in the last hour: how long an object took to reach
this node from its signer (clock skew included). This needs nothing from the gossip engine; its own
figures (peers, rounds, bytes) are added beside these when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..storage.objects import ObjectStore

HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class KindHealth:
    kind: str
    held: int
    last_hour: int
    last_day: int
    last_received: int | None
    lag_avg: float | None  # seconds, over objects received in the last hour
    lag_max: int | None


def kind_health(store: ObjectStore, now: int) -> list[KindHealth]:
    rows = store.db.execute(
        "SELECT kind, COUNT(*), SUM(received_at >= ?), SUM(received_at >= ?), MAX(received_at),"
        " AVG(CASE WHEN received_at >= ? THEN MAX(received_at - created, 0) END),"
        " MAX(CASE WHEN received_at >= ? THEN MAX(received_at - created, 0) END)"
        " FROM objects GROUP BY kind ORDER BY kind",
        [now - HOUR, now - DAY, now - HOUR, now - HOUR],
    ).fetchall()
    return [
        KindHealth(
            kind=str(kind),
            held=int(held),
            last_hour=int(hour or 0),
            last_day=int(day or 0),
            last_received=None if last is None else int(last),
            lag_avg=None if avg is None else round(float(avg), 1),
            lag_max=None if mx is None else int(mx),
        )
        for kind, held, hour, day, last, avg, mx in rows
    ]
