import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { gauge, monotonic } from './worker-metrics.js';

/** Event-loop delay is sampled at this resolution; finer costs more timer wake-ups. */
const EVENT_LOOP_RESOLUTION_MS = 20;

/**
 * CPU, memory and event-loop delay of this worker process, under the names Prometheus users know
 * (`process_*`, `nodejs_*`), labelled with the worker like every other series. Read at scrape
 * time: nothing here runs per message. The delay figures cover the time since the last scrape.
 */
export function registerProcessMetrics(registers: Registry[]): void {
  monotonic(registers, 'process_cpu_user_seconds_total', 'User CPU time of this process', () => process.cpuUsage().user / 1e6);
  monotonic(registers, 'process_cpu_system_seconds_total', 'System CPU time of this process', () => process.cpuUsage().system / 1e6);
  monotonic(registers, 'process_cpu_seconds_total', 'User and system CPU time of this process', () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  });
  gauge(registers, 'process_resident_memory_bytes', 'Resident memory of this process', () => process.memoryUsage.rss());
  gauge(registers, 'nodejs_heap_size_used_bytes', 'V8 heap in use', () => process.memoryUsage().heapUsed);
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  // The histogram holds whole timer intervals: the lag is what exceeds the resolution.
  const lag = (nanos: number): number => Math.max(0, nanos / 1e9 - EVENT_LOOP_RESOLUTION_MS / 1000);
  gauge(registers, 'nodejs_eventloop_lag_p99_seconds', 'Event-loop delay, 99th percentile since the last scrape', () => lag(delay.percentile(99)));
  gauge(registers, 'nodejs_eventloop_lag_max_seconds', 'Event-loop delay, maximum since the last scrape', () => {
    const max = lag(delay.max);
    delay.reset();
    return max;
  });
}
