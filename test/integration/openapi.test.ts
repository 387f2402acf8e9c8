/**
 * The OpenAPI document is the REST API: every route the Express app mounts is in it, the copies
 * in docs/ are current, and real answers from a real server (real Chromium behind session
 * creation) validate against the document's own schemas with an independent JSON Schema
 * validator (ajv, draft 2020-12 as OpenAPI 3.1 says), not with the zod schemas it came from.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import express from 'express';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createApp, type AppDeps } from '../../server/http/app.ts';
import { localRouter } from '../../server/routing/session-router.ts';
import { openApiDocument, openApiJson, openApiPath } from '../../server/http/openapi.ts';
import { apiMarkdown } from '../../server/http/openapi-doc.ts';
import { ssoRoutes } from '../../server/http/sso-routes.ts';
import { serveFixtures, startTestServer, type FixtureSite, type TestServer } from '../../harness/harness.ts';

type Json = Record<string, any>;
const doc = openApiDocument() as Json;

/** Every (method, path) the app answers, found by walking its router stack, mounted routers included. */
function mountedRoutes(app: express.Express): string[] {
  const out: string[] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      const raw = typeof layer.rawPath === 'string' ? layer.rawPath : undefined;
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) if (m !== '_all') out.push(`${m} ${prefix}${layer.route.path}`);
      } else if (layer.name === 'router' && layer.handle?.stack) {
        walk(layer.handle.stack, `${prefix}${raw === '/' ? '' : raw}`);
      } else if (layer.name === 'serveStatic') {
        // express.static answers GET under its mount path.
        out.push(`get ${prefix}${raw}/*path`);
      }
    }
  };
  walk((app as any).router.stack, '');
  return out;
}

/** An app wired like server.ts's, from stand-ins: only its route table is looked at. */
function appWithEverythingMounted(): express.Express {
  const none = () => null as never;
  const sso = ssoRoutes({ oidc: {} as never, sessions: {} as never, audit: { record() {} } as never, log: {} as never, publicUrl: () => 'http://localhost', roleClaim: 'roles', nameClaim: 'name' });
  const registry = { config: { embed: { origins: [], startUrls: {}, codeTtlMs: 60_000, policy: 'default' } }, onChange() {}, list: () => [] };
  return createApp({
    registry,
    identity: {},
    audit: { record() {} },
    failures: {},
    creations: {},
    log: {},
    info: () => ({}),
    ready: none,
    retryAfterSeconds: 1,
    metrics: {},
    recordings: null,
    pressure: () => ({}),
    trustProxy: false,
    frameAncestors: ["'none'"],
    tls: false,
    sso,
    router: localRouter(registry as never, 0),
  } as unknown as AppDeps);
}

describe('OpenAPI document', function () {
  it('has every route the app mounts, and nothing the app does not', function () {
    const mounted = new Set(
      mountedRoutes(appWithEverythingMounted()).map((r) => {
        const [m, p] = r.split(' ');
        return `${m} ${openApiPath(p!)}`;
      }),
    );
    const documented = new Set(Object.entries<Json>(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m} ${p}`)));
    expect(mounted.size).to.be.greaterThan(25);
    expect(
      [...mounted].filter((r) => !documented.has(r)),
      'mounted but not documented',
    ).to.deep.equal([]);
    expect(
      [...documented].filter((r) => !mounted.has(r)),
      'documented but not mounted',
    ).to.deep.equal([]);
  });

  it('is valid OpenAPI 3.1 in form: unique operation ids, every error answer coded', function () {
    expect(doc.openapi).to.equal('3.1.0');
    const ops = Object.values<Json>(doc.paths).flatMap((item) => Object.values<Json>(item));
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const op of ops) {
      for (const [status, r] of Object.entries<Json>(op.responses)) {
        if (Number(status) >= 400 && !(op.operationId === 'readiness' && status === '503')) {
          expect(r.content?.['application/json']?.schema?.properties?.error, `${op.operationId} ${status}`).to.be.an('object');
        }
      }
    }
  });

  it('docs/openapi.json and docs/api.md are current (run npm run docs:api)', function () {
    expect(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')).to.equal(openApiJson());
    expect(readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8')).to.equal(apiMarkdown());
  });
});

describe('OpenAPI document against a real server', function () {
  this.timeout(120_000);
  let server: TestServer;
  let site: FixtureSite;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(doc, 'openapi');
  const checked = new Set<string>();

  before(async function () {
    site = await serveFixtures({ '/': '<!doctype html><title>Shop</title><h1>Hello</h1>' });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  /** Calls the real server and validates the answer against the documented response for its status. */
  async function call(method: string, path: string, docPath: string, o: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined || o.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, { method: method.toUpperCase(), headers, body: o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined), redirect: 'manual' });
    const op = doc.paths[docPath]?.[method];
    expect(op, `${method} ${docPath} is documented`).to.be.an('object');
    const response = op.responses[String(res.status)];
    expect(response, `${method} ${docPath} answered ${res.status}, which the document does not list`).to.be.an('object');
    const text = await res.text();
    const body = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    const media = response.content ? Object.keys(response.content)[0] : undefined;
    if (media === 'application/json' && response.content[media].schema) {
      const ref = `openapi#/paths/${docPath.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${res.status}/content/application~1json/schema`;
      const ok = ajv.validate(ref, body);
      expect(ok, `${method} ${path} ${res.status}: ${ajv.errorsText()} in ${text.slice(0, 400)}`).to.equal(true);
    } else if (!media) {
      expect(text, `${method} ${path} ${res.status} has no body`).to.equal('');
    }
    checked.add(`${method} ${docPath} ${res.status}`);
    return { status: res.status, body };
  }

  it('operations, identity and refusals', async function () {
    expect((await call('get', '/healthz', '/healthz')).status).to.equal(200);
    expect([200, 503]).to.include((await call('get', '/readyz', '/readyz')).status);
    await call('get', '/api/info', '/api/info');
    const served = await call('get', '/api/openapi.json', '/api/openapi.json');
    expect(served.body).to.deep.equal(JSON.parse(openApiJson()));
    expect((await call('get', '/metrics', '/metrics')).status).to.equal(200);
    const agent = await server.agentToken();
    await call('get', '/api/me', '/api/me', { token: agent });
    expect((await call('get', '/api/me', '/api/me')).body.error.code).to.equal('UNAUTHENTICATED');
    expect((await call('get', '/api/me', '/api/me', { token: 'not-a-jwt' })).status).to.equal(401);
    expect((await call('get', '/api/cluster', '/api/cluster', { token: agent })).body.error.code).to.equal('FORBIDDEN');
    await call('get', '/api/cluster', '/api/cluster', { token: await server.staffToken('sup-1', 'supervisor', 'Sue') });
    expect((await call('post', '/api/sessions', '/api/sessions', { token: agent, raw: '{nope' })).body.error.code).to.equal('BAD_JSON');
    expect((await call('post', '/api/sessions', '/api/sessions', { token: agent, body: { url: site.url, extra: 1 } })).body.error.code).to.equal('BAD_REQUEST');
    expect((await call('post', '/api/sessions', '/api/sessions', { token: agent, body: { url: 'http://169.254.169.254/' } })).status).to.be.oneOf([400, 403]);
    expect((await call('post', '/api/sessions', '/api/sessions', { token: agent, body: { url: site.url, delivery: 'webhook', customerRef: 'crm:42' } })).body.error.code).to.equal(
      'DELIVERY_UNAVAILABLE',
    );
    expect((await call('post', '/api/customer-sessions', '/api/customer-sessions', { body: { url: site.url } })).body.error.code).to.equal('ORIGIN_REFUSED');
    expect((await call('post', '/api/join-codes/claim', '/api/join-codes/claim', { token: agent, body: { code: '000000' } })).status).to.equal(403);
    expect((await call('get', '/embed.js', '/embed.js')).status).to.equal(404);
  });

  it('a session from creation to end, recordings and the delivery log', async function () {
    const agent = await server.agentToken();
    const supervisor = await server.staffToken('sup-1', 'supervisor', 'Sue');
    const auditor = await server.staffToken('aud-1', 'auditor', 'Al');
    const created = await call('post', '/api/sessions', '/api/sessions', { token: agent, body: { url: site.url } });
    expect(created.status).to.equal(201);
    const id = created.body.id as string;
    const list = await call('get', '/api/sessions', '/api/sessions', { token: agent });
    expect(list.body.sessions.map((s: Json) => s.id)).to.include(id);
    await call('get', '/api/sessions', '/api/sessions', { token: supervisor });
    expect((await call('post', `/api/sessions/${id}/observers`, '/api/sessions/{id}/observers', { token: supervisor })).status).to.equal(201);
    expect((await call('post', `/api/sessions/${id}/rejoin`, '/api/sessions/{id}/rejoin', { token: agent })).status).to.equal(201);
    expect((await call('get', `/api/sessions/${id}/audit`, '/api/sessions/{id}/audit', { token: auditor })).body.records.length).to.be.greaterThan(0);
    expect((await call('delete', `/api/sessions/${id}`, '/api/sessions/{id}', { token: await server.agentToken('agent-2', 'Other') })).body.error.code).to.equal('FORBIDDEN');
    expect((await call('delete', `/api/sessions/${id}`, '/api/sessions/{id}', { token: agent })).status).to.equal(204);
    expect((await call('delete', `/api/sessions/${id}`, '/api/sessions/{id}', { token: agent })).body.error.code).to.equal('NO_SUCH_SESSION');
    expect((await call('post', `/api/sessions/${id}/rejoin`, '/api/sessions/{id}/rejoin', { token: agent })).status).to.equal(404);
    await call('get', '/api/recordings', '/api/recordings', { token: auditor });
    expect((await call('get', '/api/recordings/abcdefgh12', '/api/recordings/{id}', { token: auditor })).body.error.code).to.equal('NO_SUCH_RECORDING');
    expect((await call('delete', '/api/recordings/abcdefgh12', '/api/recordings/{id}', { token: auditor })).body.error.code).to.equal('NO_SUCH_RECORDING');
    await call('get', '/api/webhooks/deliveries', '/api/webhooks/deliveries', { token: supervisor });
    expect((await call('get', '/api/webhooks/deliveries?limit=0', '/api/webhooks/deliveries', { token: supervisor })).body.error.code).to.equal('BAD_REQUEST');
    await call('get', '/agent', '/agent');
    await call('post', '/session-ended', '/session-ended');
    expect(checked.size).to.be.greaterThan(30);
  });
});
