/**
 * The `switchyard` command line. Each command lives in `commands/<name>.ts` and registers itself
 * on the program; this file owns only the shared wiring: exit codes and top-level errors.
 *
 * Exit codes (CONTRACT section 5): 0 ok; 1 invalid spec or failed apply; 2 usage error;
 * 3 gateway unreachable or token refused.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { SwitchyardError } from '../errors.ts';
import { registerCommands } from './commands/index.ts';
import { EXIT } from './exit-codes.ts';

export { EXIT };

function packageVersion(): string {
  // dist/cli/main.js and src/cli/main.ts are both two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('switchyard')
    .description('A declarative serving gateway for TypeScript and JavaScript.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never throws for a user mistake. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof SwitchyardError) {
      process.stderr.write(`switchyard: ${err.message}\n`);
      return err.exitCode;
    }
    // A defect, not a user mistake: keep the stack so it can be reported.
    process.stderr.write(`switchyard: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.FAILED;
  }
}
