/**
 * The agent console inside a CRM page (a Zendesk or Salesforce sidebar, docs/sdk.md). The server
 * must allow the CRM's origin in VITRINE_FRAME_ANCESTORS, or the browser refuses the frame.
 *
 * The staff token (and the session to open, if any) travels in the URL fragment
 * (`/agent#token=...&session=...`), which is how the console
 * takes it (client/src/agent.ts): browsers never send a fragment to a server, so it is in no
 * access log, proxy log or Referer, and the console removes it from the address and history at
 * once and keeps it in its frame's sessionStorage only.
 */
export interface AgentConsoleOptions {
  /** The Vitrine server's public base URL. */
  baseUrl: string;
  /** A staff JWT for the signed-in CRM user, minted by the CRM's backend (short-lived). */
  staffToken: string;
  /** Opens this session at once (the agent's own, rejoined; e.g. the one the CRM ticket started). */
  sessionId?: string;
}

export function agentConsoleUrl(options: AgentConsoleOptions): string {
  const url = new URL('/agent', options.baseUrl);
  if (url.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) throw new TypeError('baseUrl: https (plain http only on loopback)');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(options.staffToken)) throw new TypeError('staffToken: a JWT');
  if (options.sessionId !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(options.sessionId)) throw new TypeError('sessionId: a session id');
  url.hash = new URLSearchParams({ token: options.staffToken, ...(options.sessionId ? { session: options.sessionId } : {}) }).toString();
  return url.href;
}

export interface AgentConsoleFrameOptions extends AgentConsoleOptions {
  /** Accessible name of the frame. */
  title?: string;
  /** The document to create the element in (default: the global one). */
  document?: Document;
}

/** An <iframe> for the console, ready to append to the sidebar. */
export function createAgentConsoleFrame(options: AgentConsoleFrameOptions): HTMLIFrameElement {
  const doc = options.document ?? globalThis.document;
  const frame = doc.createElement('iframe');
  frame.title = options.title ?? 'Co-browsing';
  // No Referer from the console's requests (the CRM page's own URL may name a customer).
  frame.referrerPolicy = 'no-referrer';
  frame.setAttribute('allow', 'clipboard-write');
  frame.style.border = '0';
  frame.style.width = '100%';
  frame.style.height = '100%';
  frame.src = agentConsoleUrl(options);
  return frame;
}

/**
 * Whether a server's Content-Security-Policy header lets `origin` frame its pages: a check for a
 * setup script or a health page, so that a missing VITRINE_FRAME_ANCESTORS entry is found before
 * an agent sees an empty sidebar.
 */
export function frameAncestorsAllow(csp: string | null, origin: string): boolean {
  const directive = csp
    ?.split(';')
    .map((d) => d.trim().split(/\s+/))
    .find((d) => d[0]?.toLowerCase() === 'frame-ancestors');
  if (!directive) return true;
  return directive.slice(1).some((s) => s === origin || s === '*');
}
