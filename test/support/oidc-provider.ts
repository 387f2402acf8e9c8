/**
 * A real OpenID provider for the tests (the `oidc-provider` package), on 127.0.0.1 port 0 over
 * plain http (loopback only, as Vitrine's own validation allows). It listens first, so that
 * Vitrine can be started with its issuer, and is configured once Vitrine's redirect URIs are
 * known. Sign-in and consent are the package's development interactions (any login name, any
 * password); accounts and their role claims are given by the test.
 *
 * Two hooks let a test play a misbehaving or hostile party: `onToken` rewrites what the token
 * endpoint answers (an ID token for another client), and `tokenRequests` keeps what reached it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import Provider from 'oidc-provider';

export interface TestAccount {
  name: string;
  claims: Record<string, unknown>;
}

export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
}

export interface TestProvider {
  issuer: string;
  /** Configures the provider (clients and accounts) and starts answering. */
  start(opts: { clients: TestClient[]; accounts: Record<string, TestAccount>; roleClaim: string; scope: string }): void;
  /** Rewrites the token endpoint's JSON answer; null: as the provider made it. */
  onToken: ((body: Record<string, unknown>) => Promise<Record<string, unknown>>) | null;
  /** Every token request body as form fields (grant_type, code, code_verifier, ...), newest last. */
  tokenRequests: Record<string, string>[];
  /** Signs a JWT with the provider's own signing key (to forge "valid" ID tokens for another client). */
  sign(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function listenOidcProvider(): Promise<TestProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => {
    if (!handler) return void res.writeHead(503).end('not configured yet');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const op: TestProvider = {
    issuer,
    onToken: null,
    tokenRequests: [],
    start({ clients, accounts, roleClaim, scope }) {
      const custom = scope.split(' ').filter((s) => !['openid', 'profile', 'email', 'offline_access'].includes(s));
      const provider = new Provider(issuer, {
        clients: clients.map((c) => ({ ...c, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' })),
        jwks: { keys: [jwk] },
        cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
        // The role claim is released with its own scope, as an enterprise provider would do.
        claims: { openid: ['sub'], profile: ['name'], email: ['email'], ...Object.fromEntries(custom.map((s) => [s, [roleClaim]])) },
        scopes: ['openid', 'offline_access', ...custom],
        pkce: { required: () => true },
        features: {
          devInteractions: { enabled: true },
          rpInitiatedLogout: {
            enabled: true,
            // The default page loads a web font from the internet; the tests are offline.
            logoutSource: async (ctx: { body: string }, form: string) => {
              ctx.body = `<!doctype html><html><body><h1>Sign out?</h1>${form}<button id="op-logout" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></body></html>`;
            },
          },
        },
        findAccount: async (_ctx: unknown, id: string) => {
          const account = accounts[id];
          if (!account) return undefined;
          return { accountId: id, claims: async () => ({ sub: id, name: account.name, ...account.claims }) };
        },
      } as ConstructorParameters<typeof Provider>[1]);
      // Loopback http: the provider's own cookies and URLs are fine without TLS here.
      provider.proxy = false;
      provider.use(async (ctx, next) => {
        if (ctx.path === '/token' && ctx.method === 'POST') {
          // Read the form ourselves and hand the provider the same bytes.
          const raw = await new Promise<Buffer>((resolve) => {
            const parts: Buffer[] = [];
            ctx.req.on('data', (c: Buffer) => parts.push(c));
            ctx.req.on('end', () => resolve(Buffer.concat(parts)));
          });
          op.tokenRequests.push(Object.fromEntries(new URLSearchParams(raw.toString())));
          (ctx.req as unknown as { body: unknown }).body = Object.fromEntries(new URLSearchParams(raw.toString()));
        }
        await next();
        if (ctx.path === '/token' && op.onToken && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
          ctx.body = await op.onToken(ctx.body as Record<string, unknown>);
        }
      });
      handler = provider.callback();
    },
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' }).sign(privateKey as CryptoKey),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return op;
}
