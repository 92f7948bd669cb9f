"""The offline JSON-LD layer: shipped contexts only, and bounded RDFC-1.0 equal to pyld's normalize."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from protocol import jsonld
from protocol.errors import ProtocolError

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "contexts"
V2 = "https://www.w3.org/ns/credentials/v2"


def test_index_lists_existing_files() -> None:
    index = json.loads((ROOT / "protocol" / "contexts" / "index.json").read_text(encoding="utf-8"))
    assert V2 in index
    for url, name in index.items():
        document = jsonld.document_loader(url)
        assert document["documentUrl"] == url and document["contextUrl"] is None
        assert document["document"] == json.loads((ROOT / "protocol" / "contexts" / name).read_text("utf-8"))
    assert jsonld.context_urls() == frozenset(index)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared W3C contexts not present")
def test_w3c_contexts_are_unchanged_copies() -> None:
    for source in SHARED.glob("*.jsonld"):
        assert (ROOT / "protocol" / "contexts" / source.name).read_bytes() == source.read_bytes()


def test_loader_returns_copies() -> None:
    first = jsonld.document_loader(V2)
    first["document"]["@context"]["name"] = "https://evil.example/name"
    assert jsonld.document_loader(V2)["document"]["@context"]["name"] == "https://schema.org/name"


@pytest.mark.parametrize("url", ["https://example.org/ctx", "https://www.w3.org/2018/credentials/v1",
                                 "http://www.w3.org/ns/credentials/v2", "", None, 5])
def test_other_urls_are_refused(url: Any) -> None:
    with pytest.raises(ProtocolError) as info:
        jsonld.document_loader(url)
    assert info.value.code == "unsupported.context"


def _docs() -> list[dict[str, Any]]:
    vc = {"@context": [V2], "id": "urn:uuid:1", "type": ["VerifiableCredential"], "issuer": "did:example:i",
          "validFrom": "2025-01-01T00:00:00Z",
          "credentialSubject": [{"name": "a"}, {"name": "b", "description": "c"}],
          "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                               "statusListIndex": "7", "statusListCredential": "https://s.example/1"}}
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [vc, vc]}
    return [vc, vp]


@pytest.mark.parametrize("document", _docs())
def test_canonize_equals_pyld_normalize(document: dict[str, Any]) -> None:
    expected = pyld_jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                                "documentLoader": jsonld.document_loader})
    assert jsonld.canonize(document) == expected
    assert "_:c14n" in expected


def test_shipped_contexts_are_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The loader tags its documents "static", so pyld keeps each resolved context in the shared cache:
    # canonicalising again loads nothing (before, every call fetched and re-canonicalised each context).
    document = _docs()[0]
    first = jsonld.canonize(document)
    calls: list[str] = []
    original = jsonld.document_loader

    def counting(url: str, options: Any = None) -> dict[str, Any]:
        calls.append(url)
        return original(url, options)

    monkeypatch.setattr(jsonld, "document_loader", counting)
    assert jsonld.canonize(document) == first
    assert calls == []
    assert jsonld.document_loader(V2)["tag"] == "static"


def test_check_json_limits() -> None:
    limits = jsonld.DocumentLimits(max_bytes=100, max_depth=3, max_items=5)
    jsonld.check_json({"a": [1, "x"]}, limits)
    for value, code in [({"a": {"b": {"c": 1}}}, "decode.too-deep"), ([1, 2, 3, 4, 5], "decode.too-large"),
                        ("x" * 200, "decode.too-large"), ({1: 2}, "decode.json"),
                        ({"a": {1, 2}}, "decode.json"), (float("inf"), "decode.json"),
                        ({"a": MappingProxyType({})}, "decode.json"), ({"a": (1,)}, "decode.json")]:
        with pytest.raises(ProtocolError) as info:
            jsonld.check_json(value, limits)
        assert info.value.code == code
