/**
 * The pressure figure a load balancer or autoscaler reads from /readyz: free session slots and
 * CPU/memory headroom, each 0..1, and one combined score (the smallest of them).
 */
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';

export function pressure(capacity: { total: number; free: number }): Record<string, number> {
  const slots = capacity.total > 0 ? capacity.free / capacity.total : 0;
  const cpu = Math.max(0, 1 - loadavg()[0]! / availableParallelism());
  const memory = freemem() / totalmem();
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return { freeSlots: capacity.free, slotHeadroom: round(slots), cpuHeadroom: round(cpu), memoryHeadroom: round(memory), headroom: round(Math.min(slots, cpu, memory)) };
}
