"""The node's current trust, read from its store: configured roots and the trust lists they signed.

:func:`trust_state` is the cheap snapshot acceptance needs (highest sequence held per root, from the
indexed ``sequence`` field); :func:`load_trust_store` gives the verified lists themselves, as
:class:`protocol.trust_list.TrustStore`, for checks such as "is this issuer an accredited office".
"""

from __future__ import annotations

from protocol.acceptance import STATUS_LIST_KIND, TrustState
from protocol.errors import ProtocolError
from protocol.trust_list import TrustStore, verify_trust_list

from .config import NodeConfig
from .storage.objects import ObjectStore


def trust_state(config: NodeConfig, store: ObjectStore) -> TrustState:
    return TrustState(
        roots=frozenset(config.trust_roots), trust_list_sequences=_latest_ids_and_sequences(config, store)[1]
    )


def _latest_ids_and_sequences(
    config: NodeConfig, store: ObjectStore
) -> tuple[dict[str, str], dict[str, int]]:
    """Per configured root: the id and sequence of the highest-sequence trust list held."""
    if not config.trust_roots:
        return {}, {}
    marks = ", ".join("?" for _ in config.trust_roots)
    rows = store.db.execute(
        "SELECT o.signer, o.id, f.value FROM objects o"
        " JOIN object_fields f ON f.object_id = o.id AND f.name = 'sequence'"
        f" WHERE o.kind = 'trust-list' AND o.signer IN ({marks}) ORDER BY o.signer, f.value",
        list(config.trust_roots),
    )
    ids: dict[str, str] = {}
    sequences: dict[str, int] = {}
    for signer, id_hex, value in rows:  # ascending sequence: the last row per signer wins
        ids[signer], sequences[signer] = id_hex, int(value)
    return ids, sequences


def load_trust_store(config: NodeConfig, store: ObjectStore, now: int) -> TrustStore:
    """The configured roots with, per root, its newest held trust list if that list still verifies at
    ``now`` (an expired list is left out: it accredits nobody)."""
    trust = TrustStore.with_roots(config.trust_roots)
    ids, _ = _latest_ids_and_sequences(config, store)
    for id_hex in ids.values():
        try:
            trust = trust.accept(verify_trust_list(store.get(id_hex), now))
        except ProtocolError:
            continue
    return trust


def held_status_list_version(store: ObjectStore, url: str) -> int | None:
    """The highest ``statusListVersion`` of the status list at ``url`` that the node holds."""
    row = store.db.execute(
        "SELECT MAX(v.value) FROM objects o"
        " JOIN object_fields u ON u.object_id = o.id AND u.name = 'url' AND u.value = ?"
        " JOIN object_fields v ON v.object_id = o.id AND v.name = 'version'"
        " WHERE o.kind = ?",
        [url, STATUS_LIST_KIND],
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])
