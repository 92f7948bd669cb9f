"""The wallet library and CLI: directory and key handling, authorisations, imports, notify and status
against an in-process marketplace (real app on a test server), and the refusals, each with its code."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from node.app import create_app
from node.errors import ConfigError
from node.wallet import NoticeSpec, Wallet, WalletError, ops
from protocol.authorisation import issue_authorisation_credential, make_authorisation
from protocol.keys import KeyPair
from protocol.messages import sign_message, verify_message
from protocol.notice import NoticeItem
from protocol.sealed import Contact
from protocol.trust_list import sign_trust_list
from protocol.verify import verify_credential
from tests.node_fixtures import NODE, NOW, ROOT, TOKEN, FakeClock, accreditation, make_config
from tests.nodeproc import run_cli
from tests.test_notices_api import OFFICE, FakeOffice, iso, office, right_credential

AGENT = KeyPair.from_seed(bytes([41]) * 32)
HOLDER = KeyPair.from_seed(bytes([32]) * 32)  # the subject of tests.test_notices_api.right_credential
SPEC = NoticeSpec(
    explanation="The listed sneakers bear our registered word mark but are not genuine.",
    items=(NoticeItem("https://shop.example/item/123", "123", "seller-9"),),
    contact=Contact("Ana Holder", "ana@brand.example"),
)
__all__ = ["office"]  # the pytest fixture of test_notices_api


@pytest.fixture
async def market(aiohttp_server: Any, tmp_path: Path) -> str:
    (tmp_path / "node").mkdir()
    app = create_app(make_config(tmp_path / "node", role="marketplace"), NODE, TOKEN, clock=FakeClock())
    server: TestServer = await aiohttp_server(app)
    entries = [accreditation(OFFICE, "office", "office"), accreditation(NODE, "marketplace", "marketplace")]
    trust = sign_trust_list(ROOT, entries, sequence=1, created=NOW - 60)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            str(server.make_url("/objects")), data=trust, headers={"Content-Type": "application/cose"}
        ) as resp,
    ):
        assert resp.status == 201
    return str(server.make_url("")).rstrip("/")


def holder_wallet(tmp_path: Path, office: FakeOffice) -> Wallet:
    wallet = Wallet.create(tmp_path / "holder", key=HOLDER)
    wallet.add_credential(right_credential(office))
    return wallet


def test_new_wallet_files_and_passphrase(tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "w", passphrase="correct horse")
    assert stat.S_IMODE((tmp_path / "w" / "wallet.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "w").stat().st_mode) == 0o700
    with pytest.raises(ConfigError) as exc:
        Wallet.create(tmp_path / "w")
    assert exc.value.code == "wallet.exists"
    with pytest.raises(ConfigError) as exc:
        Wallet.open(tmp_path / "w")
    assert exc.value.code == "config.passphrase-required"
    with pytest.raises(ConfigError) as exc:
        Wallet.open(tmp_path / "w", passphrase="wrong")
    assert exc.value.code == "config.passphrase-wrong"
    assert Wallet.open(tmp_path / "w", passphrase="correct horse").did == wallet.did
    with pytest.raises(ConfigError) as exc:
        Wallet.open(tmp_path / "nothing")
    assert exc.value.code == "wallet.missing"


def test_authorise_and_import(tmp_path: Path, office: FakeOffice) -> None:
    holder = holder_wallet(tmp_path, office)
    right = holder.rights()[0]["id"]
    with pytest.raises(WalletError) as exc:
        ops.authorise(holder, agent=AGENT.did, until="2099-01-01", now=NOW, rights=["urn:x:other"])
    assert exc.value.code == "wallet.unknown-right"
    grant = ops.authorise(holder, agent=AGENT.did, until="2099-01-01", now=NOW)
    assert grant["credentialSubject"]["authorisedRights"] == [right]
    assert grant["validUntil"] == "2099-01-01T23:59:59Z"
    assert verify_credential(grant, now=datetime.fromtimestamp(NOW, UTC)).valid
    agent = Wallet.create(tmp_path / "agent", key=AGENT)
    assert ops.import_credential(agent, grant, NOW) == "AgentAuthorisationCredential"
    assert ops.import_credential(agent, holder.rights()[0], NOW) == "IPRightCredential"
    assert [g["id"] for g in agent.authorisations(received=True)] == [grant["id"]]
    other = Wallet.create(tmp_path / "other")
    with pytest.raises(WalletError) as exc:
        ops.import_credential(other, grant, NOW)
    assert exc.value.code == "wallet.not-mine"
    tampered = json.loads(json.dumps(grant))
    tampered["credentialSubject"]["authorisedActions"] = ["notify"]
    with pytest.raises(WalletError) as exc:
        ops.import_credential(agent, tampered, NOW)
    assert exc.value.code == "signature.invalid"


async def test_notify_status_complain(tmp_path: Path, office: FakeOffice, market: str) -> None:
    holder = holder_wallet(tmp_path, office)
    async with aiohttp.ClientSession() as session:
        notice_id, deliveries = await ops.notify(holder, session, SPEC, [market], NOW)
        assert [d.error for d in deliveries] == [None]
        assert deliveries[0].marketplace == NODE.did and deliveries[0].receipt
        assert holder.marketplaces() == {NODE.did: market}
        status = ops.status(holder, NOW)
        assert [s.notice for s in status] == [notice_id] and status[0].outcomes == {}
        assert set(status[0].receipts) == {NODE.did}

        async with session.post(
            f"{market}/admin/decisions",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"notice": notice_id, "action": "restrict", "decision_facts": "Counterfeit goods, removed."},
        ) as resp:
            assert resp.status == 201, await resp.text()
            decision_id = (await resp.json())["decision"]
        assert await ops.refresh(holder, session, NOW) == 1
        assert await ops.refresh(holder, session, NOW) == 0  # nothing new
        outcome = ops.status(holder, NOW)[0].to_json()["marketplaces"][NODE.did]["outcome"]
        assert outcome == {
            "action": "restrict",
            "decision": decision_id,
            "superseded": [],
            "after_complaint": False,
        }

        complaint = await ops.complain(
            holder,
            session,
            decision_id=decision_id,
            now=NOW,
            explanation="Only part of the listings was removed; the others remain online.",
        )
        assert len(complaint) == 64
        with pytest.raises(WalletError) as exc:
            await ops.complain(holder, session, decision_id="0" * 64, now=NOW, explanation="x" * 30)
        assert exc.value.code == "wallet.unknown-decision"


async def test_notify_refusals(tmp_path: Path, office: FakeOffice, market: str) -> None:
    empty = Wallet.create(tmp_path / "empty")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(WalletError) as exc:
            await ops.notify(empty, session, SPEC, [market], NOW)
        assert exc.value.code == "wallet.unknown-right"
        with pytest.raises(WalletError) as exc:
            await ops.notify(empty, session, SPEC, [], NOW)
        assert exc.value.code == "wallet.no-marketplace"
        # an agent holding the right but no authorisation from its holder
        agent = Wallet.create(tmp_path / "agent", key=AGENT)
        agent.add_credential(right_credential(office))
        with pytest.raises(WalletError) as exc:
            await ops.notify(agent, session, SPEC, [market], NOW)
        assert exc.value.code == "wallet.no-authorisation"
        # an authorisation for another marketplace: the marketplace refuses, the wallet reports it
        grant = issue_authorisation_credential(
            HOLDER,
            make_authorisation(AGENT.did, [agent.rights()[0]["id"]], ["notify"], [AGENT.did]),
            created=iso(NOW - 10),
            valid_until=iso(NOW + 86400),
        )
        agent.add_credential(grant)
        _, deliveries = await ops.notify(agent, session, SPEC, [market], NOW)
        assert deliveries[0].error is not None
        assert deliveries[0].error.startswith("validity.notice.not-authorised")


def test_forged_answers_are_not_kept(tmp_path: Path, office: FakeOffice) -> None:
    holder = holder_wallet(tmp_path, office)
    rogue = KeyPair.from_seed(bytes([99]) * 32)
    forged = sign_message(rogue, "decision", {"created": NOW})
    assert ops._keep(holder, "decision", forged, bytes(32), NOW) == 0
    assert ops._keep(holder, "decision", b"\x00garbage", bytes(32), NOW) == 0
    assert list((tmp_path / "holder" / "decisions").iterdir()) == []


def test_notice_spec_from_json() -> None:
    spec = NoticeSpec.from_json(
        {
            "explanation": SPEC.explanation,
            "items": [{"url": "https://shop.example/1", "listing_id": 1}],
            "contact": {"name": "A", "email": "a@b.example"},
            "product": {"brand": "Acme", "phash": ["8f3c0000ffff1234"], "image_sha256": ["11" * 32]},
        }
    )
    assert spec.items[0].listing_id == "1" and spec.product.phashes == (0x8F3C0000FFFF1234,)
    with pytest.raises(WalletError) as exc:
        NoticeSpec.from_json({"items": []})
    assert exc.value.code == "wallet.notice-spec"
    with pytest.raises(WalletError) as exc:
        NoticeSpec.from_json({**{"explanation": "x", "items": []}, "evidence": ["zz"]})
    assert exc.value.code == "wallet.notice-spec"


def test_cli_new_list_and_errors(tmp_path: Path) -> None:
    directory = str(tmp_path / "w")
    created = run_cli("wallet", "new", "--dir", directory)
    assert created.returncode == 0, created.stderr
    did = json.loads(created.stdout)["did"]
    listed = run_cli("wallet", "list", "--dir", directory)
    assert listed.returncode == 0 and json.loads(listed.stdout)["did"] == did
    again = run_cli("wallet", "new", "--dir", directory)
    assert again.returncode == 2 and "wallet.exists" in again.stderr
    missing = run_cli("wallet", "list", "--dir", str(tmp_path / "none"))
    assert missing.returncode == 2 and "wallet.missing" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    imported = run_cli("wallet", "import", "--dir", directory, str(bad))
    assert imported.returncode == 2 and "wallet.file" in imported.stderr
    unreachable = run_cli("wallet", "enrol", "--dir", directory, "--marketplace", "http://127.0.0.1:9")
    assert unreachable.returncode == 2 and "wallet.unreachable" in unreachable.stderr


def test_cli_authorise_right_and_rights(
    tmp_path: Path, office: FakeOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--right`` (repeatable) and ``--rights`` (several at once, the issue's spelling) fill one list."""
    from node.cli import main

    holder = holder_wallet(tmp_path, office)
    first = holder.rights()[0]["id"]
    second = "urn:uuid:00000000-0000-4000-8000-00000000a002"
    holder.add_credential(right_credential(office, index=7, credential_id=second))
    base = ["wallet", "authorise", "--dir", str(holder.dir), "--agent", AGENT.did, "--until", "2099-01-01"]

    def granted(*extra: str) -> list[str]:
        capsys.readouterr()
        assert main([*base, *extra]) == 0, capsys.readouterr().err
        rights: list[str] = json.loads(capsys.readouterr().out)["credentialSubject"]["authorisedRights"]
        return rights

    both = sorted([first, second])  # the credential lists its rights sorted
    assert granted("--right", second) == [second]
    assert granted("--right", first, "--right", second) == both
    assert granted("--rights", second) == [second]
    assert granted("--rights", first, second) == both
    assert granted("--right", second, "--rights", first) == both
    assert granted() == both  # default: every right held
    assert main([*base, "--rights", first, "urn:x:other"]) == 2
    assert "wallet.unknown-right" in capsys.readouterr().err
    assert main([*base, "--rights"]) == 2  # argparse: at least one id


async def test_notifier_complaint_answered_by_a_superseding_decision(
    tmp_path: Path,
    office: FakeOffice,
    market: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Art. 20 from the notifier's side: notice, a no-action decision, the notifier's complaint signed by
    the wallet, the marketplace decides again naming the complaint; the wallet's outcome is the new one."""
    import asyncio

    from node.cli import main

    holder = holder_wallet(tmp_path, office)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:

        async def admin(method: str, path: str, **kw: Any) -> Any:
            async with session.request(method, market + path, headers=auth, **kw) as resp:
                assert resp.status in (200, 201), await resp.text()
                return await resp.json()

        async def open_complaints() -> list[dict[str, Any]]:
            complaints: list[dict[str, Any]] = (
                await admin("GET", "/admin/complaints", params={"status": "open"})
            )["complaints"]
            return complaints

        notice_id, _ = await ops.notify(holder, session, SPEC, [market], NOW)
        first = await admin(
            "POST",
            "/admin/decisions",
            json={"notice": notice_id, "action": "no-action", "decision_facts": "Examined: looks genuine."},
        )
        assert await ops.refresh(holder, session, NOW) == 1
        complaint = await ops.complain(
            holder,
            session,
            decision_id=first["decision"],
            now=NOW,
            explanation="The sneakers carry a misspelt mark and no serial; see the photos in the notice.",
        )
        opened = await open_complaints()
        assert [(c["complaint_id"], c["complainant"], c["decision_id"]) for c in opened] == [
            (complaint, "notifier", first["decision"])
        ]
        second = await admin(
            "POST",
            "/admin/decisions",
            json={
                "notice": notice_id,
                "action": "restrict",
                "decision_facts": "On the notifier's complaint: counterfeit goods, removed.",
                "complaint": complaint,
            },
        )
        assert second["supersedes"] == first["decision"]
        signed = verify_message(ops.b64url_decode(second["signed"]), NOW)
        assert signed.payload["complaint"] == bytes.fromhex(complaint)
        assert await open_complaints() == []  # answered

        assert await ops.refresh(holder, session, NOW) == 1
        outcome = ops.status(holder, NOW)[0].to_json()["marketplaces"][NODE.did]["outcome"]
        assert outcome == {
            "action": "restrict",
            "decision": second["decision"],
            "superseded": [first["decision"]],
            "after_complaint": True,
        }

        # the same through `rightsmesh wallet complain`: the notifier complains about the new decision's
        # scope (the CLI signs at wall-clock time; the marketplace's clock is fixed at NOW)
        monkeypatch.setattr("node.commands.wallet._now", lambda: NOW)
        base = ["wallet", "complain", "--dir", str(holder.dir)]
        capsys.readouterr()
        refused = await asyncio.to_thread(main, [*base, "--decision", "f" * 64, "--explanation", "x" * 40])
        assert refused == 2 and "wallet.unknown-decision" in capsys.readouterr().err
        short = await asyncio.to_thread(
            main, [*base, "--decision", second["decision"], "--explanation", "no"]
        )
        assert short == 2 and "schema.complaint.explanation-too-short" in capsys.readouterr().err
        assert len(await open_complaints()) == 0
        explanation = "Only listing 123 was removed; the seller relisted the same goods as 124."
        code = await asyncio.to_thread(
            main, [*base, "--decision", second["decision"], "--explanation", explanation]
        )
        out = capsys.readouterr()
        assert code == 0, out.err
        again = json.loads(out.out)["complaint"]
        assert [(c["complaint_id"], c["decision_id"]) for c in await open_complaints()] == [
            (again, second["decision"])
        ]


def _agent_wallet(tmp_path: Path, office: FakeOffice, name: str, marketplaces: list[str] | None) -> Wallet:
    """An agent holding the holder's right and an authorisation to notify (at ``marketplaces``, or any)."""
    agent = Wallet.create(tmp_path / name, key=AGENT)
    agent.add_credential(right_credential(office))
    grant = make_authorisation(AGENT.did, [agent.rights()[0]["id"]], ["notify"], marketplaces)
    agent.add_credential(
        issue_authorisation_credential(
            HOLDER, grant, created=iso(NOW - 10), valid_until=iso(NOW + 86400), credential_id=f"urn:x:{name}"
        )
    )
    return agent


async def test_notify_any_marketplace(
    tmp_path: Path,
    office: FakeOffice,
    market: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--any``: one notice every marketplace may act on; the named ones get the sealed contact."""
    import asyncio

    from node.cli import main
    from protocol.notice import ANY, parse_notice

    holder = holder_wallet(tmp_path, office)
    async with aiohttp.ClientSession() as session:
        notice_id, deliveries = await ops.notify(holder, session, SPEC, [market], NOW, any_marketplace=True)
        assert [(d.marketplace, d.error) for d in deliveries] == [(NODE.did, None)] and deliveries[0].receipt
        [sent] = list(holder.signed("notices", NOW))
        assert sent.id_hex == notice_id
        parsed = parse_notice(sent.payload)
        assert sent.payload["targets"] == ANY and parsed.recipients == (NODE.did,)
        assert parsed.any_target and parsed.is_target(AGENT.did)  # any marketplace, even one never named
        async with session.get(
            f"{market}/admin/notices", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as resp:
            inbox = {n["notice"]: n for n in (await resp.json())["notices"]}
        assert inbox[notice_id]["contact"] == {"name": "Ana Holder", "email": "ana@brand.example"}
        status = ops.status(holder, NOW)[0].to_json()
        assert status["marketplaces"][NODE.did]["receipt"] == deliveries[0].receipt
        assert status["targets"] == "any" and status["contact_readers"] == [NODE.did]

        # an agent authorised for named marketplaces only may not target any: the marketplace refuses
        named = _agent_wallet(tmp_path, office, "named", [NODE.did])
        _, ok = await ops.notify(named, session, SPEC, [market], NOW)
        assert ok[0].error is None
        _, refused = await ops.notify(named, session, SPEC, [market], NOW, any_marketplace=True)
        assert refused[0].error is not None
        assert refused[0].error.startswith("validity.notice.not-authorised")
        # an authorisation without a marketplace list covers any
        anywhere = _agent_wallet(tmp_path, office, "anywhere", None)
        _, ok = await ops.notify(anywhere, session, SPEC, [market], NOW, any_marketplace=True)
        assert ok[0].error is None and ok[0].receipt

    # the CLI: `rightsmesh wallet notify --any` (exit 0), and the named-only agent's refusal (exit 1)
    monkeypatch.setattr("node.commands.wallet._now", lambda: NOW)
    spec_file = tmp_path / "notice.json"
    spec_file.write_text(
        json.dumps(
            {
                "explanation": SPEC.explanation,
                "items": [{"url": "https://shop.example/item/777", "listing_id": "777"}],
                "contact": {"name": "Ana Holder", "email": "ana@brand.example"},
            }
        )
    )
    capsys.readouterr()
    argv = ["wallet", "notify", "--marketplace", market, "--any", str(spec_file)]
    code = await asyncio.to_thread(main, [*argv[:2], "--dir", str(holder.dir), *argv[2:]])
    out = capsys.readouterr()
    assert code == 0, out.err
    answer = json.loads(out.out)
    assert [(d["marketplace"], d["error"]) for d in answer["deliveries"]] == [(NODE.did, None)]
    raw = (holder.dir / "notices" / f"{answer['notice']}.cose").read_bytes()
    assert verify_message(raw, NOW).payload["targets"] == ANY
    code = await asyncio.to_thread(main, [*argv[:2], "--dir", str(named.dir), *argv[2:]])
    out = capsys.readouterr()
    assert code == 1 and "validity.notice.not-authorised" in json.loads(out.out)["deliveries"][0]["error"]
