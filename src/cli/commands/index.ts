import type { Command } from 'commander';
import { registerValidate } from './validate.ts';
import { registerRun } from './run.ts';
import { registerDiff } from './diff.ts';
import { registerApply } from './apply.ts';
import { registerStatus } from './status.ts';
import { registerConfig } from './config.ts';
import { registerShutdown } from './shutdown.ts';

/** Every command, in the order `--help` lists them. Each `register*` adds one subcommand. */
export function registerCommands(program: Command): void {
  registerValidate(program);
  registerRun(program);
  registerApply(program);
  registerDiff(program);
  registerStatus(program);
  registerConfig(program);
  registerShutdown(program);
}
