/**
 * Starts a real replica process (src/replica/main.ts, real IPC, real Unix socket) for tests, and
 * talks to it with undici over the socket. Everything it starts is killed by PID at teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { FromReplica, InitMessage, ToReplica } from '../../src/replica/protocol.ts';

export const MAIN = fileURLToPath(new URL('../../src/replica/main.ts', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/handlers/', import.meta.url));

export interface Replica {
  readonly child: ChildProcess;
  readonly socketPath: string;
  readonly client: Pool;
  readonly messages: FromReplica[];
  stderr(): string;
  send(message: ToReplica): void;
  /** The first message (already received or future) that matches. */
  waitFor<T extends FromReplica>(match: (m: FromReplica) => m is T, ms?: number): Promise<T>;
  waitFor(match: (m: FromReplica) => boolean, ms?: number): Promise<FromReplica>;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

interface Teardown { teardown(fn: () => unknown): void }

export function startReplica(t: Teardown, init: Partial<InitMessage> & { handler_path: string }): Replica {
  const dir = mkdtempSync(join(tmpdir(), 'swy-rt-'));
  const socketPath = join(dir, 'r.sock');
  const child = spawn(process.execPath, [MAIN], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, SWITCHYARD_REPLICA_ID: init.replica_id ?? 'app#Dep#r1' },
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  child.stdout!.resume();
  const messages: FromReplica[] = [];
  const waiters = new Set<() => void>();
  child.on('message', (m) => {
    messages.push(m as FromReplica);
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const full: InitMessage = {
    t: 'init',
    replica_id: 'app#Dep#r1',
    deployment_id: 'app#Dep',
    app: 'app',
    deployment: 'Dep',
    export_name: undefined,
    args: undefined,
    has_user_config: false,
    socket_path: socketPath,
    max_ongoing_requests: 100,
    bindings: {},
    routing: [],
    load_report_interval_ms: 60_000,
    ...init,
    handler_path: join(FIXTURES, init.handler_path),
  };
  child.send(full);
  const client = new Pool('http://localhost', { socketPath, connections: 16 });
  t.teardown(async () => {
    await client.destroy().catch(() => {});
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const waitFor = (match: (m: FromReplica) => boolean, ms = 10_000): Promise<FromReplica> => {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = messages.find(match);
        if (found === undefined) return false;
        waiters.delete(check as () => void);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check as () => void);
        reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(messages)}; stderr: ${err}`));
      }, ms);
      if (!check()) waiters.add(check as () => void);
    });
  };
  return {
    child,
    socketPath,
    client,
    messages,
    stderr: () => err,
    send: (m) => child.send(m),
    waitFor: waitFor as Replica['waitFor'],
    exited,
  };
}

export async function startReady(t: Teardown, init: Partial<InitMessage> & { handler_path: string }): Promise<Replica> {
  const r = startReplica(t, init);
  const m = await r.waitFor((x) => x.t === 'ready' || x.t === 'failed');
  if (m.t !== 'ready') throw new Error(`replica failed to start: ${JSON.stringify(m)}`);
  return r;
}

/** GET (or another method) on the replica; the whole body as text. */
export async function get(r: Replica, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
  const res = await r.client.request({ path, method: (opts.method ?? 'GET') as 'GET', headers: opts.headers, body: opts.body });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, text: body.toString('utf8'), bytes: body };
}
