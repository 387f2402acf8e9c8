/**
 * Token attacks against staff identity (HS256 and JWKS modes) and session tokens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { IdentityVerifier } from '../../server/auth/identity.ts';
import { SessionTokens } from '../../server/auth/session-tokens.ts';
import { loadConfig } from '../../server/config.ts';

const SECRET = 'identity-test-secret-identity-test-secret';
const enc = new TextEncoder();

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('staff identity', function () {
  describe('HS256 mode', function () {
    const config = loadConfig({ VITRINE_JWT_SECRET: SECRET });
    const idv = new IdentityVerifier(config);
    const sign = (claims: Record<string, unknown>, opts: { exp?: number | string; nbf?: string; key?: string; alg?: string } = {}) => {
      const j = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256' }).setSubject('alice');
      if (opts.exp !== null) j.setExpirationTime(opts.exp ?? '1h');
      if (opts.nbf) j.setNotBefore(opts.nbf);
      return j.sign(enc.encode(opts.key ?? SECRET));
    };

    it('accepts a well-formed agent token and reads name and role', async function () {
      const who = await idv.verify(await sign({ role: 'agent', name: 'Alice' }), 'agent');
      expect(who).to.deep.include({ sub: 'alice', name: 'Alice' });
    });

    it('refuses no token, garbage, alg none, a wrong key, expired, not yet valid and missing exp', async function () {
      const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', role: 'agent', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
      const noExp = await new SignJWT({ role: 'agent' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(enc.encode(SECRET));
      const cases: [string, string | undefined][] = [
        ['no token', undefined],
        ['garbage', 'garbage.garbage.garbage'],
        ['alg none', none],
        ['wrong key', await sign({ role: 'agent' }, { key: 'another-secret-another-secret-another-secret' })],
        ['expired', await sign({ role: 'agent' }, { exp: Math.floor(Date.now() / 1000) - 3600 })],
        ['not yet valid', await sign({ role: 'agent' }, { nbf: '2h' })],
        ['no exp', noExp],
        ['HS512', await sign({ role: 'agent' }, { alg: 'HS512' })],
      ];
      for (const [what, token] of cases) expect(await codeOf(idv.verify(token, 'agent')), what).to.equal('UNAUTHENTICATED');
    });

    it('refuses the wrong role and a session token presented as a staff token', async function () {
      expect(await codeOf(idv.verify(await sign({ role: 'auditor' }), 'agent'))).to.equal('FORBIDDEN');
      expect(await codeOf(idv.verify(await sign({}), 'agent'))).to.equal('FORBIDDEN');
      const tokens = new SessionTokens(config.jwtSecret);
      const { token } = await tokens.mint({ sid: 's1', role: 'agent', kind: 'participant', sub: 'alice', name: 'A' }, Date.now() + 60_000);
      expect(await codeOf(idv.verify(token, 'agent'))).to.equal('UNAUTHENTICATED');
    });

    it('tolerates only a bounded clock skew', async function () {
      const skewed = await sign({ role: 'agent' }, { exp: Math.floor(Date.now() / 1000) - 10 });
      expect(await codeOf(idv.verify(skewed, 'agent'))).to.equal('ok');
      const tooOld = await sign({ role: 'agent' }, { exp: Math.floor(Date.now() / 1000) - 120 });
      expect(await codeOf(idv.verify(tooOld, 'agent'))).to.equal('UNAUTHENTICATED');
    });
  });

  describe('JWKS mode', function () {
    let jwks: Server;
    let url = '';
    let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
    let publicJwk: JWK;
    let other: Awaited<ReturnType<typeof generateKeyPair>>;
    let idv: IdentityVerifier;

    before(async function () {
      rsa = await generateKeyPair('RS256', { extractable: true });
      other = await generateKeyPair('RS256', { extractable: true });
      publicJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
      jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
      await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
      idv = new IdentityVerifier(loadConfig({ VITRINE_JWKS_URL: url, VITRINE_JWT_ISSUER: 'https://idp.example', VITRINE_JWT_AUDIENCE: 'vitrine', VITRINE_ROLE_CLAIM: 'realm_access.roles' }));
    });
    after(async function () {
      jwks.closeAllConnections();
      await new Promise((r) => jwks.close(r));
    });

    const rs = (claims: Record<string, unknown>, o: { iss?: string; aud?: string; key?: CryptoKey; kid?: string } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? 'k1' })
        .setSubject('bob')
        .setIssuer(o.iss ?? 'https://idp.example')
        .setAudience(o.aud ?? 'vitrine')
        .setExpirationTime('10m')
        .sign(o.key ?? rsa.privateKey);

    it('accepts a token signed by the provider with the role in a nested claim', async function () {
      const who = await idv.verify(await rs({ realm_access: { roles: ['offline', 'supervisor'] }, name: 'Bob' }), 'supervisor');
      expect(who.roles).to.deep.equal(['supervisor']);
    });

    it('refuses a wrong issuer, wrong audience, a foreign key and a forged role claim', async function () {
      const roles = { realm_access: { roles: ['agent'] } };
      expect(await codeOf(idv.verify(await rs(roles, { iss: 'https://evil.example' }), 'agent'))).to.equal('UNAUTHENTICATED');
      expect(await codeOf(idv.verify(await rs(roles, { aud: 'someone-else' }), 'agent'))).to.equal('UNAUTHENTICATED');
      expect(await codeOf(idv.verify(await rs(roles, { key: other.privateKey as CryptoKey }), 'agent'))).to.equal('UNAUTHENTICATED');
      // Escalation: a valid agent token whose payload is edited to say auditor no longer verifies.
      const token = await rs(roles);
      const [h, p, sig] = token.split('.');
      const forged = `${h}.${b64({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), realm_access: { roles: ['auditor'] } })}.${sig}`;
      expect(await codeOf(idv.verify(forged, 'auditor'))).to.equal('UNAUTHENTICATED');
      expect(await codeOf(idv.verify(token, 'auditor'))).to.equal('FORBIDDEN');
    });

    it('refuses HS256 "signed" with the public key (key type confusion) and alg none', async function () {
      const confused = await new SignJWT({ realm_access: { roles: ['agent'] } })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .setSubject('bob')
        .setIssuer('https://idp.example')
        .setAudience('vitrine')
        .setExpirationTime('10m')
        .sign(enc.encode(JSON.stringify(publicJwk)));
      expect(await codeOf(idv.verify(confused, 'agent'))).to.equal('UNAUTHENTICATED');
      const none = `${b64({ alg: 'none' })}.${b64({ sub: 'bob', iss: 'https://idp.example', aud: 'vitrine', exp: Math.floor(Date.now() / 1000) + 600, realm_access: { roles: ['agent'] } })}.`;
      expect(await codeOf(idv.verify(none, 'agent'))).to.equal('UNAUTHENTICATED');
    });
  });

  describe('session tokens', function () {
    const tokens = new SessionTokens(enc.encode(SECRET));
    it('bind a token to one session and refuse a mismatched role and kind', async function () {
      const { token } = await tokens.mint({ sid: 'A', role: 'agent', kind: 'participant', sub: 'alice', name: 'A' }, Date.now() + 60_000);
      expect((await tokens.verify(token, 'A')).role).to.equal('agent');
      expect(await codeOf(tokens.verify(token, 'B'))).to.equal('BAD_TOKEN');
      const bad = await tokens.mint({ sid: 'A', role: 'customer', kind: 'participant', sub: 'x', name: 'x' }, Date.now() + 60_000);
      expect(await codeOf(tokens.verify(bad.token, 'A'))).to.equal('BAD_TOKEN');
      const expired = await tokens.mint({ sid: 'A', role: 'customer', kind: 'invite', sub: 'x', name: 'x' }, Date.now() - 120_000);
      expect(await codeOf(tokens.verify(expired.token, 'A'))).to.equal('BAD_TOKEN');
    });
  });
});
