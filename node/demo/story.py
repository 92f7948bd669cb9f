"""The story ``rightsmesh demo`` tells, in order (step names are what ``--fail-at`` takes)."""

from __future__ import annotations

from . import steps_rights as rights
from . import steps_setup as setup
from .runner import Step

STEPS: tuple[Step, ...] = (
    Step("start", "Start 2 offices and 4 marketplaces; root key and wallets", setup.start_nodes),
    Step(
        "trust-list",
        "Trust root signs the trust list; every node takes it",
        setup.publish_trust_list,
        after=("start",),
    ),
    Step(
        "peers",
        "Nodes greet their peers (signed requests)",
        setup.connect_peers,
        needs=("gossip",),
        after=("trust-list",),
    ),
    Step(
        "register", "Offices import their registers; signed search", setup.import_registers, after=("start",)
    ),
    Step(
        "profiles",
        "Marketplaces sign their IP-protection profiles",
        setup.publish_profiles,
        after=("trust-list",),
    ),
    Step(
        "issuance",
        "Offer, one-time code, wallet redeems (2 offices)",
        rights.issue_rights,
        after=("register", "trust-list"),
    ),
    Step("enrolment", "Holder enrols at the two big marketplaces", rights.enrol_holder, after=("issuance",)),
    Step(
        "authorise",
        "Holder authorises an agent (trusted flagger)",
        rights.authorise_agent,
        after=("issuance",),
    ),
    Step(
        "revocation",
        "DK office revokes; a new enrolment is refused",
        rights.revoke_right,
        after=("enrolment",),
    ),
)

STEP_NAMES = tuple(step.name for step in STEPS)
