"""Real ``rightsmesh`` processes: init via the CLI, run, publish, crash with kill -9, stop with SIGTERM."""

from __future__ import annotations

import hashlib
import signal
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from protocol.messages import verify_message
from protocol.trust_list import sign_trust_list
from tests.node_fixtures import NODE, ROOT
from tests.nodeproc import init_node, run_cli, start_node

pytestmark = pytest.mark.slow


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def signed_trust_list(sequence: int) -> bytes:
    now = int(time.time())
    entry = {
        "did": NODE.did,
        "role": "marketplace",
        "name": "Test Market",
        "jurisdiction": "EU",
        "valid_from": now - 60,
        "valid_until": now + 86400,
    }
    return sign_trust_list(ROOT, [entry], sequence=sequence, created=now - 5)


def test_acknowledged_object_survives_kill_9(tmp_path: Path) -> None:
    directory = init_node(tmp_path, "office", "Crash Office", trust_roots=[ROOT.did])
    raw = signed_trust_list(1)
    (tmp_path / "trust.cose").write_bytes(raw)
    node = start_node(directory)
    try:
        published = run_cli("publish", "--node", node.url, str(tmp_path / "trust.cose"))
        assert published.returncode == 0, published.stderr
        id_hex = published.stdout.strip()
        assert id_hex == hashlib.sha256(raw).hexdigest()
    finally:
        assert node.kill() == -9
    node = start_node(directory)
    try:
        status, body = fetch(f"{node.url}/objects/{id_hex}")
        assert status == 200 and body == raw
        again = run_cli("publish", "--node", node.url, str(tmp_path / "trust.cose"))
        assert again.returncode == 0 and again.stdout.strip() == id_hex
    finally:
        assert node.stop() == 0


def test_sigterm_shuts_down_cleanly(tmp_path: Path) -> None:
    directory = init_node(tmp_path, "marketplace", "Term Market", trust_roots=[ROOT.did])
    node = start_node(directory)
    status, descriptor = fetch(node.url + "/.well-known/rightsmesh")
    assert status == 200
    message = verify_message(descriptor, int(time.time()))
    assert message.payload["url"] == node.url and message.payload["role"] == "marketplace"
    (tmp_path / "t.cose").write_bytes(signed_trust_list(3))
    assert run_cli("publish", "--node", node.url, str(tmp_path / "t.cose")).returncode == 0
    assert node.stop() == 0
    assert "database closed" in node.stderr
    with sqlite3.connect(directory / "node.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT COUNT(*) FROM objects").fetchone() == (1,)


def test_publish_refused_object_prints_code(tmp_path: Path) -> None:
    directory = init_node(tmp_path, "office", "Refusing Office")  # no trust roots configured
    (tmp_path / "t.cose").write_bytes(signed_trust_list(1))
    (tmp_path / "junk.cbor").write_bytes(b"\x01\x02")
    node = start_node(directory)
    try:
        refused = run_cli("publish", "--node", node.url, str(tmp_path / "t.cose"))
        assert refused.returncode == 1 and refused.stdout.strip() == "validity.untrusted-root"
        junk = run_cli("publish", "--node", node.url, str(tmp_path / "junk.cbor"))
        assert junk.returncode == 1 and junk.stdout.strip().startswith("decode.")
    finally:
        assert node.stop() == 0
    missing = run_cli("publish", "--node", node.url, str(tmp_path / "t.cose"))
    assert missing.returncode == 2  # node gone: unusable


def test_init_refuses_to_overwrite_and_sets_modes(tmp_path: Path) -> None:
    directory = init_node(tmp_path, "office", "Mode Office")
    for name in ("node.key", "admin.token", "config.toml", "node.db"):
        assert (directory / name).stat().st_mode & 0o077 == 0, name
    before = (directory / "node.key").read_bytes()
    again = run_cli("init", "--role", "office", "--name", "X", "--dir", str(directory))
    assert again.returncode == 2 and "config.exists" in again.stderr
    assert (directory / "node.key").read_bytes() == before
    bad = run_cli(
        "init", "--role", "office", "--name", "X", "--dir", str(tmp_path / "b"), "--trust-root", "nope"
    )
    assert bad.returncode == 2 and "config.trust-root" in bad.stderr
    assert not (tmp_path / "b").exists()


def test_encrypted_key_needs_its_passphrase(tmp_path: Path) -> None:
    directory = init_node(tmp_path, "office", "Secret Office", passphrase="correct horse")
    assert b"argon2id" in (directory / "node.key").read_bytes()
    without = run_cli("run", "--dir", str(directory), "--listen", "127.0.0.1:0")
    assert without.returncode == 2 and "config.passphrase-required" in without.stderr
    wrong = run_cli(
        "run",
        "--dir",
        str(directory),
        "--listen",
        "127.0.0.1:0",
        "--passphrase-env",
        "PW",
        env={"PW": "wrong horse"},
    )
    assert wrong.returncode == 2 and "config.passphrase-wrong" in wrong.stderr
    node = start_node(directory, passphrase="correct horse")
    assert node.stop() == 0


def in_flight(url: str) -> float:
    """The node's ``rightsmesh_http_requests_in_flight`` gauge (this scrape counts itself)."""
    status, body = fetch(url + "/metrics")
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith("rightsmesh_http_requests_in_flight "):
            return float(line.split()[1])
    raise AssertionError("no rightsmesh_http_requests_in_flight in /metrics")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_finishes_an_in_flight_request(tmp_path: Path, sig: signal.Signals) -> None:
    directory = init_node(tmp_path, "office", f"Busy Office {sig.name}", trust_roots=[ROOT.did])
    node = start_node(directory)
    raw = signed_trust_list(1)
    host, port = node.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        head = (
            f"POST /objects HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/cose\r\n"
            f"Content-Length: {len(raw)}\r\nConnection: close\r\n\r\n"
        ).encode()
        conn.sendall(head + raw[:10])
        # Wait (bounded) until the node is handling it: in flight besides the /metrics request itself.
        # (An answered /healthz alone did not prove it: under load the signal could come first, and the
        # connection was then closed as idle, unanswered.)
        deadline = time.monotonic() + 20
        while in_flight(node.url) < 2:
            assert time.monotonic() < deadline, "the node never began handling the request"
            time.sleep(0.01)
        node.process.send_signal(sig)
        conn.sendall(raw[10:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert node.process.wait(30) == 0
    with sqlite3.connect(directory / "node.db") as db:
        assert db.execute("SELECT COUNT(*) FROM objects").fetchone() == (1,)
