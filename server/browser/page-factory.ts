/**
 * The production page factory: a browser lease from the pool, the policy's redaction gate in
 * it, and a CdpSessionPage wired to the session's events. The registry asks the factory port
 * (server/core/ports.ts) for pages and never sees the pool, puppeteer or the gate.
 */
import type { CpuSampler } from './cpu-load.ts';
import type { AdaptiveOptions } from './adaptive-quality.ts';
import type { Page } from 'puppeteer-core';
import type { PageEvents, PageOpenOptions, PolicyCatalogue, SessionPage, SessionPageFactory } from '../core/ports.ts';
import type { PatternSpec } from '../policy/patterns.ts';
import type { Viewport } from '../protocol.ts';
import type { FrameGate } from './frame-gate.ts';
import type { BrowserPool } from './pool.ts';
import { CdpSessionPage } from './session-page.ts';

/** The policy catalogue as the browser layer needs it: it also builds each page's redaction gate. */
export interface PolicyProvider extends PolicyCatalogue {
  createGate(page: Page, name: string): Promise<FrameGate>;
  /** Every text pattern the policy names (base and rules): the recording leak scan looks for them. */
  patterns?(name: string): PatternSpec[] | null;
}

export interface ChromiumPagesOptions {
  pool: BrowserPool;
  policies: Pick<PolicyProvider, 'createGate'>;
  viewport: Viewport;
  jpegQuality: number;
  adaptiveQuality: boolean;
  adaptiveTuning?: Partial<AdaptiveOptions>;
  cpu: CpuSampler;
  memoryBudgetMb?: number;
}

export function chromiumPages(o: ChromiumPagesOptions): SessionPageFactory {
  return {
    async open(events: PageEvents, opts: PageOpenOptions): Promise<SessionPage> {
      const lease = await o.pool.acquire();
      try {
        return await CdpSessionPage.open(lease, events, {
          viewport: o.viewport,
          jpegQuality: o.jpegQuality,
          adaptiveQuality: o.adaptiveQuality,
          cpu: o.cpu,
          ...(o.adaptiveTuning ? { adaptiveTuning: o.adaptiveTuning } : {}),
          memoryBudgetMb: o.memoryBudgetMb,
          checkUrl: opts.checkUrl,
          subresourceFilter: opts.subresourceFilter,
          createGate: (p) => o.policies.createGate(p, opts.policyName),
          ...(opts.files ? { files: opts.files } : {}),
        });
      } catch (e) {
        await lease.release();
        throw e;
      }
    },
  };
}
