// A real OpenID provider (oidc-provider, a certified implementation) for tally-lrs's tests.
//
//   node tests/oidc/provider.mjs --port 9000 --lrs http://127.0.0.1:8000[,http://...]
//        [--jwks keys.json] [--short-ttl 2]
//
// (or OIDC_PORT, OIDC_LRS_URLS, OIDC_JWKS_FILE, OIDC_SHORT_TTL_SECONDS). The issuer is
// http://127.0.0.1:<port>. Sign-in goes through oidc-provider's built-in dev interactions: its
// login form (any password; the login names one of ACCOUNTS) and its consent form.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PORT },
    lrs: { type: 'string', default: process.env.OIDC_LRS_URLS ?? '' },
    jwks: { type: 'string', default: process.env.OIDC_JWKS_FILE },
    'short-ttl': { type: 'string', default: process.env.OIDC_SHORT_TTL_SECONDS ?? '2' },
  },
});
if (!args.port) throw new Error('--port (or OIDC_PORT) is required');
const issuer = `http://127.0.0.1:${args.port}`;
const lrsUrls = args.lrs.split(',').map((url) => url.trim().replace(/\/$/, '')).filter(Boolean);

// The audience of access tokens the LRS accepts; any other resource is another API's.
export const AUDIENCE = 'urn:tally-lrs:xapi';
const OTHER_AUDIENCE = 'urn:someone-else:api';
const SHORT_LIVED_CLIENT = 'lrs-short-lived';

// Test accounts: the login typed in the provider's form is the account id.
const ACCOUNTS = {
  admin: { name: 'Alice Admin', email: 'alice@example.com', groups: ['admin'] },
  compliance: { name: 'Carol Compliance', email: 'carol@example.com', groups: ['compliance'] },
  analyst: { name: 'Andy Analyst', email: 'andy@example.com', groups: ['analyst'] },
  ada: { name: 'Ada Lovelace', email: 'ada@example.com', groups: ['learner'] },
  bob: { name: 'Bob Learner', email: 'bob@example.com', groups: ['learner'] },
  multi: { name: 'Morgan Many', email: 'morgan@example.com',
           groups: ['admin', 'compliance', 'analyst', 'learner', 'unmapped-group'] },
  nobody: { name: 'Nora Norole', email: 'nora@example.com', groups: ['staff'] },
  // Frameworks of objectives are assigned to groups (lrs.objectives): a learner in one, and
  // a manager.
  lin: { name: 'Lin Learner', email: 'lin@example.com', groups: ['learner', 'sales-emea'] },
  grace: { name: 'Grace Manager', email: 'grace@example.com', groups: ['manager', 'sales-emea'] },
};

// One signing key; tests give two provider instances the same file, so that a token from the
// wrong issuer is told apart by its `iss`, not merely by an unknown key.
function signingKeys(path) {
  if (path && existsSync(path)) return JSON.parse(readFileSync(path, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'),
                use: 'sig', alg: 'RS256' };
  const jwks = { keys: [jwk] };
  if (path) writeFileSync(path, JSON.stringify(jwks));
  return jwks;
}

const machine = (clientId, secret) => ({
  client_id: clientId, client_secret: secret, grant_types: ['client_credentials'],
  response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic',
});

const configuration = {
  clients: [
    {
      // The console: a confidential web client, authorization code with PKCE.
      client_id: 'lrs-console',
      client_secret: 'console-secret',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: lrsUrls.map((url) => `${url}/sign-in/callback`),
      post_logout_redirect_uris: lrsUrls.map((url) => `${url}/signed-out`),
      token_endpoint_auth_method: 'client_secret_basic',
    },
    machine('lrs-machine', 'machine-secret'), // a platform the LRS knows
    machine(SHORT_LIVED_CLIENT, 'short-secret'), // the same, with tokens that expire soon
    machine('stranger', 'stranger-secret'), // a client of this provider the LRS does not know
  ],
  pkce: { required: () => true },
  ttl: {
    ClientCredentials: (ctx, token, client) =>
      (client.clientId === SHORT_LIVED_CLIENT ? Number(args['short-ttl']) : 600),
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'groups'],
  },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, email_verified: true, ...account };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Machine clients get a token for the LRS unless they ask for another resource; the
      // console's access token stays an opaque one for userinfo.
      defaultResource: (ctx, client) =>
        (client.grantTypes.includes('client_credentials') ? AUDIENCE : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resource, client) {
        if (resource !== AUDIENCE && resource !== OTHER_AUDIENCE) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope: 'xapi',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: client.clientId === SHORT_LIVED_CLIENT
            ? Number(args['short-ttl']) : 600,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  jwks: signingKeys(args.jwks),
  cookies: { keys: [randomBytes(16).toString('hex')] },
};

const provider = new Provider(issuer, configuration);
const server = provider.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`oidc-provider listening: ${issuer}/.well-known/openid-configuration`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
// Orphaned (the test run that started it was killed before its teardown): stop too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
