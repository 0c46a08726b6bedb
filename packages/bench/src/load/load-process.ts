import { SubscriberPool } from './subscriber-pool.js';
import type { LoadCommand, LoadReply } from './ipc.js';

/**
 * Entry of one load process (forked by LoadClient): owns a SubscriberPool and answers commands
 * over the IPC channel, one at a time, in order. Exits when the channel closes.
 */
const pool = new SubscriberPool();
let queue: Promise<void> = Promise.resolve();

process.on('message', (command: LoadCommand) => {
  queue = queue.then(() => execute(command).then(reply, (error: unknown) => reply(failure(command, error))));
});
process.on('disconnect', () => process.exit(0));

async function execute(command: LoadCommand): Promise<LoadReply> {
  switch (command.op) {
    case 'connect':
      await pool.connect(command.spec);
      return { id: command.id, ok: true, report: pool.report() };
    case 'window':
      pool.setWindow(command.startUs, command.endUs);
      return { id: command.id, ok: true };
    case 'settle':
      await pool.settle(command.lastSeq, command.quietMs, command.timeoutMs);
      return { id: command.id, ok: true, report: pool.report() };
    case 'report':
      return { id: command.id, ok: true, report: pool.report() };
    case 'close':
      await pool.closeAll(command.timeoutMs);
      return { id: command.id, ok: true };
  }
}

function failure(command: LoadCommand, error: unknown): LoadReply {
  return { id: command.id, ok: false, error: error instanceof Error ? error.message : String(error) };
}

function reply(message: LoadReply): void {
  process.send?.(message);
}
