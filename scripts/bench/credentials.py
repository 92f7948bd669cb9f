"""Credential benchmark: Data Integrity issue/verify rates for both cryptosuites, side by side with the raw
Ed25519 verify rate (PyNaCl) of the very same signatures, printed as ratios.

Run: ``.venv/bin/python scripts/bench/credentials.py [--seconds 0.5] [--only jcs]``. Single process, one
core. Each case is a :class:`Case` (a name, a group and a zero-argument callable built once by its
``setup``); add cases by appending to ``CASES`` (typed credentials, presentations, ...), every case is
timed the same way and compared with the Ed25519 baseline measured in the same run.

Target (issue 3): ``eddsa-jcs-2022`` credential verify >= 3,000/s on one core, including the
undefined-term check; a presentation with one credential verified in <= 2 ms median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nacl.bindings  # noqa: E402

from protocol import data_integrity as di  # noqa: E402
from protocol import di_terms  # noqa: E402
from protocol.keys import KeyPair  # noqa: E402
from protocol.multibase import multibase_b58_decode  # noqa: E402

ISSUER = KeyPair.from_seed(bytes(range(32)))
HOLDER = KeyPair.from_seed(bytes(range(1, 33)))
CREATED = "2025-03-01T12:00:00Z"


def sample_credential() -> dict[str, Any]:
    """The W3C test-vector credential shape (unsigned.json), issued by a did:key office."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": ISSUER.did,
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER.did, "alumniOf": "The School of Examples"},
    }


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    setup: Callable[[], Callable[[], object]]


def _raw_ed25519() -> Callable[[], object]:
    """Ed25519 verify of the exact message an eddsa-jcs-2022 proof signs (the 64-byte hash data)."""
    doc = di.add_proof(sample_credential(), ISSUER, created=CREATED)
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    config = di.proof_config(di.JCS, unsecured, doc["proof"])
    canonical_config = di.canonical_proof_config(di.JCS, config)
    message = di.hash_data(canonical_config, di.canonical_document(di.JCS, unsecured))
    signed_message = multibase_b58_decode(doc["proof"]["proofValue"]) + message
    public_key = ISSUER.public_key
    return lambda: nacl.bindings.crypto_sign_open(signed_message, public_key)


def _issue(suite: str) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        credential = sample_credential()
        return lambda: di.add_proof(credential, ISSUER, created=CREATED, suite=suite)
    return setup


def _verify(suite: str) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        doc = json.loads(json.dumps(di.add_proof(sample_credential(), ISSUER, created=CREATED, suite=suite)))
        return lambda: di.verify_proof(doc, expected_purpose="assertionMethod")
    return setup


def _term_check(fast: bool) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        doc = di.add_proof(sample_credential(), ISSUER, created=CREATED)
        check = di_terms.check_terms_fast if fast else di_terms.check_terms_pyld
        return lambda: check(doc)
    return setup


def _presentation_proofs(suite: str) -> Callable[[], Callable[[], object]]:
    """The two proofs of a one-credential presentation (not yet holder binding, status, trust: see B2)."""
    def setup() -> Callable[[], object]:
        credential = di.add_proof(sample_credential(), ISSUER, created=CREATED, suite=suite)
        vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
              "holder": HOLDER.did, "verifiableCredential": [credential]}
        signed = di.add_proof(vp, HOLDER, created=CREATED, suite=suite, purpose="authentication",
                              challenge="n-0123456789", domain="https://market.example")

        def run() -> object:
            di.verify_proof(signed, expected_purpose="authentication")
            for inner in signed["verifiableCredential"]:
                di.verify_proof(inner, expected_purpose="assertionMethod")
            return None
        return run
    return setup


BASELINE = Case("raw Ed25519 verify (PyNaCl)", "baseline", _raw_ed25519)
CASES: list[Case] = [
    Case("verify eddsa-jcs-2022", "jcs", _verify(di.JCS)),
    Case("issue eddsa-jcs-2022", "jcs", _issue(di.JCS)),
    Case("undefined-term check, compiled contexts", "jcs", _term_check(True)),
    Case("undefined-term check, pyld expansion", "jcs", _term_check(False)),
    Case("verify presentation proofs (1 cred) jcs", "jcs", _presentation_proofs(di.JCS)),
    Case("verify eddsa-rdfc-2022", "rdfc", _verify(di.RDFC)),
    Case("issue eddsa-rdfc-2022", "rdfc", _issue(di.RDFC)),
    Case("verify presentation proofs (1 cred) rdfc", "rdfc", _presentation_proofs(di.RDFC)),
]


# --- rightsmesh credential types through the full verifier (protocol/verify.py): schema, proof, issuer,
# --- validity, status bit, trust, and for presentations challenge, single use, domain, holder binding.


def _full_verify(suite: str, presentation: bool) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        from datetime import UTC, datetime

        from protocol.ip_right import issue_ip_right_credential, right_from_json
        from protocol.presentation import create_presentation
        from protocol.status_list import new_status_list
        from protocol.trust_list import TrustStore, sign_trust_list, verify_trust_list
        from protocol.verify import MemoryChallengeStore, verify_credential, verify_presentation

        url = "https://office.example/status/1"
        right = right_from_json(json.loads((ROOT / "specs" / "examples" / "right.json").read_text()))
        vc = issue_ip_right_credential(ISSUER, HOLDER.did, right, created=CREATED, status_list_url=url,
                                       status_index=7, suite=suite)
        lists = {url: new_status_list(url, ISSUER.did, "revocation")}  # already verified, as a node caches it
        root = KeyPair.from_seed(bytes(range(2, 34)))
        entry = {"did": ISSUER.did, "role": "office", "name": "Office", "jurisdiction": "EU",
                 "valid_from": 0, "valid_until": 2**40}
        now = datetime(2026, 6, 1, tzinfo=UTC)
        trust = TrustStore.with_roots([root.did]).accept(
            verify_trust_list(sign_trust_list(root, [entry], sequence=1, created=1), int(now.timestamp())))
        if not presentation:
            doc = json.loads(json.dumps(vc))
            return lambda: verify_credential(doc, now=now, trust=trust, status_lists=lists)
        signed = create_presentation(HOLDER, [vc], challenge="n-0123456789", domain="did:key:z6MkMarket",
                                     created=CREATED, suite=suite)
        vp = json.loads(json.dumps(signed))
        # a fresh challenge store per run: every verify consumes the challenge, as a real one would
        return lambda: verify_presentation(vp, challenge="n-0123456789", domain="did:key:z6MkMarket", now=now,
                                           challenges=MemoryChallengeStore(), trust=trust, status_lists=lists)
    return setup


CASES += [
    Case("verify IPRightCredential, full checks, jcs", "jcs", _full_verify(di.JCS, False)),
    Case("verify presentation (1 IPRight), full, jcs", "jcs", _full_verify(di.JCS, True)),
    Case("verify IPRightCredential, full checks, rdfc", "rdfc", _full_verify(di.RDFC, False)),
    Case("verify presentation (1 IPRight), full, rdfc", "rdfc", _full_verify(di.RDFC, True)),
]


@dataclass(frozen=True)
class Result:
    case: Case
    per_second: float
    median_us: float


def measure(case: Case, seconds: float) -> Result:
    """Run ``case`` repeatedly for about ``seconds``: rate from the whole run, median of batch times."""
    fn = case.setup()
    fn()  # warm caches (compiled contexts, pyld context cache)
    batch = 1
    while True:  # size batches to ~10 ms so the timer overhead does not count
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed > 0.01 or batch >= 1 << 16:
            break
        batch *= 2
    samples: list[float] = []
    total_calls = 0
    total_time = 0.0
    while total_time < seconds or len(samples) < 3:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        elapsed = time.perf_counter() - start
        samples.append(elapsed / batch)
        total_calls += batch
        total_time += elapsed
    return Result(case, total_calls / total_time, statistics.median(samples) * 1e6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.6, help="time per case (default 0.6)")
    parser.add_argument("--only", action="append", help="run only these groups (jcs, rdfc, ...)")
    args = parser.parse_args(argv)
    base = measure(BASELINE, args.seconds)
    results = [measure(c, args.seconds) for c in CASES if not args.only or c.group in args.only]
    print(f"{'operation':44} {'ops/s':>10} {'median µs':>10} {'× Ed25519 verify time':>22}")
    for r in [base, *results]:
        ratio = base.per_second / r.per_second
        print(f"{r.case.name:44} {r.per_second:10.0f} {r.median_us:10.1f} {ratio:22.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
