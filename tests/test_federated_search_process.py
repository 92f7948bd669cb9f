"""Federated search across real node processes: a marketplace that learned an office's descriptor skips it
until a trust list accredits it, then asks it; ``rightsmesh search`` verifies the office's signed answer
again on its own."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from protocol.messages import verify_message
from protocol.trust_list import sign_trust_list
from tests.node_fixtures import ROOT
from tests.nodeproc import init_node, run_cli, start_node

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
REGISTERED = "018003578"


def fetch(url: str, data: bytes | None = None, content_type: str = "application/cose") -> bytes:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type} if data else {})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return bytes(resp.read())


def accrediting_office(did: str) -> bytes:
    now = int(time.time())
    entry = {"did": did, "role": "office", "name": "Process Office", "jurisdiction": "EU",
             "valid_from": now - 60, "valid_until": now + 86400}
    return sign_trust_list(ROOT, [entry], sequence=1, created=now - 5)


def test_marketplace_searches_an_office_it_learned_of(tmp_path: Path) -> None:
    office_dir = init_node(tmp_path, "office", "Process Office", trust_roots=[ROOT.did])
    register = str(REPO / "specs/examples/register-em.csv")
    result = run_cli("office", "import", "--dir", str(office_dir), register)
    assert result.returncode == 0, result.stderr
    market_dir = init_node(tmp_path, "marketplace", "Process Market", trust_roots=[ROOT.did])
    office = start_node(office_dir)
    market = start_node(market_dir)
    try:
        # Nothing known yet: a complete search over no office.
        empty = run_cli("search", "--node", market.url, "--number", REGISTERED, "--json")
        assert empty.returncode == 0, empty.stderr
        assert json.loads(empty.stdout)["offices"] == []

        descriptor = fetch(office.url + "/.well-known/rightsmesh")
        fetch(market.url + "/objects", data=descriptor)

        # Known but not accredited by any trust list held: listed, not asked.
        unasked = run_cli("search", "--node", market.url, "--number", REGISTERED, "--json")
        assert unasked.returncode == 0, unasked.stderr
        body = json.loads(unasked.stdout)
        assert body["summary"] == {
            "offices": 1, "answered": 0, "invalid": 0, "timeout": 0, "failed": 0, "skipped": 1
        }
        assert body["offices"][0]["error"]["code"] == "search.not-accredited" and body["results"] == []
        own = run_cli("search", "--node", office.url, "--number", REGISTERED, "--json")
        assert json.loads(own.stdout)["offices"][0]["status"] == "skipped"

        accredit = accrediting_office(verify_message(descriptor, int(time.time())).signer)
        fetch(market.url + "/objects", data=accredit)
        fetch(office.url + "/objects", data=accredit)

        found = run_cli("search", "--node", market.url, "--number", REGISTERED, "--json")
        assert found.returncode == 0, found.stderr
        body = json.loads(found.stdout)
        assert body["summary"] == {
            "offices": 1, "answered": 1, "invalid": 0, "timeout": 0, "failed": 0, "skipped": 0
        }
        assert body["offices"][0]["name"] == "Process Office"
        assert [r["application_number"] for r in body["results"]] == [REGISTERED]

        text = run_cli("search", "--node", market.url, "--q", "ovalux")
        assert text.returncode == 0, text.stderr
        assert "answered Process Office" in " ".join(text.stdout.split()) and REGISTERED in text.stdout

        # The office itself answers for its own register through the same route.
        own = run_cli("search", "--node", office.url, "--number", REGISTERED, "--json")
        assert own.returncode == 0, own.stderr
        assert json.loads(own.stdout)["offices"][0]["local"] is True
        assert json.loads(own.stdout)["offices"][0]["status"] == "answered"

        bad = run_cli("search", "--node", market.url, "--class", "99")
        assert bad.returncode == 2 and "request.query" in bad.stderr
    finally:
        market.stop()
        office.stop()
