import { performance } from 'node:perf_hooks';
import { WseError } from '../errors.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { BacklogMonitor } from './backlog.js';
import type { PublicationRouter, Stamp } from './router.js';

export type PublishSource = 'client' | 'api' | 'library' | 'mesh';

export interface PublishJob {
  topic: string;
  body: string;
  source: PublishSource;
  /** performance.now() at intake, for the publish-to-delivery histogram. */
  receivedAt: number;
  /**
   * `later`: the outcome arrived after the call that submitted the job returned (the topic's owner
   * is another member, or the job waited while publishers were paced).
   */
  done: (error: WseError | null, stamp: Stamp | null, later: boolean) => void;
}

/**
 * Where every publication enters the data path. While the fan-out backlog is over its mark the
 * jobs wait here in arrival order (DESIGN.md, flow control); the queue is bounded in bytes, and a
 * job that does not fit is refused with PUBLISH_BACKPRESSURE rather than dropped.
 */
export class PublishIntake {
  private readonly queue: PublishJob[] = [];
  private queuedBytes = 0;
  private head = 0;
  private drainScheduled = false;

  constructor(
    private readonly router: PublicationRouter,
    private readonly backlog: BacklogMonitor,
    private readonly metrics: WorkerMetrics,
    private readonly maxQueuedBytes: number,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  submit(job: PublishJob): void {
    if (this.queued === 0 && !this.backlog.isPaced) {
      this.run(job, false);
      return;
    }
    if (this.queuedBytes + job.body.length > this.maxQueuedBytes) {
      job.done(backpressureError(), null, false);
      return;
    }
    this.queue.push(job);
    this.queuedBytes += job.body.length;
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    this.backlog.onOpen(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** Runs queued jobs in order until the queue empties or pacing starts again. */
  private drain(): void {
    while (this.head < this.queue.length && !this.backlog.isPaced) {
      const job = this.queue[this.head++] as PublishJob;
      this.queuedBytes -= job.body.length;
      this.run(job, true);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else {
      this.scheduleDrain();
    }
  }

  /** `later`: the job waited in the queue, so its submitter has returned. */
  private run(job: PublishJob, later: boolean): void {
    let result: Stamp | Promise<Stamp>;
    try {
      result = this.router.route(job.topic, job.body);
    } catch (error) {
      job.done(asWseError(error), null, later);
      return;
    }
    if (result instanceof Promise) {
      result.then((stamp) => this.finish(job, stamp, true), (error: unknown) => job.done(asWseError(error), null, true));
    } else {
      this.finish(job, result, later);
    }
  }

  private finish(job: PublishJob, stamp: Stamp, later: boolean): void {
    this.metrics.counts.publications[job.source]!++;
    this.metrics.publishDelivery.observe((performance.now() - job.receivedAt) / 1000);
    job.done(null, stamp, later);
  }
}

export function backpressureError(): WseError {
  return new WseError('WSE_ERR_BACKPRESSURE', 'Publish backpressure: retry later', {
    protocolCode: 'PUBLISH_BACKPRESSURE',
    details: { retry_after: 1 },
  });
}

function asWseError(error: unknown): WseError {
  if (error instanceof WseError) return error;
  return new WseError('WSE_ERR_INTERNAL', 'publish failed', { protocolCode: 'SERVER_ERROR', cause: error });
}
