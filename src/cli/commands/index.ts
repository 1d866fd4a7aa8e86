import type { Command } from 'commander';
import { registerRun } from './run.ts';
import { registerDiff } from './diff.ts';

/** Every command, in the order `--help` lists them. Each `register*` adds one subcommand. */
export function registerCommands(program: Command): void {
  registerRun(program);
  registerDiff(program);
}
