"""Story steps about rights: issuance, enrolment, agent authorisation, revocation.

The holder's side is done with the protocol functions a wallet uses (key-possession proof, presentation,
authorisation credential) over real HTTP calls to the running nodes.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from protocol.authorisation import issue_authorisation_credential, make_authorisation
from protocol.issuance import key_proof
from protocol.presentation import create_presentation
from protocol.vc import format_datetime
from protocol.verify import verify_credential

from .client import Answer
from .procs import DemoError
from .world import DK_NUMBER, EM_NUMBER, Node, Party, World


def iso(moment: float | None = None) -> str:
    return format_datetime(datetime.fromtimestamp(int(moment or time.time()), UTC))


async def redeem(world: World, party: Party, office: Node, code: str) -> dict[str, Any]:
    """Wallet side of OpenID4VCI pre-authorised code: nonce, proof of key possession, credential."""
    nonce = await world.api.json("POST", f"{office.url}/issuance/nonce")
    if nonce.get("audience") != office.did:
        raise DemoError(f"{office.name}'s nonce names another audience: {nonce.get('audience')}")
    proof = key_proof(party.key, nonce=nonce["c_nonce"], audience=office.did, created=iso())
    credential = await world.api.json(
        "POST", f"{office.url}/issuance/credential", json_body={"code": code, "proof": proof}
    )
    if (
        credential.get("credentialSubject", {}).get("id") != party.key.did
        or credential.get("issuer") != office.did
    ):
        raise DemoError(f"{office.name} issued a credential for another subject or issuer")
    return dict(credential)


async def issue_rights(world: World) -> str:
    """Each office creates an offer (admin API) for the holder's right; the holder's wallet redeems the
    one-time code; a second redemption of the same code is refused."""
    em, dk = world.offices
    summaries = []
    for office, number in ((em, EM_NUMBER), (dk, DK_NUMBER)):
        offer = await world.api.json(
            "POST",
            f"{office.url}/admin/offers",
            json_body={"number": number, "ttl": 3600},
            token=office.token,
        )
        code = offer["code"]
        world.note(f"{office.name}: offer {offer['offer']} for {offer['right']} (code sent out of band)")
        credential = await redeem(world, world.holder, office, code)
        world.holder.credentials[number] = credential
        again = await world.api.request(
            "POST",
            f"{office.url}/issuance/credential",
            json_body={
                "code": code,
                "proof": key_proof(world.holder.key, nonce="x", audience=office.did, created=iso()),
            },
        )
        if again.status != 410 or again.code != "validity.offer-redeemed":
            raise DemoError(f"{office.name} accepted a used code again ({again.status} {again.code})")
        right = credential["credentialSubject"]
        mark = next((v for k, v in right.items() if "verbal" in k.lower()), "")
        world.note(
            f"{office.name}: issued {credential['id']} ({mark}) to the holder; code reuse -> {again.code}"
        )
        summaries.append(f"{office.name.split()[-1].strip('()')} {number}")
    return f"2 IPRightCredentials ({', '.join(summaries)}) redeemed with one-time codes"


async def enrol(world: World, party: Party, market: Node, credentials: list[dict[str, Any]]) -> Answer:
    challenge = await world.api.json("POST", f"{market.url}/enrol/challenge")
    if challenge.get("domain") != market.did:
        raise DemoError(f"{market.name}'s challenge names another domain")
    vp = create_presentation(
        party.key, credentials, challenge=challenge["challenge"], domain=market.did, created=iso()
    )
    return await world.api.request("POST", f"{market.url}/enrol", json_body=vp)


async def enrol_holder(world: World) -> str:
    """The holder enrols at the two big marketplaces with one presentation each (both credentials)."""
    credentials = list(world.holder.credentials.values())

    async def one(market: Node) -> str:
        started = time.monotonic()
        answer = await enrol(world, world.holder, market, credentials)
        if answer.status != 201:
            raise DemoError(
                f"{market.name} refused the enrolment: {answer.status} {answer.code} {answer.detail}"
            )
        body = answer.json()
        if body["holder"] != world.holder.key.did:
            raise DemoError(f"{market.name} enrolled another holder")
        numbers = sorted(r["number"] for r in body["rights"])
        world.note(
            f"{market.name}: enrolment {body['enrolment']} in {time.monotonic() - started:.2f}s, "
            f"rights {numbers}, checks {', '.join(body['checks'])}"
        )
        return market.name

    names = await asyncio.gather(*(one(m) for m in world.big))
    return f"holder enrolled at {' and '.join(names)} (signature, nonce, audience, trust, status, binding)"


async def authorise_agent(world: World) -> str:
    """The holder authorises the agent (a brand-protection firm) to notify, complain and receive decisions
    for both rights; the agent checks the credential's proof."""
    rights = [c["id"] for c in world.holder.credentials.values()]
    authorisation = make_authorisation(
        world.agent.key.did, rights, ["notify", "complain", "receive-decisions"]
    )
    now = time.time()
    credential = issue_authorisation_credential(
        world.holder.key, authorisation, created=iso(now), valid_until=iso(now + 90 * 86400)
    )
    result = verify_credential(credential, now=datetime.now(UTC), require_status=False)
    if not result.valid:
        raise DemoError(f"the agent cannot verify its authorisation: {result.codes}")
    world.agent.credentials["authorisation"] = credential
    world.note(
        f"authorisation {credential['id']} for {world.agent.name}, valid until {credential['validUntil']}"
    )
    return f"{world.agent.name} may notify, complain and receive decisions for {len(rights)} rights (90 days)"


async def revoke_right(world: World) -> str:
    """The DK office revokes the holder's DK credential; a marketplace refuses a new enrolment with it."""
    dk = world.offices[1]
    credential = world.holder.credentials[DK_NUMBER]
    revoked = await world.api.json(
        "POST", f"{dk.url}/admin/revocations", json_body={"credential": credential["id"]}, token=dk.token
    )
    status_url = credential["credentialStatus"]["statusListCredential"]
    listed = await world.api.expect("GET", status_url)
    list_id = hashlib.sha256(listed.body).hexdigest()
    world.facts["status_list_object"] = list_id
    world.note(
        f"{dk.name}: revoked {revoked['credential']} (index {revoked['status_index']}), "
        f"status list version {revoked['version']} = object {list_id[:16]}..."
    )
    market = world.big[0]
    answer = await enrol(world, world.holder, market, [credential])
    if answer.status != 422 or answer.code != "status.revoked":
        raise DemoError(f"{market.name} did not refuse the revoked credential: {answer.status} {answer.code}")
    world.note(f"{market.name}: new enrolment with it -> {answer.status} {answer.code}")
    still = await enrol(world, world.holder, market, [world.holder.credentials[EM_NUMBER]])
    if still.status != 201:
        raise DemoError(f"{market.name} refused the unrevoked EM credential: {still.status} {still.code}")
    world.note(f"{market.name}: the EM credential still enrols ({still.status})")
    return f"DK credential revoked (list version {revoked['version']}); new enrolment refused: status.revoked"
