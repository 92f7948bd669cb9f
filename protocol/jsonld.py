"""Offline JSON-LD: the document loader for the shipped contexts, input limits, and bounded RDFC-1.0.

Nothing is ever fetched: :func:`document_loader` answers only for the context URLs listed in
``protocol/contexts/index.json`` (read once with :mod:`importlib.resources`); any other URL is
``unsupported.context``.

JSON-LD processing of untrusted documents is bounded in three places, because pyld itself has no limits:

* :func:`check_json` walks the parsed document before anything else and refuses non-JSON values, more than
  ``max_depth`` levels of nesting (pyld recurses once per level), more than ``max_items`` values and more
  than ``max_bytes`` of keys and strings (expansion is linear in these).
* :func:`canonize` counts the quads and blank nodes that expansion produced before canonicalising, and
* runs RDFC-1.0 (URDNA2015) with a work budget: the Hash N-Degree Quads step is exponential in the number
  of blank nodes that look alike (each permutation of a group is tried), so a crafted "poison" graph of a
  few dozen symmetric blank nodes can take minutes. Every permutation step consults the canonical issuer,
  so counting those calls bounds the work; real credentials need a few dozen, the budget is 20,000.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from cachetools import LRUCache  # type: ignore[import-untyped,unused-ignore]
from pyld import jsonld  # type: ignore[import-untyped,unused-ignore]
from pyld.canon import URDNA2015  # type: ignore[import-untyped,unused-ignore]
from pyld.context_resolver import ContextResolver  # type: ignore[import-untyped,unused-ignore]
from pyld.identifier_issuer import IdentifierIssuer  # type: ignore[import-untyped,unused-ignore]

from .errors import DecodeError, ProtocolError, SchemaError, UnsupportedError

#: Vocabularies that only catch terms nobody defined; an IRI in them means "undefined term".
UNDEFINED_VOCABS = (
    "https://www.w3.org/ns/credentials/issuer-dependent#",
    "https://www.w3.org/ns/credentials/undefined-term#",
)


@dataclass(frozen=True)
class DocumentLimits:
    """Bounds on a JSON-LD document before any JSON-LD processing (see the module docstring)."""

    max_bytes: int = 262_144
    max_depth: int = 32
    max_items: int = 10_000
    max_quads: int = 2_048
    max_blank_nodes: int = 256
    max_canon_work: int = 20_000


DEFAULT_LIMITS = DocumentLimits()


# --------------------------------------------------------------------------------------------------------
# document loader


@cache
def _index() -> dict[str, str]:
    raw = resources.files("protocol.contexts").joinpath("index.json").read_text(encoding="utf-8")
    index = json.loads(raw)
    if not isinstance(index, dict):  # pragma: no cover - shipped data
        raise TypeError("protocol/contexts/index.json must map URLs to file names")
    return {str(k): str(v) for k, v in index.items()}


@cache
def _load(url: str) -> dict[str, Any]:
    name = _index()[url]
    text = resources.files("protocol.contexts").joinpath(name).read_text(encoding="utf-8")
    document = json.loads(text)
    if not isinstance(document, dict):  # pragma: no cover - shipped data
        raise TypeError(f"context file {name} is not a JSON object")
    return document


def context_urls() -> frozenset[str]:
    """The context URLs this build ships (and the only ones it will ever load)."""
    return frozenset(_index())


def context_document(url: str) -> Mapping[str, Any]:
    """The parsed, shared (do not mutate) context document for a shipped URL."""
    if not isinstance(url, str) or url not in _index():
        raise UnsupportedError("unsupported.context", f"context {str(url)[:200]!r} is not shipped")
    return _load(url)


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """pyld-shaped RemoteDocument for a shipped context; any other URL is ``unsupported.context``."""
    # tag "static": the shipped files never change, so pyld's resolver may keep the resolved context in
    # its shared cache (without a tag it fetched, copied and re-canonicalised each context on every call)
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(context_document(url)),
            "tag": "static"}


# --------------------------------------------------------------------------------------------------------
# limits on the JSON value


def check_json(value: Any, limits: DocumentLimits = DEFAULT_LIMITS) -> None:
    """Refuse anything that is not plain JSON within the limits (iteratively: no recursion to exhaust)."""
    items = 0
    size = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        items += 1
        if items > limits.max_items:
            raise DecodeError("decode.too-large", f"more than {limits.max_items} JSON values")
        if depth > limits.max_depth:
            raise DecodeError("decode.too-deep", f"nested deeper than {limits.max_depth} levels")
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, dict) or (depth == 1 and isinstance(item, Mapping)):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise DecodeError("decode.json", "object keys must be strings")
                size += len(key) + 4
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            size += 2
            stack.extend((child, depth + 1) for child in item)
        elif item is None or isinstance(item, bool | int):
            size += 8
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise DecodeError("decode.json", "numbers must be finite")
            size += 8
        else:
            raise DecodeError("decode.json", f"{type(item).__name__} is not a JSON value")
        if size > limits.max_bytes:
            raise DecodeError("decode.too-large", f"larger than {limits.max_bytes} bytes")


# --------------------------------------------------------------------------------------------------------
# pyld wrappers


_CONTEXT_CACHE: Any = LRUCache(maxsize=64)


def _options(**extra: Any) -> dict[str, Any]:
    return {
        "base": "",
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_CONTEXT_CACHE, document_loader),
        "extractAllScripts": True,
        "processingMode": "json-ld-1.1",
        **extra,
    }


def _refuse_dropped(expanded_property: str | None) -> None:
    raise SchemaError(
        "schema.undefined-term",
        f"property {expanded_property!r} is not defined by the contexts and would be dropped",
    )


def _protocol_cause(exc: BaseException) -> ProtocolError | None:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 32:
        if isinstance(current, ProtocolError):
            return current
        nxt = getattr(current, "cause", None)
        current = nxt if isinstance(nxt, BaseException) else current.__cause__ or current.__context__
        seen += 1
    return None


def _run(fn: Callable[[], Any]) -> Any:
    """Run a pyld call, turning every failure into a typed error."""
    try:
        return fn()
    except ProtocolError:
        raise
    except RecursionError:
        raise DecodeError("decode.too-deep", "document nested too deeply for JSON-LD processing") from None
    except Exception as exc:  # pyld raises JsonLdError but also plain TypeError/KeyError on odd input
        cause = _protocol_cause(exc)
        if cause is not None:
            raise cause from None
        raise SchemaError("schema.jsonld", f"not valid JSON-LD: {str(exc).splitlines()[0][:300]}") from None


_PYLD_BASE = str(getattr(jsonld, "DEFAULT_BASE_IRI", "http://example.org/base/"))


def _absolute(iri: str) -> bool:
    """Absolute, and not a relative reference pyld resolved against its placeholder base IRI (pyld 3
    resolves relative IRIs against ``http://example.org/base/`` where JavaScript processors drop them)."""
    return bool(jsonld._is_absolute_iri(iri)) and not iri.startswith(_PYLD_BASE)


def _refused_iri(iri: str) -> bool:
    return iri.startswith(UNDEFINED_VOCABS)


def _check_expanded(expanded: Any) -> None:
    """Refuse what expansion keeps but RDF conversion silently drops, and undefined-vocabulary IRIs."""
    stack: list[Any] = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        is_value = "@value" in item
        for key, child in item.items():
            if key == "@id":
                if not isinstance(child, str) or not (child.startswith("_:") or _absolute(child)):
                    raise SchemaError("schema.relative-iri", f"identifier {str(child)[:200]!r} is relative")
                if _refused_iri(child):
                    raise SchemaError("schema.undefined-term", f"{child[:200]!r} is an undefined term")
            elif key == "@type":
                for t in child if isinstance(child, list) else [child]:
                    if not isinstance(t, str):
                        continue
                    if t == "@json" and is_value:
                        break
                    if _refused_iri(t) or not (t.startswith("_:") or _absolute(t)):
                        raise SchemaError("schema.undefined-term", f"type {t[:200]!r} is not defined")
            elif key == "@value":
                continue
            elif not key.startswith("@"):
                if key.startswith("_:") or _refused_iri(key):
                    raise SchemaError("schema.undefined-term", f"property {key[:200]!r} is not defined")
                stack.append(child)
            else:
                stack.append(child)


def expand_checked(document: Mapping[str, Any]) -> Any:
    """pyld expansion that refuses every undefined term (dropped, or caught by an undefined vocabulary)."""
    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    expanded = _run(lambda: processor.expand(dict(document), _options()))
    _check_expanded(expanded)
    return expanded


class _WorkBudget(IdentifierIssuer):  # type: ignore[misc]
    """The canonical issuer, counting the lookups the permutation loop makes (see module docstring)."""

    def __init__(self, prefix: str, budget: int) -> None:
        super().__init__(prefix)
        self.budget = budget

    def has_id(self, old: str) -> bool:
        self.budget -= 1
        if self.budget < 0:
            raise SchemaError("schema.canonicalization", "RDF canonicalisation exceeded its work budget")
        return bool(super().has_id(old))


class _BoundedURDNA2015(URDNA2015):  # type: ignore[misc]
    def __init__(self, budget: int) -> None:
        super().__init__()
        self.canonical_issuer = _WorkBudget("_:c14n", budget)


def _count_dataset(dataset: Mapping[str, Any], limits: DocumentLimits) -> None:
    quads = 0
    blanks: set[str] = set()
    for graph_name, triples in dataset.items():
        if graph_name.startswith("_:"):
            blanks.add(graph_name)
        quads += len(triples)
        for triple in triples:
            for position in ("subject", "object"):
                term = triple[position]
                if term["type"] == "blank node":
                    blanks.add(term["value"])
    if quads > limits.max_quads:
        raise SchemaError("schema.canonicalization", f"more than {limits.max_quads} RDF statements")
    if len(blanks) > limits.max_blank_nodes:
        raise SchemaError("schema.canonicalization", f"more than {limits.max_blank_nodes} blank nodes")


def canonize(document: Mapping[str, Any], limits: DocumentLimits = DEFAULT_LIMITS) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document, offline and bounded.

    Same result as ``jsonld.normalize(doc, {'algorithm': 'URDNA2015', 'format': 'application/n-quads'})``
    (which runs exactly these two steps), with the limits checked in between. Dropped terms are refused.
    """
    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    dataset = _run(lambda: processor.to_rdf(dict(document), _options(produceGeneralizedRdf=False)))
    _count_dataset(dataset, limits)
    result = _run(
        lambda: _BoundedURDNA2015(limits.max_canon_work).main(dataset, {"format": "application/n-quads"})
    )
    if not isinstance(result, str):  # pragma: no cover - pyld contract
        raise SchemaError("schema.canonicalization", "canonicalisation produced no N-Quads")
    return result
