// Interop driver for cose-kit (an independent COSE implementation on cbor-x), run by
// tests/test_interop_cose.py. Reads a JSON array of requests on stdin, writes the array of answers
// (same order) on stdout; nothing is fetched.
//   {"op": "verify", "message": hex, "x": b64url public key}
//       -> {"isValid": bool, "protected": [[label, value], ...], "unprotectedSize": n, "payload": hex}
//   {"op": "sign", "d": b64url seed, "x": b64url public key, "kid": str, "typ": str, "payload": hex,
//    "order": [labels]}  (optional, default [1, 3, 4, 16])
//       -> {"message": hex}   cose-kit's Sign1 with a header Map in the given label order (cbor-x
//          writes Map entries in insertion order, it does not sort), its Sig_structure and encoding;
//          Ed25519 from node:crypto, the primitive cose-kit's own node runtime signs with.
//   {"op": "sign-simple", "d": ..., "x": ..., "kid": str, "payload": hex}
//       -> {"message": hex}   cose-kit's high-level coseSign({alg: "EdDSA", kid}) (it cannot set typ)
import { createPrivateKey, createPublicKey, sign as edSign } from 'node:crypto';
import { coseSign, coseVerify, Sign1 } from 'cose-kit';

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (text) => new Uint8Array(Buffer.from(text, 'hex'));
const show = (value) => (value instanceof Uint8Array ? { hex: hex(value) } : value);

const privateKey = (req) => createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: req.d, x: req.x }, format: 'jwk' });
const publicKey = (req) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: req.x }, format: 'jwk' });

const ops = {
  async verify(req) {
    const { isValid, decoded } = await coseVerify(fromHex(req.message), publicKey(req));
    const prot = [...decoded.protectedHeaders.entries()].map(([k, v]) => [k, show(v)]);
    return { isValid, protected: prot, unprotectedSize: decoded.unprotectedHeaders.size, payload: hex(decoded.payload) };
  },
  async sign(req) {
    const values = { 1: -8, 3: 'application/cbor', 4: new Uint8Array(Buffer.from(req.kid, 'utf8')), 16: req.typ };
    const header = new Map((req.order || [1, 3, 4, 16]).map((label) => [label, values[label]]));
    const payload = fromHex(req.payload);
    const unsigned = new Sign1(header, new Map(), payload, new Uint8Array());
    const toBeSigned = Sign1.Signature1(unsigned.encodedProtectedHeaders, new Uint8Array(), payload);
    const signature = new Uint8Array(edSign(null, toBeSigned, privateKey(req)));
    const signed = new Sign1(unsigned.encodedProtectedHeaders, new Map(), payload, signature);
    return { message: hex(signed.encode()) };
  },
  async 'sign-simple'(req) {
    const message = await coseSign({ alg: 'EdDSA', kid: req.kid }, {}, fromHex(req.payload), privateKey(req));
    return { message: hex(message) };
  },
};

const requests = await readStdin();
const answers = [];
for (const req of requests) answers.push(await ops[req.op](req));
process.stdout.write(JSON.stringify(answers));
