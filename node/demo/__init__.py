"""``rightsmesh demo``: the whole federation on one machine, as real processes on 127.0.0.1.

A trust root (keys only), two offices and four marketplaces (``rightsmesh run`` processes), a holder and
an agent (every wallet action a ``rightsmesh wallet ...`` process); the story runs step by step
(:mod:`.story`) with a progress line per step, a summary table and the dashboard URLs. Modules:
:mod:`.procs` (child processes), :mod:`.wallets` (wallet commands), :mod:`.client` (HTTP),
:mod:`.world` (cast and shared state), :mod:`.runner` (steps, outcomes), :mod:`.display`,
:mod:`.orchestrate` (``run_demo``, cleanup).
"""

from __future__ import annotations

from .orchestrate import Options, run_demo

__all__ = ["Options", "run_demo"]
