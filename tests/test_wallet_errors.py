"""Wallet refusals against nodes that answer wrongly (a small aiohttp server per case): each ends in a
WalletError with its code and leaves the wallet unchanged."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from node.wallet import Wallet, WalletError, ops
from protocol.keys import KeyPair
from protocol.messages import sign_message
from tests.node_fixtures import NOW
from tests.test_notices_api import FakeOffice, right_credential
from tests.test_wallet import HOLDER, SPEC

NODE_KEY = KeyPair.from_seed(bytes([51]) * 32)
OTHER = KeyPair.from_seed(bytes([52]) * 32)


class FakeNode:
    """Serves a node descriptor (signed by ``signer``, naming ``did`` and ``role``) and bad answers."""

    def __init__(
        self, role: str = "marketplace", signer: KeyPair = NODE_KEY, did: str = NODE_KEY.did
    ) -> None:
        self.role, self.signer, self.did = role, signer, did
        self.challenge_domain = OTHER.did
        self.app = web.Application()
        self.app.router.add_get("/.well-known/rightsmesh", self.descriptor)
        self.app.router.add_post("/enrol/challenge", self.challenge)
        self.app.router.add_post("/issuance/nonce", self.nonce)
        self.app.router.add_post("/issuance/credential", self.credential)
        self.app.router.add_post("/enrol", self.enrol)
        self.nonce_body: bytes = b"<html>maintenance</html>"
        self.issued: dict[str, Any] = {}

    async def descriptor(self, request: web.Request) -> web.Response:
        payload = {"created": NOW - 10, "did": self.did, "role": self.role, "name": "x", "endpoints": {}}
        return web.Response(body=sign_message(self.signer, "node-descriptor", payload))

    async def challenge(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"challenge": "c" * 22, "domain": self.challenge_domain, "expires": NOW + 60}
        )

    async def enrol(self, request: web.Request) -> web.Response:
        """An enrolment "result" signed by another key than the marketplace's."""
        receipt = sign_message(OTHER, "test", {"created": NOW})
        encoded = base64.urlsafe_b64encode(receipt).rstrip(b"=").decode()
        return web.json_response({"enrolment": "urn:uuid:1", "receipt": encoded}, status=201)

    async def nonce(self, request: web.Request) -> web.Response:
        return web.Response(body=self.nonce_body, content_type="text/html")

    async def credential(self, request: web.Request) -> web.Response:
        return web.json_response(self.issued, status=201)


@pytest.fixture
async def served(aiohttp_server: Any) -> Any:
    async def start(node: FakeNode) -> str:
        server = await aiohttp_server(node.app)
        return str(server.make_url("")).rstrip("/")

    return start


async def _code(coro: Any) -> str:
    with pytest.raises(WalletError) as exc:
        await coro
    return exc.value.code


async def test_descriptor_refusals(served: Any, tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "w", key=HOLDER)
    async with aiohttp.ClientSession() as session:
        forged = await served(FakeNode(signer=OTHER))  # names NODE_KEY, signed by another key
        assert await _code(ops.describe(session, forged, NOW)) == "wallet.descriptor"
        assert await _code(ops.enrol(wallet, session, forged, NOW)) == "wallet.descriptor"
        missing = await served(FakeNode())
        assert await _code(ops.describe(session, missing + "/nowhere", NOW)) == "wallet.descriptor"
        office_node = await served(FakeNode(role="office"))
        assert (
            await _code(ops.notify(wallet, session, SPEC, [office_node], NOW)) == "wallet.not-a-marketplace"
        )
    assert list(wallet.signed("notices", NOW)) == [] and wallet.marketplaces() == {}


async def test_enrol_refusals(served: Any, tmp_path: Path) -> None:
    office = FakeOffice()
    office.url = "http://127.0.0.1:9/status/1"
    wallet = Wallet.create(tmp_path / "w", key=HOLDER)
    node = FakeNode()
    url = await served(node)
    async with aiohttp.ClientSession() as session:
        assert await _code(ops.enrol(wallet, session, url, NOW)) == "wallet.no-credentials"
        wallet.add_credential(right_credential(office))
        # the challenge names another marketplace than the descriptor: no presentation is sent to it
        assert await _code(ops.enrol(wallet, session, url, NOW)) == "wallet.wrong-domain"
        node.challenge_domain = NODE_KEY.did
        assert await _code(ops.enrol(wallet, session, url, NOW)) == "wallet.bad-receipt"
    assert wallet.enrolments() == []


async def test_redeem_refusals(served: Any, tmp_path: Path) -> None:
    office = FakeOffice()
    office.url = "http://127.0.0.1:9/status/1"
    wallet = Wallet.create(tmp_path / "w", key=HOLDER)
    node = FakeNode(role="office")
    url = await served(node)
    async with aiohttp.ClientSession() as session:
        assert await _code(ops.redeem(wallet, session, url, "code", NOW)) == "wallet.bad-answer"
        # the nonce's audience is NODE_KEY, the credential is issued by OFFICE
        node.nonce_body = json.dumps({"c_nonce": "n" * 22, "audience": NODE_KEY.did}).encode()
        node.issued = right_credential(office)
        assert await _code(ops.redeem(wallet, session, url, "code", NOW)) == "wallet.wrong-issuer"
        node.issued = right_credential(office, holder=OTHER.did)
        assert await _code(ops.redeem(wallet, session, url, "code", NOW)) == "wallet.not-mine"
    assert wallet.rights() == []
    with pytest.raises(WalletError) as exc:
        ops.import_credential(wallet, [right_credential(office)], NOW)
    assert exc.value.code == "wallet.not-a-credential" and wallet.rights() == []


def test_export_to_an_unwritable_file_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from node.cli import main

    office = FakeOffice()
    office.url = "http://127.0.0.1:9/status/1"
    wallet = Wallet.create(tmp_path / "w", key=HOLDER)
    document = right_credential(office)
    wallet.add_credential(document)
    args = ["wallet", "export", "--dir", str(wallet.dir), "--credential", document["id"]]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == document
    assert main([*args, "--out", str(tmp_path / "no-such-dir" / "right.json")]) == 2
    assert "config.write" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "right.json")]) == 0
    assert json.loads((tmp_path / "right.json").read_text()) == document
