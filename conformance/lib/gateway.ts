/**
 * A gateway started by a `start` step: `switchyard run SPEC --port 0 --admin-port 0 --no-watch`
 * in its own process group, its bound addresses read from what it prints, and its readiness
 * polled over HTTP. Every wait here has a deadline.
 */
import { Agent, request } from 'undici';
import { killGroup, killRun, liveProcesses, sleep, spawnGroup, within, type LiveProcess, type Spawned } from './proc.ts';
import type { HttpResult } from './match.ts';

export interface Gateway {
  proc: Spawned;
  pid: number;
  marker: string;
  http: string;
  admin: string;
  /** Set once the process has exited. */
  exit?: { exit: number | null; signal: string | null };
}

const URL_RE = /https?:\/\/(?:\[[0-9a-fA-F:.]+\]|[^\s"'<>`()[\],/]+)[^\s"'<>`()\],]*/;

/**
 * The bound addresses in the gateway's output. Tolerant of wording: on a line that mentions
 * `admin`, the first URL is the admin API; on a line that mentions `proxy` or `listening`, the
 * first URL is the HTTP proxy. The first line found for each wins. A wildcard host is replaced
 * by loopback so the runner can connect to it.
 */
export function parseAddresses(output: string): { http?: string; admin?: string } {
  const found: { http?: string; admin?: string } = {};
  for (const line of output.split('\n')) {
    const m = URL_RE.exec(line);
    if (!m) continue;
    const url = m[0].replace(/[.;:]+$/, '').replace(/\/+$/, '')
      .replace('//0.0.0.0', '//127.0.0.1').replace('//[::]', '//127.0.0.1');
    const lower = line.toLowerCase();
    if (lower.includes('admin')) found.admin ??= url;
    else if (lower.includes('proxy') || lower.includes('listening')) found.http ??= url;
  }
  return found;
}

/** The last lines of the gateway's output, for failure reports. */
export function outputTail(g: { proc: Spawned }, lines = 30): string {
  const all = (g.proc.stderr() + (g.proc.stdout() ? `\n[stdout]\n${g.proc.stdout()}` : '')).trimEnd().split('\n');
  return all.slice(-lines).map((l) => `    | ${l}`).join('\n');
}

/** One HTTP request through the scenario's agent; network errors come back as thrown Errors. */
export async function httpCall(agent: Agent, url: string, init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<HttpResult> {
  const res = await request(url, {
    dispatcher: agent,
    method: init.method as 'GET',
    headers: init.headers,
    body: init.body,
    signal: AbortSignal.timeout(init.timeoutMs),
  });
  const body = await res.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return { status: res.statusCode, headers, body };
}

export class StartError extends Error {}

interface StartOptions {
  node: string;
  bin: string;
  cwd: string;
  spec: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  watch: boolean;
  waitRunning: boolean;
  timeoutMs: number;
  marker: string;
  agent: Agent;
  /** Aborted when the scenario times out. */
  signal: AbortSignal;
  /** Called as soon as the process exists, so cleanup can kill it even if start fails. */
  onSpawn: (g: Gateway) => void;
}

/** Starts the gateway and waits until it is ready; throws StartError (with its output) if not. */
export async function startGateway(o: StartOptions): Promise<Gateway> {
  const args = [o.bin, 'run', o.spec, '--port', '0', '--admin-port', '0', ...(o.watch ? [] : ['--no-watch']), ...o.args];
  const proc = spawnGroup(o.node, args, { cwd: o.cwd, env: o.env });
  const g: Gateway = { proc, pid: proc.child.pid ?? -1, marker: o.marker, http: '', admin: '' };
  o.onSpawn(g);
  void proc.exited.then((e) => { g.exit = e; });
  const deadline = Date.now() + o.timeoutMs;
  const fail = (why: string): never => {
    throw new StartError(`${why}\n  command: switchyard ${args.slice(1).join(' ')}\n  gateway output (last lines):\n${outputTail(g)}`);
  };
  const exitedText = (): string => `gateway exited during start (exit ${g.exit?.exit ?? 'none'}${g.exit?.signal ? `, signal ${g.exit.signal}` : ''})`;

  // 1. The bound addresses.
  for (;;) {
    const found = parseAddresses(proc.stderr() + '\n' + proc.stdout());
    if (found.http && found.admin) {
      g.http = found.http;
      g.admin = found.admin;
      break;
    }
    if (g.exit) fail(exitedText());
    if (Date.now() > deadline) {
      fail(`no bound addresses printed within ${o.timeoutMs} ms (found proxy=${found.http ?? 'none'}, admin=${found.admin ?? 'none'}; ` +
        'expected a line with "proxy" or "listening" and a line with "admin", each with an http:// URL)');
    }
    await sleep(50, o.signal);
  }

  // 2. The proxy answers its health check.
  let last = '';
  for (;;) {
    if (g.exit) fail(exitedText());
    try {
      const res = await httpCall(o.agent, `${g.http}/-/healthz`, { method: 'GET', headers: {}, timeoutMs: 2_000 });
      if (res.status === 200) break;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) fail(`GET ${g.http}/-/healthz did not answer 200 within ${o.timeoutMs} ms (last: ${last})`);
    await sleep(100, o.signal);
  }

  // 3. Optionally, every application RUNNING.
  if (o.waitRunning) {
    for (;;) {
      if (g.exit) fail(exitedText());
      try {
        const res = await httpCall(o.agent, `${g.admin}/api/serve/applications/`, { method: 'GET', headers: {}, timeoutMs: 2_000 });
        const apps = (JSON.parse(res.body) as { applications?: Record<string, { status?: string; message?: string }> }).applications ?? {};
        const states = Object.entries(apps).map(([name, a]) => `${name}=${a.status}${a.message ? ` (${a.message})` : ''}`);
        last = `status ${res.status}: ${states.join(', ') || 'no applications'}`;
        if (res.status === 200 && Object.values(apps).every((a) => a.status === 'RUNNING')) break;
        if (Object.values(apps).some((a) => a.status === 'DEPLOY_FAILED')) fail(`an application failed to deploy: ${last}`);
      } catch (err) {
        if (err instanceof StartError) throw err;
        last = (err as Error).message;
      }
      if (Date.now() > deadline) fail(`applications not all RUNNING within ${o.timeoutMs} ms (last: ${last})`);
      await sleep(100, o.signal);
    }
  }
  return g;
}

/**
 * SIGTERMs the gateway (its pid only: draining the replicas is the gateway's job, which this
 * checks) and waits for it to exit. Returns the exit, or undefined on timeout.
 */
export async function stopGateway(g: Gateway, timeoutMs: number): Promise<{ exit: number | null; signal: string | null } | undefined> {
  if (!g.exit) {
    try {
      process.kill(g.pid, 'SIGTERM');
    } catch {
      // Already exited; `exited` resolves with how.
    }
  }
  return within(g.proc.exited, timeoutMs);
}

/** Processes of the gateway's run still alive after `graceMs` (a short grace for exits in flight). */
export async function leftovers(g: Gateway, graceMs: number): Promise<LiveProcess[]> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const live = liveProcesses(g.pid, g.marker);
    if (live.length === 0 || Date.now() > deadline) return live;
    await sleep(100);
  }
}

/** Cleanup that cannot fail: a polite SIGTERM, a short wait, then SIGKILL for everything left. */
export async function killGateway(g: Gateway): Promise<void> {
  if (!g.exit) {
    killGroup(g.pid, 'SIGTERM');
    await within(g.proc.exited, 3_000);
  }
  killRun(g.pid, g.marker);
}
