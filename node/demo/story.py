"""The story ``rightsmesh demo`` tells, in order (step names are what ``--fail-at`` takes).

``after``: earlier steps whose results it builds on (skipped if one of them did not succeed).
"""

from __future__ import annotations

from . import steps_notices as notices
from . import steps_rights as rights
from . import steps_setup as setup
from . import steps_ui as ui
from .runner import Step

# fmt: off
STEPS: tuple[Step, ...] = (
    Step("start", "Start 2 offices, 4 marketplaces; root key, 2 wallets", setup.start_nodes),
    Step("trust-list", "Offline root signs the trust list; every node takes it", setup.publish_trust_list,
         after=("start",)),
    Step("peers", "Nodes greet their peers (RFC 9421 signed requests)", setup.connect_peers,
         after=("trust-list",)),
    Step("register", "Offices import their registers; signed search", setup.import_registers,
         after=("start",)),
    Step("profiles", "Marketplaces sign their IP-protection profiles", setup.publish_profiles,
         after=("trust-list",)),
    Step("issuance", "Offer, one-time code, wallet redeems (both offices)", rights.issue_rights,
         after=("register", "trust-list")),
    Step("enrolment", "Holder enrols at the two big marketplaces", rights.enrol_holder,
         after=("issuance",)),
    Step("authorise", "Holder authorises an agent (a trusted flagger)", rights.authorise_agent,
         after=("issuance",)),
    Step("notice", "Agent files one notice naming 3 marketplaces", notices.file_notice,
         after=("authorise",)),
    Step("gossip", "The notice spreads to every node", notices.gossip_notice,
         after=("notice", "peers")),
    Step("decisions", "Two marketplaces decide; outcomes reach everyone", notices.decisions,
         after=("gossip",)),
    Step("complaint", "Seller's complaint reverses one decision", notices.complaint,
         after=("decisions",)),
    Step("revocation", "DK office revokes; a new enrolment is refused", rights.revoke_right,
         after=("enrolment",)),
    Step("status-spread", "The new status list reaches every marketplace", rights.spread_status,
         after=("revocation", "peers")),
    Step("refused", "A new notice on the revoked right is refused", notices.refused_notice,
         after=("revocation", "authorise")),
    Step("match", "/match hit at a small platform never notified", notices.match,
         after=("decisions",)),
    Step("search", "Federated register search from a small platform", notices.federated_search,
         after=("register", "peers")),
    Step("dashboard", "Staff log in to the web dashboards (/ui)", ui.dashboards,
         after=("issuance",)),
)
# fmt: on

STEP_NAMES = tuple(step.name for step in STEPS)
