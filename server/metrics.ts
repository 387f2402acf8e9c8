/**
 * Prometheus metrics (prom-client), in a registry of this server's own so that several
 * servers in one process (tests) do not mix their figures.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSources {
  sessionsByState(): Record<string, number>;
  participantsByRole(): Record<string, number>;
  pool(): { total: number; used: number; free: number; browsers: number; warm: number };
  browserRestarts(): number;
  egressRefused(): number;
  /** Cluster mode only. */
  cluster?(): { redisUp: boolean; relays: number; draining: boolean } | null;
}

export class Metrics {
  readonly registry = new Registry();
  readonly framesCaptured = new Counter({ name: 'vitrine_frames_captured_total', help: 'Frames captured from session pages and passed by the redaction gate', registers: [this.registry] });
  readonly framesSent = new Counter({ name: 'vitrine_frames_sent_total', help: 'Frames handed to participant sockets', labelNames: ['role'], registers: [this.registry] });
  readonly framesDropped = new Counter({ name: 'vitrine_frames_dropped_total', help: 'Frames a slow participant skipped (latest-frame-wins)', labelNames: ['role'], registers: [this.registry] });
  readonly framesWithheld = new Counter({ name: 'vitrine_frames_withheld_total', help: 'Frames withheld by the redaction gate', registers: [this.registry] });
  readonly frameBytes = new Histogram({ name: 'vitrine_frame_bytes', help: 'Size of encoded frames', buckets: [5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6], registers: [this.registry] });
  readonly inputToAudienceFrame = new Histogram({
    name: 'vitrine_input_to_frame_by_audience_seconds',
    help: 'From an input replayed into a page to the next frame of each audience (customer: unmasked, staff: masked)',
    labelNames: ['audience'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly inputToFrame = new Histogram({
    name: 'vitrine_input_to_frame_seconds',
    help: 'From an input replayed into a page to the next frame that arrives from that page',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly refusals = new Counter({ name: 'vitrine_refusals_total', help: 'Refused messages and requests, by error code', labelNames: ['code'], registers: [this.registry] });
  readonly placements = new Counter({
    name: 'vitrine_cluster_placements_total',
    help: 'Cluster mode: sessions placed by this node, by where they went',
    labelNames: ['target'],
    registers: [this.registry],
  });
  readonly sessionsEnded = new Counter({ name: 'vitrine_sessions_ended_total', help: 'Sessions ended, by reason', labelNames: ['reason'], registers: [this.registry] });

  constructor(sources: MetricsSources) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'vitrine_process_' });
    new Gauge({
      name: 'vitrine_sessions',
      help: 'Sessions by state',
      labelNames: ['state'],
      registers: r,
      collect() {
        const by = sources.sessionsByState();
        for (const state of ['waiting', 'live']) this.set({ state }, by[state] ?? 0);
      },
    });
    new Gauge({
      name: 'vitrine_participants',
      help: 'Connected participants by role',
      labelNames: ['role'],
      registers: r,
      collect() {
        const by = sources.participantsByRole();
        for (const role of ['customer', 'agent', 'supervisor']) this.set({ role }, by[role] ?? 0);
      },
    });
    new Gauge({
      name: 'vitrine_pool_sessions',
      help: 'Browser pool session slots',
      labelNames: ['kind'],
      registers: r,
      collect() {
        const p = sources.pool();
        this.set({ kind: 'total' }, p.total);
        this.set({ kind: 'used' }, p.used);
        this.set({ kind: 'free' }, p.free);
        this.set({ kind: 'warm' }, p.warm);
      },
    });
    // One figure an autoscaler can target (Kubernetes HPA through prometheus-adapter).
    new Gauge({
      name: 'vitrine_capacity_used_ratio',
      help: 'Session slots in use, 0..1',
      registers: r,
      collect() {
        const p = sources.pool();
        this.set(p.total > 0 ? p.used / p.total : 1);
      },
    });
    // Cluster mode only: absent from a single server's figures.
    const clusterGauges: [string, string, (c: NonNullable<ReturnType<NonNullable<MetricsSources['cluster']>>>) => number][] = [
      ['vitrine_cluster_redis_up', 'Cluster mode: 1 while the directory (Redis) is reachable', (c) => (c.redisUp ? 1 : 0)],
      ['vitrine_cluster_relayed_participants', 'Cluster mode: participants connected here whose session runs on another node', (c) => c.relays],
      ['vitrine_cluster_draining', 'Cluster mode: 1 while this node drains', (c) => (c.draining ? 1 : 0)],
    ];
    for (const [name, help, value] of clusterGauges) {
      new Gauge({
        name,
        help,
        registers: r,
        collect() {
          const c = sources.cluster?.();
          if (c) this.set(value(c));
        },
      });
    }
    new Gauge({
      name: 'vitrine_pool_browsers',
      help: 'Live browser processes',
      registers: r,
      collect() {
        this.set(sources.pool().browsers);
      },
    });
    new Gauge({
      name: 'vitrine_browser_restarts',
      help: 'Browsers replaced after dying',
      registers: r,
      collect() {
        this.set(sources.browserRestarts());
      },
    });
    new Gauge({
      name: 'vitrine_egress_refused',
      help: 'Connections refused by the egress guard',
      registers: r,
      collect() {
        this.set(sources.egressRefused());
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** The slice of Metrics a session reports into. */
export type SessionMetrics = Pick<Metrics, 'framesCaptured' | 'framesSent' | 'framesDropped' | 'framesWithheld' | 'frameBytes' | 'inputToFrame' | 'inputToAudienceFrame' | 'refusals'>;
