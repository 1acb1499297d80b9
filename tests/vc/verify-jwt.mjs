// Verifies one VC-JWT with panva's `jose` (npm), independently of the LRS: reads
// {"jwt": "...", "didDocuments": {did: document}} on stdin and prints
// {"verified": bool, "header": ..., "payload": ..., "error": ...}.
//
// The key comes from the JWT's `kid` (a DID URL): a did:key resolved by the Digital
// Credentials Consortium's did:key driver, a did:web from the DID document handed in (as
// the LRS serves it at /.well-known/did.json); its Multikey turned into a JWK by DCC's
// ed25519-multikey. Nothing is fetched.
import { readFileSync } from 'node:fs';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import * as didKey from '@digitalcredentials/did-method-key';
import * as Ed25519Multikey from '@digitalcredentials/ed25519-multikey';

const { jwt, didDocuments = {} } = JSON.parse(readFileSync(0, 'utf8'));

async function methodOf(kid) {
  const did = kid.split('#')[0];
  if (did.startsWith('did:key:')) {
    const driver = didKey.driver();
    driver.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });
    return driver.get({ url: kid });
  }
  const document = didDocuments[did];
  if (!document) throw new Error(`no DID document for ${did}`);
  if (!(document.assertionMethod ?? []).includes(kid)) {
    throw new Error(`${did} does not list ${kid} for assertions`);
  }
  return document.verificationMethod.find((method) => method.id === kid);
}

let verdict;
try {
  const header = decodeProtectedHeader(jwt);
  const method = await methodOf(header.kid);
  const keyPair = await Ed25519Multikey.from(method);
  const jwk = await Ed25519Multikey.toJwk({ keyPair });
  const key = await importJWK(jwk, 'Ed25519');
  const { payload } = await jwtVerify(jwt, key, { algorithms: ['Ed25519'], typ: 'JWT' });
  verdict = { verified: true, header, payload };
} catch (error) {
  verdict = { verified: false, error: `${error.code ?? error.name}: ${error.message}` };
}
process.stdout.write(JSON.stringify(verdict));
