import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { tokenCommand } from './token.js';

await yargs(hideBin(process.argv))
  .scriptName('wse')
  .command(startCommand)
  .command(tokenCommand)
  .command(statusCommand)
  .demandCommand(1, 'Name a command: start, token, status')
  .strict()
  .help()
  .parseAsync();
