import { performance } from 'node:perf_hooks';

/**
 * Wall-clock time in microseconds (fractional). Publisher and subscribers run in different
 * processes, so latency needs a clock they share: each process's timeOrigin is taken from the
 * system clock, and performance.now() adds monotonic sub-microsecond resolution to it.
 */
export function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}
