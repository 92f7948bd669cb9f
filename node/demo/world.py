"""The demo's cast and the state its steps share: a trust root, two offices, four marketplaces, a holder
and an agent, all in one base directory (a temporary one unless ``--dir``).

Values that one step learns and a later one needs (credentials, a notice id, ...) live in ``facts``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.keys import KeyPair

from .client import Api
from .procs import NodeProcess

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "specs" / "examples"


@dataclass(frozen=True)
class Cast:
    """One node of the demo."""

    slug: str
    name: str
    role: str  # office | marketplace
    jurisdiction: str
    size: str = ""  # marketplaces: big | small


OFFICES = (
    Cast("office-em", "EUIPO (EM)", "office", "EU"),
    Cast("office-dk", "DKPTO (DK)", "office", "DK"),
)
MARKETPLACES = (
    Cast("bazaar-nord", "Bazaar Nord", "marketplace", "EU", "big"),
    Cast("mercato-sud", "Mercato Sud", "marketplace", "EU", "big"),
    Cast("kiosk-est", "Kiosk Est", "marketplace", "EU", "small"),
    Cast("atelier-ouest", "Atelier Ouest", "marketplace", "EU", "small"),
)
HOLDER_NAME = "Brivel Sports Ltd"
AGENT_NAME = "Lumen Brand Protection"
EM_NUMBER = "018003578"  # OVALUX, owned by Brivel Sports Ltd in specs/examples/register-em.csv
DK_NUMBER = "VR202100458"  # OVALUX in the generated DK register, same owner


@dataclass
class Node:
    cast: Cast
    dir: Path
    did: str = ""
    url: str = ""
    process: NodeProcess | None = None

    @property
    def name(self) -> str:
        return self.cast.name

    @property
    def token(self) -> str:
        return (self.dir / "admin.token").read_text("ascii").strip()

    @property
    def token_path(self) -> Path:
        return self.dir / "admin.token"


@dataclass
class Party:
    """A wallet owner (holder or agent) and its wallet directory. The first step creates the wallet with
    ``rightsmesh wallet new`` (the key never enters the demo's process) and records the DID it printed;
    every later action is a ``rightsmesh wallet ...`` process too (:mod:`node.demo.wallets`)."""

    name: str
    dir: Path
    did: str = ""


@dataclass
class World:
    base: Path
    api: Api
    root: KeyPair
    root_dir: Path
    offices: list[Node]
    markets: list[Node]
    holder: Party
    agent: Party
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Set by the runner: shows how far the current step got (a terminal rewrites its progress line).
    progress: Callable[[str], None] = field(default=lambda text: None)

    @property
    def nodes(self) -> list[Node]:
        return [*self.offices, *self.markets]

    def node(self, slug: str) -> Node:
        for node in self.nodes:
            if node.cast.slug == slug:
                return node
        raise KeyError(slug)

    @property
    def big(self) -> list[Node]:
        return [m for m in self.markets if m.cast.size == "big"]

    @property
    def small(self) -> list[Node]:
        return [m for m in self.markets if m.cast.size == "small"]

    def note(self, text: str) -> None:
        """A line printed under the current step (what a real response said)."""
        self.notes.append(text)


_DK_MARKS = (
    ("NORDLYS", "Nordlys Design ApS"),
    ("HAVBRIS", "Havbris Foods A/S"),
    ("SKOVKLANG", "Skovklang Audio ApS"),
    ("FJORDA", "Fjorda Outdoor A/S"),
    ("LYNGBY LINE", "Lyngby Textiles ApS"),
    ("KRONVIK", "Kronvik Tools A/S"),
    ("SOLDUG", "Soldug Cosmetics ApS"),
    ("MOSEGRO", "Mosegro Garden A/S"),
    ("BLAAVAND", "Blaavand Toys ApS"),
    ("TRANEHUS", "Tranehus Furniture A/S"),
    ("VINDEL", "Vindel Bikes ApS"),
)


def dk_register_csv() -> str:
    """A small national register in the import format (specs/office-marketplace.md), one entry per mark,
    with OVALUX registered to the demo's holder so it can be issued by both offices."""
    columns = (
        "right_type",
        "office",
        "application_number",
        "registration_number",
        "verbal_element",
        "mark_feature",
        "mark_kind",
        "nice_classes",
        "nice_edition",
        "territory",
        "filing_date",
        "registration_date",
        "expiry_date",
        "status",
        "holder_name",
        "holder_country",
        "contact_email",
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow(
        (
            "trademark",
            "DK",
            DK_NUMBER,
            DK_NUMBER,
            "OVALUX",
            "word",
            "individual",
            "25;28;41",
            "12-2023",
            "DK",
            "2021-03-02",
            "2021-06-15",
            "2031-03-02",
            "registered",
            HOLDER_NAME,
            "GB",
            "ip@brivel-sports.example",
        )
    )
    for i, (mark, owner) in enumerate(_DK_MARKS, start=1):
        number = f"VR2022{i:05d}"
        registered = i % 4 != 0
        writer.writerow(
            (
                "trademark",
                "DK",
                number,
                number if registered else "",
                mark,
                "word",
                "individual",
                f"{(i * 7) % 45 + 1}",
                "12-2023",
                "DK",
                f"2022-0{1 + i % 9}-1{i % 10}",
                f"2022-1{i % 3}-2{i % 10}" if registered else "",
                f"2032-0{1 + i % 9}-1{i % 10}" if registered else "",
                "registered" if registered else "filed",
                owner,
                "DK",
                "",
            )
        )
    return out.getvalue()
