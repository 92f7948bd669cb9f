"""Story steps about rights: issuance, enrolment, agent authorisation, revocation.

The holder's and the agent's side is ``rightsmesh wallet ...`` processes on real wallet directories
(:mod:`node.demo.wallets`); offices and marketplaces are driven through their admin API with their admin
tokens.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from protocol.vc import format_datetime

from .procs import DemoError
from .wallets import wallet
from .world import DK_NUMBER, EM_NUMBER, Node, World


def iso(moment: float | None = None) -> str:
    return format_datetime(datetime.fromtimestamp(int(moment or time.time()), UTC))


def now() -> int:
    return int(time.time())


def short(value: str, n: int = 16) -> str:
    return value if len(value) <= n + 3 else value[:n] + "..."


async def issue_rights(world: World) -> str:
    """Each office creates an offer (admin API) for the holder's right; the holder's wallet process
    (``rightsmesh wallet redeem``) redeems the one-time code with a proof of key possession; a second
    ``wallet redeem`` of the same code is refused. The two offices are served in parallel."""
    holder = world.holder

    async def issue(office: Node, number: str) -> list[str]:
        offer = await world.api.json(
            "POST",
            f"{office.url}/admin/offers",
            json_body={"number": number, "ttl": 3600},
            token=office.token,
        )
        code = offer["code"]
        notes = [f"{office.name}: offer {offer['offer']} for {offer['right']} (code goes out of band)"]
        redeemed = (await wallet(holder, "redeem", "--office", office.url, "--code", code)).body
        if redeemed.get("subject") != holder.did or redeemed.get("issuer") != office.did:
            raise DemoError(f"{office.name} issued to {redeemed.get('subject')} as {redeemed.get('issuer')}")
        credential_id = str(redeemed["credential"])
        again, exported = await asyncio.gather(
            wallet(holder, "redeem", "--office", office.url, "--code", code, expect=(0, 2)),
            wallet(holder, "export", "--credential", credential_id),
        )
        if again.returncode == 0 or again.code != "validity.offer-redeemed":
            raise DemoError(f"{office.name} did not refuse a used code: {again.error or 'accepted'}")
        credential = exported.body
        if credential.get("id") != credential_id:
            raise DemoError(f"the holder's wallet exported {credential.get('id')}, not {credential_id}")
        world.facts[f"credential:{number}"] = credential_id
        world.facts[f"document:{number}"] = credential  # as the holder's wallet exported it
        subject = credential["credentialSubject"]
        mark = next((v for k, v in subject.items() if "verbal" in k.lower()), "")
        notes.append(f"{office.name}: issued {credential_id} ({mark}); the same code again -> {again.code}")
        return notes

    world.progress("rightsmesh wallet redeem at both offices")
    pairs = list(zip(world.offices, (EM_NUMBER, DK_NUMBER), strict=True))
    for notes in await asyncio.gather(*(issue(office, number) for office, number in pairs)):
        for line in notes:
            world.note(line)
    summaries = [f"{office.cast.slug[-2:].upper()} {number}" for office, number in pairs]
    return f"2 IPRightCredentials ({', '.join(summaries)}) redeemed by `rightsmesh wallet redeem`"


async def enrol_holder(world: World) -> str:
    """The holder's wallet (``rightsmesh wallet enrol``) enrols at the two big marketplaces (challenge,
    presentation, signed result). One after the other: each run records its enrolment in the wallet."""
    holder = world.holder
    names = []
    for market in world.big:
        started = time.monotonic()
        world.progress(f"rightsmesh wallet enrol --marketplace {market.url}")
        result = (await wallet(holder, "enrol", "--marketplace", market.url)).body
        if result["holder"] != holder.did:
            raise DemoError(f"{market.name} enrolled another holder")
        numbers = sorted(r["number"] for r in result["rights"])
        world.note(
            f"{market.name}: enrolment {short(result['enrolment'], 20)} "
            f"in {time.monotonic() - started:.2f}s (process included), "
            f"rights {numbers}; checks: {', '.join(result['checks'])}"
        )
        names.append(market.name)
    return f"holder enrolled at {' and '.join(names)} with signed enrolment results"


async def authorise_agent(world: World) -> str:
    """The holder authorises the agent (a brand-protection firm, trust-listed as a trusted flagger) for both
    rights (``rightsmesh wallet authorise``); the agent's wallet takes in the authorisation and the right
    credentials it names (``rightsmesh wallet import``, files handed over in ``BASE/handover``)."""
    holder, agent = world.holder, world.agent
    handover = world.base / "handover"
    handover.mkdir(exist_ok=True)
    until = datetime.fromtimestamp(now() + 90 * 86400, UTC).date().isoformat()
    granted = handover / "authorisation.json"
    world.progress("rightsmesh wallet authorise")
    credential = (
        await wallet(holder, "authorise", "--agent", agent.did, "--until", until, "--out", str(granted))
    ).body
    if (
        credential.get("credentialSubject", {}).get("id") != agent.did
        or credential.get("issuer") != holder.did
    ):
        raise DemoError("the authorisation does not name the holder as issuer and the agent as subject")
    files = [granted]
    for number in (EM_NUMBER, DK_NUMBER):
        path = handover / f"right-{number}.json"
        path.write_text(json.dumps(world.facts[f"document:{number}"], indent=1))
        files.append(path)
    world.progress(f"rightsmesh wallet import x{len(files)}")
    imported = await asyncio.gather(*(wallet(agent, "import", str(path)) for path in files))
    kinds = [str(answer.body["type"]) for answer in imported]
    expected = [credential["id"], *(world.facts[f"credential:{n}"] for n in (EM_NUMBER, DK_NUMBER))]
    if [answer.body["imported"] for answer in imported] != expected:
        raise DemoError(f"the agent's wallet imported {[a.body['imported'] for a in imported]}")
    world.facts["authorisation"] = credential["id"]
    subject = credential["credentialSubject"]
    actions = subject.get("authorisedActions", [])
    world.note(f"authorisation {short(credential['id'], 30)} until {credential['validUntil']}: {actions}")
    world.note(f"{agent.name}'s wallet took in: {', '.join(kinds)}")
    rights = subject.get("authorisedRights", [])
    return f"{agent.name} may act for {len(rights)} rights until {until}"


async def wait_for(what: str, check: Any, timeout: float = 20.0, interval: float = 0.1) -> float:
    """Poll the async predicate ``check`` until it holds (bounded); returns the seconds it took."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise DemoError(f"{what}: not within {timeout:.0f}s")
        await asyncio.sleep(interval)


async def holds(world: World, node: Node, object_id: str) -> bool:
    answer = await world.api.request("GET", f"{node.url}/objects/{object_id}")
    return answer.status == 200


async def revoke_right(world: World) -> str:
    """The DK office revokes the holder's DK credential (a new status list version, also kept as an
    object); a marketplace refuses a new enrolment by the holder's wallet (``rightsmesh wallet enrol``
    presents every right it holds, the revoked one included)."""
    dk = world.offices[1]
    credential_id = world.facts[f"credential:{DK_NUMBER}"]
    credential = world.facts[f"document:{DK_NUMBER}"]  # as `wallet export` printed it
    revoked = await world.api.json(
        "POST", f"{dk.url}/admin/revocations", json_body={"credential": credential_id}, token=dk.token
    )
    world.facts["revoked-at"] = time.monotonic()
    listed = await world.api.expect("GET", credential["credentialStatus"]["statusListCredential"])
    list_id = hashlib.sha256(listed.body).hexdigest()
    if not await holds(world, dk, list_id):
        raise DemoError(f"{dk.name} does not hold its status list version as object {list_id}")
    world.facts["status-list"] = list_id
    world.note(
        f"{dk.name}: revoked {short(credential_id, 30)} (index {revoked['status_index']}); "
        f"status list version {revoked['version']} = object {short(list_id)}"
    )
    market = world.big[1]
    world.progress(f"rightsmesh wallet enrol --marketplace {market.url}")
    answer = await wallet(world.holder, "enrol", "--marketplace", market.url, expect=(0, 2))
    if answer.returncode == 0:
        raise DemoError(f"{market.name} enrolled the holder with a revoked credential")
    if answer.code != "status.revoked":
        raise DemoError(f"{market.name} refused the enrolment for another reason: {answer.error}")
    world.note(f"{market.name}: new enrolment presenting the DK credential -> {answer.code}")
    world.facts["status-list-version"] = revoked["version"]
    return (
        f"DK credential revoked (status list v{revoked['version']}); a new enrolment with it: status.revoked"
    )


async def spread_status(world: World) -> str:
    """The new status list version is an object; gossip carries it to every marketplace."""
    list_id = world.facts["status-list"]

    async def everywhere() -> bool:
        return all(await asyncio.gather(*(holds(world, m, list_id) for m in world.markets)))

    await wait_for(f"status list object {short(list_id)} reaching every marketplace", everywhere)
    took = time.monotonic() - world.facts["revoked-at"]
    version = world.facts["status-list-version"]
    return (
        f"status list v{version} held by all {len(world.markets)} marketplaces within {took:.2f}s of revoking"
    )
