/**
 * One error type for the whole server. `code` is stable (tests, log fields and metric labels use it);
 * `protocolCode` is what a client sees in an `error` frame (PROTOCOL.md §11) and `closeCode` the
 * WebSocket close code, when the error ends a connection.
 */
export type WseErrorCode =
  | 'WSE_ERR_CONFIG_INVALID'
  | 'WSE_ERR_AUTH'
  | 'WSE_ERR_BAD_FRAME'
  | 'WSE_ERR_MESSAGE_TOO_LARGE'
  | 'WSE_ERR_RATE_LIMITED'
  | 'WSE_ERR_INVALID_SUBSCRIPTION'
  | 'WSE_ERR_INVALID_PUBLISH'
  | 'WSE_ERR_PUBLISH_DENIED'
  | 'WSE_ERR_BACKPRESSURE'
  | 'WSE_ERR_KEY_EXCHANGE'
  | 'WSE_ERR_LISTEN'
  | 'WSE_ERR_INTERNAL';

export interface WseErrorOptions {
  protocolCode?: string;
  closeCode?: number;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class WseError extends Error {
  readonly code: WseErrorCode;
  readonly protocolCode: string | undefined;
  readonly closeCode: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: WseErrorCode, message: string, options: WseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WseError';
    this.code = code;
    this.protocolCode = options.protocolCode;
    this.closeCode = options.closeCode;
    this.details = options.details;
  }
}

/** A bad configuration value: start-up stops with this one line. */
export class ConfigError extends WseError {
  readonly setting: string;

  constructor(setting: string, value: unknown, allowed: string) {
    super('WSE_ERR_CONFIG_INVALID', `invalid setting ${setting}=${formatValue(value)}: ${allowed}`, {
      details: { setting },
    });
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
