/**
 * Benchmarks' handle on a real gateway: writes a project (spec + handler files) into a temp
 * directory where handlers can `import ... from 'switchyard'`, runs the BUILT CLI
 * (`bin/switchyard.js run`, so `npm run build` first) on free loopback ports in its own process
 * group, and stops exactly that group. Nothing else is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'bin/switchyard.js');

/** A temp directory holding `files` (relative path -> content) and a `node_modules/switchyard` link. */
export function writeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'swy-bench-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'switchyard'), 'dir');
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

export function removeProject(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface BenchGateway {
  readonly pid: number;
  readonly http: string;
  readonly admin: string;
  log(): string;
  status(): Promise<any>;
  /** Polls status every `pollMs` until `fn(status)` holds; throws with the log after `timeoutMs`. */
  waitFor(fn: (status: any) => boolean, timeoutMs: number, what: string, pollMs?: number): Promise<any>;
  stop(): Promise<void>;
}

/**
 * The environment a shell would give the gateway, minus NODE_OPTIONS (a profiler flag for the
 * replicas goes through the spec's `env`, not to the gateway itself).
 */
function gatewayEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

export async function startBenchGateway(specPath: string, options: { timeoutMs?: number; waitRunning?: boolean } = {}): Promise<BenchGateway> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'run', specPath, '--port', '0', '--admin-port', '0', '--no-watch'], {
    cwd: dirname(specPath),
    env: gatewayEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  // The bench process may be interrupted (Ctrl-C): take the gateway and its replicas with it.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let http = '';
  let admin = '';
  while (!(http && admin)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      killGroup('SIGKILL');
      throw new Error(`gateway did not start:\n${log}`);
    }
    http = /proxy listening on (http:\/\/\S+)/.exec(log)?.[1] ?? '';
    admin = /admin API listening on (http:\/\/\S+)/.exec(log)?.[1] ?? '';
    await sleep(20);
  }
  const status = async () => (await fetch(`${admin}/api/serve/applications/`, { signal: AbortSignal.timeout(5_000) })).json();
  const waitFor = async (fn: (s: any) => boolean, ms: number, what: string, pollMs = 50) => {
    const end = Date.now() + ms;
    let last: any;
    for (;;) {
      last = await status().catch(() => undefined);
      if (last && fn(last)) return last;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}\n--- gateway log ---\n${log}`);
      await sleep(pollMs);
    }
  };
  const gw: BenchGateway = {
    pid: child.pid!,
    http,
    admin,
    log: () => log,
    status,
    waitFor,
    stop: async () => {
      process.off('exit', onExit);
      if (child.exitCode !== null) return;
      // SIGTERM to the gateway alone: it drains and stops its replicas itself (so a replica run
      // with --cpu-prof exits normally and writes its profile). The group is killed only if
      // that hangs, and once more after, for any replica left behind.
      try {
        child.kill('SIGTERM');
      } catch {
        // Gone.
      }
      const timer = setTimeout(() => killGroup('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      await sleep(200);
      killGroup('SIGKILL');
    },
  };
  if (options.waitRunning ?? true) {
    try {
      await waitFor((s) => Object.values(s.applications).every((a: any) => a.status === 'RUNNING'), timeoutMs, 'all apps RUNNING');
    } catch (err) {
      await gw.stop();
      throw err;
    }
  }
  return gw;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
