/**
 * The audit trail streamed to a SIEM: every audit record, as it is written, as one RFC 5424
 * syslog message over TLS (RFC 5425) with octet-counting framing (RFC 6587), in audit order.
 * Records wait in a durable outbox (outbox.ts) while the receiver is away and go out in order
 * when it is back, also after a restart of Vitrine.
 *
 * Plain syslog has no acknowledgements, so a record counts as delivered once it was written to a
 * connection that then stayed up for SETTLE_MS (or was closed cleanly by both sides). When a
 * connection breaks, the records written on it in that window go again on the next one: a
 * receiver can see a record twice, never miss one; each message carries its audit seq (the
 * structured data's `seq`) to de-duplicate by.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import type { ChainedRecord } from '../audit/chain.ts';
import type { Logger } from '../log.ts';
import type { UrlGuard } from '../net/url-guard.ts';
import { OutgoingRecordSchema, outgoingRecord, type OutgoingRecord } from './events.ts';
import type { SyslogConfig } from './integration-config.ts';
import { Outbox } from './outbox.ts';
import { backoffDelay, pause } from './retry.ts';

/** How long a written record must ride a healthy connection before it counts as delivered. */
export const SETTLE_MS = 1000;
/** Records written ahead of their settling, at most (bounds what one broken connection resends). */
const WINDOW = 500;
/** Private enterprise number 32473 is the one RFC 5612 reserves for examples and documentation. */
const SD_ID = 'vitrine@32473';

const WARNING_TYPES = new Set(['token.refused', 'egress.refused', 'input.refused', 'verification.failed', 'navigation.refused', 'frame.withheld', 'cluster.node_lost', 'cluster.node_fenced']);

function sdValue(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** One RFC 5424 message: header, structured data for filtering in the SIEM, the record as JSON. */
export function formatSyslog(rec: OutgoingRecord, cfg: Pick<SyslogConfig, 'facility' | 'hostname' | 'appName'>, procId = String(process.pid)): string {
  const severity = WARNING_TYPES.has(rec.type) ? 4 : 5;
  const params: [string, string | undefined][] = [
    ['seq', String(rec.seq)],
    ['session', rec.session],
    ['actor', rec.actor?.sub],
    ['role', rec.actor?.role],
    ['policy', rec.policy?.name],
    ['policyVersion', rec.policy?.version],
  ];
  const sd = `[${SD_ID}${params
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${sdValue(v!)}"`)
    .join('')}]`;
  // MSGID is at most 32 printable characters; every audit type fits.
  const msgId = rec.type.replace(/[^\x21-\x7e]/g, '_').slice(0, 32);
  return `<${cfg.facility * 8 + severity}>1 ${rec.at} ${cfg.hostname} ${cfg.appName} ${procId} ${msgId} ${sd} \uFEFF${JSON.stringify(rec)}`;
}

/** Octet counting (RFC 6587 3.4.1, required by RFC 5425): the byte length, a space, the message. */
export function frameOctetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export interface SyslogDeps {
  dir: string;
  guard: UrlGuard;
  maxEntries: number;
  startAt: number;
  log: Logger;
}

export interface SyslogStatus {
  connected: boolean;
  pending: number;
  dropped: number;
  lastError: string | null;
}

export class SyslogStreamer {
  readonly #cfg: SyslogConfig;
  readonly #deps: SyslogDeps;
  readonly #outbox: Outbox<OutgoingRecord>;
  readonly #abort = new AbortController();
  readonly #tls: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  #wake: (() => void) | null = null;
  #socket: TLSSocket | null = null;
  #lastError: string | null = null;
  readonly #loop: Promise<void>;

  constructor(cfg: SyslogConfig, deps: SyslogDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#tls = {
      ...(cfg.caFile ? { ca: readFileSync(cfg.caFile) } : {}),
      ...(cfg.certFile ? { cert: readFileSync(cfg.certFile) } : {}),
      ...(cfg.keyFile ? { key: readFileSync(cfg.keyFile) } : {}),
    };
    this.#outbox = new Outbox(join(deps.dir, 'syslog.outbox'), { schema: OutgoingRecordSchema, maxEntries: deps.maxEntries, startAt: deps.startAt });
    this.#outbox.onAppend(() => this.#poke());
    this.#loop = this.#run();
  }

  get cursor(): number {
    return this.#outbox.sourceCursor;
  }

  take(rec: ChainedRecord): void {
    if (this.#outbox.append(outgoingRecord(rec), rec.seq)) return;
    this.#deps.log.error({ seq: rec.seq, pending: this.#outbox.size }, 'syslog outbox full: audit record not streamed (it stays in the audit file)');
  }

  status(): SyslogStatus {
    return { connected: this.#socket !== null, pending: this.#outbox.size, dropped: this.#outbox.dropped, lastError: this.#lastError };
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      if (!this.#outbox.size) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const socket = await this.#connect();
      if (!socket) {
        failures++;
        const delay = backoffDelay(failures, this.#cfg.retry);
        this.#deps.log.warn({ error: this.#lastError, retryInMs: delay, pending: this.#outbox.size }, 'syslog receiver unreachable; records wait in the outbox');
        await pause(delay, signal);
        continue;
      }
      failures = 0;
      await this.#stream(socket);
    }
  }

  async #connect(): Promise<TLSSocket | null> {
    const { host, port } = this.#cfg;
    const decision = await this.#deps.guard.decide(host, port);
    if (!decision.allowed || !decision.address) {
      this.#lastError = `address_refused: ${decision.reason ?? 'refused'}`;
      return null;
    }
    return new Promise((resolve) => {
      const socket = connect({ host: decision.address, port, ...(isIP(host) ? {} : { servername: host }), ...this.#tls, minVersion: 'TLSv1.2', timeout: 10_000 });
      const fail = (e: NodeJS.ErrnoException | Error) => {
        this.#lastError = (e as NodeJS.ErrnoException).code ?? e.message;
        socket.destroy();
        resolve(null);
      };
      socket.once('error', fail);
      socket.once('timeout', () => fail(Object.assign(new Error('timeout'), { code: 'timeout' })));
      socket.once('secureConnect', () => {
        socket.removeListener('error', fail);
        socket.setTimeout(0);
        socket.setKeepAlive(true, 10_000);
        resolve(socket);
      });
    });
  }

  /** Sends on one connection until it breaks or the streamer closes. */
  async #stream(socket: TLSSocket): Promise<void> {
    this.#socket = socket;
    this.#lastError = null;
    this.#deps.log.info({ host: this.#cfg.host, port: this.#cfg.port, pending: this.#outbox.size }, 'syslog receiver connected');
    const written: { seq: number; at: number }[] = [];
    let lastSeq = 0;
    let broken = false;
    const onBroken = (e?: Error) => {
      if (broken) return;
      broken = true;
      this.#lastError = e ? ((e as NodeJS.ErrnoException).code ?? e.message) : 'closed by the receiver';
      this.#poke();
    };
    socket.on('error', onBroken);
    socket.on('end', () => onBroken());
    socket.on('close', () => onBroken());
    // Receivers send nothing; anything that comes is read and dropped.
    socket.resume();
    const settle = () => {
      const ripe = Date.now() - SETTLE_MS;
      while (!broken && written.length && written[0]!.at <= ripe) this.#outbox.ack(written.shift()!.seq);
      if (written.length) this.#poke();
    };
    const ticker = setInterval(settle, SETTLE_MS / 4);
    try {
      while (!broken && !this.#abort.signal.aborted) {
        const batch = written.length < WINDOW ? this.#outbox.after(lastSeq, WINDOW - written.length) : [];
        for (const e of batch) {
          const ok = socket.write(frameOctetCounted(formatSyslog(e.data, this.#cfg)));
          written.push({ seq: e.seq, at: Date.now() });
          lastSeq = e.seq;
          if (!ok)
            await new Promise<void>((r) => {
              socket.once('drain', r);
              this.#wake = r;
            });
          if (broken) break;
        }
        if (!batch.length)
          await new Promise<void>((r) => {
            this.#wake = r;
          });
      }
      if (!broken) {
        // Shutting down: half-close and wait for the receiver's own close, which comes only after
        // it has read everything before our end; then all that was written counts as delivered.
        const clean = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 2000);
          socket.once('end', () => {
            clearTimeout(t);
            resolve(true);
          });
          socket.once('error', () => {
            clearTimeout(t);
            resolve(false);
          });
          socket.end();
        });
        if (clean) for (const w of written.splice(0)) this.#outbox.ack(w.seq);
      }
    } finally {
      clearInterval(ticker);
      if (!broken) settle();
      socket.destroy();
      this.#socket = null;
      if (broken && !this.#abort.signal.aborted) this.#deps.log.warn({ error: this.#lastError, unsettled: written.length }, 'syslog connection lost; unsettled records go again');
    }
  }

  async close(): Promise<void> {
    this.#abort.abort();
    this.#poke();
    await this.#loop;
    this.#outbox.close();
  }
}
