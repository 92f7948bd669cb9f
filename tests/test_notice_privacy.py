"""The notifier's name and e-mail (DSA art. 16(2)(c)) reach only the marketplaces the notice is sealed to:
never in the signed bytes that gossip carries, never on a marketplace that was not chosen as a reader
(admin API, dashboard), never in the statement-of-reasons export or the public decision and match answers."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.test_notices_api import (
    AUTH,
    GTIN,
    HOLDER,
    OTHER_MARKET,
    FakeOffice,
    client,
    clock,
    decide,
    file_ok,
    notice,
    office,
    right_credential,
    store_credential,
)
from tests.test_ui import login

__all__ = ["client", "clock", "office"]  # pytest fixtures imported from test_notices_api

NAME, EMAIL = "Ana Holder", "ana@brand.example"


def _clear_of_contact(text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    assert NAME.encode() not in data and EMAIL.encode() not in data


async def test_contact_stays_with_the_chosen_readers(client: TestClient, office: FakeOffice) -> None:
    cred = right_credential(office)
    await store_credential(client, cred)
    # any marketplace may act on it, but only OTHER_MARKET may read the contact
    raw = notice(HOLDER, cred["id"], targets="any", recipients=[OTHER_MARKET.did])
    _clear_of_contact(raw)  # the signed bytes, as gossip forwards them
    notice_id = (await file_ok(client, raw))["notice"]

    listed = (await (await client.get("/admin/notices", headers=AUTH)).json())["notices"]
    assert [n["notice"] for n in listed] == [notice_id]
    assert set(listed[0]["contact"]) == {"error"} and listed[0]["contact"]["error"]
    _clear_of_contact(str(listed))

    await login(client)
    page = await (await client.get(f"/ui/market/notices/{notice_id}")).text()
    assert notice_id in page
    _clear_of_contact(page)
    _clear_of_contact(await (await client.get("/ui/market/notices")).text())

    await decide(client, notice_id)
    public: list[Any] = [
        await (await client.get("/decisions", params={"notice": notice_id})).read(),
        await (await client.get("/receipts", params={"notice": notice_id})).read(),
        await (await client.post("/match", json={"listings": [{"gtin": GTIN}]})).read(),
        await (await client.get("/admin/sor", headers=AUTH)).read(),
        await (await client.get("/metrics")).read(),
    ]
    assert notice_id in public[2].decode()  # the match found it
    for body in public:
        _clear_of_contact(body)
