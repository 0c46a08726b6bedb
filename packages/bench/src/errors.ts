/** Stable codes for everything the benchmark reports as a failure (tests assert on `code`). */
export type BenchErrorCode =
  | 'WSE_BENCH_ERR_UPGRADE'
  | 'WSE_BENCH_ERR_HANDSHAKE'
  | 'WSE_BENCH_ERR_SUBSCRIBE'
  | 'WSE_BENCH_ERR_CLOSED'
  | 'WSE_BENCH_ERR_SPAWN'
  | 'WSE_BENCH_ERR_TIMEOUT'
  | 'WSE_BENCH_ERR_CHILD'
  | 'WSE_BENCH_ERR_USAGE'
  | 'WSE_BENCH_ERR_TOPIC';

export class BenchError extends Error {
  readonly code: BenchErrorCode;

  constructor(code: BenchErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BenchError';
    this.code = code;
  }
}
