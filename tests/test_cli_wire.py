"""CLI: key new, message sign and inspect, through node.cli.main(argv)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from node import keyfile
from node.cli import main
from node.errors import ConfigError
from protocol.keys import KeyPair
from protocol.messages import sign_message, verify_message

NOW_ISO = "2026-01-01T00:00:00Z"
NOW = 1767225600


def _new_key(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str = "k.json") -> tuple[Path, str]:
    path = tmp_path / name
    assert main(["key", "new", "--out", str(path)]) == 0
    did = capsys.readouterr().out.strip()
    return path, did


def test_key_new_writes_0600_file_and_prints_did(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, did = _new_key(tmp_path, capsys)
    assert did.startswith("did:key:z6Mk")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    body = json.loads(path.read_text())
    assert body["type"] == "Ed25519" and body["did"] == did
    assert keyfile.load_key(path).did == did


def test_key_new_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _new_key(tmp_path, capsys)
    before = path.read_bytes()
    assert main(["key", "new", "--out", str(path)]) == 2
    assert "config.exists" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_keyfile_rejects_mismatched_did(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    keyfile.save_key(path, KeyPair.from_seed(bytes(32)))
    body = json.loads(path.read_text())
    body["did"] = KeyPair.from_seed(bytes([1]) * 32).did
    path.write_text(json.dumps(body))
    with pytest.raises(ConfigError):
        keyfile.load_key(path)


def test_sign_then_inspect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, did = _new_key(tmp_path, capsys)
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"created": NOW, "note": "héllo", "n": [1, -2, {"x": None}]}))
    out = tmp_path / "m.cose"
    assert (
        main(["message", "sign", "--key", str(key), "--type", "notice", "--out", str(out), str(payload)]) == 0
    )
    message = verify_message(out.read_bytes(), NOW)
    assert message.signer == did and message.kind == "notice"

    assert main(["inspect", str(out), "--now", NOW_ISO]) == 0
    text = capsys.readouterr().out
    assert "valid" in text and did in text and message.id_hex in text and "héllo" in text

    assert main(["inspect", str(out), "--json", "--now", NOW_ISO]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    assert report["kind"] == "notice"
    assert report["signer"] == did
    assert report["id"] == message.id_hex
    assert report["created"] == NOW and report["created_iso"] == NOW_ISO
    assert report["payload"] == {"created": NOW, "note": "héllo", "n": [1, -2, {"x": None}]}


def test_sign_adds_created_and_writes_stdout(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    key = tmp_path / "k.json"
    keyfile.save_key(key, KeyPair.from_seed(bytes(32)))
    payload = tmp_path / "p.json"
    payload.write_text('{"note": "no created"}')
    assert main(["message", "sign", "--key", str(key), "--type", "test", str(payload)]) == 0
    data = capsysbinary.readouterr().out
    message = verify_message(data, 4_000_000_000 - 1, max_skew=4_000_000_000)
    assert message.created > NOW and message.payload["note"] == "no created"


def test_sign_with_an_encrypted_key(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    from node import keystore

    key = tmp_path / "k.enc"
    keystore.save_key(key, KeyPair.from_seed(bytes(32)), "correct horse")
    payload = tmp_path / "p.json"
    payload.write_text(f'{{"created": {NOW}}}')
    argv = ["message", "sign", "--key", str(key), "--type", "test", str(payload)]
    assert main(argv) == 2  # encrypted, no passphrase given
    assert b"config.passphrase-required" in capsysbinary.readouterr().err
    monkeypatch.setenv("RM_PASS", "correct horse")
    assert main([*argv, "--passphrase-env", "RM_PASS"]) == 0
    message = verify_message(capsysbinary.readouterr().out, NOW)
    assert message.signer == KeyPair.from_seed(bytes(32)).did


@pytest.mark.parametrize("body", ['{"x": 1.5}', "[1, 2]", "not json", '{"x": NaN}'])
def test_sign_refuses_bad_payload(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str) -> None:
    key = tmp_path / "k.json"
    keyfile.save_key(key, KeyPair.from_seed(bytes(32)))
    payload = tmp_path / "p.json"
    payload.write_text(body)
    assert main(["message", "sign", "--key", str(key), "--type", "test", str(payload)]) == 2
    assert "config.payload" in capsys.readouterr().err


def test_inspect_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = KeyPair.from_seed(bytes(32))
    expired = tmp_path / "expired.cose"
    expired.write_bytes(sign_message(key, "test", {"created": NOW - 100, "expires": NOW - 1}))
    assert main(["inspect", str(expired), "--now", NOW_ISO]) == 1
    captured = capsys.readouterr()
    assert "validity.expired" in captured.out and "validity.expired" in captured.err

    bad_sig = bytearray(sign_message(key, "test", {"created": NOW}))
    bad_sig[-1] ^= 1
    tampered = tmp_path / "tampered.cose"
    tampered.write_bytes(bytes(bad_sig))
    assert main(["inspect", str(tampered), "--json", "--now", NOW_ISO]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["error"] == "signature.invalid"

    truncated = tmp_path / "truncated.cose"
    truncated.write_bytes(sign_message(key, "test", {"created": NOW})[:-3])
    assert main(["inspect", str(truncated), "--now", NOW_ISO]) == 2
    assert "decode.truncated" in capsys.readouterr().err

    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"hello")
    assert main(["inspect", str(garbage)]) == 2
    assert "decode.unknown-format" in capsys.readouterr().err

    assert main(["inspect", str(tmp_path / "missing.cose")]) == 2
    assert main(["inspect", str(expired), "--now", "yesterday"]) == 2


def test_inspect_now_needs_a_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the same --now rules as credential verify: a date-time without zone is ambiguous
    message = tmp_path / "m.cose"
    message.write_bytes(sign_message(KeyPair.from_seed(bytes(32)), "test", {"created": NOW}))
    assert main(["inspect", str(message), "--now", "2026-01-01T00:00:00"]) == 2
    assert "config.time" in capsys.readouterr().err
    assert main(["inspect", str(message), "--now", "2026-01-01T01:00:00+01:00"]) == 0
