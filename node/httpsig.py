"""RFC 9421 HTTP Message Signatures on node-to-node requests (see ``specs/peers.md``).

A node signs each request to a peer with its Ed25519 node key. ``keyid`` is the node's did:key DID URL, so
the receiver gets the public key from the keyid itself: no lookup, no key distribution. The signature
covers the method, the authority, the path and the query, the RFC 9530 ``Content-Digest`` of the body
(always, even of an empty body) and ``Content-Type`` when the request has one; it carries ``created``,
``expires`` (a window of minutes), a random ``nonce`` (replay protection) and the application ``tag``.

The wire work (signature base, structured fields, digests) is done by the ``http-message-signatures``
library; this module fixes the policy: which components must be covered, which parameters are required,
the clock (passed in, never read here) and the nonce cache.
"""

from __future__ import annotations

import datetime
import heapq
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from multidict import CIMultiDict
from yarl import URL

from protocol.errors import ProtocolError, SignatureError
from protocol.keys import KeyPair, public_key_from_did, split_did_url

from .appkeys import CLOCK
from .problems import problem_response

SIGNATURE_LABEL = "peer"
SIGNATURE_TAG = "rightsmesh-peer"
ALGORITHM = "ed25519"
#: Components every peer request signature covers (plus ``content-type`` when the request has one).
REQUIRED_COMPONENTS = ("@method", "@authority", "@path", "@query", "content-digest")
#: Lifetime the signer gives a signature (``expires - created``), seconds.
DEFAULT_VALIDITY = 120
#: Longest lifetime a verifier accepts, seconds.
MAX_VALIDITY = 300
#: Clock difference tolerated between signer and verifier, seconds.
MAX_SKEW = 60
_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SIGNATURE_HEADERS = ("signature", "signature-input")


class HttpSignatureError(SignatureError):
    """A peer request is unsigned or badly signed; ``code`` is one of the ``httpsig.*`` codes."""


def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(seconds), tz=datetime.UTC)


class _Message:
    """The minimal request shape the library resolves components from."""

    def __init__(self, method: str, url: str, headers: Any) -> None:
        self.method = method
        self.url = url
        self.headers = headers


class DidKeyResolver(HTTPSignatureKeyResolver):
    """Resolves a did:key DID URL keyid to its Ed25519 key; signs only with the one key it was given."""

    def __init__(self, key: KeyPair | None = None) -> None:
        self._key = key

    def resolve_public_key(self, key_id: str) -> ed25519.Ed25519PublicKey:
        did, fragment = split_did_url(key_id)
        if not fragment:
            raise HttpSignatureError("httpsig.invalid", "keyid must be a did:key DID URL")
        try:
            return ed25519.Ed25519PublicKey.from_public_bytes(public_key_from_did(key_id))
        except ProtocolError as exc:
            detail = f"keyid does not name an Ed25519 did:key: {did}"
            raise HttpSignatureError("httpsig.invalid", detail) from exc

    def resolve_private_key(self, key_id: str) -> ed25519.Ed25519PrivateKey:
        if self._key is None or key_id != self._key.kid:
            raise HttpSignatureError("httpsig.invalid", "no private key for this keyid")
        return ed25519.Ed25519PrivateKey.from_private_bytes(self._key.seed)


def _new_nonce() -> str:
    return secrets.token_urlsafe(16)


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: KeyPair,
    now: float,
    *,
    nonce: str | None = None,
    validity: int = DEFAULT_VALIDITY,
) -> dict[str, str]:
    """Headers to add to a peer request: Content-Digest, Content-Type (if a body needs one) and the signature.

    Send the request to exactly ``url`` with exactly ``body`` and the given ``headers`` plus the returned
    ones. A non-empty body without a Content-Type gets ``application/octet-stream`` here, so that the type
    the HTTP client would add anyway is covered too.
    """
    target = str(URL(url))
    message_headers: CIMultiDict[str] = CIMultiDict(headers)
    added: dict[str, str] = {}
    if body and "content-type" not in message_headers:
        message_headers["Content-Type"] = added["Content-Type"] = "application/octet-stream"
    for name in ("content-digest", *_SIGNATURE_HEADERS):
        message_headers.popall(name, None)
    covered = list(REQUIRED_COMPONENTS)
    if "content-type" in message_headers:
        covered.append("content-type")
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=DidKeyResolver(key))
    message = _Message(method.upper(), target, message_headers)
    try:
        signer.sign(
            message,
            key_id=key.kid,
            created=_utc(now),
            expires=_utc(int(now) + validity),
            nonce=nonce if nonce is not None else _new_nonce(),
            label=SIGNATURE_LABEL,
            tag=SIGNATURE_TAG,
            covered_component_ids=covered,
            body=body,
        )
    except HTTPMessageSignaturesException as exc:
        raise HttpSignatureError("httpsig.invalid", f"cannot sign this request: {exc}") from exc
    for name in ("Content-Digest", "Signature-Input", "Signature"):
        added[name] = message_headers[name]
    return added


def signed_request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    key: KeyPair,
    now: float,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    timeout: aiohttp.ClientTimeout | None = None,
) -> Any:
    """``session.request`` for a signed peer request: use as ``async with signed_request(...) as resp``."""
    base = dict(headers or {})
    all_headers = {**base, **sign_request(method, url, base, body, key, now)}
    options: dict[str, Any] = {"data": body or None, "headers": all_headers}
    if not any(name.lower() == "content-type" for name in all_headers):
        # aiohttp adds ``application/octet-stream`` to a POST, PUT or PATCH without a Content-Type even
        # with no body; it would not be covered by the signature, so the receiver would refuse it.
        options["skip_auto_headers"] = ("Content-Type",)
    if timeout is not None:
        options["timeout"] = timeout
    return session.request(method.upper(), url, **options)


@dataclass
class _KeyNonces:
    floor: int
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # nonce -> (until, created)
    expiry: list[tuple[int, str]] = field(default_factory=list)  # heap of (until, nonce)

    def purge(self, now: float) -> None:
        while self.expiry and self.expiry[0][0] <= now:
            _, nonce = heapq.heappop(self.expiry)
            self.seen.pop(nonce, None)

    def newest_created(self) -> int:
        return max((created for _, created in self.seen.values()), default=self.floor)


class NonceCache:
    """Nonces seen per keyid, each kept until its signature could no longer be accepted anyway.

    Bounded in both directions (``max_keys`` keyids, least recently used evicted; ``max_per_key`` nonces
    per keyid). Forgetting a nonce before it expires would let it be replayed, so eviction instead raises
    a floor: a keyid's signatures created at or before the newest ``created`` it has forgotten are refused
    (and a keyid evicted entirely lifts the floor every newly seen keyid starts with). Under normal load
    nothing unexpired is ever evicted and the floors stay at zero.
    """

    def __init__(self, *, max_keys: int = 4096, max_per_key: int = 4096) -> None:
        if max_keys < 1 or max_per_key < 1:
            raise ValueError("cache bounds must be positive")
        self.max_keys = max_keys
        self.max_per_key = max_per_key
        self._keys: OrderedDict[str, _KeyNonces] = OrderedDict()
        self._new_key_floor = 0

    def __len__(self) -> int:
        return sum(len(entry.seen) for entry in self._keys.values())

    def check_and_store(self, keyid: str, nonce: str, *, created: int, until: int, now: float) -> bool:
        """Record ``nonce``; False if it was seen before (or may have been, see the class docstring)."""
        entry = self._keys.get(keyid)
        if entry is None:
            self._evict_keys(now, room_for=1)
            entry = _KeyNonces(floor=self._new_key_floor)
            self._keys[keyid] = entry
        else:
            self._keys.move_to_end(keyid)
        entry.purge(now)
        if created <= entry.floor or nonce in entry.seen:
            return False
        while len(entry.seen) >= self.max_per_key:
            _, old = heapq.heappop(entry.expiry)
            entry.floor = max(entry.floor, entry.seen.pop(old)[1])
        if created <= entry.floor:
            return False
        entry.seen[nonce] = (until, created)
        heapq.heappush(entry.expiry, (until, nonce))
        return True

    def _evict_keys(self, now: float, room_for: int) -> None:
        while len(self._keys) + room_for > self.max_keys:
            _, old = self._keys.popitem(last=False)
            old.purge(now)
            if old.seen:
                self._new_key_floor = max(self._new_key_floor, old.newest_created())


class _Verifier(HTTPMessageVerifier):
    """The library verifier with our clock and typed errors instead of its wall-clock window check."""

    def __init__(self, now: float) -> None:
        super().__init__(signature_algorithm=algorithms.ED25519, key_resolver=DidKeyResolver())
        self.now = now

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        params = sig_input.params
        created, expires = params.get("created"), params.get("expires")
        if type(created) is not int or type(expires) is not int:
            raise HttpSignatureError("httpsig.invalid", "created and expires are required integers")
        if not 0 < expires - created <= MAX_VALIDITY:
            raise HttpSignatureError("httpsig.invalid", f"the validity window must be 1..{MAX_VALIDITY} s")
        if created > self.now + MAX_SKEW:
            raise HttpSignatureError("httpsig.expired", "the signature was created in the future")
        if expires + MAX_SKEW < self.now:
            raise HttpSignatureError("httpsig.expired", "the signature has expired")


@dataclass(frozen=True)
class VerifiedRequest:
    """What a verified peer request proves: who signed it, and its (digest-checked) body."""

    did: str
    keyid: str
    nonce: str
    created: int
    expires: int
    body: bytes


def verify_message(
    method: str, url: str, headers: Mapping[str, str] | Any, body: bytes, now: float, nonce_cache: NonceCache
) -> VerifiedRequest:
    """Verify one signed peer request given as plain values (the aiohttp helper wraps this)."""
    lower = {name.lower() for name in headers}
    if "signature" not in lower and "signature-input" not in lower:
        raise HttpSignatureError("httpsig.missing", "peer requests must be signed (RFC 9421)")
    message = _Message(method, url, CIMultiDict(headers))
    required = list(REQUIRED_COMPONENTS)
    if "content-type" in lower:
        required.append("content-type")
    verifier = _Verifier(now)
    try:
        results = verifier.verify(
            message, max_age=None, expect_tag=SIGNATURE_TAG, require_components=required
        )
    except HttpSignatureError:
        raise
    except InvalidSignature as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, HttpSignatureError) else None
        if cause is None and exc.args and isinstance(exc.args[0], HttpSignatureError):
            cause = exc.args[0]
        if cause is not None:
            raise cause from None
        raise HttpSignatureError("httpsig.invalid", f"the signature does not verify: {exc}") from None
    except HTTPMessageSignaturesException as exc:
        raise HttpSignatureError("httpsig.invalid", f"malformed signature: {exc}") from None
    if len(results) != 1:
        raise HttpSignatureError("httpsig.invalid", "exactly one peer signature is expected")
    result = results[0]
    params = result.parameters
    keyid, nonce = params.get("keyid"), params.get("nonce")
    if params.get("alg") != ALGORITHM:
        raise HttpSignatureError("httpsig.invalid", 'the signature must name alg="ed25519"')
    if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
        raise HttpSignatureError("httpsig.invalid", "the nonce must be 16-64 base64url characters")
    if not isinstance(keyid, str):
        raise HttpSignatureError("httpsig.invalid", "the signature needs a keyid")
    try:
        ContentDigest.verify(result.covered_components['"content-digest"'], body)
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        raise HttpSignatureError("httpsig.digest-mismatch", f"Content-Digest: {exc}") from None
    created, expires = int(params["created"]), int(params["expires"])
    until = min(expires, created + MAX_VALIDITY) + MAX_SKEW
    if not nonce_cache.check_and_store(keyid, nonce, created=created, until=until, now=now):
        raise HttpSignatureError("httpsig.replay", "this nonce was already used")
    did, _ = split_did_url(keyid)
    return VerifiedRequest(did=did, keyid=keyid, nonce=nonce, created=created, expires=expires, body=body)


def request_url(request: web.Request) -> str:
    """The absolute URL a request was sent to, as the signer saw it (scheme + Host + raw path and query)."""
    return f"{request.scheme}://{request.host}{request.raw_path}"


async def verify_request(request: web.Request, now: float, nonce_cache: NonceCache) -> str:
    """Verify an incoming aiohttp peer request; return the peer's DID or raise :class:`HttpSignatureError`.

    Reads the body (bounded by the application's ``client_max_size``); handlers can read it again.
    """
    body = await request.read()
    verified = verify_message(request.method, request_url(request), request.headers, body, now, nonce_cache)
    request[PEER_DID] = verified.did
    return verified.did


# --- aiohttp integration -------------------------------------------------------------------------------

PEER_DID = web.RequestKey("rightsmesh_peer_did", str)


@dataclass(frozen=True)
class PeerAuth:
    """What the peer-endpoint guard needs: the clock (Unix seconds) and the nonce cache."""

    clock: Callable[[], float]
    nonce_cache: NonceCache


PEER_AUTH = web.AppKey("rightsmesh_peer_auth", PeerAuth)

#: The RFC 9421 section 5.1 Accept-Signature a 401 sends, telling a client what to sign.
ACCEPT_SIGNATURE = (
    f'{SIGNATURE_LABEL}=("@method" "@authority" "@path" "@query" "content-digest");'
    f'tag="{SIGNATURE_TAG}";alg="{ALGORITHM}";keyid="did:key";nonce="";created=0;expires=0'
)


def refusal(error: HttpSignatureError) -> web.Response:
    """The RFC 9457 problem+json 401 for a refused peer request, with an RFC 9421 Accept-Signature.

    Rendered here rather than raised as a ``Problem``: the node's problem middleware gives every 401 the
    admin Bearer challenge, which is not what a peer needs to hear.
    """
    return problem_response(401, error.code, error.detail, headers={"Accept-Signature": ACCEPT_SIGNATURE})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _refused(request: web.Request) -> web.Response | None:
    """None when the request is a validly signed peer request (``request[PEER_DID]`` set), else the 401."""
    auth = request.app[PEER_AUTH]
    try:
        await verify_request(request, auth.clock(), auth.nonce_cache)
    except HttpSignatureError as error:
        return refusal(error)
    return None


def setup_peer_auth(
    app: web.Application, clock: Callable[[], float] | None = None, nonce_cache: NonceCache | None = None
) -> None:
    """Install what :func:`peer_endpoint` and :func:`peer_auth_middleware` need on ``app``; the clock
    defaults to the node's ``app[CLOCK]``."""
    if clock is None:
        clock = app[CLOCK]
    cache = nonce_cache if nonce_cache is not None else NonceCache()  # an empty cache is falsy
    app[PEER_AUTH] = PeerAuth(clock=clock, nonce_cache=cache)


def peer_endpoint(handler: Handler) -> Handler:
    """Decorate a peer route: refuse unsigned or badly signed requests with a 401 problem; the handler
    finds the verified peer DID in ``request[PEER_DID]``."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        refused = await _refused(request)
        return refused if refused is not None else await handler(request)

    guarded.__name__ = getattr(handler, "__name__", "peer_endpoint")
    guarded.__doc__ = handler.__doc__
    return guarded


Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def peer_auth_middleware(prefix: str = "/peer/") -> Middleware:
    """A middleware guarding every route under ``prefix`` as :func:`peer_endpoint` does."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(prefix):
            return await handler(request)
        refused = await _refused(request)
        return refused if refused is not None else await handler(request)

    return middleware
