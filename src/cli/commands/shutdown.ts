/**
 * `switchyard shutdown`: asks the running gateway to drain and stop (`POST /api/serve/shutdown`),
 * then waits until its admin API stops answering, so that a script can go on knowing every
 * replica has stopped (the admin API is the last thing the gateway closes).
 */
import type { Command } from 'commander';
import { AdminClient, addConnectionOptions, type ConnectionOptions } from '../admin-client.ts';
import { EXIT } from '../exit-codes.ts';
import { parseSeconds } from './apply.ts';

interface ShutdownOptions extends ConnectionOptions {
  timeout: number;
}

const POLL_MS = 200;

/** Adds the `shutdown` command to `program`. */
export function registerShutdown(program: Command): void {
  const command = program
    .command('shutdown')
    .description('Drain and stop the running gateway and all its replicas; wait until it has stopped.')
    .option('--timeout <seconds>', 'give up waiting for the gateway to stop after this long (exit 1)', parseSeconds, 60);
  addConnectionOptions(command)
    .addHelpText('after', `
Exit status: 0 once the gateway has stopped; 1 when it still answers after --timeout; 3 when
it cannot be reached or refuses the token.

Examples:
  $ switchyard shutdown
  $ switchyard shutdown --address http://127.0.0.1:9000 --timeout 120`)
    .action(async (options: ShutdownOptions) => {
      process.exitCode = await shutdown(options);
    });
}

async function shutdown(options: ShutdownOptions): Promise<number> {
  const client = new AdminClient(options);
  await client.shutdown();
  process.stdout.write(`Shutting down the gateway at ${client.address}: draining requests, stopping replicas...\n`);
  const deadline = Date.now() + options.timeout * 1000;
  while (Date.now() < deadline) {
    if (!(await client.answers(Math.max(100, Math.min(2_000, deadline - Date.now()))))) {
      process.stdout.write('Stopped.\n');
      return EXIT.OK;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  process.stderr.write(`switchyard: the gateway at ${client.address} still answers after ${options.timeout}s; it may still be draining (graceful_shutdown_timeout_s).\n`);
  return EXIT.FAILED;
}
