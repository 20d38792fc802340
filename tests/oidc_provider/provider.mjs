// A real OpenID provider for Samsyn's tests and for trying federation by hand:
// panva/oidc-provider 9, one or more issuers in one process, on one loopback port.
//
// Configuration (environment):
//   OIDC_PORT           the port to listen on (127.0.0.1 only)
//   OIDC_HOST           the host name in the issuer URLs (default 127.0.0.1; "localhost" makes
//                       the provider another site than a relying party on 127.0.0.1)
//   OIDC_ISSUERS        JSON list, one entry per issuer, mounted at http://HOST:PORT/<name>:
//                         {"name": "skola", "client_id": "...", "client_secret": "...",
//                          "redirect_uris": ["http://.../oidc/skola/callback"],
//                          "post_logout_redirect_uris": ["http://.../oidc/skola/logged-out"]}
//   OIDC_ACCOUNTS_FILE  JSON file of accounts (default: accounts.json next to this file),
//                       read again at every use, so a test can change a user's claims:
//                         {"kontakt-karin": {"issuer": "skola", "sub": "...",
//                          "password": "...", "acr": "...", "amr": ["pwd"],
//                          "claims": {"name": "...", "groups": [...]}}}
//                       "acr" and "amr" say how the login went (amr ["pwd", "otp"]: with a
//                       second factor); they go into the ID token and the access token.
//
// Resource indicators (RFC 8707) give JWT access tokens (RFC 9068, typ at+jwt) for the
// resources "urn:samsyn:<name>:api" and "urn:annan:<name>:api" (the latter for a
// wrong-audience test). The client may use refresh tokens (scope offline_access).
// Logging in, consenting and logging out (RP-Initiated Logout) are plain HTML forms.
// POST /<name>/_rotate-keys replaces the issuer's signing key: the old one is no longer
// published (the issuer's sessions and grants start afresh).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';

const here = path.dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.OIDC_PORT || '0');
const host = process.env.OIDC_HOST || '127.0.0.1';
const issuers = JSON.parse(process.env.OIDC_ISSUERS || '[]');
const accountsFile = process.env.OIDC_ACCOUNTS_FILE || path.join(here, 'accounts.json');

if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  throw new Error('set OIDC_PORT to a port number');
}
if (!Array.isArray(issuers) || issuers.length === 0) {
  throw new Error('set OIDC_ISSUERS to a JSON list of issuers');
}

function accounts() {
  return JSON.parse(readFileSync(accountsFile, 'utf8'));
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, status, title, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`);
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

const ACR_VALUES = ['urn:samsyn:test:pwd', 'urn:samsyn:test:mfa'];

function accountBySub(name, sub) {
  return Object.entries(accounts()).find(([, account]) => account.issuer === name && account.sub === sub);
}

function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.body = `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Logga ut</title></head>`
    + `<body><main><h1>Logga ut</h1>${form}`
    + '<button type="submit" form="op.logoutForm" value="yes" name="logout">Logga ut</button>'
    + '</main></body></html>';
}

function makeProvider(base, entry) {
  const { name } = entry;
  const resources = new Set([`urn:samsyn:${name}:api`, `urn:annan:${name}:api`]);
  const configuration = {
    clients: [{
      client_id: entry.client_id,
      client_secret: entry.client_secret,
      redirect_uris: entry.redirect_uris,
      post_logout_redirect_uris: entry.post_logout_redirect_uris || [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    acrValues: ACR_VALUES,
    // acr and amr in every ID token, as most providers do (by default oidc-provider gives
    // them only on request).
    claims: {
      openid: ['sub', 'acr', 'amr'],
      profile: ['name', 'preferred_username', 'org'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'groups', 'api:read'],
    pkce: { required: () => true },
    // RFC 9068 §2.2.1: the access token says how the user authenticated, as the ID token does.
    async extraTokenClaims(_ctx, token) {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      const found = accountBySub(name, token.accountId);
      if (!found) return undefined;
      const [, account] = found;
      return { ...(account.acr ? { acr: account.acr } : {}), ...(account.amr ? { amr: account.amr } : {}) };
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (!resources.has(resource)) throw new errors.InvalidTarget();
          return {
            scope: 'api:read',
            audience: resource,
            accessTokenTTL: 7200,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `/${name}/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const found = accountBySub(name, sub);
      if (!found) return undefined;
      const [login, account] = found;
      return {
        accountId: sub,
        async claims() {
          return { sub, preferred_username: login, ...account.claims };
        },
      };
    },
  };
  const provider = new Provider(`${base}/${name}`, configuration);
  provider.on('server_error', (_ctx, err) => { console.error(`[${name}] server_error`, err); });
  return provider;
}

function loginForm(uid, name, error = '') {
  return `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/${name}/interaction/${uid}/login">
  <label for="login">Användar-id</label> <input id="login" name="login" autocomplete="username" required>
  <label for="password">Lösenord</label> <input id="password" name="password" type="password" required>
  <button type="submit">Logga in hos IdP</button>
</form>
<form method="post" action="/${name}/interaction/${uid}/abort"><button type="submit">Avbryt</button></form>`;
}

function consentForm(uid, name, clientId, scopes) {
  return `<p>Tjänsten ${escapeHtml(clientId)} begär: ${escapeHtml(scopes.join(' '))}</p>
<form method="post" action="/${name}/interaction/${uid}/confirm"><button type="submit">Godkänn</button></form>
<form method="post" action="/${name}/interaction/${uid}/abort"><button type="submit">Avbryt</button></form>`;
}

async function interaction(provider, name, req, res, rest) {
  const [uid, action] = rest;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.InvalidRequest('interaction mismatch');
  const { prompt, params } = details;
  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') return page(res, 200, `Logga in (${name})`, loginForm(uid, name));
    const scopes = [...(prompt.details.missingOIDCScope || []),
      ...Object.values(prompt.details.missingResourceScopes || {}).flat()];
    return page(res, 200, `Godkänn (${name})`, consentForm(uid, name, params.client_id, scopes));
  }
  if (req.method !== 'POST') return page(res, 405, 'Fel metod', '');
  const form = await formBody(req);
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'Användaren avbröt inloggningen.',
    }, { mergeWithLastSubmission: false });
  }
  if (action === 'login') {
    const login = form.get('login') || '';
    const account = accounts()[login];
    if (!account || account.issuer !== name || account.password !== form.get('password')) {
      return page(res, 401, `Logga in (${name})`, loginForm(uid, name, 'Fel användar-id eller lösenord.'));
    }
    const result = { accountId: account.sub };
    if (account.acr) result.acr = account.acr;
    if (account.amr) result.amr = account.amr;
    return provider.interactionFinished(req, res, { login: result },
      { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    const { accountId } = details.session;
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    if (!grant) grant = new provider.Grant({ accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } },
      { mergeWithLastSubmission: true });
  }
  return page(res, 404, 'Finns inte', '');
}

const base = `http://${host}:${port}`;
const entries = new Map(issuers.map((entry) => [entry.name, entry]));
const providers = new Map(issuers.map((entry) => [entry.name, makeProvider(base, entry)]));
const callbacks = new Map([...providers].map(([name, provider]) => [name, provider.callback()]));

function rotateKeys(name) {
  const provider = makeProvider(base, entries.get(name));
  providers.set(name, provider);
  callbacks.set(name, provider.callback());
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, base);
    const [, name, ...rest] = url.pathname.split('/');
    const provider = providers.get(name);
    if (!provider) return page(res, 404, 'Finns inte', '');
    if (rest[0] === 'interaction') return await interaction(provider, name, req, res, rest.slice(1));
    if (rest[0] === '_rotate-keys' && req.method === 'POST') {
      rotateKeys(name);
      return page(res, 200, 'Nya nycklar', '');
    }
    // Mounted under /<name>: oidc-provider reads the mount path from originalUrl.
    req.originalUrl = req.url;
    req.url = req.url.slice(name.length + 1) || '/';
    return callbacks.get(name)(req, res);
  } catch (err) {
    console.error('interaction error', err);
    return page(res, 400, 'Fel', `<p>${escapeHtml(err.name || 'Error')}</p>`);
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`test OpenID provider on ${base}: ${[...providers.keys()].map((n) => `${base}/${n}`).join(' ')}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
