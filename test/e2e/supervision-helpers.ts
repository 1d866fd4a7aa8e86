/**
 * Shared by the supervision end-to-end tests (supervision-*.test.ts): bounded requests, and
 * reading replicas and processes out of the status JSON.
 */
import { readFileSync } from 'node:fs';
import type { RunningGateway } from '../helpers/gateway.ts';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: any;
  readonly ms: number;
}

/** A request that cannot hang the test: it fails after `timeoutMs`. */
export async function request(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 10_000) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, ms: performance.now() - started };
}

export interface ReplicaJson {
  replica_id: string;
  state: string;
  pid: number | null;
  version: string;
  ongoing_requests: number;
  age_s: number;
}

export function replicasOf(status: any, app: string, deployment: string): ReplicaJson[] {
  return status?.applications?.[app]?.deployments?.[deployment]?.replicas ?? [];
}

/** PIDs of the deployment's RUNNING replicas, sorted. */
export function runningPids(status: any, app: string, deployment: string): number[] {
  return replicasOf(status, app, deployment).filter((r) => r.state === 'RUNNING').map((r) => r.pid!).sort((a, b) => a - b);
}

/** Waits until the deployment has `count` RUNNING replicas, none of them with a pid in `not`. */
export function waitForRunning(gw: RunningGateway, app: string, deployment: string, count: number, not: readonly number[] = [], timeoutMs = 15_000): Promise<any> {
  return gw.waitFor((s) => {
    const pids = runningPids(s, app, deployment);
    return pids.length === count && pids.every((p) => !not.includes(p));
  }, timeoutMs, `${count} RUNNING replica(s) of ${app}#${deployment} without pid ${not.join(', ') || '-'}`);
}

/** True once `pid` has exited: gone, or a zombie its parent has not reaped yet (its sockets are closed either way). */
export function hasExited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Polls `fn` every 10 ms until it is true; throws `what` after `timeoutMs`. */
export async function until(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
