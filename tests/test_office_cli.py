"""``rightsmesh office`` commands on a node directory: import (idempotent, rejected lines), offer, revoke."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.cli import main
from node.office import store
from node.storage.db import open_database

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "specs" / "examples" / "register-em.csv"


@pytest.fixture
def office(tmp_path: Path) -> Path:
    directory = tmp_path / "office"
    assert main(["init", "--role", "office", "--name", "EM Office", "--dir", str(directory)]) == 0
    return directory


def test_import_is_idempotent_and_reports_rejects(
    office: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["office", "import", "--dir", str(office), str(SAMPLE), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["inserted"] == first["accepted"] == 300 and first["rejected"] == 0
    assert (
        main(
            [
                "office",
                "import",
                "--dir",
                str(office),
                str(ROOT / "specs/examples/register-em.json"),
                "--json",
            ]
        )
        == 0
    )
    second = json.loads(capsys.readouterr().out)
    assert second["unchanged"] == 300 and second["inserted"] == second["updated"] == 0
    lines = SAMPLE.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    changed = lines[1].replace(",registered,", ",alive,")
    bad.write_text("\n".join([lines[0], changed, lines[2].replace("EM,", "EM,", 1)]) + "\n")
    assert main(["office", "import", "--dir", str(office), str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    assert f"{bad}:2: rejected: schema.vocabulary" in captured.err
    assert json.loads(captured.out)["rejected"] == 1


def test_offer_and_revoke(office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["office", "import", "--dir", str(office), str(SAMPLE)]) == 0
    capsys.readouterr()
    assert main(["office", "offer", "--dir", str(office), "--number", "018003578", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["right"] == "EM:018003578" and len(created["code"]) == 25
    assert main(["office", "offer", "--dir", str(office), "--number", "000000000"]) == 2
    assert "office.unknown-right" in capsys.readouterr().err
    assert main(["office", "revoke", "--dir", str(office), "--credential", "urn:uuid:none"]) == 2
    assert "office.unknown-credential" in capsys.readouterr().err
    db = open_database(office / "node.db")
    try:
        assert [o.id for o in store.list_offers(db)] == [created["offer"]]
    finally:
        db.close()


@pytest.mark.parametrize(
    ("init_args", "redeem_at"),
    [
        ([], "http://127.0.0.1:8470/issuance/credential"),
        (["--public-url", "https://em.example/"], "https://em.example/issuance/credential"),
        (["--listen", "127.0.0.1:0"], "<the office's URL>/issuance/credential"),  # port picked at run
    ],
)
def test_offer_says_where_to_redeem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], init_args: list[str], redeem_at: str
) -> None:
    directory = tmp_path / "office"
    assert main(["init", "--role", "office", "--name", "EM", "--dir", str(directory), *init_args]) == 0
    assert main(["office", "import", "--dir", str(directory), str(SAMPLE)]) == 0
    capsys.readouterr()
    assert main(["office", "offer", "--dir", str(directory), "--number", "018003578"]) == 0
    out = capsys.readouterr().out
    assert f"redeem at {redeem_at} (send the code" in out
    assert "the office/issuance" not in out


def test_import_refuses_a_marketplace_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "market"
    assert main(["init", "--role", "marketplace", "--name", "M", "--dir", str(directory)]) == 0
    assert main(["office", "import", "--dir", str(directory), str(SAMPLE)]) == 2
    assert "config.role" in capsys.readouterr().err


def test_import_shows_progress_on_large_files(
    office: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys

    out = tmp_path / "big"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_register.py"), "--count", "1200", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert main(["office", "import", "--dir", str(office), str(out / "register-em.csv"), "--json"]) == 0
    captured = capsys.readouterr()
    assert "imported 500/1200" in captured.err and "imported 1200/1200" in captured.err
    assert json.loads(captured.out)["inserted"] == 1200


def test_import_finds_and_revokes_lapsed_credentials(
    office: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from node.keystore import load_key
    from node.office import issue
    from node.storage.db import transaction
    from protocol.keys import KeyPair

    assert main(["office", "import", "--dir", str(office), str(SAMPLE)]) == 0
    db = open_database(office / "node.db")
    try:
        with transaction(db):
            credential = issue.issue_credential(
                load_key(office / "node.key"),
                "http://office.example",
                db,
                "EM:018003578",
                KeyPair.from_seed(bytes(32)).did,
                1_790_000_000,
            )
    finally:
        db.close()
    lines = SAMPLE.read_text().splitlines()
    cancelled = tmp_path / "update.csv"
    cancelled.write_text(lines[0] + "\n" + lines[1].replace(",registered,", ",cancelled,") + "\n")
    capsys.readouterr()
    assert main(["office", "import", "--dir", str(office), str(cancelled), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["lapsed_credentials"] == 1 and "still valid" in captured.err
    assert main(["office", "import", "--dir", str(office), str(cancelled), "--json", "--revoke-lapsed"]) == 0
    assert json.loads(capsys.readouterr().out)["revoked"] == 1
    db = open_database(office / "node.db")
    try:
        assert store.list_credentials(db)[0]["id"] == credential["id"]
        assert store.list_credentials(db)[0]["revoked_at"] is not None
        assert store.status_list_row(db, "1")["version"] == 2
    finally:
        db.close()


def test_market_commands_on_the_wrong_role_and_an_oversized_profile(
    office: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = ROOT / "specs" / "examples" / "marketplace-profile.json"
    for argv in (["market", "enrolments", "--dir", str(office)],
                 ["market", "profile", "--dir", str(office), str(profile)]):
        assert main(argv) == 2
        assert "is an office node, not a marketplace" in capsys.readouterr().err
    market = tmp_path / "market"
    assert main(["init", "--role", "marketplace", "--name", "M", "--dir", str(market)]) == 0
    huge = tmp_path / "huge.json"
    huge.write_text('{"programme": "' + "x" * (64 * 1024) + '"}')
    assert main(["market", "profile", "--dir", str(market), str(huge)]) == 2
    assert "larger than 65536 bytes" in capsys.readouterr().err
    assert main(["market", "enrolments", "--dir", str(market)]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["office", "credentials", "--dir", str(market)]) == 2
    assert "is a marketplace node, not an office" in capsys.readouterr().err
