"""Smoke test of scripts/simulate.py: the real gossip core (protocol.plumtree + protocol.reconcile) over the
simulated network, small enough to run in a few seconds. Asserts on what the network achieved (reach,
delivery, copies, bytes), never on wall-clock time; the simulation is seeded, so the figures are stable."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--nodes", "200", "--objects", "5", "--settle", "10", "--seed", "1"]


def load_simulate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rightsmesh_simulate", ROOT / "scripts" / "simulate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


simulate = load_simulate()


def figures(extra: list[str], dead: float) -> tuple[dict[str, float], Any]:
    args = simulate.parse_args([*SMALL, *extra])
    sim = simulate.scenario(args, dead)
    return sim.report(f"dead {100 * dead:.0f} %"), sim


def test_all_alive_every_node_reached_with_few_copies() -> None:
    fig, sim = figures([], 0.0)
    live = [n for n in sim.nodes if n.alive]
    assert len(live) == 200
    assert len(sim.measured) == 5
    assert fig["delivery"] == 1.0
    for node in live:  # every live node holds every measured object, in its reconciliation store too
        assert set(sim.measured) <= set(node.received_at)
        assert set(sim.measured) <= set(node.store.ids(0, len(node.store)))
    # reach times are in simulated seconds (10-100 ms links), finite means 100 % reached
    assert math.isfinite(fig["t100_p99"])
    assert fig["t99_p99"] < 1.0
    assert 1.0 <= fig["copies"] < 3.0
    assert fig["ihave_bytes"] > 0
    assert sim.stats.recon_sessions > 0 and sim.stats.recon_bytes > 0


def test_thirty_percent_dead_still_delivers_everything() -> None:
    fig, sim = figures([], 0.3)
    live = [n for n in sim.nodes if n.alive]
    assert len(live) == 140
    assert fig["delivery"] == 1.0
    assert math.isfinite(fig["t100_p99"])
    assert fig["copies"] < 5.0
    assert fig["ihave_bytes"] > 0


def test_half_dead_with_message_loss_meets_the_delivery_target() -> None:
    fig, _ = figures(["--loss", "0.05"], 0.5)
    assert fig["delivery"] >= 0.995


def test_command_line_reports_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate.main([*SMALL, "--dead", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "live=  140" in out and "delivery 100.000 %" in out
    assert "): MET" in out
