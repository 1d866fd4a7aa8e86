import type { Command } from 'commander';
import { registerValidate } from './validate.ts';
import { registerRun } from './run.ts';
import { registerDiff } from './diff.ts';

/** Every command, in the order `--help` lists them. Each `register*` adds one subcommand. */
export function registerCommands(program: Command): void {
  registerValidate(program);
  registerRun(program);
  registerDiff(program);
}
