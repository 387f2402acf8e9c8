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

  isAllowListed(url: URL): boolean {
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const host = url.hostname.toLowerCase();
    return this.#allow.has(`${host}:${port}`) || this.#allow.has(host);
  }

  /** Throws URL_REFUSED when the URL's host is, or resolves to, a forbidden address. */
  async check(raw: string): Promise<URL> {
    const url = UrlGuard.parse(raw);
    if (this.isAllowListed(url)) return url;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = await this.#resolve(host);
      } catch {
        throw new VitrineError('URL_REFUSED', `host ${host} could not be resolved`);
      }
    }
    if (addresses.length === 0 || addresses.some(isForbiddenAddress)) {
      throw new VitrineError('URL_REFUSED', `host ${host} is a private or reserved address`);
    }
    return url;
  }
}
