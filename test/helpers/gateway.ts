/**
 * Starts the real `switchyard run` (the built CLI) on free loopback ports, in its own process
 * group, and stops it by that group: tests end only what they started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'bin/switchyard.js');

export interface RunningGateway {
  readonly child: ChildProcess;
  readonly http: string;
  readonly admin: string;
  /** Everything the gateway wrote to stderr so far. */
  log(): string;
  /** GET the status JSON from the admin API. */
  status(): Promise<any>;
  /** Waits until `fn(status)` is true (polling every `pollMs`), or throws with the log after `timeoutMs`. */
  waitFor(fn: (status: any) => boolean, timeoutMs?: number, what?: string, pollMs?: number): Promise<any>;
  /** SIGTERM, then waits for exit; SIGKILLs the group if it hangs. Resolves to the exit code. */
  stop(): Promise<number | null>;
}

/**
 * A temp directory with `files` written into it (relative path -> content), where handlers can
 * `import ... from 'switchyard'` as they would in a project that installed it.
 */
export function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'swy-test-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'switchyard'), 'dir');
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

export interface StartOptions {
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** Wait until every application is RUNNING (default true). */
  readonly waitRunning?: boolean;
  readonly timeoutMs?: number;
}

export async function startGateway(specPath: string, options: StartOptions = {}): Promise<RunningGateway> {
  const child = spawn(process.execPath, [CLI, 'run', specPath, '--port', '0', '--admin-port', '0', ...(options.args ?? ['--no-watch'])], {
    cwd: dirname(specPath),
    env: { ...cleanEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  // If this process ends first (a failed test, a Ctrl-C'd benchmark), the gateway's group goes too.
  const onExit = () => killGroup(child);
  process.once('exit', onExit);
  const token = options.env?.SWITCHYARD_ADMIN_TOKEN;
  const timeoutMs = options.timeoutMs ?? 20_000;

  const deadline = Date.now() + timeoutMs;
  let http = '';
  let admin = '';
  while (!(http && admin)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      killGroup(child);
      throw new Error(`gateway did not start:\n${stderr}`);
    }
    http = /proxy listening on (http:\/\/\S+)/.exec(stderr)?.[1] ?? '';
    admin = /admin API listening on (http:\/\/\S+)/.exec(stderr)?.[1] ?? '';
    await sleep(20);
  }
  const status = async () => {
    const res = await fetch(`${admin}/api/serve/applications/`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
    return res.json();
  };
  const waitFor = async (fn: (s: any) => boolean, ms = 20_000, what = 'condition', pollMs = 50) => {
    const end = Date.now() + ms;
    let last: any;
    for (;;) {
      last = await status().catch(() => undefined);
      if (last && fn(last)) return last;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}\n--- gateway log ---\n${stderr}`);
      await sleep(pollMs);
    }
  };
  const gw: RunningGateway = {
    child, http, admin, status, waitFor,
    log: () => stderr,
    stop: async () => {
      process.off('exit', onExit);
      if (child.exitCode !== null) return child.exitCode;
      // SIGTERM to the gateway alone, as a process manager would: it drains and stops its replicas.
      try { process.kill(child.pid!, 'SIGTERM'); } catch { /* already gone */ }
      const timer = setTimeout(() => killGroup(child), 15_000);
      const code = await exited;
      clearTimeout(timer);
      // The gateway stops its replicas before it exits; this only catches one left behind.
      killGroup(child);
      return code;
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

/**
 * The environment a user's shell would give the gateway: without the test runner's hooks
 * (tap's NODE_OPTIONS --import instruments every child process, replicas included).
 */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === 'NODE_OPTIONS' || k === 'TAP' || k.startsWith('TAP_') || k.startsWith('_TAPJS')) continue;
    env[k] = v;
  }
  return env;
}

function killGroup(child: ChildProcess): void {
  try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** PIDs of live processes whose parent is `pid` (Linux /proc). */
export async function childPids(pid: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name (field 2) may contain spaces, so split after ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
