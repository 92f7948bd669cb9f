"""Structured verification of rightsmesh credentials and presentations: every failure, with a stable code.

Why structured: a marketplace enrolling a holder must know *why* a presentation fails (revoked? wrong
audience? agent without authorisation?) and what was and was not checked (a verifier without a trust list
checks everything else and says trust was not checked). Nothing here raises on bad input: each problem is
a :class:`Failure`. The order of the checks and every code are normative (``specs/credentials.md``).

Fail closed: a credential whose status list is not supplied fails with ``status.unavailable`` (unless the
caller opts out with ``require_status=False``, which the result records); a set bit fails; the JavaScript
reference stack does not look at the bit, this verifier always does.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from .authorisation import CREDENTIAL_TYPE as AUTHORISATION_TYPE
from .authorisation import Authorisation, authorisation_from_credential
from .data_integrity import VerifiedProof, verify_proof
from .errors import (
    DecodeError,
    ProtocolError,
    SchemaError,
    SignatureError,
    UnsupportedError,
    ValidityError,
)
from .ip_right import CREDENTIAL_TYPE as RIGHT_TYPE
from .ip_right import check_ip_right_credential
from .jsonld import DEFAULT_LIMITS, DocumentLimits, check_json
from .presentation import MAX_CREDENTIALS, PRESENTATION_TYPE
from .status_list import (
    LIST_TYPE,
    StatusEntry,
    StatusList,
    parse_status_entry,
    status_list_from_credential,
    verify_status_list_credential,
)
from .trust_list import TrustStore
from .vc import VC_CONTEXT, credential_types, issuer_of, load_json, parse_datetime, subject_of

__all__ = [
    "ChallengeStore",
    "Checks",
    "CredentialSummary",
    "Failure",
    "MemoryChallengeStore",
    "VerificationResult",
    "result_text",
    "verify_credential",
    "verify_presentation",
]

KNOWN_TYPES = (RIGHT_TYPE, AUTHORISATION_TYPE, LIST_TYPE)
# Roles the trust list must give the issuer, per credential type (authorisations are issued by holders).
TRUSTED_ROLE = {RIGHT_TYPE: "office", LIST_TYPE: "office"}


@dataclass(frozen=True)
class Failure:
    """One reason a credential or presentation is not valid. ``credential_id`` names the embedded
    credential it concerns (None: the document itself, or a credential without an id)."""

    code: str
    detail: str
    credential_id: str | None = None


@dataclass(frozen=True)
class CredentialSummary:
    """What one credential is and which optional checks ran on it."""

    id: str | None
    types: tuple[str, ...]
    issuer: str | None
    subject: str | None
    suite: str | None
    status_checked: bool
    trust_checked: bool


@dataclass(frozen=True)
class Checks:
    """What was verified: ``performed`` uses the enrolment-result check vocabulary (schema, proof, issuer,
    validity, status, trust, challenge, domain, holder-binding)."""

    kind: str
    performed: tuple[str, ...]
    trust_checked: bool
    status_checked: bool
    presenter: str | None = None
    credentials: tuple[CredentialSummary, ...] = ()


@dataclass(frozen=True)
class VerificationResult:
    valid: bool
    failures: tuple[Failure, ...]
    checks: Checks

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.failures)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def raise_for_failure(self) -> None:
        """Raise the first failure as a ProtocolError (validity category for status/trust codes)."""
        if self.failures:
            first = self.failures[0]
            raise _error_for(first.code, first.detail)


class ChallengeStore(Protocol):
    """The caller's record of challenges: ``use`` returns True the first time a challenge is used."""

    def use(self, challenge: str) -> bool: ...


@dataclass
class MemoryChallengeStore:
    """An in-process store (tests, one-shot CLI checks); nodes keep theirs in the database."""

    used: set[str] = field(default_factory=set)

    def use(self, challenge: str) -> bool:
        if challenge in self.used:
            return False
        self.used.add(challenge)
        return True


StatusLists = Mapping[str, StatusList | Mapping[str, Any]]


def _error_for(code: str, detail: str) -> ProtocolError:
    by_category: dict[str, Callable[[str, str], ProtocolError]] = {
        "decode": DecodeError, "schema": SchemaError, "signature": SignatureError,
        "unsupported": UnsupportedError,
    }
    return by_category.get(code.split(".", 1)[0], ValidityError)(code, detail)


#: The clock skew between independent parties that node callers tolerate for ``validFrom``: the same
#: five minutes specs/wire.md allows a message's ``created`` to lie ahead of the receiver's clock.
CLOCK_LEEWAY = timedelta(seconds=300)


# --------------------------------------------------------------------------------------------------------
# one credential


@dataclass
class _Run:
    """Mutable state of one verification (internal)."""

    now: datetime
    trust: TrustStore | None
    status_lists: StatusLists
    require_status: bool
    limits: DocumentLimits
    leeway: timedelta = timedelta(0)
    failures: list[Failure] = field(default_factory=list)
    performed: list[str] = field(default_factory=list)
    status_skipped: bool = False

    def fail(self, code: str, detail: str, credential_id: str | None) -> None:
        self.failures.append(Failure(code, detail, credential_id))

    def did(self, check: str) -> None:
        if check not in self.performed:
            self.performed.append(check)


@dataclass
class _Credential:
    """What the presentation checks need to know about one verified credential (internal)."""

    id: str | None
    kind: str | None
    issuer: str | None
    subject: str | None
    ok: bool
    authorisation: Authorisation | None = None
    summary: CredentialSummary | None = None


def _window(doc: Mapping[str, Any], run: _Run, cid: str | None) -> None:
    run.did("validity")
    for name in ("validFrom", "validUntil"):
        if name not in doc:
            continue
        try:
            moment = parse_datetime(doc[name], name)
        except ProtocolError as exc:
            run.fail(exc.code, exc.detail, cid)
            continue
        if name == "validFrom" and run.now + run.leeway < moment:
            run.fail("validity.not-yet-valid", f"valid from {doc[name]}", cid)
        if name == "validUntil" and run.now >= moment:
            run.fail("validity.expired", f"valid until {doc[name]}", cid)


def _lookup_list(entry: StatusEntry, issuer: str, run: _Run, cid: str | None) -> StatusList | None:
    held = run.status_lists.get(entry.url)
    if held is None:
        if run.require_status:
            run.fail("status.unavailable", f"no {entry.purpose} list {entry.url} was supplied", cid)
        else:
            run.status_skipped = True
        return None
    if not isinstance(held, StatusList):
        try:
            held = verify_status_list_credential(held, now=run.now)
        except ProtocolError as exc:
            run.fail("status.list-invalid", f"{entry.url}: {exc.code}: {exc.detail}", cid)
            return None
    problem = None
    if held.url != entry.url:
        problem = "the supplied list has another URL"
    elif held.issuer != issuer:
        problem = "the list is not issued by the credential's issuer"
    elif held.purpose != entry.purpose:
        problem = f"the list's purpose is {held.purpose}, the entry's {entry.purpose}"
    elif entry.index >= held.size:
        problem = f"index {entry.index} is outside the list of {held.size}"
    if problem is not None:
        run.fail("status.list-invalid", f"{entry.url}: {problem}", cid)
        return None
    return held


def _status(doc: Mapping[str, Any], kind: str | None, issuer: str | None, run: _Run, cid: str | None) -> bool:
    """Check every status entry; returns whether status was actually checked."""
    if "credentialStatus" not in doc:
        if kind == RIGHT_TYPE:
            if run.require_status:
                run.fail("status.missing", "a right credential without status cannot be revoked", cid)
            else:
                run.status_skipped = True
            return run.require_status
        return True
    run.did("status")
    try:
        entries = parse_status_entry(doc["credentialStatus"])
    except ProtocolError as exc:
        run.fail(exc.code, exc.detail, cid)
        return True
    checked = True
    for entry in entries:
        held = _lookup_list(entry, issuer or "", run, cid)
        if held is None:
            checked = checked and run.require_status
            continue
        if held.get(entry.index):
            code = "status.revoked" if entry.purpose == "revocation" else "status.suspended"
            run.fail(code, f"bit {entry.index} of {entry.url} (version {held.version}) is set", cid)
    return checked


def _check_credential(doc: Any, run: _Run, *, json_checked: bool = False) -> _Credential:
    """``json_checked``: the presentation holding ``doc`` passed check_json, which covers ``doc``."""
    if not isinstance(doc, Mapping):
        run.fail("schema.credential", "a credential is a JSON object", None)
        return _Credential(None, None, None, None, False)
    start = len(run.failures)
    raw_id = doc.get("id")
    cid = raw_id if isinstance(raw_id, str) else None
    if not json_checked:
        try:
            check_json(doc, run.limits)
        except ProtocolError as exc:
            run.fail(exc.code, exc.detail, cid)
            return _Credential(cid, None, None, None, False)

    run.did("schema")
    kind: str | None = None
    types: tuple[str, ...] = ()
    try:
        types = credential_types(doc)
        known = [t for t in types if t in KNOWN_TYPES]
        if "VerifiableCredential" not in types or len(known) != 1:
            raise UnsupportedError("unsupported.credential-type", f"not a rightsmesh credential: {types[:4]}")
        kind = known[0]
    except ProtocolError as exc:
        run.fail(exc.code, exc.detail, cid)
    issuer: str | None = None
    try:
        issuer = issuer_of(doc)
    except ProtocolError as exc:
        run.fail(exc.code, exc.detail, cid)
    subject: str | None = None
    authorisation: Authorisation | None = None
    try:
        if kind == RIGHT_TYPE:
            check_ip_right_credential(doc)
        elif kind == AUTHORISATION_TYPE:
            authorisation = authorisation_from_credential(doc)
        elif kind == LIST_TYPE:
            status_list_from_credential(doc)
        raw_subject = subject_of(doc).get("id")
        subject = raw_subject if isinstance(raw_subject, str) else None
    except ProtocolError as exc:
        run.fail(exc.code, exc.detail, cid)

    run.did("proof")
    proof: VerifiedProof | None = None
    try:
        proof = verify_proof(doc, expected_purpose="assertionMethod", limits=run.limits, json_checked=True)
    except ProtocolError as exc:
        run.fail(exc.code, exc.detail, cid)
    if proof is not None and issuer is not None:
        run.did("issuer")
        if proof.controller != issuer:
            run.fail("signature.issuer-mismatch", "the proof is not made with a key of the issuer", cid)

    _window(doc, run, cid)
    status_checked = _status(doc, kind, issuer, run, cid)

    trust_checked = run.trust is not None
    role = TRUSTED_ROLE.get(kind or "")
    if run.trust is not None and role is not None:
        run.did("trust")
        if issuer is None or not run.trust.is_trusted(issuer, role, int(run.now.timestamp())):
            run.fail("trust.untrusted-issuer", f"the issuer is not an accredited {role} now", cid)

    summary = CredentialSummary(
        id=cid, types=types, issuer=issuer, subject=subject, suite=proof.suite if proof else None,
        status_checked=status_checked, trust_checked=trust_checked,
    )
    ok = len(run.failures) == start
    return _Credential(cid, kind, issuer, subject, ok, authorisation, summary)


_UNREADABLE = object()


def _document(document: Any, run: _Run) -> Any:
    """The parsed document, or ``_UNREADABLE`` (failure recorded) for JSON text that does not parse."""
    if isinstance(document, bytes | str):
        try:
            return load_json(document, run.limits)
        except ProtocolError as exc:
            run.fail(exc.code, exc.detail, None)
            return _UNREADABLE
    return document


def _aware(now: Any, run: _Run) -> bool:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        run.fail("schema.no-timezone", "the verification time must be a datetime with a time zone", None)
        return False
    return True


def _result(kind: str, run: _Run, presenter: str | None, creds: list[_Credential]) -> VerificationResult:
    summaries = tuple(c.summary for c in creds if c.summary is not None)
    status_checked = bool(summaries) and all(s.status_checked for s in summaries) and not run.status_skipped
    if not run.failures and not summaries:  # fail closed: nothing verified is not "valid"
        run.fail("schema.credential", "no credential was verified", None)
    return VerificationResult(
        valid=not run.failures,
        failures=tuple(run.failures),
        checks=Checks(kind=kind, performed=tuple(run.performed), trust_checked=run.trust is not None,
                      status_checked=status_checked, presenter=presenter, credentials=summaries),
    )


def verify_credential(
    document: Any,
    *,
    now: datetime,
    trust: TrustStore | None = None,
    status_lists: StatusLists | None = None,
    require_status: bool = True,
    limits: DocumentLimits = DEFAULT_LIMITS,
    leeway: timedelta = timedelta(0),
) -> VerificationResult:
    """Verify one credential (a JSON object, or its JSON text) at ``now``.

    ``status_lists`` maps list URL -> :class:`StatusList` (already verified) or a list credential (verified
    here). Without ``trust`` every other check runs and ``checks.trust_checked`` is False. ``leeway``
    tolerates an issuer clock that runs ahead of ours: ``validFrom`` may lie up to that far after ``now``
    (as JWT verifiers allow for ``nbf``); ``validUntil`` gets no leeway.
    """
    run = _Run(now, trust, status_lists or {}, require_status, limits, leeway)
    doc = _document(document, run)
    creds: list[_Credential] = []
    if doc is not _UNREADABLE and _aware(now, run):
        creds.append(_check_credential(doc, run))
    return _result("credential", run, None, creds)


# --------------------------------------------------------------------------------------------------------
# presentations


def _holder(vp: Mapping[str, Any]) -> str | None:
    holder = vp.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def _vp_structure(vp: Any, run: _Run) -> list[Any] | None:
    run.did("schema")
    if not isinstance(vp, Mapping):
        run.fail("schema.presentation", "a presentation is a JSON object", None)
        return None
    try:
        check_json(vp, run.limits)
    except ProtocolError as exc:
        run.fail(exc.code, exc.detail, None)
        return None
    contexts = vp.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_CONTEXT:
        run.fail("schema.context", f"@context must be a list starting with {VC_CONTEXT}", None)
    try:
        if PRESENTATION_TYPE not in credential_types(vp):
            run.fail("schema.type", f"type must include {PRESENTATION_TYPE}", None)
    except ProtocolError as exc:
        run.fail(exc.code, exc.detail, None)
    credentials = vp.get("verifiableCredential")
    if isinstance(credentials, Mapping):
        credentials = [credentials]
    if not isinstance(credentials, list) or not 1 <= len(credentials) <= MAX_CREDENTIALS:
        run.fail("schema.presentation", f"verifiableCredential must hold 1 to {MAX_CREDENTIALS} credentials",
                 None)
        return None
    return credentials


def _bind(creds: list[_Credential], presenter: str, run: _Run, action: str | None,
          marketplace: str | None) -> None:
    """Holder binding: the presenter is every credential's subject, or holds an authorisation for it."""
    run.did("holder-binding")
    grants = [c for c in creds if c.kind == AUTHORISATION_TYPE]
    for cred in creds:
        if cred.kind == AUTHORISATION_TYPE or cred.subject == presenter:
            if cred.subject != presenter:
                run.fail("validity.holder-not-subject", "the authorisation is for another agent", cred.id)
            continue
        offered = [g for g in grants if g.issuer == cred.subject and g.subject == presenter]
        if not offered:
            run.fail("validity.holder-not-subject",
                     "the presenter is not the subject and shows no authorisation from it", cred.id)
            continue
        covered = any(
            g.ok and g.authorisation is not None and cred.id is not None
            and g.authorisation.allows(cred.id, action, marketplace)
            for g in offered
        )
        if not covered:
            run.fail("validity.not-authorised",
                     "no valid authorisation from the subject covers this right here", cred.id)


def verify_presentation(
    document: Any,
    *,
    challenge: str,
    domain: str,
    now: datetime,
    challenges: ChallengeStore,
    trust: TrustStore | None = None,
    status_lists: StatusLists | None = None,
    require_status: bool = True,
    action: str | None = None,
    marketplace: str | None = None,
    limits: DocumentLimits = DEFAULT_LIMITS,
    leeway: timedelta = timedelta(0),
) -> VerificationResult:
    """Verify a presentation for this verifier (``domain``) and the ``challenge`` it handed out.

    Checks the presentation proof (purpose authentication), holder = signer, challenge, domain, the
    challenge's single use (consumed in ``challenges`` once the proof and challenge verify, whatever else
    fails), every embedded credential as :func:`verify_credential` does, and holder binding. An agent's
    authorisation must cover each right it presents, the ``action`` when given, and the ``marketplace``
    (default: ``domain`` when it is a DID). ``leeway`` is as in :func:`verify_credential`.
    """
    run = _Run(now, trust, status_lists or {}, require_status, limits, leeway)
    vp = _document(document, run)
    if vp is _UNREADABLE or not _aware(now, run):
        return _result("presentation", run, None, [])
    credentials = _vp_structure(vp, run)  # None unless check_json passed on the whole presentation
    if credentials is None:
        return _result("presentation", run, None, [])

    run.did("proof")
    proof: VerifiedProof | None = None
    try:
        proof = verify_proof(vp, expected_purpose="authentication", limits=limits, json_checked=True)
    except ProtocolError as exc:
        run.fail(exc.code, exc.detail, None)
    presenter = proof.controller if proof is not None else None
    if proof is not None:
        holder = _holder(vp)
        if holder != proof.controller:
            run.fail("validity.holder", "the presentation's holder is not the key that signed it", None)
        run.did("challenge")
        matched = bool(challenge) and proof.challenge is not None and hmac.compare_digest(
            proof.challenge.encode(), str(challenge).encode())
        if not matched:
            run.fail("validity.challenge", "the presentation answers another challenge", None)
        elif not challenges.use(challenge):
            run.fail("validity.challenge-replayed", "this challenge was already used", None)
        run.did("domain")
        if proof.domain != domain:
            run.fail("validity.domain", f"the presentation is addressed to {str(proof.domain)[:200]!r}", None)

    creds = [_check_credential(c, run, json_checked=True) for c in credentials]
    if presenter is not None:
        if marketplace is None and domain.startswith("did:"):
            marketplace = domain
        _bind(creds, presenter, run, action, marketplace)
    return _result("presentation", run, presenter, creds)


def result_text(result: VerificationResult) -> str:
    """A short human summary (the CLI prints it)."""
    lines = ["valid" if result.valid else "INVALID"]
    lines += [f"  {f.code}: {f.detail}" + (f" [{f.credential_id}]" if f.credential_id else "")
              for f in result.failures]
    lines.append("  checked: " + ", ".join(result.checks.performed))
    if not result.checks.trust_checked:
        lines.append("  trust NOT checked (no trust list)")
    if not result.checks.status_checked:
        lines.append("  status NOT checked")
    return "\n".join(lines)
