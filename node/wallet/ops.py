"""What a wallet does over the network and with its key: redeem, enrol, authorise, import, notify, status.

Library functions (the CLI and the demo both drive them); network calls take an ``aiohttp.ClientSession``
and every answer a node signs is verified here before it is kept. Errors are :class:`WalletError` with a
stable code (a node's problem+json ``code`` is passed through as ``remote``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from protocol.authorisation import ACTIONS, issue_authorisation_credential, make_authorisation
from protocol.complaint import build_complaint_payload
from protocol.decision import decision_from_message
from protocol.errors import ProtocolError
from protocol.issuance import key_proof
from protocol.messages import SignedMessage, sign_message, verify_message
from protocol.notice import ANY, NoticeItem, Product, build_notice_payload, parse_notice
from protocol.outcome import DecisionRecord, Outcome, resolve_outcomes
from protocol.presentation import create_presentation
from protocol.receipt import receipt_from_message
from protocol.sealed import Contact
from protocol.vc import credential_types, format_datetime, parse_datetime, subject_of
from protocol.verify import CLOCK_LEEWAY, verify_credential

from ..errors import NodeError
from .store import Wallet

MAX_ANSWER = 1024 * 1024


class WalletError(NodeError):
    """A wallet operation failed; ``code`` is stable (``wallet.*`` or the node's problem code)."""


def iso(now: int) -> str:
    return format_datetime(datetime.fromtimestamp(now, UTC))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def _json(resp: aiohttp.ClientResponse) -> Any:
    body = await resp.content.read(MAX_ANSWER)
    try:
        return json.loads(body)
    except ValueError:
        raise WalletError("wallet.bad-answer", f"{resp.url}: HTTP {resp.status}, not JSON") from None


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, *, ok: Sequence[int] = (200, 201), **kw: Any
) -> Any:
    try:
        async with session.request(method, url, **kw) as resp:
            body = await _json(resp)
            if resp.status not in ok:
                code = (
                    body.get("code", f"http.{resp.status}")
                    if isinstance(body, dict)
                    else f"http.{resp.status}"
                )
                detail = body.get("detail", "") if isinstance(body, dict) else ""
                raise WalletError(str(code), f"{method} {url}: {detail}")
            return body
    except aiohttp.ClientError as exc:
        raise WalletError("wallet.unreachable", f"{method} {url}: {exc}") from None


@dataclass(frozen=True)
class NodeInfo:
    did: str
    role: str
    url: str
    endpoints: Mapping[str, str]


async def describe(session: aiohttp.ClientSession, url: str, now: int) -> NodeInfo:
    """A node's signed descriptor: who it is (the DID whose X25519 key seals the notifier's contact)."""
    base = url.rstrip("/")
    try:
        async with session.get(base + "/.well-known/rightsmesh") as resp:
            raw = await resp.content.read(MAX_ANSWER)
            if resp.status != 200:
                raise WalletError("wallet.descriptor", f"{base}: HTTP {resp.status}")
    except aiohttp.ClientError as exc:
        raise WalletError("wallet.unreachable", f"{base}: {exc}") from None
    message = verify_message(raw, now)
    payload = message.payload
    if message.kind != "node-descriptor" or payload.get("did") != message.signer:
        raise WalletError("wallet.descriptor", f"{base} did not answer with its own node descriptor")
    endpoints = payload.get("endpoints")
    return NodeInfo(
        did=message.signer,
        role=str(payload.get("role")),
        url=base,
        endpoints=dict(endpoints) if isinstance(endpoints, Mapping) else {},
    )


# -------------------------------------------------------------------------------------------------
# issuance, enrolment, authorisation, import


async def redeem(
    wallet: Wallet, session: aiohttp.ClientSession, office_url: str, code: str, now: int
) -> dict[str, Any]:
    """Redeem an offer code (pre-authorised code): fresh c_nonce, proof of key possession, credential."""
    base = office_url.rstrip("/")
    nonce = await _call(session, "POST", base + "/issuance/nonce")
    proof = key_proof(wallet.key, nonce=nonce["c_nonce"], audience=nonce["audience"], created=iso(now))
    credential = await _call(
        session, "POST", base + "/issuance/credential", json={"code": code, "proof": proof}
    )
    if not isinstance(credential, dict) or subject_of(credential).get("id") != wallet.did:
        raise WalletError("wallet.not-mine", "the office issued a credential to another subject")
    if credential.get("issuer") != nonce["audience"]:
        raise WalletError("wallet.wrong-issuer", "the credential is not issued by the office asked")
    result = verify_credential(
        credential, now=datetime.fromtimestamp(now, UTC), require_status=False, leeway=CLOCK_LEEWAY
    )
    if not result.valid:
        raise WalletError(result.failures[0].code, result.failures[0].detail)
    wallet.add_credential(credential)
    return credential


async def enrol(
    wallet: Wallet, session: aiohttp.ClientSession, market_url: str, now: int, rights: Sequence[str] = ()
) -> dict[str, Any]:
    """Challenge -> presentation of the right credentials (and authorisations, for an agent) -> result."""
    info = await describe(session, market_url, now)
    creds = [c for c in wallet.rights() if not rights or c["id"] in rights]
    creds += wallet.authorisations(received=True)
    if not creds:
        raise WalletError("wallet.no-credentials", "this wallet holds no right credential to present")
    challenge = await _call(session, "POST", info.url + "/enrol/challenge")
    if challenge.get("domain") != info.did:
        raise WalletError("wallet.wrong-domain", "the challenge is for another marketplace")
    vp = create_presentation(
        wallet.key, creds, challenge=challenge["challenge"], domain=info.did, created=iso(now)
    )
    result = await _call(session, "POST", info.url + "/enrol", json=vp)
    receipt = verify_message(b64url_decode(result["receipt"]), now)
    if receipt.signer != info.did or receipt.kind != "enrolment-result":
        raise WalletError("wallet.bad-receipt", "the enrolment result is not signed by the marketplace")
    wallet.remember_marketplace(info.did, info.url)
    wallet.add_enrolment(
        {
            "marketplace": info.did,
            "url": info.url,
            "enrolment": result["enrolment"],
            "receipt": result["receipt"],
            "at": now,
        }
    )
    return dict(result)


def parse_until(text: str) -> str:
    """``YYYY-MM-DD`` (end of that day, UTC) or an XSD dateTimeStamp."""
    if len(text) == 10:
        text += "T23:59:59Z"
    return format_datetime(parse_datetime(text, "until"))


def authorise(
    wallet: Wallet,
    *,
    agent: str,
    until: str,
    now: int,
    rights: Sequence[str] = (),
    actions: Sequence[str] = ACTIONS,
    marketplaces: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Issue an AgentAuthorisationCredential to ``agent`` for named rights (default: all held)."""
    held = [c["id"] for c in wallet.rights() if subject_of(c).get("id") == wallet.did]
    chosen = list(rights) or held
    unknown = [r for r in chosen if r not in held]
    if not chosen or unknown:
        raise WalletError(
            "wallet.unknown-right", f"not a right this wallet holds: {(unknown or ['none'])[0]}"
        )
    grant = make_authorisation(agent, chosen, list(actions), list(marketplaces) if marketplaces else None)
    credential = issue_authorisation_credential(
        wallet.key, grant, created=iso(now), valid_until=parse_until(until)
    )
    wallet.add_credential(credential)
    return credential


def import_credential(wallet: Wallet, document: Any, now: int) -> str:
    """Take in a credential (an agent: its authorisation, and the holder's right credentials it names)."""
    if not isinstance(document, dict):
        raise WalletError("wallet.not-a-credential", "a credential is a JSON object")
    result = verify_credential(
        document, now=datetime.fromtimestamp(now, UTC), require_status=False, leeway=CLOCK_LEEWAY
    )
    if not result.valid:
        raise WalletError(result.failures[0].code, result.failures[0].detail)
    types = credential_types(document)
    if "AgentAuthorisationCredential" in types and subject_of(document).get("id") != wallet.did:
        raise WalletError("wallet.not-mine", "this authorisation names another agent")
    wallet.add_credential(document)
    return next(t for t in types if t != "VerifiableCredential")


# -------------------------------------------------------------------------------------------------
# notices


def _hex_list(values: Any, name: str) -> tuple[bytes, ...]:
    try:
        return tuple(bytes.fromhex(v) for v in values or [])
    except (TypeError, ValueError):
        raise WalletError("wallet.notice-spec", f"{name}: hex strings") from None


def _phashes(values: Any) -> tuple[int, ...]:
    out = []
    for v in values or []:
        out.append(int(v, 16) if isinstance(v, str) else v)
    return tuple(out)


@dataclass(frozen=True)
class NoticeSpec:
    """What the notifier writes (a JSON file); the wallet adds rights, authorisation, targets, sealing."""

    explanation: str
    items: tuple[NoticeItem, ...]
    contact: Contact
    infringement: str = "counterfeit"
    infringement_detail: str | None = None
    product: Product = field(default_factory=Product)
    evidence: tuple[bytes, ...] = ()
    rights: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> NoticeSpec:
        if not isinstance(data, dict):
            raise WalletError("wallet.notice-spec", "the notice file is a JSON object")
        try:
            contact = data.get("contact") or {}
            product = data.get("product") or {}
            return cls(
                explanation=data["explanation"],
                items=tuple(
                    NoticeItem(i["url"], str(i["listing_id"]), i.get("seller_id")) for i in data["items"]
                ),
                contact=Contact(contact.get("name", ""), contact.get("email", "")),
                infringement=data.get("infringement", "counterfeit"),
                infringement_detail=data.get("infringement_detail"),
                product=Product(
                    brand=product.get("brand"),
                    gtins=tuple(product.get("gtin", [])),
                    image_sha256=_hex_list(product.get("image_sha256"), "image_sha256"),
                    phashes=_phashes(product.get("phash")),
                ),
                evidence=_hex_list(data.get("evidence"), "evidence"),
                rights=tuple(data.get("rights", [])),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise WalletError("wallet.notice-spec", f"the notice file lacks or misshapes {exc}") from None


def _choose_rights(wallet: Wallet, spec: NoticeSpec) -> tuple[list[str], dict[str, Any] | None]:
    """The rights relied on (default: every right held) and, when acting for someone else, the
    authorisation covering them."""
    held = {c["id"]: c for c in wallet.rights()}
    rights = list(spec.rights) or list(held)
    if not rights or any(r not in held for r in rights):
        raise WalletError("wallet.unknown-right", "name rights whose credentials this wallet holds")
    holders = {subject_of(held[r]).get("id") for r in rights}
    if holders == {wallet.did}:
        return rights, None
    for grant in wallet.authorisations(received=True):
        if grant.get("issuer") in holders and set(rights) <= set(
            subject_of(grant).get("authorisedRights", [])
        ):
            return rights, grant
    raise WalletError("wallet.no-authorisation", "no authorisation from the holder covers these rights")


@dataclass(frozen=True)
class Delivery:
    marketplace: str
    url: str
    notice: str
    receipt: str | None = None
    enrolled: bool | None = None
    trusted_flagger: bool | None = None
    error: str | None = None


async def notify(
    wallet: Wallet,
    session: aiohttp.ClientSession,
    spec: NoticeSpec,
    marketplace_urls: Sequence[str],
    now: int,
    *,
    any_marketplace: bool = False,
    gossip_only: Sequence[str] = (),
) -> tuple[str, list[Delivery]]:
    """Build one notice for the named marketplaces (or ``any``, readable by them), seal the contact to
    each, sign, send the referenced credentials (with their issuers' current status lists) and the
    notice to each, and keep the receipts. Marketplaces in ``gossip_only`` are named and can read the
    contact but are not sent anything: the notice reaches them by gossip (their receipt comes back
    with ``status``)."""
    if not marketplace_urls:
        raise WalletError("wallet.no-marketplace", "name at least one marketplace URL")
    infos = [await describe(session, url, now) for url in marketplace_urls]
    for info in infos:
        if info.role != "marketplace":
            raise WalletError("wallet.not-a-marketplace", f"{info.url} is a {info.role} node")
        wallet.remember_marketplace(info.did, info.url)
    rights, grant = _choose_rights(wallet, spec)
    dids = [i.did for i in infos]
    payload = build_notice_payload(
        created=now,
        notifier=wallet.did,
        contact=spec.contact,
        explanation=spec.explanation,
        items=spec.items,
        rights=rights,
        infringement=spec.infringement,
        infringement_detail=spec.infringement_detail,
        targets=ANY if any_marketplace else dids,
        recipients=dids,
        authorisation=grant["id"] if grant else None,
        product=spec.product,
        evidence=spec.evidence,
    )
    raw = sign_message(wallet.key, "notice", payload)
    notice_id = wallet.add_notice(raw, {i.did: i.url for i in infos})
    references = [wallet.credential(r) for r in rights] + ([grant] if grant else [])
    lists = await _status_lists(session, [r for r in references if r is not None])
    skip = {u.rstrip("/") for u in gossip_only}
    deliveries = []
    for info in infos:
        if info.url in skip:
            deliveries.append(Delivery(info.did, info.url, notice_id, error=None))
            continue
        deliveries.append(await _deliver(wallet, session, info, raw, notice_id, [*lists, *references], now))
    return notice_id, deliveries


async def _status_lists(
    session: aiohttp.ClientSession, documents: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The current status lists of the credentials relied on, fetched from their issuers, so that every
    node the notice reaches (directly or by gossip) can check revocation from what it holds."""
    out = []
    for document in documents:
        entry = document.get("credentialStatus")
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        try:
            out.append(await _call(session, "GET", url))
        except WalletError:
            continue  # the marketplace fetches it itself; gossip peers may lack it until the office is back
    return out


async def _deliver(
    wallet: Wallet,
    session: aiohttp.ClientSession,
    info: NodeInfo,
    raw: bytes,
    notice_id: str,
    references: Sequence[dict[str, Any] | None],
    now: int,
) -> Delivery:
    try:
        for document in references:
            # 409: the node already holds a newer status list (a revocation learnt earlier): fine
            await _call(session, "POST", info.url + "/objects", json=document, ok=(200, 201, 409))
        answer = await _call(
            session, "POST", info.url + "/notices", data=raw, headers={"Content-Type": "application/cose"}
        )
        receipt_raw = b64url_decode(answer["receipt"])
        receipt = receipt_from_message(verify_message(receipt_raw, now))
        if receipt.marketplace != info.did or receipt.notice.hex() != notice_id:
            raise WalletError("wallet.bad-receipt", "the receipt is not this marketplace's for this notice")
        wallet.add_signed("receipts", receipt_raw)
        return Delivery(
            info.did, info.url, notice_id, hex_id(receipt_raw), receipt.enrolled, receipt.trusted_flagger
        )
    except (WalletError, ProtocolError) as exc:
        return Delivery(info.did, info.url, notice_id, error=f"{exc.code}: {exc.detail}")


def hex_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# -------------------------------------------------------------------------------------------------
# following outcomes


async def refresh(
    wallet: Wallet, session: aiohttp.ClientSession, now: int, extra_nodes: Sequence[str] = ()
) -> int:
    """Fetch receipts and decisions for every sent notice from the marketplaces it went to, every
    marketplace the wallet knows and any other node named; keep those that verify. Returns how many new
    signed objects were kept."""
    kept = 0
    for message in wallet.signed("notices", now):
        urls = (
            set(wallet.notice_meta(message.id_hex)["sent_to"].values())
            | set(wallet.marketplaces().values())  # any node it knows may hold decisions, by gossip
            | {u.rstrip("/") for u in extra_nodes}
        )
        for url in sorted(urls):
            for kind in ("receipt", "decision"):
                try:
                    answer = await _call(session, "GET", f"{url}/{kind}s", params={"notice": message.id_hex})
                except WalletError:
                    continue  # a node down now: its answers come at the next refresh
                for item in answer.get(kind + "s", []):
                    kept += _keep(wallet, kind, b64url_decode(item["signed"]), message.id, now)
    return kept


def _keep(wallet: Wallet, kind: str, raw: bytes, notice_id: bytes, now: int) -> int:
    try:
        message = verify_message(raw, now, max_skew=10**9)
        if kind == "receipt":
            ok = receipt_from_message(message).notice == notice_id
        else:
            ok = decision_from_message(message).notice == notice_id
    except ProtocolError:
        return 0
    if not ok or (wallet.dir / f"{kind}s" / f"{message.id_hex}.cose").exists():
        return 0
    wallet.add_signed(kind + "s", raw)
    return 1


@dataclass(frozen=True)
class NoticeStatus:
    notice: str
    created: int
    targets: tuple[str, ...]
    receipts: dict[str, str]  # marketplace DID -> receipt id
    outcomes: dict[str, Outcome]
    any_marketplace: bool = False  # the notice targets "any"; ``targets`` are then its contact readers

    def to_json(self) -> dict[str, Any]:
        return {
            "notice": self.notice,
            "created": self.created,
            "targets": "any" if self.any_marketplace else list(self.targets),
            "contact_readers": list(self.targets),
            "marketplaces": {
                did: {
                    "receipt": self.receipts.get(did),
                    "outcome": None
                    if did not in self.outcomes
                    else {
                        "action": self.outcomes[did].decision.action,
                        "decision": self.outcomes[did].decision_id.hex(),
                        "superseded": [s.hex() for s in self.outcomes[did].superseded],
                        "after_complaint": self.outcomes[did].decision.complaint is not None,
                    },
                }
                for did in sorted(set(self.targets) | set(self.receipts) | set(self.outcomes))
            },
        }


def status(wallet: Wallet, now: int) -> list[NoticeStatus]:
    """Per notice sent: receipts and the standing decision per marketplace (protocol/outcome.py)."""
    receipts: dict[bytes, dict[str, str]] = {}
    for message in wallet.signed("receipts", now):
        receipt = receipt_from_message(message)
        receipts.setdefault(receipt.notice, {})[receipt.marketplace] = message.id_hex
    records: list[DecisionRecord] = []
    for message in wallet.signed("decisions", now):
        records.append(DecisionRecord(message.id, decision_from_message(message)))
    out = []
    for message in wallet.signed("notices", now):
        notice = parse_notice(message.payload)
        out.append(
            NoticeStatus(
                notice=message.id_hex,
                created=notice.created,
                targets=notice.targets or notice.recipients,
                receipts=receipts.get(message.id, {}),
                outcomes=resolve_outcomes(message.id, records),
                any_marketplace=notice.any_target,
            )
        )
    return sorted(out, key=lambda s: (s.created, s.notice))


async def complain(
    wallet: Wallet,
    session: aiohttp.ClientSession,
    *,
    decision_id: str,
    explanation: str,
    now: int,
) -> str:
    """A notifier's complaint (art. 20) against a decision received, sent to the marketplace that made it."""
    path = wallet.dir / "decisions" / f"{decision_id}.cose"
    if not path.exists():
        raise WalletError("wallet.unknown-decision", "this wallet has not received that decision")
    message: SignedMessage = verify_message(path.read_bytes(), now, max_skew=10**9)
    decision = decision_from_message(message)
    url = wallet.marketplaces().get(decision.marketplace)
    if url is None:
        raise WalletError("wallet.unknown-marketplace", "the deciding marketplace's URL is not known")
    payload = build_complaint_payload(
        created=now,
        decision=message.id,
        notice=decision.notice,
        marketplace=decision.marketplace,
        complainant="notifier",
        explanation=explanation,
    )
    answer = await _call(
        session,
        "POST",
        url + "/complaints",
        data=sign_message(wallet.key, "complaint", payload),
        headers={"Content-Type": "application/cose"},
    )
    return str(answer["complaint"])
