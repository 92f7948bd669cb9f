"""Helpers for in-process node tests: a node directory's config, keys and signed objects at fixed times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from node.config import NodeConfig
from protocol.ip_right import issue_ip_right_credential, right_from_json
from protocol.keys import KeyPair
from protocol.messages import sign_message
from protocol.register import parse_register, public_view
from protocol.trust_list import trust_list_payload
from protocol.vc import format_datetime

REPO = Path(__file__).resolve().parent.parent
NOW = 1_790_000_000
ROOT = KeyPair.from_seed(bytes(range(32)))
OTHER_ROOT = KeyPair.from_seed(bytes(range(1, 33)))
NODE = KeyPair.from_seed(bytes(32 * [7]))
OFFICE = KeyPair.from_seed(bytes(32 * [5]))
TOKEN = "test-admin-token-0123456789"


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def iso(now: float) -> str:
    """Unix seconds as the XSD dateTimeStamp credentials carry (``created``, ``validFrom``)."""
    return format_datetime(datetime.fromtimestamp(int(now), UTC))


async def problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem answer with this status and code; its body."""
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json(content_type=None)
    assert body["code"] == code, body
    return body


def example_right_credential(
    office: KeyPair, holder: str, *, status_list_url: str, index: int, created: int = NOW - 1000, **kw: Any
) -> dict[str, Any]:
    """A right credential for the first entry of specs/examples/register-em.csv, issued by ``office``."""
    entry = parse_register((REPO / "specs/examples/register-em.csv").read_bytes()).entries[0][1]
    return issue_ip_right_credential(
        office,
        holder,
        right_from_json(public_view(entry)),
        created=iso(created),
        status_list_url=status_list_url,
        status_index=index,
        **kw,
    )


def make_config(directory: Path, role: str = "marketplace", **overrides: Any) -> NodeConfig:
    values: dict[str, Any] = {
        "dir": directory,
        "role": role,
        "name": "Test Market",
        "host": "127.0.0.1",
        "port": 8470,
        "public_url": "",
        "peers": (),
        "trust_roots": (ROOT.did,),
    }
    values.update(overrides)
    return NodeConfig(**values)


def accreditation(key: KeyPair, role: str, name: str = "Accredited") -> dict[str, Any]:
    return {
        "did": key.did,
        "role": role,
        "name": name,
        "jurisdiction": "EU",
        "valid_from": NOW - 86400,
        "valid_until": NOW + 365 * 86400,
    }


def trust_list(
    sequence: int,
    key: KeyPair = ROOT,
    created: int = NOW - 60,
    also: Sequence[dict[str, Any]] = (),
    **extra: Any,
) -> bytes:
    """A trust list accrediting NODE as a marketplace (plus ``also``); ``extra`` adds raw payload fields."""
    payload = trust_list_payload(
        [
            *also,
            {
                "did": NODE.did,
                "role": "marketplace",
                "name": "Test Market",
                "jurisdiction": "EU",
                "valid_from": NOW - 86400,
                "valid_until": NOW + 365 * 86400,
            },
        ],
        sequence=sequence,
        created=created,
    )
    return sign_message(key, "trust-list", {**payload, **extra})
