import type { CommandModule } from 'yargs';
import { BenchError } from '../errors.js';
import { compareClientCeilings, type CeilingResult } from '../load/client-ceiling.js';
import type { LoadClientKind } from '../load/load-client.js';
import { list } from './fanout-command.js';

interface Args {
  connections: number;
  duration: number;
  warmup: number;
  'client-procs': number;
  client: string;
  'client-threads': number;
  runs: number;
  'message-bytes': number;
  batch: number;
  json: boolean;
}

export const clientCeilingCommand: CommandModule<object, Args> = {
  command: 'client-ceiling',
  describe: "measure the load client's own delivery ceiling against a server that only writes frames",
  builder: (y) =>
    y
      .option('connections', { type: 'number', default: 100 })
      .option('duration', { type: 'number', default: 5, describe: 'seconds measured' })
      .option('warmup', { type: 'number', default: 1, describe: 'seconds before measuring' })
      .option('client-procs', { type: 'number', default: 1 })
      .option('client', {
        type: 'string',
        default: 'node',
        describe: 'load process kind: node, native, or both comma-separated (runs interleaved, a fresh frame server each)',
      })
      .option('client-threads', { type: 'number', default: 1, describe: 'worker threads per native load process' })
      .option('runs', { type: 'number', default: 1, describe: 'runs per client kind; the median is shown' })
      .option('message-bytes', { type: 'number', default: 100 })
      .option('batch', { type: 'number', default: 100 })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' }),
  handler: async (args) => {
    const clients = parseClients(args.client);
    const comparison = await compareClientCeilings({
      connections: args.connections,
      seconds: args.duration,
      warmupSeconds: args.warmup,
      messageBytes: args['message-bytes'],
      processes: args['client-procs'],
      batch: args.batch,
      threads: args['client-threads'],
      clients,
      runs: args.runs,
    });
    if (args.json) {
      console.log(JSON.stringify(clients.length === 1 && args.runs <= 1 ? comparison.byClient[0]!.median : comparison, null, 2));
      return;
    }
    for (const { median, runs } of comparison.byClient) {
      const spread = runs.length > 1 ? ` (median of ${runs.length}: ${runs.map((r) => count(r.deliveriesPerSec)).join(', ')})` : '';
      console.log(`client ceiling: ${describe(median)}${spread}`);
    }
    const [a, b] = comparison.byClient;
    if (a && b && a.median.deliveriesPerSec > 0) {
      const perCpu = (r: CeilingResult): number => r.deliveriesPerSec / Math.max(r.clientCpuPercent, 1e-9);
      console.log(
        `${b.client} / ${a.client}: ${(b.median.deliveriesPerSec / a.median.deliveriesPerSec).toFixed(2)}× deliveries/s, ` +
          `${(perCpu(b.median) / perCpu(a.median)).toFixed(2)}× deliveries per client CPU second`,
      );
    }
  },
};

function describe(r: CeilingResult): string {
  const kind = r.client === 'native' ? `native load process(es) × ${r.threads} thread(s)` : 'node load process(es)';
  return (
    `${count(r.deliveriesPerSec)} deliveries/s (${r.mbPerSec.toFixed(1)} MB/s, ${r.avgMessageBytes.toFixed(0)} B/message) over ` +
    `${r.connections} connections, ${r.processes} ${kind}, client CPU ${r.clientCpuPercent.toFixed(0)}% of one core`
  );
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function parseClients(text: string): LoadClientKind[] {
  const kinds = list(text);
  for (const kind of kinds) {
    if (kind !== 'node' && kind !== 'native') throw new BenchError('WSE_BENCH_ERR_USAGE', `--client: not a load client kind: "${kind}" (node, native)`);
  }
  if (kinds.length === 0) throw new BenchError('WSE_BENCH_ERR_USAGE', '--client: give node, native or node,native');
  return [...new Set(kinds)] as LoadClientKind[];
}
