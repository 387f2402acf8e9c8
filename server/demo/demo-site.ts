/**
 * The built-in demo site (a fake bank, "Northwind Bank"), served on loopback in development
 * mode so a co-browsing session can be tried without any other site. The pages are static
 * files in ./site; the only server logic is the two form posts, which accept anything.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';

export interface DemoSite {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:43123/ */
  url: string;
  /** Stops listening and drops keep-alive sockets, so the port is free once this resolves. */
  close(): Promise<void>;
}

/**
 * Centre of the /clicks page's toggle button, in CSS pixels from the top-left of the
 * viewport (designed for 1280×720). The button is fixed at left 40, top 120, 300×120 (see
 * .big-button in site/style.css); each click swaps the page background between #ffffff
 * and #0050ff, so a test can tell from pixels that a click arrived.
 */
export const DEMO_CLICK_TARGET = { path: '/clicks', x: 190, y: 180 } as const;

const SITE_DIR = join(import.meta.dirname, 'site');

// Explicit routes rather than file-name extensions, so /pay and /pay/done can coexist and
// no page is reachable under a second name that tests would not cover.
const PAGES: Record<string, string> = {
  '/': 'index.html',
  '/signin': 'signin.html',
  '/account': 'account.html',
  '/pay': 'pay.html',
  '/pay/done': 'pay-done.html',
  '/help': 'help.html',
  '/clicks': 'clicks.html',
};

export async function startDemoSite(opts: { host?: string; port?: number } = {}): Promise<DemoSite> {
  const app = express();
  app.disable('x-powered-by');
  for (const [path, file] of Object.entries(PAGES)) {
    app.get(path, (_req, res, next) => res.sendFile(file, { root: SITE_DIR }, (err) => err && next(err)));
  }
  app.post('/signin', (_req, res) => res.redirect(303, '/account'));
  app.post('/pay', (_req, res) => res.redirect(303, '/pay/done'));
  app.use(express.static(SITE_DIR, { index: false, redirect: false }));
  app.use((_req, res) => void res.status(404).type('text/plain').send('Not found'));

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { address, family, port } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  // Shared so a second close() (e.g. from a shutdown racing a failed start) waits for the first.
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}/`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
