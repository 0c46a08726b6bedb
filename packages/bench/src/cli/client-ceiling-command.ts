import type { CommandModule } from 'yargs';
import { measureClientCeiling } from '../load/client-ceiling.js';

interface Args {
  connections: number;
  duration: number;
  warmup: number;
  'client-procs': number;
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
      .option('message-bytes', { type: 'number', default: 100 })
      .option('batch', { type: 'number', default: 100 })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' }),
  handler: async (args) => {
    const result = await measureClientCeiling({
      connections: args.connections,
      seconds: args.duration,
      warmupSeconds: args.warmup,
      messageBytes: args['message-bytes'],
      processes: args['client-procs'],
      batch: args.batch,
    });
    if (args.json) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    console.log(
      `client ceiling: ${Math.round(result.deliveriesPerSec).toLocaleString('en-US')} deliveries/s ` +
        `(${result.mbPerSec.toFixed(1)} MB/s, ${result.avgMessageBytes.toFixed(0)} B/message) over ` +
        `${result.connections} connections, ${result.processes} load process(es), ` +
        `client CPU ${result.clientCpuPercent.toFixed(0)}% of one core`,
    );
  },
};
