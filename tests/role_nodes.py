"""An office with the example register imported and a marketplace with the example profile, as real
processes: the set-up shared by the multi-process enrolment and browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.nodeproc import NodeProcess, init_node, run_cli, start_node

REPO = Path(__file__).resolve().parent.parent


def start_pair(
    office_dir: Path, market_dir: Path, *, office_listen: str = "127.0.0.1:0"
) -> tuple[NodeProcess, NodeProcess]:
    """Run the office, then the marketplace; if the second does not start, the first is stopped."""
    office = start_node(office_dir, listen=office_listen)
    try:
        return office, start_node(market_dir)
    except BaseException:
        office.stop()
        raise


@contextmanager
def office_and_market(tmp_path: Path, root: str) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    """Start ``EM Office`` (register-em.csv imported) and ``Bazaar Nord`` (its profile set), both
    trusting ``root``; stop both on exit."""
    office_dir = init_node(tmp_path, "office", "EM Office", trust_roots=[root])
    market_dir = init_node(tmp_path, "marketplace", "Bazaar Nord", trust_roots=[root])
    imported = run_cli(
        "office", "import", "--dir", str(office_dir), str(REPO / "specs/examples/register-em.csv")
    )
    assert imported.returncode == 0, imported.stderr
    profile = run_cli(
        "market", "profile", "--dir", str(market_dir), str(REPO / "specs/examples/marketplace-profile.json")
    )
    assert profile.returncode == 0, profile.stderr
    office, market = start_pair(office_dir, market_dir)
    try:
        yield office, market
    finally:
        market.stop()
        office.stop()
