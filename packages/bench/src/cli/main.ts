import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BenchError } from '../errors.js';
import { allCommand } from './all-command.js';
import { baselineServerCommand } from './baseline-server-command.js';
import { clientCeilingCommand } from './client-ceiling-command.js';
import { fanoutCommand } from './fanout-command.js';
import { frameServerCommand } from './frame-server-command.js';
import {
  connectionLimitCommand, connectionStormCommand, formatComparisonCommand, pingLatencyCommand,
  sizeMatrixCommand, sustainedHoldCommand, throughputCmd,
} from './suite-commands.js';

await yargs(hideBin(process.argv))
  .scriptName('wse-bench')
  .command(fanoutCommand)
  .command(connectionStormCommand)
  .command(pingLatencyCommand)
  .command(throughputCmd)
  .command(sizeMatrixCommand)
  .command(sustainedHoldCommand)
  .command(connectionLimitCommand)
  .command(formatComparisonCommand)
  .command(allCommand)
  .command(baselineServerCommand)
  .command(clientCeilingCommand)
  .command(frameServerCommand)
  .demandCommand(1)
  .strict()
  .fail((message, error, y) => {
    if (error instanceof BenchError) console.error(`wse-bench: ${error.code}: ${error.message}`);
    else if (error) console.error(`wse-bench: ${error.message}`);
    else console.error(`${y.help()}\n\n${message}`);
    process.exit(1);
  })
  .help()
  .parseAsync();
