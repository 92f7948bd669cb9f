"""Fixed keys, times and documents for the credential tests (deterministic: fixed seeds and clocks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from protocol.authorisation import issue_authorisation_credential, make_authorisation
from protocol.ip_right import IPRight, issue_ip_right_credential, right_from_json
from protocol.keys import KeyPair
from protocol.status_list import StatusList, issue_status_list_credential, new_status_list
from protocol.trust_list import TrustStore, sign_trust_list, verify_trust_list

ROOT_DIR = Path(__file__).resolve().parent.parent
OFFICE = KeyPair.from_seed(bytes([1]) * 32)
HOLDER = KeyPair.from_seed(bytes([2]) * 32)
AGENT = KeyPair.from_seed(bytes([3]) * 32)
ROOT = KeyPair.from_seed(bytes([4]) * 32)
STRANGER = KeyPair.from_seed(bytes([5]) * 32)
MARKET = KeyPair.from_seed(bytes([6]) * 32)

ISSUED = "2026-01-05T10:00:00Z"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())
LIST_URL = "https://office.example/status/revocation/1"
SUSPEND_URL = "https://office.example/status/suspension/1"
INDEX = 42
SUITES = ("eddsa-jcs-2022", "eddsa-rdfc-2022")


def right_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT_DIR / "specs" / "examples" / "right.json").read_text())
    return data


def right() -> IPRight:
    return right_from_json(right_json())


def right_credential(suite: str = "eddsa-jcs-2022", **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"created": ISSUED, "status_list_url": LIST_URL, "status_index": INDEX,
                            "suite": suite}
    args.update(overrides)
    key = args.pop("key", OFFICE)
    subject = args.pop("subject", HOLDER.did)
    return issue_ip_right_credential(key, subject, args.pop("right", right()), **args)


def status_list(purpose: str = "revocation") -> StatusList:
    return new_status_list(LIST_URL if purpose == "revocation" else SUSPEND_URL, OFFICE.did, purpose)


def list_credential(sl: StatusList | None = None, suite: str = "eddsa-jcs-2022") -> dict[str, Any]:
    return issue_status_list_credential(OFFICE, sl or status_list(), created=ISSUED, suite=suite)


def authorisation(rights: list[str], suite: str = "eddsa-jcs-2022", *, key: KeyPair = HOLDER,
                  agent: str | None = None, actions: list[str] | None = None,
                  marketplaces: list[str] | None = None,
                  valid_until: str = "2026-12-31T00:00:00Z") -> dict[str, Any]:
    grant = make_authorisation(agent or AGENT.did, rights, actions or ["notify", "complain"],
                               marketplaces or ["any"])
    return issue_authorisation_credential(key, grant, created=ISSUED, valid_until=valid_until, suite=suite)


def trust_entries(did: str | None = None, role: str = "office") -> list[dict[str, Any]]:
    return [{"did": did or OFFICE.did, "role": role, "name": "European Union IP Office",
             "jurisdiction": "EU", "valid_from": 1_700_000_000, "valid_until": 1_900_000_000}]


def signed_trust_list(sequence: int = 1, entries: list[dict[str, Any]] | None = None,
                      key: KeyPair = ROOT) -> bytes:
    return sign_trust_list(key, entries if entries is not None else trust_entries(), sequence=sequence,
                           created=1_760_000_000)


def trust_store() -> TrustStore:
    return TrustStore.with_roots([ROOT.did]).accept(verify_trust_list(signed_trust_list(), NOW_TS))
