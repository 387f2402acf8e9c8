/**
 * The built-in demo site (a fake bank), served on loopback in development mode so a session
 * can be tried without any other site. Everything is static but the two form posts.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { PAGES, SCRIPTS } from './site/pages.ts';

export interface DemoSite {
  /** Base URL, e.g. http://127.0.0.1:43123/ */
  url: string;
  close(): Promise<void>;
}

/** Centre of the /clicks page's toggle button in CSS pixels (1280×720 viewport). */
export const DEMO_CLICK_TARGET = { path: '/clicks', x: 190, y: 180 } as const;

const CSS = readFileSync(join(import.meta.dirname, 'site', 'style.css'), 'utf8');

export async function startDemoSite(opts: { host?: string; port?: number } = {}): Promise<DemoSite> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/style.css', (_req, res) => void res.type('text/css').send(CSS));
  for (const [path, js] of Object.entries(SCRIPTS)) app.get(path, (_req, res) => void res.type('text/javascript').send(js));
  for (const [path, html] of Object.entries(PAGES)) app.get(path, (_req, res) => void res.type('html').send(html));
  app.post('/signin', (_req, res) => res.redirect(303, '/account'));
  app.post('/pay', (_req, res) => res.redirect(303, '/pay/done'));
  app.use((_req, res) => void res.status(404).type('text/plain').send('Not found'));
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
