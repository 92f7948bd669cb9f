"""protocol.acceptance: the pure per-kind rules deciding what a node may store."""

from __future__ import annotations

from protocol.acceptance import Accept, Refuse, TrustState, decide, sequence_field
from protocol.keys import KeyPair
from protocol.messages import sign_message, verify_message
from tests.node_fixtures import NODE, NOW, OTHER_ROOT, ROOT, trust_list

STATE = TrustState(roots=frozenset({ROOT.did}))


def verified(raw: bytes):  # type: ignore[no-untyped-def]
    return verify_message(raw, NOW)


def test_trust_list_from_root_is_accepted_with_index_fields() -> None:
    decision = decide(verified(trust_list(12)), STATE)
    assert decision == Accept({"sequence": sequence_field(12), "member": (NODE.did,)})
    assert sequence_field(12) < sequence_field(100)  # text order is numeric order


def test_trust_list_refusals() -> None:
    assert decide(verified(trust_list(1, key=OTHER_ROOT)), STATE) == Refuse(
        "validity.untrusted-root", "trust lists are accepted only from this node's trust roots"
    )
    held = TrustState(roots=STATE.roots, trust_list_sequences={ROOT.did: 5})
    for sequence in (4, 5):
        decision = decide(verified(trust_list(sequence)), held)
        assert isinstance(decision, Refuse) and decision.code == "validity.stale-sequence"
    assert isinstance(decide(verified(trust_list(6)), held), Accept)
    bad = verified(sign_message(ROOT, "trust-list", {"created": NOW, "sequence": -1, "entries": []}))
    decision = decide(bad, STATE)
    assert isinstance(decision, Refuse) and decision.code == "schema.trust-list"


def test_node_descriptor_rules() -> None:
    peer = KeyPair.from_seed(bytes(32 * [3]))
    good = {"created": NOW, "did": peer.did, "role": "office", "name": "P", "url": "https://p.example"}
    decision = decide(verified(sign_message(peer, "node-descriptor", good)), STATE)
    assert decision == Accept({"did": peer.did, "role": "office", "url": "https://p.example"})
    for change, code in (
        ({"did": NODE.did}, "objects.descriptor-mismatch"),
        ({"role": "wallet"}, "schema.node-descriptor"),
        ({"url": "ftp://p"}, "schema.node-descriptor"),
    ):
        decision = decide(verified(sign_message(peer, "node-descriptor", {**good, **change})), STATE)
        assert isinstance(decision, Refuse) and decision.code == code


def test_other_kinds_are_not_accepted_yet() -> None:
    for kind in ("test", "search-result", "enrolment-result"):
        raw = sign_message(ROOT, kind, {"created": NOW})
        decision = decide(verified(raw), STATE)
        assert isinstance(decision, Refuse) and decision.code == "objects.kind-not-accepted"
    for kind in ("notice", "decision"):  # decided with the node's holdings (protocol/notice_acceptance.py)
        decision = decide(verified(sign_message(ROOT, kind, {"created": NOW})), STATE)
        assert isinstance(decision, Refuse) and decision.code == "objects.needs-holdings"
