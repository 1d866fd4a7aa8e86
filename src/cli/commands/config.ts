/**
 * `switchyard config`: the spec the running gateway applied last (`GET /api/serve/config`), as
 * YAML, with every default filled in: what the gateway actually runs, ready to edit and apply.
 */
import type { Command } from 'commander';
import { AdminClient, addConnectionOptions, type ConnectionOptions } from '../admin-client.ts';
import { EXIT } from '../exit-codes.ts';

/** Adds the `config` command to `program`. */
export function registerConfig(program: Command): void {
  const command = program
    .command('config')
    .description('Print the spec the running gateway applied last, as YAML.');
  addConnectionOptions(command)
    .addHelpText('after', `
Exit status: 0 on success; 3 when the gateway cannot be reached or refuses the token.

Examples:
  $ switchyard config
  $ switchyard config > serve.applied.yaml && switchyard diff serve.yaml --from serve.applied.yaml`)
    .action(async (options: ConnectionOptions) => {
      const yaml = await new AdminClient(options).config();
      process.stdout.write(yaml.endsWith('\n') ? yaml : `${yaml}\n`);
      process.exitCode = EXIT.OK;
    });
}
