import type { Command } from 'commander';

/** Every command, in the order `--help` lists them. Each `register*` adds one subcommand. */
export function registerCommands(program: Command): void {
  void program;
}
