/**
 * The error catalogue (server/contract/errors.ts) and its one way to each wire form
 * (server/errors.ts): every code complete and unique, close codes and exit statuses in their
 * ranges, process-only codes never on the wire, and the start-up errors coded. No browser.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { AuditChainError } from '../../server/audit/audit-file.ts';
import { BrowserNotFoundError } from '../../server/browser/find-browser.ts';
import { ConfigError } from '../../server/config.ts';
import { ERROR_CODES } from '../../server/contract/route-spec.ts';
import { CloseCodes, ErrorCodes, errorSpec, ExitStatus, isErrorCode, isWireErrorCode, wireErrorCodes, type ErrorCode } from '../../server/contract/errors.ts';
import { hasCode, toVitrineError, toWire, VitrineError } from '../../server/errors.ts';
import { OutboxCorruptError } from '../../server/integrations/outbox.ts';
import { PolicyLoadError } from '../../server/policy/store.ts';
import { RecordingTamperedError } from '../../server/recording/sealing.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const codes = Object.keys(ErrorCodes) as ErrorCode[];
const closeValues = new Set<number>(Object.values(CloseCodes));
const exitValues = new Set<number>(Object.values(ExitStatus));

describe('error catalogue (server/contract/errors.ts)', function () {
  it('gives every code an HTTP error status, a message, a close code and a non-zero exit status', function () {
    for (const code of codes) {
      const spec = errorSpec(code);
      expect(code, 'codes are UPPER_SNAKE').to.match(/^[A-Z][A-Z_]*[A-Z]$/);
      expect(spec.status, code).to.be.within(400, 599);
      expect(spec.message, code).to.be.a('string').and.not.equal('');
      expect(closeValues.has(spec.close), `${code}: close ${spec.close} is a named close code`).to.equal(true);
      expect(exitValues.has(spec.exit), `${code}: exit ${spec.exit} is a named exit status`).to.equal(true);
      expect(spec.exit, `${code}: a failure never exits 0`).to.not.equal(ExitStatus.OK);
    }
  });

  it('has no duplicate codes, close codes or exit statuses', function () {
    // An object literal keeps the last of two equal keys: count them in the source itself.
    const source = readFileSync(join(ROOT, 'server/contract/errors.ts'), 'utf8');
    const declared = [...source.matchAll(/^\s+([A-Z_]+): \{ status:/gm)].map((m) => m[1]!);
    expect(declared.length).to.equal(codes.length);
    expect(new Set(declared).size, 'a code declared twice').to.equal(declared.length);
    expect(closeValues.size, 'two names for one close code').to.equal(Object.keys(CloseCodes).length);
    expect(exitValues.size, 'two names for one exit status').to.equal(Object.keys(ExitStatus).length);
  });

  it('keeps close codes in the valid ranges: standard ones the server may send, application ones in 4000–4999', function () {
    // RFC 6455 §7.4: 1005, 1006 and 1015 must never be sent; 1004 is reserved.
    const sendableStandard = new Set([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]);
    for (const [name, close] of Object.entries(CloseCodes)) {
      expect(sendableStandard.has(close) || (close >= 4000 && close <= 4999), `${name} = ${close}`).to.equal(true);
    }
    // A refused join closes with an application code: the client tells refusals from network loss by it.
    for (const code of codes) expect(errorSpec(code).close, code).to.be.within(4000, 4999);
  });

  it('keeps the join close codes the wire has always used', function () {
    const close = (code: ErrorCode) => errorSpec(code).close;
    expect(close('BAD_TOKEN')).to.equal(4401);
    expect(close('NO_SUCH_SESSION')).to.equal(4404);
    expect(close('CUSTOMER_PRESENT')).to.equal(4409);
    expect(close('RATE_LIMITED')).to.equal(4429);
    expect(close('NOT_LIVE')).to.equal(4400);
    expect(close('INTERNAL')).to.equal(4400);
  });

  it('keeps process-only codes off the wire: not in the REST contract, not in the OpenAPI document', function () {
    const processOnly = codes.filter((c) => !isWireErrorCode(c));
    expect(processOnly).to.include.members(['USAGE', 'CONFIG_INVALID', 'BROWSER_NOT_FOUND', 'POLICY_INVALID', 'PORT_IN_USE']);
    expect(ERROR_CODES).to.deep.equal(wireErrorCodes());
    for (const c of processOnly) expect(ERROR_CODES as readonly string[], c).to.not.include(c);
    const openapi = readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8');
    const documented = new Set([...openapi.matchAll(/"([A-Z][A-Z_]+[A-Z])"/g)].map((m) => m[1]!).filter((s) => isErrorCode(s)));
    for (const c of documented) expect(isWireErrorCode(c), `${c} is documented as a REST refusal`).to.equal(true);
    expect(isErrorCode('constructor'), 'prototype names are not codes').to.equal(false);
    expect(isErrorCode('NO_SUCH_THING')).to.equal(false);
  });

  it('lists every close code in docs/protocol.md and every exit status in docs/cli.md', function () {
    const protocol = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8');
    for (const [name, close] of Object.entries(CloseCodes)) expect(protocol, `${name} (${close})`).to.match(new RegExp(`^\\| ${close} \\|`, 'm'));
    const cli = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
    for (const [name, status] of Object.entries(ExitStatus)) expect(cli, `${name} (${status})`).to.match(new RegExp(`^\\| ${status} \\|`, 'm'));
    for (const code of codes.filter((c) => !isWireErrorCode(c) || errorSpec(c).exit !== ExitStatus.FAILED)) expect(cli, code).to.include(`\`${code}\``);
  });
});

describe('errors to the wire (server/errors.ts)', function () {
  it('a coded error: its status and body over REST, its message and close code over the WebSocket', function () {
    const rest = toWire(new VitrineError('NO_SUCH_SESSION'));
    expect(rest.status).to.equal(404);
    expect(rest.body).to.deep.equal({ error: { code: 'NO_SUCH_SESSION', message: 'no such session' } });
    const ws = toWire(new VitrineError('BAD_TOKEN', 'this invite has already been used', { reason: 'invite_used' }), 'join');
    expect(ws.message).to.deep.equal({ type: 'error', code: 'BAD_TOKEN', message: 'this invite has already been used', ref: 'join', reason: 'invite_used' });
    expect(ws.close).to.equal(4401);
    expect(toWire(new VitrineError('NOT_LIVE')).message).to.deep.equal({ type: 'error', code: 'NOT_LIVE', message: ErrorCodes.NOT_LIVE.message });
  });

  it('anything uncoded is INTERNAL, with the original kept as the cause and its text not sent', function () {
    const boom = new Error('secret detail /etc/vitrine');
    const rest = toWire(boom);
    expect(rest.status).to.equal(500);
    expect(rest.body).to.deep.equal({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(rest.error.cause).to.equal(boom);
    for (const thrown of [undefined, null, 'text', 42]) expect(toWire(thrown).body.error.code, String(thrown)).to.equal('INTERNAL');
  });

  it('a process-only code never reaches a client: it goes out as INTERNAL', function () {
    const rest = toWire(new ConfigError(['VITRINE_PORT: expected a number']));
    expect(rest.status).to.equal(500);
    expect(rest.body.error).to.deep.equal({ code: 'INTERNAL', message: 'internal error' });
    expect(toWire(new VitrineError('USAGE')).message.code).to.equal('INTERNAL');
  });

  it('library errors by their machine-readable fields (body-parser type, HTTP status)', function () {
    expect(toWire(Object.assign(new SyntaxError('Unexpected token'), { type: 'entity.parse.failed', status: 400 })).body.error.code).to.equal('BAD_JSON');
    expect(toWire({ type: 'entity.too.large', status: 413 }).status).to.equal(413);
    expect(toWire({ type: 'charset.unsupported', status: 415 }).body.error.code).to.equal('BAD_REQUEST');
    expect(toWire({ status: 404 }).body.error.code).to.equal('NOT_FOUND');
    // A SyntaxError of the server's own (not a request body) is a fault, not the client's bad JSON.
    expect(toWire(new SyntaxError('Unexpected token')).body.error.code).to.equal('INTERNAL');
  });

  it('a port in use at start-up is PORT_IN_USE, exit status 3', async function () {
    const first: Server = createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const port = (first.address() as { port: number }).port;
    const second = createServer();
    const failure = await new Promise<unknown>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    first.close();
    const err = toVitrineError(failure);
    expect(err.code).to.equal('PORT_IN_USE');
    expect(err.exit).to.equal(ExitStatus.UNAVAILABLE);
    expect(err.message).to.include(`127.0.0.1:${port}`).and.include('in use');
  });

  it('start-up failures are coded errors with their exit statuses', function () {
    const cases: [VitrineError, ErrorCode, number][] = [
      [new ConfigError(['VITRINE_PORT: expected a number']), 'CONFIG_INVALID', 2],
      [new PolicyLoadError(['broken: colour is not allowed']), 'POLICY_INVALID', 3],
      [new AuditChainError('/data/audit.log', 3, 'MAC mismatch'), 'AUDIT_CHAIN_BROKEN', 3],
      [new BrowserNotFoundError(), 'BROWSER_NOT_FOUND', 3],
      [new OutboxCorruptError('/data/x.outbox', 1, 'not JSON'), 'OUTBOX_CORRUPT', 3],
      [new VitrineError('BROWSER_ERROR', 'BROWSER_USER_SWITCH_FAILED: the helper does not work'), 'BROWSER_ERROR', 3],
      [new RecordingTamperedError('chunk 2 does not authenticate'), 'RECORDING_TAMPERED', 1],
    ];
    for (const [err, code, exit] of cases) {
      expect(err, code).to.be.instanceOf(VitrineError);
      expect(hasCode(err, code), code).to.equal(true);
      expect(err.exit, code).to.equal(exit);
      expect(toVitrineError(err), 'a coded error is passed on as it is').to.equal(err);
    }
    expect(new ConfigError(['a', 'b']).problems).to.deep.equal(['a', 'b']);
    expect(hasCode(new Error('POOL_FULL'), 'POOL_FULL'), 'a message is not a code').to.equal(false);
    expect(hasCode(new VitrineError('POOL_FULL'), 'SHUTTING_DOWN', 'POOL_FULL')).to.equal(true);
  });
});
