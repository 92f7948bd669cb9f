"""config.toml parsing and the passphrase-encrypted key file."""

from __future__ import annotations

from pathlib import Path

import nacl.pwhash
import pytest

from node import keyfile, keystore
from node.config import load_config, parse_listen, render_config
from node.errors import ConfigError
from tests.node_fixtures import NODE, ROOT, make_config

FAST = {"opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN, "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN}


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "config.toml").write_text(text)
    return tmp_path


def test_render_and_load_round_trip(tmp_path: Path) -> None:
    config = make_config(
        tmp_path.resolve(),
        role="office",
        name='Office "EM"',
        port=0,
        public_url="https://office.example",
        peers=("http://127.0.0.1:9000",),
        sqlite_synchronous="normal",
        key_encrypted=True,
    )
    write(tmp_path, render_config(config))
    assert load_config(tmp_path) == config
    assert config.url == "https://office.example"
    assert make_config(tmp_path, port=8).url == "http://127.0.0.1:8"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('role = "office"\nname = "x"\nhost = "h"\nport = 1\ncolour = "red"\n', "config.unknown-key"),
        ('role = "office"\nname = "x"\nhost = "h"\n', "config.missing-key"),
        ('role = "office"\nname = "x"\nhost = "h"\nport = "1"\n', "config.type"),
        ('role = "office"\nname = "x"\nhost = "h"\nport = true\n', "config.type"),
        ('role = "wallet"\nname = "x"\nhost = "h"\nport = 1\n', "config.role"),
        ('role = "office"\nname = " "\nhost = "h"\nport = 1\n', "config.name"),
        ('role = "office"\nname = "x"\nhost = "h"\nport = 70000\n', "config.port"),
        ('role = "office"\nname = "x"\nhost = "h"\nport = 1\nmax_body = 0\n', "config.range"),
        (
            'role = "office"\nname = "x"\nhost = "h"\nport = 1\ntrust_roots = ["did:web:x"]\n',
            "config.trust-root",
        ),
        ('role = "office"\nname = "x"\nhost = "h"\nport = 1\npeers = ["ftp://x"]\n', "config.peer"),
        ('role = "office"\nname = "x"\nhost = "h"\nport = 1\npeers = [1]\n', "config.type"),
        (
            'role = "office"\nname = "x"\nhost = "h"\nport = 1\nsqlite_synchronous = "off"\n',
            "config.sqlite-synchronous",
        ),
        ("role = office\n", "config.syntax"),
    ],
)
def test_bad_config(tmp_path: Path, text: str, code: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.code == code


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.code == "config.missing"


def test_trust_root_must_be_a_did_not_a_url(tmp_path: Path) -> None:
    text = f'role = "office"\nname = "x"\nhost = "h"\nport = 1\ntrust_roots = ["{ROOT.kid}"]\n'
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("value", "expected"), [("127.0.0.1:0", ("127.0.0.1", 0)), ("[::1]:80", ("::1", 80))]
)
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["127.0.0.1", ":80", "h:x", "h:99999"])
def test_parse_listen_refuses(value: str) -> None:
    with pytest.raises(ConfigError):
        parse_listen(value)


def test_encrypted_key_round_trip(tmp_path: Path) -> None:
    data = keystore.encrypt_key_bytes(keyfile.dump_key(NODE), NODE.did, "pass phrase", **FAST)
    assert keystore.is_encrypted(data) and NODE.private_multibase.encode() not in data
    assert keyfile.parse_key(keystore.decrypt_key_bytes(data, "pass phrase")) == NODE
    with pytest.raises(ConfigError) as info:
        keystore.decrypt_key_bytes(data, "pass phrasE")
    assert info.value.code == "config.passphrase-wrong"
    tampered = data.replace(b'"version": 1', b'"version": 2')
    with pytest.raises(ConfigError) as info:
        keystore.decrypt_key_bytes(tampered, "pass phrase")
    assert info.value.code == "config.key-format"


def test_save_and_load_key_files(tmp_path: Path) -> None:
    keystore.save_key(tmp_path / "plain.key", NODE)
    assert (tmp_path / "plain.key").stat().st_mode & 0o777 == 0o600
    assert keystore.load_key(tmp_path / "plain.key") == NODE
    assert keyfile.load_key(tmp_path / "plain.key") == NODE  # plain files stay helper A's format
    with pytest.raises(ConfigError) as info:
        keystore.save_key(tmp_path / "plain.key", NODE)
    assert info.value.code == "config.exists"
    (tmp_path / "enc.key").write_bytes(
        keystore.encrypt_key_bytes(keyfile.dump_key(NODE), NODE.did, "pw", **FAST)
    )
    with pytest.raises(ConfigError) as info:
        keystore.load_key(tmp_path / "enc.key")
    assert info.value.code == "config.passphrase-required"
    assert keystore.load_key(tmp_path / "enc.key", "pw") == NODE
    with pytest.raises(ConfigError) as info:
        keystore.load_key(tmp_path / "missing.key")
    assert info.value.code == "config.key-missing"


def test_passphrase_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RM_PW", "secret")
    monkeypatch.setenv("RM_EMPTY", "")
    monkeypatch.delenv("RM_NONE", raising=False)
    assert keystore.passphrase_from_env("RM_PW") == "secret"
    assert keystore.passphrase_from_env(None) is None
    for var, code in (("RM_EMPTY", "config.passphrase-empty"), ("RM_NONE", "config.passphrase-env")):
        with pytest.raises(ConfigError) as info:
            keystore.passphrase_from_env(var)
        assert info.value.code == code
