import type { CommandModule } from 'yargs';
import { startFrameWriterServer } from '../server/frame-writer-server.js';

interface Args {
  host: string;
  port: number;
  topic: string;
  frames: number;
  'message-bytes': number;
  'start-after': number;
}

export const frameServerCommand: CommandModule<object, Args> = {
  command: 'frame-server',
  describe: 'serve pre-built publication frames as fast as sockets take them (client-ceiling target)',
  builder: (y) =>
    y
      .option('host', { type: 'string', default: '127.0.0.1' })
      .option('port', { type: 'number', default: 0, describe: '0 picks a free port' })
      .option('topic', { type: 'string', default: 'ceiling' })
      .option('frames', { type: 'number', default: 8192, describe: 'frames in the repeated block' })
      .option('message-bytes', { type: 'number', default: 100 })
      .option('start-after', { type: 'number', default: 1, describe: 'subscribers to wait for before streaming' }),
  handler: async (args) => {
    const server = await startFrameWriterServer({
      host: args.host,
      port: args.port,
      topic: args.topic,
      frames: args.frames,
      messageBytes: args['message-bytes'],
      startAfter: args['start-after'],
    });
    console.log(`wse-bench frame-server listening on ${args.host}:${server.port}`);
    const stop = (): void => void server.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
};
