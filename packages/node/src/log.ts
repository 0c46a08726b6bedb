import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/types.js';

export type { Logger };

/** JSON lines on stdout; hot paths log nothing per message (DESIGN.md, observability). */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } });
}
