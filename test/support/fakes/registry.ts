/**
 * A SessionRegistry on fakes: pages from a FakePageFactory, a small policy catalogue (default and
 * strict), an in-memory audit trail, real session tokens, and no egress check (the registry's own
 * address check and the policy's lists still apply).
 */
import { SessionTokens } from '../../../server/auth/session-tokens.ts';
import { loadConfig, type Config } from '../../../server/config.ts';
import type { Clock, PolicyCatalogue, PolicySummary } from '../../../server/core/ports.ts';
import { VitrineError } from '../../../server/errors.ts';
import { createLogger } from '../../../server/log.ts';
import type { Metrics } from '../../../server/metrics.ts';
import { SessionRegistry } from '../../../server/session/registry.ts';
import { FakePageFactory } from './page.ts';
import { FakeAudit, nullSessionMetrics } from './sinks.ts';

export const FAKE_SECRET = 'unit-secret-that-is-long-enough-0123456789';

export interface FakeRegistry {
  reg: SessionRegistry;
  pages: FakePageFactory;
  audit: FakeAudit;
  tokens: SessionTokens;
  config: Config;
}

export function fakeRegistry(over: { summary?: Partial<PolicySummary>; filter?: (url: string) => boolean; clock?: Clock } = {}): FakeRegistry {
  const pages = new FakePageFactory();
  const audit = new FakeAudit();
  const policies: PolicyCatalogue = {
    check: (name) => {
      if (name !== 'default' && name !== 'strict') throw new VitrineError('BAD_REQUEST', `unknown policy ${name}`);
    },
    summary: () => ({ masked: ['passwords'], record: false, retentionDays: null, ...over.summary }),
    urlFilter: () => over.filter ?? null,
  };
  const config = loadConfig({ VITRINE_JWT_SECRET: FAKE_SECRET });
  const tokens = new SessionTokens(config.jwtSecret, 0);
  const reg = new SessionRegistry({
    config,
    pages,
    policies,
    tokens,
    guard: { check: async (u: string) => new URL(u) },
    audit,
    metrics: { ...nullSessionMetrics(), sessionsEnded: { inc: () => undefined } } as unknown as Metrics,
    log: createLogger('silent'),
    publicUrl: () => 'https://vitrine.test',
    recordings: null,
    ...(over.clock ? { clock: over.clock } : {}),
  });
  return { reg, pages, audit, tokens, config };
}
