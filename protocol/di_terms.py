"""Refuse JSON-LD terms the contexts do not define, fast enough to run on every credential verify.

Why: a property no context defines is dropped by JSON-LD expansion (so under ``eddsa-rdfc-2022`` it is
displayed but not signed), or, under a catch-all ``@vocab`` such as the W3C undefined-terms context,
becomes an IRI that means nothing. Either way a verifier would show a claim nobody defined. Both suites
refuse such documents with ``schema.undefined-term``; identifiers that stay relative (so RDF drops them)
are ``schema.relative-iri``.

How: running pyld expansion per verify costs milliseconds, too slow for ``eddsa-jcs-2022`` (target: thousands
of verifies a second). Instead each sequence of shipped context URLs is compiled once into a term table
(:class:`_Ctx`), including the type-scoped and property-scoped contexts the shipped files use, and cached;
then the JSON is walked following the JSON-LD 1.1 expansion rules that matter for term definition
(type-scoped contexts apply to the typed node only, property-scoped ones propagate, ``@type: @id`` and
``@type: @vocab`` values, ``@json`` literals). Anything outside that subset — inline contexts, ``@list``
and other keywords as keys, value objects, unusual term definitions — raises :class:`_Undecidable` and the
document is checked by real pyld expansion (:func:`protocol.jsonld.expand_checked`) with the same
refusals instead. ``tests/test_di_terms.py`` checks both paths agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import SchemaError
from .jsonld import UNDEFINED_VOCABS, context_document, expand_checked

_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")
_GEN_DELIMS = (":", "/", "?", "#", "[", "]", "@")
_SUPPORTED_TERM_KEYS = frozenset({"@id", "@type", "@container", "@context", "@protected"})
_SUPPORTED_CONTAINERS = frozenset({"@set", "@graph"})
_MEMO_LIMIT = 4096


class _Undecidable(Exception):
    """The fast path does not model this construct; use pyld."""


class _Term:
    __slots__ = ("container", "has_local", "iri", "local", "prefix", "protected", "signature", "type")

    def __init__(self, iri: str | None, type_: str | None, container: frozenset[str], has_local: bool,
                 local: Any, protected: bool, prefix: bool) -> None:
        self.iri = iri
        self.type = type_
        self.container = container
        self.has_local = has_local
        self.local = local
        self.protected = protected
        self.prefix = prefix
        local_sig = json.dumps(local, sort_keys=True) if has_local else None
        self.signature = (iri, type_, container, local_sig, prefix)


class _Ctx:
    """A compiled active context: term table, vocabulary mapping, previous context (type-scoped)."""

    __slots__ = ("memo", "previous", "terms", "vocab")

    def __init__(self, terms: dict[str, _Term], vocab: str | None, previous: _Ctx | None) -> None:
        self.terms = terms
        self.vocab = vocab
        self.previous = previous
        self.memo: dict[tuple[Any, ...], _Ctx] = {}


_EMPTY = _Ctx({}, None, None)
_memo_size = 0


def _derive(active: _Ctx, local: Any, *, propagate: bool = True, override_protected: bool = False) -> _Ctx:
    """Context processing, memoised per (active context, local context); local contexts are shipped data
    (URL strings, or objects inside the cached shipped documents, so their ``id`` is stable)."""
    global _memo_size
    if isinstance(local, list):
        if not all(isinstance(item, str) for item in local):
            raise _Undecidable
        key: tuple[Any, ...] = ("urls", *local, propagate, override_protected)
    elif isinstance(local, str):
        key = ("urls", local, propagate, override_protected)
    elif local is None or isinstance(local, dict):
        key = ("obj", id(local), propagate, override_protected)
    else:
        raise _Undecidable
    found = active.memo.get(key)
    if found is not None:
        return found
    result = _process(active, local, propagate, override_protected)
    if _memo_size < _MEMO_LIMIT:
        active.memo[key] = result
        _memo_size += 1
    return result


def _process(active: _Ctx, local: Any, propagate: bool, override_protected: bool) -> _Ctx:
    result = _Ctx(dict(active.terms), active.vocab, active.previous)
    if not propagate and result.previous is None:
        result.previous = active
    for item in local if isinstance(local, list) else [local]:
        if item is None:
            if not override_protected and any(t.protected for t in result.terms.values()):
                raise _Undecidable  # pyld refuses nullifying protected terms
            result = _Ctx({}, None, None if propagate else result)
            continue
        if isinstance(item, str):
            item = context_document(item).get("@context")  # unsupported.context for any other URL
            if isinstance(item, str | list):
                raise _Undecidable
        if not isinstance(item, dict):
            raise _Undecidable
        _apply(result, item, override_protected)
    return result


def _apply(result: _Ctx, ctx: dict[str, Any], override_protected: bool) -> None:
    default_protected = ctx.get("@protected", False)
    for key, value in ctx.items():
        if key == "@protected" or (key == "@version" and value == 1.1):
            continue
        if key == "@vocab":
            if value is not None and not (isinstance(value, str) and _ABSOLUTE_IRI.match(value)):
                raise _Undecidable
            result.vocab = value
            continue
        if key.startswith("@"):
            raise _Undecidable  # @base, @language, @import, @propagate, @direction, ...
        term = _define(result, key, value, default_protected)
        previous = result.terms.get(key)
        if previous is not None and previous.protected and not override_protected:
            if previous.signature != term.signature:
                raise _Undecidable  # pyld refuses the redefinition of a protected term
            continue
        result.terms[key] = term


def _define(result: _Ctx, key: str, value: Any, default_protected: Any) -> _Term:
    simple = isinstance(value, str)
    if value is None:
        return _Term(None, None, frozenset(), False, None, bool(default_protected), False)
    if simple:
        value = {"@id": value}
    if not isinstance(value, dict) or not set(value) <= _SUPPORTED_TERM_KEYS:
        raise _Undecidable
    iri = value.get("@id")
    if iri is None:
        if ":" in key or result.vocab is None:
            raise _Undecidable
        iri = result.vocab + key
    elif not isinstance(iri, str):
        raise _Undecidable
    elif iri in ("@id", "@type"):
        pass
    elif iri.startswith("@") or ":" not in iri or iri.split(":", 1)[0] in result.terms:
        raise _Undecidable
    type_ = value.get("@type")
    if type_ is not None and not (
        type_ in ("@id", "@vocab", "@json") or (isinstance(type_, str) and _ABSOLUTE_IRI.match(type_))
    ):
        raise _Undecidable
    container = value.get("@container", [])
    container = frozenset(container if isinstance(container, list) else [container])
    if not container <= _SUPPORTED_CONTAINERS:
        raise _Undecidable
    protected = value.get("@protected", default_protected)
    prefix = simple and iri.endswith(_GEN_DELIMS)
    return _Term(iri, type_, container, "@context" in value, value.get("@context"), bool(protected), prefix)


# --------------------------------------------------------------------------------------------------------
# IRI expansion (subset of the JSON-LD 1.1 IRI Expansion algorithm)


def _undefined(what: str, value: str) -> SchemaError:
    return SchemaError("schema.undefined-term", f"{what} {value[:200]!r} is not defined by the contexts")


def _expand_colon(ctx: _Ctx, value: str) -> str:
    prefix, _, suffix = value.partition(":")
    if prefix == "_" or suffix.startswith("//"):
        return value
    term = ctx.terms.get(prefix)
    if term is not None:
        if term.prefix and term.iri is not None:
            return term.iri + suffix
        raise _Undecidable
    if not _ABSOLUTE_IRI.match(value):
        raise _Undecidable
    return value


def _check_iri(iri: str, what: str, original: str) -> None:
    if iri.startswith(UNDEFINED_VOCABS):
        raise _undefined(what, original)


def _expand_vocab(ctx: _Ctx, value: str, what: str) -> str:
    """A property, type or ``@type: @vocab`` value: term, compact/absolute IRI, or vocabulary-relative."""
    term = ctx.terms.get(value)
    if term is not None:
        if term.iri is None:
            raise _undefined(what, value)
        if term.iri.startswith("@"):
            raise _Undecidable
        iri = term.iri
    elif ":" in value:
        iri = _expand_colon(ctx, value)
    elif value.startswith("@"):
        raise _Undecidable
    elif ctx.vocab is not None:
        iri = ctx.vocab + value
    else:
        raise _undefined(what, value)
    _check_iri(iri, what, value)
    return iri


def _check_id(ctx: _Ctx, value: Any) -> None:
    """An ``@id`` (document-relative): must end up an absolute IRI or a blank node identifier."""
    if not isinstance(value, str) or value.startswith("@"):
        raise _Undecidable
    iri = _expand_colon(ctx, value) if ":" in value else value
    if ":" not in iri:
        raise SchemaError("schema.relative-iri", f"identifier {value[:200]!r} is not an absolute IRI")
    _check_iri(iri, "identifier", value)


# --------------------------------------------------------------------------------------------------------
# the walk


def _keyword_of(ctx: _Ctx, key: str) -> str | None:
    if key.startswith("@"):
        return key
    term = ctx.terms.get(key)
    if term is not None and term.iri is not None and term.iri.startswith("@"):
        return term.iri
    return None


def _walk_node(node: dict[str, Any], ctx: _Ctx, prop: _Term | None) -> None:
    if ctx.previous is not None and not (len(node) == 1 and _keyword_of(ctx, next(iter(node))) == "@id"):
        ctx = ctx.previous  # type-scoped contexts do not reach nested nodes
    if prop is not None and prop.has_local:
        ctx = _derive(ctx, prop.local, override_protected=True)
    if "@context" in node:
        local = node["@context"]
        if not isinstance(local, str | list):
            raise _Undecidable  # inline contexts: only shipped ones are compiled (and memoised by identity)
        ctx = _derive(ctx, local)
    type_scoped = ctx
    keywords = {key: _keyword_of(ctx, key) for key in node}
    type_keys = [k for k, kw in keywords.items() if kw == "@type"]
    if len(type_keys) > 1 or sum(1 for kw in keywords.values() if kw == "@id") > 1:
        raise _Undecidable
    if type_keys:
        value = node[type_keys[0]]
        types = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in types):
            raise _Undecidable
        for t in types:
            _expand_vocab(type_scoped, t, "type")
        for t in sorted(types):
            term = type_scoped.terms.get(t)
            if term is not None and term.has_local:
                ctx = _derive(ctx, term.local, propagate=False)
    for key, value in node.items():
        keyword = keywords[key]
        if keyword is not None:
            if keyword == "@id":
                _check_id(ctx, value)
            elif keyword not in ("@context", "@type"):
                raise _Undecidable
            continue
        term = ctx.terms.get(key)
        if term is None:
            if _expand_vocab(ctx, key, "property").startswith("_:"):
                raise _undefined("property", key)
        elif term.iri is None or term.iri.startswith(("_:", *UNDEFINED_VOCABS)):
            raise _undefined("property", key)
        elif term.type == "@json":
            continue
        _walk_value(value, ctx, term, nested=False)


def _walk_value(value: Any, ctx: _Ctx, term: _Term | None, *, nested: bool) -> None:
    if isinstance(value, dict):
        if term is not None and term.has_local:
            # property-scoped context, applied to the caller's context and (again) after the revert
            ctx_for_node = _derive(ctx, term.local, override_protected=True)
        else:
            ctx_for_node = ctx
        if any(k.startswith("@") and k not in ("@context", "@id", "@type") for k in value):
            raise _Undecidable
        _walk_node(value, ctx_for_node, term)
    elif isinstance(value, list):
        if nested:
            raise _Undecidable
        for item in value:
            _walk_value(item, ctx, term, nested=True)
    elif isinstance(value, str) and term is not None and term.type in ("@id", "@vocab"):
        scoped = _derive(ctx, term.local, override_protected=True) if term.has_local else ctx
        if term.type == "@id":
            _check_id(scoped, value)
        elif value in scoped.terms or ":" in value or scoped.vocab is not None:
            _expand_vocab(scoped, value, "value")
        else:  # expansion resolves it against the (empty) base: a relative IRI that RDF drops
            raise SchemaError("schema.relative-iri", f"value {value[:200]!r} is no term nor absolute IRI")


def check_terms_fast(document: Mapping[str, Any]) -> None:
    """The compiled-table check alone; raises :class:`_Undecidable` when it cannot decide."""
    if not isinstance(document, dict):
        raise _Undecidable
    if any(k.startswith("@") and k not in ("@context", "@id", "@type") for k in document):
        raise _Undecidable
    _walk_node(document, _EMPTY, None)


def check_terms_pyld(document: Mapping[str, Any]) -> None:
    """The reference check: real JSON-LD expansion with the same refusals."""
    expand_checked(document)


def check_terms(document: Mapping[str, Any]) -> None:
    """Refuse undefined terms (``schema.undefined-term``) and relative identifiers (``schema.relative-iri``).

    Call :func:`protocol.jsonld.check_json` first: this assumes plain JSON within the limits.
    """
    try:
        check_terms_fast(document)
    except _Undecidable:
        check_terms_pyld(document)


Undecidable = _Undecidable
