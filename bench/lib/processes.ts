/**
 * Child processes of the HTTP benchmark: each started in its own process group and stopped by
 * that group's id, so the benchmark ends exactly what it started.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Started {
  readonly child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the leader exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
// An interrupted benchmark (Ctrl-C, a throw) still takes its children with it.
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => process.exit(130));
}

export function start(command: string, args: readonly string[], options: SpawnOptions = {}): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true });
  live.add(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));
  return {
    child,
    output: () => out,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Anything the leader left in its group (it should have stopped them itself).
      killGroup(child, 'SIGKILL');
    },
  };
}

/** Waits until `re` matches the process's output; returns the first capture group. */
export async function waitForOutput(p: Started, re: RegExp, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(p.output());
    if (m) return m[1] ?? m[0];
    if (p.child.exitCode !== null || Date.now() > end) throw new Error(`no ${re} in the output of ${p.child.spawnargs.join(' ')}:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a command to completion (bounded) and returns its stdout. */
export async function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const p = start(command, args);
  const timer = setTimeout(() => killGroup(p.child, 'SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => p.child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  // Let the pipes drain.
  await new Promise((r) => setImmediate(r));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${p.output()}`);
  return p.output();
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}
