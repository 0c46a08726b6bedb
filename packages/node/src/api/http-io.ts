import type { HttpResponse } from 'uWebSockets.js';

/** The HTTP API's body cap: 1,000 items of ordinary size fit; larger bodies get 413. */
export const MAX_API_BODY_BYTES = 8 * 1024 * 1024;

/** A request whose client went away must not be answered (uWS would throw). */
export interface ApiExchange {
  res: HttpResponse;
  aborted: boolean;
}

export function openExchange(res: HttpResponse): ApiExchange {
  const exchange: ApiExchange = { res, aborted: false };
  res.onAborted(() => {
    exchange.aborted = true;
  });
  return exchange;
}

/** Collects the request body up to the cap; null when it is over the cap. */
export function readBody(exchange: ApiExchange): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    exchange.res.onData((chunk, isLast) => {
      if (!overflow) {
        size += chunk.byteLength;
        if (size > MAX_API_BODY_BYTES) overflow = true;
        // uWS reuses the chunk's memory after this callback returns: copy it.
        else chunks.push(Buffer.from(chunk.slice(0)));
      }
      if (isLast) resolve(overflow ? null : Buffer.concat(chunks));
    });
  });
}

export function sendJson(exchange: ApiExchange, status: string, body: unknown, headers: Record<string, string> = {}): void {
  if (exchange.aborted) return;
  const text = JSON.stringify(body);
  exchange.res.cork(() => {
    exchange.res.writeStatus(status).writeHeader('content-type', 'application/json');
    for (const [name, value] of Object.entries(headers)) exchange.res.writeHeader(name, value);
    exchange.res.end(text);
  });
}

export function sendError(exchange: ApiExchange, status: string, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(exchange, status, { error: { code, message } }, headers);
}
