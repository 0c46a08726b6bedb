import { cpuUsage } from 'node:process';
import { count } from '../report/grid.js';
import { scrapeNodes, sleepUntil, sumCounter, usageBetween } from '../server/node-observer.js';
import { nowMicros } from '../sys/clock.js';
import { closeSessions, openSessions } from './connections.js';
import { inboundBlock, type InboundFormat } from './inbound-frames.js';
import type { Session } from './session.js';
import { targetDescription, type Section, type SuiteContext } from './section.js';

export interface ThroughputOptions {
  connections: number;
  formats: InboundFormat[];
  messageBytes: number;
  seconds: number;
  warmupSeconds: number;
  timeoutMs: number;
}

export interface FormatResult {
  format: InboundFormat;
  frameBytes: number;
  clientSentPerSec: number;
  /** `wse_messages_received_total` over the window, summed over nodes; null without metrics. */
  serverReceivedPerSec: number | null;
  /** Sent − received over the whole run, after the server caught up; null without metrics. */
  lost: number | null;
  serverCpuPercent: number | null;
  clientCpuPercent: number;
}

const FRAMES_PER_BLOCK = 256;
const RECEIVED = ['wse_messages_received_total'] as const;
const CATCH_UP_MS = 5000;

/**
 * Inbound client messages/s: every connection writes a block of pre-built frames each time its
 * socket drains (paced by TCP, nothing else), for each format in turn. The rate that counts is the
 * server's own (`wse_messages_received_total`); the client's is beside it.
 */
export async function throughput(ctx: SuiteContext, options: ThroughputOptions, title = 'throughput'): Promise<Section> {
  const results: FormatResult[] = [];
  for (const format of options.formats) {
    results.push(await runFormat(ctx, options, format));
    const r = results.at(-1)!;
    ctx.progress(`${title} ${format}: server ${r.serverReceivedPerSec === null ? 'n/a' : count(r.serverReceivedPerSec)}/s, client ${count(r.clientSentPerSec)}/s`);
  }
  const n = (v: number | null, f: (v: number) => string): string => (v === null ? 'n/a' : f(v));
  return {
    title,
    setup: `${targetDescription(ctx.target)}; ${options.connections} connections writing ${options.messageBytes}-byte trade_update messages (JSON length) for ${options.seconds} s after ${options.warmupSeconds} s`,
    columns: ['format', 'B/frame', 'received/s (server)', 'sent/s (client)', 'MB/s in', 'lost', 'server CPU', 'client CPU'],
    rows: results.map((r) => [
      r.format, r.frameBytes.toFixed(0), n(r.serverReceivedPerSec, count), count(r.clientSentPerSec),
      n(r.serverReceivedPerSec, (v) => ((v * r.frameBytes) / 1e6).toFixed(1)), n(r.lost, String),
      n(r.serverCpuPercent, (v) => `${v.toFixed(0)}%`), `${r.clientCpuPercent.toFixed(0)}%`,
    ]),
    notes: ['received/s is the servers\' count; lost = messages written − messages the servers counted once they caught up.'],
    failed: results.some((r) => r.lost !== null && r.lost !== 0),
    data: results,
  };
}

async function runFormat(ctx: SuiteContext, options: ThroughputOptions, format: InboundFormat): Promise<FormatResult> {
  const { block, frameBytes } = inboundBlock(format, options.messageBytes, FRAMES_PER_BLOCK);
  const opened = await openSessions(ctx.target, options.connections, { token: ctx.token, concurrency: 200, timeoutMs: options.timeoutMs });
  const writer = { running: true, blocks: 0 };
  const pump = (s: Session): void => {
    while (writer.running && s.isReady) {
      writer.blocks++;
      if (!s.sendFrames(block)) return;
    }
  };
  try {
    const nodes = ctx.target.nodes;
    const received = async (): Promise<number | null> => sumCounter(await scrapeNodes(nodes, RECEIVED), 'wse_messages_received_total');
    const atStart = await received();
    const startUs = nowMicros() + options.warmupSeconds * 1e6;
    const endUs = startUs + options.seconds * 1e6;
    const usage = usageBetween(nodes, startUs, endUs);
    for (const s of opened.sessions) {
      s.onDrain(() => pump(s));
      pump(s);
    }
    await sleepUntil(startUs);
    const [fromServer, fromClient, cpu] = [await received(), writer.blocks, cpuUsage()];
    await sleepUntil(endUs);
    const [toServer, toClient, cpuUsed] = [await received(), writer.blocks, cpuUsage(cpu)];
    writer.running = false;
    const lost = atStart === null ? null : writer.blocks * FRAMES_PER_BLOCK - ((await caughtUp(received)) - atStart);
    const serverCpu = (await usage).reduce<number | null>((sum, u) => (sum === null || u === null ? null : sum + u.cpuPercent), 0);
    return {
      format,
      frameBytes,
      clientSentPerSec: ((toClient - fromClient) * FRAMES_PER_BLOCK) / options.seconds,
      serverReceivedPerSec: fromServer === null || toServer === null ? null : (toServer - fromServer) / options.seconds,
      lost,
      serverCpuPercent: serverCpu,
      clientCpuPercent: ((cpuUsed.user + cpuUsed.system) / (options.seconds * 1e6)) * 100,
    };
  } finally {
    writer.running = false;
    await closeSessions(opened.sessions);
  }
}

/** The servers' count once it stops growing (they read what the sockets still hold), bounded. */
async function caughtUp(received: () => Promise<number | null>): Promise<number> {
  const deadline = Date.now() + CATCH_UP_MS;
  let last = (await received()) ?? 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const now = (await received()) ?? 0;
    if (now === last) return now;
    last = now;
  }
  return last;
}
