import { cpus } from 'node:os';
import type { CommandModule } from 'yargs';
import { connectionLimit } from '../suite/connection-limit.js';
import { connectionStorm } from '../suite/connection-storm.js';
import { INBOUND_FORMATS, type InboundFormat } from '../suite/inbound-frames.js';
import { pingLatency } from '../suite/ping-latency.js';
import { sizeMatrix } from '../suite/size-matrix.js';
import { sustainedHold } from '../suite/sustained-hold.js';
import { throughput } from '../suite/throughput.js';
import { list, positiveInteger } from './fanout-command.js';
import { runSections, withTargetOptions, type TargetArgs } from './target-options.js';

const TIMEOUT_MS = 60_000;
const CLIENT_PROCS = Math.max(1, Math.floor(cpus().length / 2));

type Args<T> = TargetArgs & T;

export const connectionStormCommand: CommandModule<object, Args<{ tiers: string; concurrency: number }>> = {
  command: 'connection-storm',
  describe: 'accept rate and handshake latency percentiles per tier',
  builder: (y) => withTargetOptions(y)
    .option('tiers', { type: 'string', default: '100,500,1000', describe: 'connections per tier' })
    .option('concurrency', { type: 'number', default: 200, describe: 'connections in flight at once' }),
  handler: async (args) => void (await runSections(args, [(ctx) =>
    connectionStorm(ctx, { tiers: list(args.tiers).map(positiveInteger), concurrency: args.concurrency, timeoutMs: TIMEOUT_MS })])),
};

export const pingLatencyCommand: CommandModule<object, Args<{ connections: number; probes: number; duration: number; interval: number; 'client-procs': number }>> = {
  command: 'ping-latency',
  describe: 'application ping round trip, idle and under concurrent fan-out load',
  builder: (y) => withTargetOptions(y)
    .option('connections', { type: 'number', default: 100, describe: 'subscribers receiving the load' })
    .option('probes', { type: 'number', default: 5, describe: 'connections that ping' })
    .option('duration', { type: 'number', default: 2, describe: 'seconds per phase' })
    .option('interval', { type: 'number', default: 10, describe: 'ms between a PONG and the next ping' })
    .option('client-procs', { type: 'number', default: CLIENT_PROCS }),
  handler: async (args) => void (await runSections(args, [(ctx) => pingLatency(ctx, {
    connections: args.connections, probes: args.probes, seconds: args.duration, intervalMs: args.interval,
    clientProcs: args['client-procs'], timeoutMs: TIMEOUT_MS,
  })])),
};

interface ThroughputArgs { connections: number; formats: string; 'message-bytes': number; duration: number; warmup: number }

function throughputCommand(name: string, describe: string, formats: string, messageBytes: number): CommandModule<object, Args<ThroughputArgs>> {
  return {
    command: name,
    describe,
    builder: (y) => withTargetOptions(y)
      .option('connections', { type: 'number', default: 10 })
      .option('formats', { type: 'string', default: formats, describe: `of ${INBOUND_FORMATS.join(', ')}` })
      .option('message-bytes', { type: 'number', default: messageBytes, describe: 'JSON length of each message' })
      .option('duration', { type: 'number', default: 3, describe: 'seconds measured per format' })
      .option('warmup', { type: 'number', default: 1 }),
    handler: async (args) => void (await runSections(args, [(ctx) => throughput(ctx, throughputOptions(args), name)])),
  };
}

export function throughputOptions(args: ThroughputArgs) {
  return {
    connections: args.connections, formats: parseFormats(args.formats), messageBytes: args['message-bytes'],
    seconds: args.duration, warmupSeconds: args.warmup, timeoutMs: TIMEOUT_MS,
  };
}

export const throughputCmd = throughputCommand('throughput', 'inbound client messages/s (JSON and msgpack), counted by the server', 'json,msgpack', 100);
export const formatComparisonCommand = throughputCommand(
  'format-comparison', 'inbound messages/s and bytes per message: JSON vs msgpack vs zlib-compressed', 'json,msgpack,compressed', 1000);

export const sizeMatrixCommand: CommandModule<object, Args<{ sizes: string; tiers: string; duration: number; warmup: number; 'client-procs': number }>> = {
  command: 'size-matrix',
  describe: 'fan-out at payload size × subscriber count',
  builder: (y) => withTargetOptions(y)
    .option('sizes', { type: 'string', default: '128,1024,8192', describe: 'publication sizes, bytes' })
    .option('tiers', { type: 'string', default: '10,100', describe: 'subscriber counts' })
    .option('duration', { type: 'number', default: 2 })
    .option('warmup', { type: 'number', default: 0.5 })
    .option('client-procs', { type: 'number', default: CLIENT_PROCS }),
  handler: async (args) => void (await runSections(args, [(ctx) => sizeMatrix(ctx, {
    sizes: list(args.sizes).map(positiveInteger), tiers: list(args.tiers).map(positiveInteger),
    seconds: args.duration, warmupSeconds: args.warmup, clientProcs: args['client-procs'],
  })])),
};

export const sustainedHoldCommand: CommandModule<object, Args<{ connections: number; duration: number; 'ping-interval': number }>> = {
  command: 'sustained-hold',
  describe: 'N connections held T seconds with periodic pings: survival rate',
  builder: (y) => withTargetOptions(y)
    .option('connections', { type: 'number', default: 500 })
    .option('duration', { type: 'number', default: 5, describe: 'seconds held' })
    .option('ping-interval', { type: 'number', default: 1000, describe: 'ms between one connection\'s pings' }),
  handler: async (args) => void (await runSections(args, [(ctx) => sustainedHold(ctx, {
    connections: args.connections, seconds: args.duration, pingIntervalMs: args['ping-interval'], timeoutMs: TIMEOUT_MS,
  })])),
};

interface LimitArgs { max: number; start: number; hold: number; precision: number; 'source-addresses': number; concurrency: number }

export const connectionLimitCommand: CommandModule<object, Args<LimitArgs>> = {
  command: 'connection-limit',
  describe: 'probe, then binary search for the most connections held stably',
  builder: (y) => withTargetOptions(y)
    .option('max', { type: 'number', default: 2000, describe: 'highest count tried' })
    .option('start', { type: 'number', default: 500, describe: 'first probe level (doubled until a failure)' })
    .option('hold', { type: 'number', default: 1, describe: 'seconds each level is held' })
    .option('precision', { type: 'number', default: 100, describe: 'binary search stops this close' })
    .option('source-addresses', { type: 'number', default: 0, describe: '127.0.0.x source addresses; 0: as many as --max needs' })
    .option('concurrency', { type: 'number', default: 500 }),
  handler: async (args) => void (await runSections(args, [(ctx) => connectionLimit(ctx, limitOptions(args))])),
};

export function limitOptions(args: LimitArgs) {
  return {
    max: args.max, start: args.start, holdSeconds: args.hold, precision: args.precision,
    sourceAddresses: args['source-addresses'], concurrency: args.concurrency, timeoutMs: TIMEOUT_MS,
  };
}

function parseFormats(text: string): InboundFormat[] {
  return list(text).map((f) => {
    if (!(INBOUND_FORMATS as readonly string[]).includes(f)) throw new Error(`unknown format "${f}" (${INBOUND_FORMATS.join(', ')})`);
    return f as InboundFormat;
  });
}
