import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { startCommand } from './start.js';
import { tokenCommand } from './token.js';

await yargs(hideBin(process.argv))
  .scriptName('wse')
  .command(startCommand)
  .command(tokenCommand)
  .demandCommand(1, 'Name a command: start, token')
  .strict()
  .help()
  .parseAsync();
