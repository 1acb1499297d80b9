// Runs the Digital Credentials Consortium's verifier (@digitalcredentials/verifier-core) on
// one credential, offline. Reads {"credential": ..., "documents": {url: json}} on stdin and
// prints {"verified": bool, "result": <verifier-core's result>, "refused": [urls]}.
//
// verifier-core's document loader already holds the contexts of its npm packages (VC 1.1
// and 2.0, Data Integrity, Open Badges 3.0, DID, Multikey) and resolves did:key locally.
// Anything else it would fetch over HTTP: `fetch` is replaced here so that it serves only
// the documents the test hands in (the CLR 2.0 context, which no npm package carries, and
// a did:web's did.json as our LRS serves it) and refuses every other URL, so nothing leaves
// the machine.
import { readFileSync } from 'node:fs';

// verifier-core logs to the console; stdout carries only the verdict.
console.log = (...args) => console.error(...args);

const input = JSON.parse(readFileSync(0, 'utf8'));
const documents = input.documents ?? {};
const refused = [];

globalThis.fetch = async (resource) => {
  const url = typeof resource === 'string' ? resource :
    resource instanceof URL ? resource.href : resource.url;
  if (Object.hasOwn(documents, url)) {
    return new Response(JSON.stringify(documents[url]), {
      status: 200, headers: { 'content-type': 'application/json' }
    });
  }
  refused.push(url);
  throw new TypeError(`offline: ${url} is not served to the verifier`);
};

// Imported after fetch is replaced, so no module can have kept the real one.
const { verifyCredential } = await import('@digitalcredentials/verifier-core');
const result = await verifyCredential({ credential: input.credential, knownDIDRegistries: [] });
const signature = (result.log ?? []).find((step) => step.id === 'valid_signature');
const verified = !result.errors && signature?.valid === true;
delete result.credential;
process.stdout.write(JSON.stringify({ verified, result, refused }, (key, value) =>
  value instanceof Error ? { name: value.name, message: value.message } : value));
