// Data Integrity interop CLI: signs and verifies W3C credentials and presentations with the JavaScript
// reference stack (@digitalbazaar/vc 7 + data-integrity + eddsa-jcs-2022 / eddsa-rdfc-2022 cryptosuites),
// fully offline, so the Python tests can check both directions.
//
// Usage: node tests/interop/di.mjs < requests.json > results.json
//
// stdin:  one request object, or a JSON array of requests (batch: one node process for many cases).
// stdout: one result object, or an array of results in the same order.
//
// Request fields:
//   op          "sign" | "verify"
//   suite       "eddsa-jcs-2022" | "eddsa-rdfc-2022"   (sign; verify accepts either suite)
//   credential  a credential (sign: unsigned, verify: secured)           -- exactly one of these two
//   presentation a presentation (sign: unsigned, its credentials already secured; verify: secured)
//   key         {"publicKeyMultibase": "z6Mk…", "secretKeyMultibase" | "privateKeyMultibase": "z3u2…"}
//               (sign; the verification method is did:key:<pub>#<pub>, the controller did:key:<pub>)
//   created     proof creation date-time (sign, optional; default now)
//   challenge, domain   presentations (sign: put in the proof; verify: expected values)
//   now         date-time the validity period is checked against (verify, optional)
// Result: {"ok": true, "document": {...}} for sign; {"ok": true, "verified": bool, "errors": [str]} for
// verify; {"ok": false, "error": str} when the request itself failed (e.g. signing refused the document).
//
// The document loader serves ONLY the contexts listed in protocol/contexts/index.json (read from disk)
// and resolves did:key DIDs and DID URLs locally (Ed25519 Multikey); anything else throws. Status is not
// checked here (the reference library only calls a caller-supplied checkStatus): rightsmesh checks the
// Bitstring Status List bits itself, this accepts any credentialStatus.
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {
  createSignCryptosuite as createJcsSign,
  createVerifyCryptosuite as createJcsVerify
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as rdfcCryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTEXTS = join(HERE, '..', '..', 'protocol', 'contexts');
const INDEX = JSON.parse(readFileSync(join(CONTEXTS, 'index.json'), 'utf8'));
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';
const DID_V1 = 'https://www.w3.org/ns/did/v1';

const contexts = new Map();
for(const [url, file] of Object.entries(INDEX)) {
  contexts.set(url, JSON.parse(readFileSync(join(CONTEXTS, file), 'utf8')));
}

function didKeyDocuments(url) {
  const [did, fragment] = url.split('#');
  const msid = did.slice('did:key:'.length);
  if(!msid.startsWith('z6Mk') || (fragment !== undefined && fragment !== msid)) {
    throw new Error(`unsupported did:key URL ${url}`);
  }
  const vmId = `${did}#${msid}`;
  const method = {
    '@context': MULTIKEY_V1, id: vmId, type: 'Multikey', controller: did, publicKeyMultibase: msid
  };
  const didDocument = {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [{id: vmId, type: 'Multikey', controller: did, publicKeyMultibase: msid}],
    authentication: [vmId],
    assertionMethod: [vmId],
    capabilityInvocation: [vmId],
    capabilityDelegation: [vmId]
  };
  return fragment === undefined ? didDocument : method;
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
  }
  if(url.startsWith('did:key:')) {
    return {contextUrl: null, documentUrl: url, document: didKeyDocuments(url)};
  }
  throw new Error(`document loader refuses ${url}: not a shipped context or did:key`);
}

async function signingSuite({suite, key, created}) {
  const secret = key.secretKeyMultibase || key.privateKeyMultibase;
  const did = `did:key:${key.publicKeyMultibase}`;
  const keyPair = await Ed25519Multikey.from({
    '@context': MULTIKEY_V1, type: 'Multikey', id: `${did}#${key.publicKeyMultibase}`, controller: did,
    publicKeyMultibase: key.publicKeyMultibase, secretKeyMultibase: secret
  });
  const cryptosuite = suite === 'eddsa-jcs-2022' ? createJcsSign() :
    suite === 'eddsa-rdfc-2022' ? rdfcCryptosuite : null;
  if(!cryptosuite) {
    throw new Error(`unknown suite ${suite}`);
  }
  const options = {signer: keyPair.signer(), cryptosuite};
  if(created) {
    options.date = created;
  }
  return new DataIntegrityProof(options);
}

const verifyingSuites = () => [
  new DataIntegrityProof({cryptosuite: createJcsVerify()}),
  new DataIntegrityProof({cryptosuite: rdfcCryptosuite})
];

const checkStatus = async () => ({verified: true});

function errorsOf(result) {
  const out = [];
  const walk = r => {
    if(!r) {
      return;
    }
    if(r.error) {
      const errors = r.error.errors || [r.error];
      for(const e of errors) {
        out.push(String(e && (e.message || e.name) || e));
      }
    }
    for(const p of r.results || []) {
      if(!p.verified && p.error) {
        out.push(String(p.error.message || p.error));
      }
    }
    walk(r.presentationResult);
    for(const c of r.credentialResults || []) {
      walk(c);
    }
  };
  walk(result);
  return out;
}

async function handle(request) {
  const {op, suite, credential, presentation, key, created, challenge, domain, now} = request;
  if(op === 'sign') {
    const s = await signingSuite({suite, key, created});
    if(credential) {
      const document = await vc.issue({credential: structuredClone(credential), suite: s, documentLoader});
      return {ok: true, document};
    }
    const document = await vc.signPresentation({
      presentation: structuredClone(presentation), suite: s, challenge, domain, documentLoader
    });
    return {ok: true, document};
  }
  if(op === 'verify') {
    const options = {suite: verifyingSuites(), documentLoader, checkStatus};
    if(now) {
      options.now = now;
    }
    const result = credential ?
      await vc.verifyCredential({...options, credential: structuredClone(credential)}) :
      await vc.verify({
        ...options, presentation: structuredClone(presentation), challenge, domain
      });
    return {ok: true, verified: result.verified === true, errors: result.verified ? [] : errorsOf(result)};
  }
  throw new Error(`unknown op ${op}`);
}

async function main() {
  const input = JSON.parse(readFileSync(0, 'utf8'));
  const requests = Array.isArray(input) ? input : [input];
  const results = [];
  for(const request of requests) {
    try {
      results.push(await handle(request));
    } catch(e) {
      results.push({ok: false, error: String(e && e.message || e)});
    }
  }
  process.stdout.write(JSON.stringify(Array.isArray(input) ? results : results[0]));
}

await main();
