"""Story steps about rights: issuance, enrolment, agent authorisation, revocation.

The holder's and the agent's side is the wallet library (:mod:`node.wallet.ops`) on real wallet
directories; offices and marketplaces are driven through their admin API with their admin tokens.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from protocol.issuance import key_proof
from protocol.vc import format_datetime

from ..wallet import WalletError, ops
from .procs import DemoError
from .world import DK_NUMBER, EM_NUMBER, Node, World


def iso(moment: float | None = None) -> str:
    return format_datetime(datetime.fromtimestamp(int(moment or time.time()), UTC))


def now() -> int:
    return int(time.time())


def short(value: str, n: int = 16) -> str:
    return value if len(value) <= n + 3 else value[:n] + "..."


async def issue_rights(world: World) -> str:
    """Each office creates an offer (admin API) for the holder's right; the holder's wallet redeems the
    one-time code with a proof of key possession; a second redemption of the same code is refused."""
    holder = world.holder.open()
    summaries = []
    for office, number in zip(world.offices, (EM_NUMBER, DK_NUMBER), strict=True):
        offer = await world.api.json(
            "POST",
            f"{office.url}/admin/offers",
            json_body={"number": number, "ttl": 3600},
            token=office.token,
        )
        code = offer["code"]
        world.note(f"{office.name}: offer {offer['offer']} for {offer['right']} (code goes out of band)")
        credential = await ops.redeem(holder, world.api.session, office.url, code, now())
        world.facts[f"credential:{number}"] = credential["id"]
        again = await world.api.request(
            "POST",
            f"{office.url}/issuance/credential",
            json_body={
                "code": code,
                "proof": key_proof(holder.key, nonce="x", audience=office.did, created=iso()),
            },
        )
        if again.status != 410 or again.code != "validity.offer-redeemed":
            raise DemoError(f"{office.name} accepted a used code again ({again.status} {again.code})")
        subject = credential["credentialSubject"]
        mark = next((v for k, v in subject.items() if "verbal" in k.lower()), "")
        world.note(f"{office.name}: issued {credential['id']} ({mark}); the same code again -> {again.code}")
        summaries.append(f"{office.cast.slug[-2:].upper()} {number}")
    return f"2 IPRightCredentials ({', '.join(summaries)}) redeemed into the holder's wallet"


async def enrol_holder(world: World) -> str:
    """The holder's wallet enrols at the two big marketplaces (challenge, presentation, signed result)."""
    holder = world.holder.open()
    names = []
    for market in world.big:
        started = time.monotonic()
        result = await ops.enrol(holder, world.api.session, market.url, now())
        if result["holder"] != holder.did:
            raise DemoError(f"{market.name} enrolled another holder")
        numbers = sorted(r["number"] for r in result["rights"])
        world.note(
            f"{market.name}: enrolment {short(result['enrolment'], 20)} "
            f"in {time.monotonic() - started:.2f}s, "
            f"rights {numbers}; checks: {', '.join(result['checks'])}"
        )
        names.append(market.name)
    return f"holder enrolled at {' and '.join(names)} with signed enrolment results"


async def authorise_agent(world: World) -> str:
    """The holder authorises the agent (a brand-protection firm, trust-listed as a trusted flagger) for both
    rights; the agent's wallet takes in the authorisation and the right credentials it names."""
    holder, agent = world.holder.open(), world.agent.open()
    until = datetime.fromtimestamp(now() + 90 * 86400, UTC).date().isoformat()
    credential = ops.authorise(holder, agent=agent.did, until=until, now=now())
    kinds = [ops.import_credential(agent, credential, now())]
    kinds += [ops.import_credential(agent, right, now()) for right in holder.rights()]
    world.facts["authorisation"] = credential["id"]
    actions = credential["credentialSubject"].get("authorisedActions", [])
    world.note(f"authorisation {short(credential['id'], 30)} until {credential['validUntil']}: {actions}")
    world.note(f"{world.agent.name}'s wallet took in: {', '.join(kinds)}")
    return f"{world.agent.name} may act for {len(holder.rights())} rights until {until}"


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
    object); a marketplace refuses a new enrolment with it."""
    dk = world.offices[1]
    holder = world.holder.open()
    credential_id = world.facts[f"credential:{DK_NUMBER}"]
    credential = holder.credential(credential_id)
    assert credential is not None
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
    try:
        await ops.enrol(holder, world.api.session, market.url, now(), rights=[credential_id])
    except WalletError as exc:
        if exc.code != "status.revoked":
            raise
        world.note(f"{market.name}: new enrolment with the DK credential -> {exc.code}")
    else:
        raise DemoError(f"{market.name} enrolled the holder with a revoked credential")
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


def credential_of(world: World, number: str) -> dict[str, Any]:
    found = world.holder.open().credential(world.facts[f"credential:{number}"])
    if found is None:
        raise DemoError(f"the holder's wallet lost credential {number}")
    return found
