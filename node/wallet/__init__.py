"""The holder's (or agent's) wallet: a directory of key, credentials and notice history, plus the
operations that use it (:mod:`node.wallet.ops`). CLI: ``rightsmesh wallet ...``."""

from __future__ import annotations

from .ops import Delivery, NoticeSpec, NoticeStatus, WalletError
from .store import Wallet

__all__ = ["Delivery", "NoticeSpec", "NoticeStatus", "Wallet", "WalletError"]
