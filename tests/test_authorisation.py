"""AgentAuthorisationCredential: shape, parsing and what an authorisation allows."""

from __future__ import annotations

import copy

import pytest
from credential_fixtures import AGENT, HOLDER, ISSUED, MARKET, STRANGER, authorisation

from protocol.authorisation import (
    authorisation_credential,
    authorisation_from_credential,
    make_authorisation,
)
from protocol.data_integrity import verify_proof
from protocol.errors import SchemaError

RIGHT_ID = "urn:uuid:11111111-1111-4111-8111-111111111111"


def test_shape_and_round_trip() -> None:
    vc = authorisation([RIGHT_ID], marketplaces=[MARKET.did])
    assert vc["type"] == ["VerifiableCredential", "AgentAuthorisationCredential"]
    assert vc["issuer"] == HOLDER.did and vc["validUntil"] == "2026-12-31T00:00:00Z"
    assert vc["credentialSubject"] == {
        "id": AGENT.did, "authorisedRights": [RIGHT_ID], "authorisedActions": ["complain", "notify"],
        "authorisedMarketplaces": [MARKET.did],
    }
    assert verify_proof(vc, expected_purpose="assertionMethod").controller == HOLDER.did
    grant = authorisation_from_credential(vc)
    assert grant.allows(RIGHT_ID, "notify", MARKET.did)
    assert not grant.allows(RIGHT_ID, "receive-decisions")
    assert not grant.allows(RIGHT_ID, "notify", STRANGER.did)
    assert not grant.allows("urn:uuid:other")
    anywhere = authorisation_from_credential(authorisation([RIGHT_ID]))
    assert anywhere.marketplaces is None and anywhere.allows(RIGHT_ID, "complain", STRANGER.did)
    assert anywhere.to_claims()["authorisedMarketplaces"] == ["any"]


@pytest.mark.parametrize(
    ("rights", "actions", "marketplaces"),
    [
        ([], ["notify"], None),
        (["relative"], ["notify"], None),
        ([RIGHT_ID, RIGHT_ID], ["notify"], None),
        ([RIGHT_ID], ["sue"], None),
        ([RIGHT_ID], [], None),
        ([RIGHT_ID], ["notify"], ["any", "did:key:z6MkX"]),
        ([RIGHT_ID], ["notify"], ["https://market.example"]),
        ([RIGHT_ID], "notify", None),
    ],
)
def test_bad_authorisations(rights: object, actions: object, marketplaces: object) -> None:
    with pytest.raises(SchemaError):
        make_authorisation(AGENT.did, rights, actions, marketplaces)


def test_credential_rules() -> None:
    grant = make_authorisation(AGENT.did, [RIGHT_ID], ["notify"])
    with pytest.raises(SchemaError):
        authorisation_credential(AGENT.did, grant, valid_from=ISSUED, valid_until="2027-01-01T00:00:00Z")
    with pytest.raises(SchemaError):
        authorisation_credential(HOLDER.did, grant, valid_from=ISSUED, valid_until=ISSUED)
    vc = authorisation([RIGHT_ID])
    for mutate in (
        lambda d: d.pop("validUntil"),
        lambda d: d["credentialSubject"].pop("authorisedMarketplaces"),
        lambda d: d["credentialSubject"].update(scope="all"),
        lambda d: d.update(type=["VerifiableCredential"]),
    ):
        broken = copy.deepcopy(vc)
        mutate(broken)
        with pytest.raises(SchemaError):
            authorisation_from_credential(broken)
