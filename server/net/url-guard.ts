/**
 * Decides whether the session browser may be sent to a URL: http(s) only, and the host must
 * not resolve to a forbidden address unless the operator allow-listed it. The resolver is
 * injectable so tests can point names at loopback.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { VitrineError } from '../errors.ts';
import { MAX_URL_LENGTH } from '../protocol.ts';
import { isForbiddenAddress } from './address-policy.ts';

export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((r) => r.address);
};

export interface HostDecision {
  allowed: boolean;
  host: string;
  port: number;
  /** The checked address to connect to, when allowed. */
  address?: string;
  reason?: string;
}

export class UrlGuard {
  readonly #allow: ReadonlySet<string>;
  readonly #resolve: Resolver;

  constructor(allowHosts: readonly string[], resolver: Resolver = systemResolver) {
    this.#allow = new Set(allowHosts.map((h) => h.toLowerCase()));
    this.#resolve = resolver;
  }

  /** Parses a URL a participant or the API gave; throws BAD_URL for anything not http(s). */
  static parse(raw: string): URL {
    if (raw.length > MAX_URL_LENGTH) throw new VitrineError('BAD_URL', 'URL is too long');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new VitrineError('BAD_URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new VitrineError('BAD_URL', `scheme ${url.protocol} is not allowed; use http or https`);
    }
    if (url.username || url.password) throw new VitrineError('BAD_URL', 'URLs with credentials are not allowed');
    return url;
  }

  /**
   * Resolves and checks one host:port. The address returned is the one to connect to, so that
   * a second DNS answer cannot swap it.
   */
  async decide(host: string, port: number): Promise<HostDecision> {
    const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { allowed: false, host: bare, port, reason: 'bad port' };
    const listed = this.#allow.has(`${bare}:${port}`) || this.#allow.has(bare) || this.#allow.has(`[${bare}]:${port}`);
    let addresses: string[];
    if (isIP(bare)) addresses = [bare];
    else {
      try {
        addresses = await this.#resolve(bare);
      } catch {
        return { allowed: false, host: bare, port, reason: 'host could not be resolved' };
      }
    }
    const address = addresses[0];
    if (!address) return { allowed: false, host: bare, port, reason: 'host has no address' };
    if (!listed && addresses.some(isForbiddenAddress)) return { allowed: false, host: bare, port, reason: 'private or reserved address' };
    return { allowed: true, host: bare, port, address };
  }

  /** Throws BAD_URL or URL_REFUSED unless the browser may be sent to this URL. */
  async check(raw: string): Promise<URL> {
    const url = UrlGuard.parse(raw);
    const d = await this.decide(url.hostname, Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
    if (!d.allowed) throw new VitrineError('URL_REFUSED', `host ${d.host} is refused: ${d.reason}`);
    return url;
  }
}
