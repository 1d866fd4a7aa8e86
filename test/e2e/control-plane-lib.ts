/**
 * Shared pieces of the control-plane end-to-end tests: admin API calls, "the rollout has
 * settled", pids of a deployment, and the built CLI run as a user runs it. Every call is
 * bounded so a hang fails fast with the gateway log.
 */
import { execFile } from 'node:child_process';
import { CLI, cleanEnv, isAlive, sleep, type RunningGateway } from '../helpers/gateway.ts';

export interface AdminAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: any;
}

/** One admin API call; `token` adds `Authorization: Bearer`. */
export async function admin(
  gw: RunningGateway | string,
  method: string,
  path: string,
  init: { body?: string; type?: string; token?: string; timeoutMs?: number } = {},
): Promise<AdminAnswer> {
  const base = typeof gw === 'string' ? gw : gw.admin;
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/yaml';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(`${base}${path}`, {
    method, headers, ...(init.body !== undefined && { body: init.body }), signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** GET on the proxy, bounded; the body as text. */
export async function get(gw: RunningGateway, path: string): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(`${gw.http}${path}`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json };
}

/**
 * The app is RUNNING, every deployment HEALTHY with exactly its target of replicas, all RUNNING
 * (no replica of an old version still starting or draining).
 */
export function settled(status: any, app: string): boolean {
  const a = status?.applications?.[app];
  if (!a || a.status !== 'RUNNING') return false;
  return Object.values<any>(a.deployments).every((d) =>
    d.status === 'HEALTHY' && d.replicas.length === d.target_replicas && d.replicas.every((r: any) => r.state === 'RUNNING'));
}

/** Sorted pids of a deployment's replicas. */
export function pidsOf(status: any, app: string, deployment: string): number[] {
  return (status.applications[app]?.deployments[deployment]?.replicas ?? []).map((r: any) => r.pid).sort((x: number, y: number) => x - y);
}

/** Replica ids and versions of a deployment: what "touched nothing" compares. */
export function replicasOf(status: any, app: string, deployment: string): string[] {
  return (status.applications[app]?.deployments[deployment]?.replicas ?? []).map((r: any) => `${r.replica_id}@${r.version}:${r.pid}`).sort();
}

/** Waits until none of `pids` is alive. */
export async function waitDead(pids: readonly number[], ms = 15_000): Promise<number[]> {
  const end = Date.now() + ms;
  while (pids.some(isAlive) && Date.now() < end) await sleep(50);
  return pids.filter(isAlive);
}

/**
 * Runs `fn` over `items`, `limit` at a time, results in order: CLI runs overlap to save wall
 * time without starting so many processes at once that a loaded machine times them out.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI with a clean environment (no SWITCHYARD_* of the caller), bounded. */
export function cli(args: readonly string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliRun> {
  const env: Record<string, string> = cleanEnv();
  delete env.SWITCHYARD_ADDRESS;
  delete env.SWITCHYARD_ADMIN_TOKEN;
  Object.assign(env, opts.env);
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: opts.cwd, env, timeout: opts.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}
