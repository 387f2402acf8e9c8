/**
 * A session's URL allow/deny lists as the egress proxy applies them. A plain HTTP request or a
 * cleartext WebSocket handshake shows the proxy a whole URL, checked exactly like a navigation.
 * A TLS tunnel (CONNECT) shows only host and port: the tunnel is opened only when some URL of
 * that origin could pass the lists, and refused when every URL of it is denied or none can be
 * allowed. Paths inside a tunnel are checked by the Fetch domain on every target
 * (server/browser/target-guard.ts); WebSocket paths inside TLS are out of reach (docs/SECURITY.md).
 *
 * The globs are those of urlAllowedByPolicy (server/policy/engine.ts): `*` any run of
 * characters, `?` one character, case-insensitive, deny wins.
 */

/** A session's URL predicate; the raw globs ride along so the proxy can reason about origins. */
export type UrlFilter = ((url: string) => boolean) & { lists?: PolicyLists };

export interface PolicyLists {
  allow?: readonly string[];
  deny?: readonly string[];
}

/** Tags a URL predicate with the lists it was built from (server.ts, storePolicies). */
export function withLists(fn: (url: string) => boolean, lists: PolicyLists): UrlFilter {
  return Object.assign(fn, { lists: { allow: [...(lists.allow ?? [])], deny: [...(lists.deny ?? [])] } });
}

/**
 * Where a glob can be after reading all of `prefix`: the set of glob positions reachable. A
 * position on a `*` means the star may still be absorbing characters.
 */
function statesAfter(glob: string, prefix: string): Set<number> {
  const g = glob.toLowerCase();
  const p = prefix.toLowerCase();
  const close = (s: Set<number>) => {
    // A star may match nothing: from a star the next position is reachable too.
    for (const i of [...s]) for (let k = i; k < g.length && g[k] === '*'; k++) s.add(k + 1);
    return s;
  };
  let states = close(new Set([0]));
  for (const ch of p) {
    const next = new Set<number>();
    for (const i of states) {
      if (i >= g.length) continue;
      if (g[i] === '*') next.add(i);
      else if (g[i] === '?' || g[i] === ch) next.add(i + 1);
    }
    states = close(next);
    if (!states.size) break;
  }
  return states;
}

/** Some URL that starts with `prefix` matches the glob. */
export function globMayMatchPrefix(glob: string, prefix: string): boolean {
  return statesAfter(glob, prefix).size > 0;
}

/** Every URL that starts with `prefix` matches the glob (the rest of the glob is only stars). */
export function globMatchesAllWithPrefix(glob: string, prefix: string): boolean {
  for (const i of statesAfter(glob, prefix)) if (/^\**$/.test(glob.slice(i)) && glob.slice(i).length > 0) return true;
  return false;
}

/** The URL prefix every URL of an origin starts with, spelled as WHATWG URL serialises it. */
export function originPrefix(scheme: 'https' | 'wss' | 'http' | 'ws', host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const h = bare.includes(':') ? `[${bare}]` : bare;
  const dflt = scheme === 'https' || scheme === 'wss' ? 443 : 80;
  return `${scheme}://${h}${port === dflt ? '' : `:${port}`}/`;
}

/**
 * Whether a tunnel to host:port may open for this session: some URL of the origin could pass.
 * Chromium tunnels cleartext WebSockets too (ws://), so every scheme counts; what a cleartext
 * tunnel carries is then judged by its path (egress-proxy.ts). A filter without its lists (a custom policy provider) is probed at the origin's
 * root, which refuses too much rather than too little.
 */
export function originMayPass(filter: UrlFilter | null, host: string, port: number): boolean {
  if (!filter) return true;
  return (['https', 'wss', 'ws', 'http'] as const).some((scheme) => {
    const prefix = originPrefix(scheme, host, port);
    const lists = filter.lists;
    if (!lists) return filter(prefix);
    if ((lists.deny ?? []).some((g) => globMatchesAllWithPrefix(g, prefix))) return false;
    if (lists.allow && lists.allow.length) return lists.allow.some((g) => globMayMatchPrefix(g, prefix));
    return true;
  });
}
