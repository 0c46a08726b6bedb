import type { CommandModule } from 'yargs';
import { startBaselineServer } from '../server/baseline-server.js';

interface Args {
  host: string;
  port: number;
  'backlog-budget-mb': number;
}

export const baselineServerCommand: CommandModule<object, Args> = {
  command: 'baseline-server',
  describe: 'bare uWebSockets.js app.publish server speaking just enough WSE protocol for fanout',
  builder: (y) =>
    y
      .option('host', { type: 'string', default: '127.0.0.1' })
      .option('port', { type: 'number', default: 5106, describe: '0 picks a free port' })
      .option('backlog-budget-mb', {
        type: 'number',
        default: 64,
        describe: 'subscriber backlog (all subscribers) above which publish acks are held back',
      }),
  handler: async (args) => {
    const server = await startBaselineServer({
      host: args.host,
      port: args.port,
      backlogBudgetBytes: args['backlog-budget-mb'] * 1024 * 1024,
    });
    console.log(`wse-bench baseline-server listening on ${args.host}:${server.port} (ws path /wse, GET /health)`);
    const stop = (): void => void server.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
};
