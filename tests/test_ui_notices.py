"""The marketplace dashboard's notice pages in process: inbox filters, verification results, decision and
complaint forms (the same functions as /admin/decisions and /admin/complaints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from node.app import create_app
from protocol.status_list import revoke
from protocol.trust_list import sign_trust_list
from tests.node_fixtures import NODE, NOW, ROOT, TOKEN, FakeClock, accreditation, make_config
from tests.test_notices_api import FLAGGER, HOLDER, OFFICE, FakeOffice, notice, office, right_credential
from tests.test_ui import csrf_of, login

COSE = {"Content-Type": "application/cose"}
__all__ = ["office"]  # the pytest fixture of test_notices_api


@pytest.fixture
async def market(aiohttp_client: Any, tmp_path: Path, office: FakeOffice) -> tuple[TestClient, str, str]:
    """A marketplace holding a trust list, two credentials and two notices (one by a trusted flagger)."""
    app = create_app(make_config(tmp_path, role="marketplace"), NODE, TOKEN, clock=FakeClock())
    client: TestClient = await aiohttp_client(app)
    entries = [
        accreditation(key, role, role)
        for key, role in ((OFFICE, "office"), (NODE, "marketplace"), (FLAGGER, "trusted-flagger"))
    ]
    resp = await client.post(
        "/objects", data=sign_trust_list(ROOT, entries, sequence=1, created=NOW - 60), headers=COSE
    )
    assert resp.status == 201
    ids = []
    for holder, index in ((HOLDER, 5), (FLAGGER, 6)):
        cred = right_credential(office, holder=holder.did, index=index)
        assert (await client.post("/objects", json=cred)).status == 201
        resp = await client.post("/notices", data=notice(holder, cred["id"]), headers=COSE)
        assert resp.status == 201, await resp.text()
        ids.append((await resp.json())["notice"])
    return client, ids[0], ids[1]


async def test_inbox_filters_and_detail(market: tuple[TestClient, str, str], office: FakeOffice) -> None:
    client, by_holder, by_flagger = market
    await login(client)
    html = await (await client.get("/ui/market/notices")).text()
    assert html.index(by_flagger[:12]) < html.index(by_holder[:12])  # trusted flaggers first
    only = await (await client.get("/ui/market/notices", params={"flagger": "yes"})).text()
    assert by_flagger[:12] in only and by_holder[:12] not in only
    none = await (await client.get("/ui/market/notices", params={"to": "2000-01-01"})).text()
    assert "No notices match" in none
    bad = await client.get("/ui/market/notices", params={"from": "yesterday"})
    assert bad.status == 422
    detail = await (await client.get(f"/ui/market/notices/{by_holder}")).text()
    assert "Ana Holder" in detail and "ana@brand.example" in detail  # sealed contact opened
    assert detail.count("<td>valid</td>") == 2 and "<td>accepted</td>" in detail
    office.publish(revoke(office.list, 5))  # the office revokes the holder's credential
    assert (await client.post("/objects", json=office.document)).status == 201  # the new list arrives
    detail = await (await client.get(f"/ui/market/notices/{by_holder}")).text()
    assert detail.count("<td>valid</td>") == 1 and "<td>accepted</td>" not in detail
    assert "revoked" in detail
    assert (await client.get("/ui/market/notices/" + "0" * 64)).status == 404


async def test_decide_then_complaint_through_the_forms(market: tuple[TestClient, str, str]) -> None:
    client, by_holder, _ = market
    await login(client)
    page = await (await client.get(f"/ui/market/notices/{by_holder}")).text()
    assert "No decision yet" in page
    refused = await client.post(
        f"/ui/market/notices/{by_holder}/decision", data={"action": "restrict", "facts": "x", "csrf": "nope"}
    )
    assert refused.status == 403
    resp = await client.post(
        f"/ui/market/notices/{by_holder}/decision",
        data={"action": "restrict", "facts": "Listing removed: counterfeit goods.", "csrf": csrf_of(page)},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    page = await (await client.get(resp.headers["Location"])).text()
    assert "Decision published." in page and "Listing removed: counterfeit goods." in page
    assert "decided: restrict" in page
    admin = await client.get("/admin/notices", headers={"Authorization": f"Bearer {TOKEN}"})
    listed = {n["notice"]: n for n in (await admin.json())["notices"]}
    assert listed[by_holder]["outcome"] == "restrict"
    resp = await client.post(
        f"/ui/market/notices/{by_holder}/complaint",
        data={
            "decision": listed[by_holder]["decision"],
            "explanation": "Genuine goods, invoice attached.",
            "csrf": csrf_of(page),
        },
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    page = await (await client.get(resp.headers["Location"])).text()
    assert "Complaint recorded." in page and "from the seller" in page
    complaints = await (await client.get("/ui/market/complaints", params={"status": "open"})).text()
    assert by_holder[:12] in complaints
    again = await client.post(
        f"/ui/market/notices/{by_holder}/decision",
        data={"action": "sideways", "facts": "x", "csrf": csrf_of(page)},
    )
    assert again.status == 422


async def test_notice_path_is_counted_in_metrics(market: tuple[TestClient, str, str]) -> None:
    client, by_holder, _ = market
    await login(client)
    page = await (await client.get(f"/ui/market/notices/{by_holder}")).text()
    form = {"action": "no-action", "facts": "The listing is a genuine product.", "csrf": csrf_of(page)}
    assert (await client.post(f"/ui/market/notices/{by_holder}/decision", data=form)).status == 200
    text = await (await client.get("/metrics")).text()
    assert 'rightsmesh_objects_accepted_total{kind="notice",outcome="accepted",source="notice"} 2.0' in text
    assert 'rightsmesh_objects_accepted_total{kind="decision",outcome="accepted",source="notice"} 1.0' in text


async def test_inbox_status_and_right_filters(market: tuple[TestClient, str, str]) -> None:
    client, by_holder, by_flagger = market
    await login(client)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    listed = {
        n["notice"]: n for n in (await (await client.get("/admin/notices", headers=auth)).json())["notices"]
    }
    holder_right, flagger_right = listed[by_holder]["rights"][0], listed[by_flagger]["rights"][0]
    assert holder_right != flagger_right
    resp = await client.post(
        "/admin/decisions",
        headers=auth,
        json={"notice": by_holder, "action": "no-action", "decision_facts": "Examined: a genuine product."},
    )
    assert resp.status == 201, await resp.text()

    async def shown(**params: str) -> set[str]:
        html = await (await client.get("/ui/market/notices", params=params)).text()
        return {n for n in (by_holder, by_flagger) if n[:12] in html}

    assert await shown(status="open") == {by_flagger}
    assert await shown(status="decided") == {by_holder}
    assert await shown(status="no-action") == {by_holder}
    assert await shown(status="restrict") == set()
    assert await shown(right=holder_right) == {by_holder}
    assert await shown(right=flagger_right) == {by_flagger}
    assert await shown(right=holder_right, status="open") == set()
    assert await shown(right="urn:uuid:00000000-0000-4000-8000-000000000000") == set()
    assert (await client.get("/ui/market/notices", params={"status": "maybe"})).status == 422
