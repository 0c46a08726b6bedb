import { nowMicros } from '../sys/clock.js';
import type { ReadObserver } from '../ws/raw-websocket.js';
import { LatencyHistogram } from './latency-histogram.js';
import { PublicationScanner } from './publication-scanner.js';

/**
 * Counters shared by every subscriber of one load process. The clock is read once per socket read
 * (every frame of a read arrived at the same moment), not once per delivery.
 */
export class DeliveryStats implements ReadObserver {
  /** One scanner per process: all subscribers see same-shaped messages, so its hints stay hot. */
  readonly scanner = new PublicationScanner();
  readonly latency = new LatencyHistogram();
  nowUs = 0;
  deliveries = 0;
  bytes = 0;
  windowDeliveries = 0;
  windowBytes = 0;
  /** Frames that were not publications (per-connection events, pings). */
  otherFrames = 0;
  private inWindow = false;
  private windowStartUs = Infinity;
  private windowEndUs = Infinity;

  onRead(): void {
    const now = nowMicros();
    this.nowUs = now;
    this.inWindow = now >= this.windowStartUs && now < this.windowEndUs;
  }

  /**
   * Deliveries and bytes count by arrival time inside the window; latency counts only messages
   * published inside it, whenever they arrive.
   */
  recordDelivery(bytes: number, publishedUs: number): void {
    this.deliveries++;
    this.bytes += bytes;
    if (this.inWindow) {
      this.windowDeliveries++;
      this.windowBytes += bytes;
    }
    if (publishedUs >= this.windowStartUs && publishedUs < this.windowEndUs) {
      this.latency.record(this.nowUs - publishedUs);
    }
  }

  setWindow(startUs: number, endUs: number): void {
    this.windowStartUs = startUs;
    this.windowEndUs = endUs;
  }

  reset(): void {
    this.deliveries = 0;
    this.bytes = 0;
    this.windowDeliveries = 0;
    this.windowBytes = 0;
    this.otherFrames = 0;
    this.inWindow = false;
    this.windowStartUs = Infinity;
    this.windowEndUs = Infinity;
    this.latency.reset();
  }
}
