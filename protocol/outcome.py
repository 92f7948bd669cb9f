"""Which decision stands, per marketplace, for one notice.

Decisions arrive by gossip in any order, possibly duplicated. The rule (specs/notices.md §Outcome) only
uses what the signed decisions say, so every node and wallet computes the same outcome from the same set:

1. keep the decisions on this notice; group them by marketplace (the decision's signer);
2. a decision is *superseded* when another decision of the same marketplace on the same notice names it in
   ``supersedes`` (links to unknown decisions, other notices or other marketplaces are ignored);
3. among the decisions not superseded, the one with the greatest ``created`` stands; equal times are
   broken by the greatest id (bytewise), which is arbitrary but the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .decision import Decision
from .receipt import Receipt


@dataclass(frozen=True)
class DecisionRecord:
    """A parsed decision with the id (SHA-256 of its signed bytes) of the message that carried it."""

    id: bytes
    decision: Decision


@dataclass(frozen=True)
class Outcome:
    """The standing decision of one marketplace and the chain of decisions it replaced, newest first."""

    marketplace: str
    decision_id: bytes
    decision: Decision
    superseded: tuple[bytes, ...]
    contested: bool  # several unsuperseded decisions existed (a fork): the rule picked one

    @property
    def restricted(self) -> bool:
        return self.decision.restricts


def _rank(record: DecisionRecord) -> tuple[int, bytes]:
    return record.decision.created, record.id


def resolve_marketplace(records: Iterable[DecisionRecord]) -> Outcome | None:
    """Resolve the decisions of a single marketplace on a single notice (callers group them)."""
    by_id = {r.id: r for r in records}
    if not by_id:
        return None
    superseded = {
        r.decision.supersedes
        for r in by_id.values()
        if r.decision.supersedes is not None
        and r.decision.supersedes != r.id
        and r.decision.supersedes in by_id
    }
    heads = [r for r in by_id.values() if r.id not in superseded] or list(by_id.values())
    winner = max(heads, key=_rank)
    chain: list[bytes] = []
    seen = {winner.id}
    link = winner.decision.supersedes
    while link is not None and link in by_id and link not in seen:
        chain.append(link)
        seen.add(link)
        link = by_id[link].decision.supersedes
    return Outcome(
        marketplace=winner.decision.marketplace,
        decision_id=winner.id,
        decision=winner.decision,
        superseded=tuple(chain),
        contested=len(heads) > 1,
    )


def resolve_outcomes(notice_id: bytes, records: Iterable[DecisionRecord]) -> dict[str, Outcome]:
    """The standing decision per marketplace DID for ``notice_id``, keys in sorted order."""
    groups: dict[str, list[DecisionRecord]] = {}
    for record in records:
        if record.decision.notice == notice_id:
            groups.setdefault(record.decision.marketplace, []).append(record)
    out: dict[str, Outcome] = {}
    for marketplace in sorted(groups):
        outcome = resolve_marketplace(groups[marketplace])
        if outcome is not None:
            out[marketplace] = outcome
    return out


@dataclass(frozen=True)
class MarketplaceStatus:
    """Where a notice stands at one marketplace, as the notifier's wallet shows it."""

    marketplace: str
    targeted: bool
    receipt: Receipt | None
    outcome: Outcome | None

    @property
    def state(self) -> str:
        """``restricted`` | ``no-action`` (a decision stands) | ``received`` | ``pending`` (nothing yet)."""
        if self.outcome is not None:
            return "restricted" if self.outcome.restricted else "no-action"
        return "received" if self.receipt is not None else "pending"


def notice_status(
    notice_id: bytes,
    targets: Iterable[str],
    receipts: Iterable[Receipt],
    records: Iterable[DecisionRecord],
) -> tuple[MarketplaceStatus, ...]:
    """Per marketplace (targets, and any marketplace that sent a receipt or decided), sorted by DID.

    Of several receipts from one marketplace the earliest ``received_at`` counts. Receipts and decisions
    about other notices are ignored; callers pass parsed, signer-checked values.
    """
    target_set = set(targets)
    first: dict[str, Receipt] = {}
    for r in receipts:
        if r.notice == notice_id and (
            r.marketplace not in first or r.received_at < first[r.marketplace].received_at
        ):
            first[r.marketplace] = r
    outcomes = resolve_outcomes(notice_id, records)
    return tuple(
        MarketplaceStatus(m, m in target_set, first.get(m), outcomes.get(m))
        for m in sorted(target_set | set(first) | set(outcomes))
    )
