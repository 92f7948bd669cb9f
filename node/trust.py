"""The node's current trust state, read from its store: configured roots and the trust lists they signed."""

from __future__ import annotations

from protocol.acceptance import TrustState

from .config import NodeConfig
from .storage.objects import ObjectStore


def trust_state(config: NodeConfig, store: ObjectStore) -> TrustState:
    sequences: dict[str, int] = {}
    if config.trust_roots:
        marks = ", ".join("?" for _ in config.trust_roots)
        rows = store.db.execute(
            "SELECT o.signer, MAX(f.value) FROM objects o"
            " JOIN object_fields f ON f.object_id = o.id AND f.name = 'sequence'"
            f" WHERE o.kind = 'trust-list' AND o.signer IN ({marks}) GROUP BY o.signer",
            list(config.trust_roots),
        )
        sequences = {signer: int(value) for signer, value in rows}
    return TrustState(roots=frozenset(config.trust_roots), trust_list_sequences=sequences)
