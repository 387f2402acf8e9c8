/**
 * The document handoff's HTTP side (handoff.ts): the customer's upload for an open file chooser,
 * and the customer's one-time download links. Uploads are a raw streamed body (not base64 in
 * the WebSocket): the size limit is enforced while reading, a large file never sits in memory,
 * and the socket that carries frames and input is never blocked by a document.
 */
import type express from 'express';
import { VitrineError } from '../errors.ts';
import type { FileHandoffs } from './handoff.ts';

/**
 * Cluster mode: the node that owns a session, and a streamed hop to it. A customer's browser
 * reaches whichever node the load balancer picks; the file must still go to the one whose
 * browser context has the chooser (and the download is in that node's session directory).
 */
export interface FileRouteCluster<Node> {
  owner(sessionId: string): Promise<Node | null>;
  stream(req: express.Request, res: express.Response, node: Node): Promise<void>;
  /** True for a request another node already forwarded here: it is answered here or not at all. */
  forwarded(req: express.Request): boolean;
}

export function mountFileRoutes<Node>(app: express.Express, handoffs: Pick<FileHandoffs, 'get'>, cluster?: FileRouteCluster<Node>): void {
  /** True when the request was answered by the node that owns the session. */
  const elsewhere = async (req: express.Request, res: express.Response): Promise<boolean> => {
    if (!cluster || cluster.forwarded(req)) return false;
    const node = await cluster.owner(String(req.params.id));
    if (!node) return false;
    await cluster.stream(req, res, node);
    return true;
  };
  app.post('/api/sessions/:id/files/:chooser', async (req, res, next) => {
    try {
      const h = handoffs.get(String(req.params.id));
      if (!h && (await elsewhere(req, res))) return;
      if (!h) throw new VitrineError('NO_SUCH_SESSION');
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const r = await h.upload(req, String(req.params.chooser), m?.[1]);
      res.status(201).json({ attached: true, ...r });
    } catch (e) {
      // The rest of a refused body is not read: the connection closes after the answer.
      if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
      next(e);
    }
  });
  app.get('/api/sessions/:id/downloads/:download', async (req, res, next) => {
    try {
      const h = handoffs.get(String(req.params.id));
      if (!h && (await elsewhere(req, res))) return;
      if (!h) throw new VitrineError('NO_SUCH_DOWNLOAD');
      await h.take(String(req.params.download), typeof req.query.t === 'string' ? req.query.t : undefined, res);
    } catch (e) {
      if (res.headersSent) res.destroy();
      else next(e);
    }
  });
}
