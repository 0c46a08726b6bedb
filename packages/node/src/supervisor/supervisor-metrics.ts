import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { WorkerSlot } from './worker-slot.js';

/**
 * The supervisor's own metrics, and /metrics for the whole node: every worker's registry,
 * gathered over the cluster IPC and merged with these.
 */
export class SupervisorMetrics {
  readonly registry = new Registry();
  readonly restarts: Counter;
  private readonly aggregator = new AggregatorRegistry();

  constructor(nodeId: string, slots: WorkerSlot[]) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: nodeId });
    new Gauge({ name: 'wse_workers', help: 'Worker processes configured', registers, collect() { this.set(slots.length); } });
    new Gauge({ name: 'wse_workers_up', help: 'Worker processes up and ready', registers, collect() { this.set(slots.filter((s) => s.ready).length); } });
    new Gauge({
      name: 'wse_worker_crash_loop',
      help: '1 when a worker slot stopped restarting after a crash loop',
      registers,
      collect() {
        this.set(slots.some((s) => s.crashLooping) ? 1 : 0);
      },
    });
    this.restarts = new Counter({ name: 'wse_worker_restarts_total', help: 'Workers restarted after an unexpected exit', registers });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const workers = await this.aggregator.clusterMetrics();
    const own = await this.registry.metrics();
    return { contentType: this.registry.contentType, body: `${own}\n${workers}` };
  }
}
