/**
 * HTTP proxy throughput: the same hello fetch handler
 *   - through `switchyard run` with 1 and with 2 replicas,
 *   - served in one process by a minimal node:http + Request/Response adapter (the fair "direct"),
 *   - and a plain node:http hello (the floor),
 *   - and nginx (1 worker, keepalive upstream) in front of the direct server, when installed,
 * all measured in one run with wrk on 127.0.0.1, then reported as req/s, p50/p99 and ratios.
 *
 *   npm run build && node bench/http.bench.ts [--seconds 5] [--connections 50] [--threads 2]
 *       [--rounds 1] [--profile DIR] [--only swy1,direct,...]
 *
 * `--profile DIR` also runs the 1-replica gateway once more under `node --cpu-prof` and prints
 * where its time goes. Every process is started in its own process group and stopped by it.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, symlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { fmt, machineLine, median, table } from './lib/bench-stats.ts';
import { summariseProfile } from './lib/cpu-profile.ts';
import { childPids, cpuSeconds } from './lib/proc-cpu.ts';
import { start, waitForOutput, type Started } from './lib/processes.ts';
import { wrk, type WrkResult } from './lib/wrk.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin/switchyard.js');
const HERE = dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '2' },
    profile: { type: 'string' },
    only: { type: 'string' },
  },
});
const WRK = { threads: Number(values.threads), connections: Number(values.connections), seconds: Number(values.seconds) };
const ROUNDS = Number(values.rounds);
const WARMUP_S = Number(values.warmup);
const ONLY = values.only ? new Set(values.only.split(',')) : undefined;

/** The environment a shell gives a process (no NODE_OPTIONS from whoever started the bench). */
function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.NODE_OPTIONS;
  return e;
}

interface Target {
  readonly key: string;
  readonly label: string;
  url: string;
  readonly stop: () => Promise<void>;
  /** Processes serving it, by role (CPU per request is measured for each). */
  readonly pids: () => Record<string, number[]>;
}

interface Measured extends WrkResult {
  /** CPU microseconds per request, per role (e.g. gateway, replicas, server). */
  readonly cpuUsPerRequest: Record<string, number>;
}

async function nodeServer(mode: 'direct' | 'plain'): Promise<Target> {
  const p = start(process.execPath, [join(HERE, 'lib/direct-server.ts'), mode], { env: env() });
  const port = await waitForOutput(p, /listening (\d+)/);
  const label = mode === 'direct' ? 'direct: node:http + Request/Response adapter, 1 process' : 'plain node:http hello (floor)';
  return { key: mode, label, url: `http://127.0.0.1:${port}/`, stop: () => p.stop(), pids: () => ({ server: [p.child.pid!] }) };
}

function project(replicas: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'swy-http-bench-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'switchyard'), 'dir');
  writeFileSync(join(dir, 'hello.mjs'), `export { default } from ${JSON.stringify(join(HERE, 'lib/hello-handler.mjs'))};\n`);
  writeFileSync(join(dir, 'serve.yaml'), `
http_options: { host: 127.0.0.1, port: 0 }
applications:
  - name: hello
    route_prefix: /
    deployments:
      - name: Hello
        handler: ./hello.mjs
        num_replicas: ${replicas}
        max_ongoing_requests: 100
`);
  return dir;
}

async function gateway(replicas: number, nodeArgs: readonly string[] = []): Promise<Target & { gw: Started; dir: string }> {
  const dir = project(replicas);
  const gw = start(process.execPath, [...nodeArgs, CLI, 'run', join(dir, 'serve.yaml'), '--port', '0', '--admin-port', '0', '--no-watch'], { cwd: dir, env: env() });
  const http = await waitForOutput(gw, /proxy listening on (http:\/\/\S+)/);
  const admin = await waitForOutput(gw, /admin API listening on (http:\/\/\S+)/);
  const end = Date.now() + 30_000;
  for (;;) {
    const s = await fetch(`${admin}/api/serve/applications/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.json()).catch(() => undefined) as any;
    const reps = s?.applications?.hello?.deployments?.Hello?.replicas ?? [];
    if (s?.applications?.hello?.status === 'RUNNING' && reps.filter((r: any) => r.state === 'RUNNING').length === replicas) break;
    if (Date.now() > end) throw new Error(`gateway not RUNNING:\n${gw.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const label = `switchyard run, ${replicas} replica${replicas > 1 ? 's' : ''}`;
  return {
    key: `swy${replicas}`, label, url: `${http}/`, gw, dir,
    pids: () => ({ gateway: [gw.child.pid!], replicas: childPids(gw.child.pid!) }),
    stop: async () => {
      await gw.stop(15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nginx, 1 worker, keepalive TCP upstream to `upstream` (workers run as nobody: no Unix socket). */
async function nginx(upstream: string): Promise<Target | undefined> {
  const bin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(existsSync);
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'swy-nginx-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const { host } = new URL(upstream);
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream direct { server ${host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://direct;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`);
  const p = start(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { env: env() });
  const url = `http://127.0.0.1:${port}/`;
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (Date.now() > end || p.child.exitCode !== null) {
      await p.stop();
      throw new Error(`nginx did not come up:\n${p.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    key: 'nginx', label: 'nginx (1 worker, keepalive upstream) -> direct', url,
    // The master only supervises; the worker does the proxying.
    pids: () => ({ nginx: childPids(p.child.pid!) }),
    stop: async () => {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function measure(target: Target): Promise<Measured> {
  const check = await fetch(target.url, { signal: AbortSignal.timeout(5000) });
  const body = await check.text();
  if (check.status !== 200 || body !== 'hello, world') throw new Error(`${target.label} answered ${check.status} ${body}`);
  if (WARMUP_S > 0) await wrk(target.url, { ...WRK, seconds: WARMUP_S });
  return measureOnce(target);
}

async function measureOnce(target: Target): Promise<Measured> {
  const roles = target.pids();
  const cpu = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const before = Object.fromEntries(Object.entries(roles).map(([role, pids]) => [role, cpu(pids)]));
  const r = await wrk(target.url, WRK);
  const cpuUsPerRequest: Record<string, number> = {};
  for (const [role, pids] of Object.entries(roles)) cpuUsPerRequest[role] = ((cpu(pids) - before[role]!) * 1e6) / r.requests;
  return { ...r, cpuUsPerRequest };
}

function cpuText(m: Measured): string {
  return Object.entries(m.cpuUsPerRequest).map(([role, us]) => `${role} ${fmt(us, 0)}`).join(', ');
}

async function main(): Promise<void> {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version exits 1 but prints; only a missing binary is fatal.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('wrk is not installed (apt-get install -y wrk)');
  }
  console.log(machineLine());
  console.log(`wrk -t${WRK.threads} -c${WRK.connections} -d${WRK.seconds}s --latency (after a ${WARMUP_S}s warm-up), ${ROUNDS} round(s)\n`);

  const results = new Map<string, { label: string; runs: Measured[] }>();
  const record = (t: Target, r: Measured) => {
    const entry = results.get(t.key) ?? { label: t.label, runs: [] };
    entry.runs.push(r);
    results.set(t.key, entry);
    console.log(`${t.label}: ${fmt(r.rps, 0)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms, CPU us/request: ${cpuText(r)}${r.errors ? `, ${r.errors} errors` : ''}`);
  };
  const want = (key: string) => !ONLY || ONLY.has(key);

  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['plain', 'direct'] as const) {
      if (!want(mode) && !(mode === 'direct' && want('nginx'))) continue;
      const t = await nodeServer(mode);
      try {
        if (want(mode)) record(t, await measure(t));
        if (mode === 'direct' && want('nginx')) {
          const n = await nginx(t.url);
          if (!n) console.log('nginx is not installed: skipped (apt-get install -y nginx)');
          else {
            try {
              record(n, await measure(n));
            } finally {
              await n.stop();
            }
          }
        }
      } finally {
        await t.stop();
      }
    }
    for (const replicas of [1, 2]) {
      if (!want(`swy${replicas}`)) continue;
      const t = await gateway(replicas);
      try {
        record(t, await measure(t));
      } finally {
        await t.stop();
      }
    }
  }

  const best = (key: string) => {
    const runs = results.get(key)?.runs ?? [];
    if (runs.length === 0) return undefined;
    const roles = Object.keys(runs[0]!.cpuUsPerRequest);
    const cpu = roles.map((role) => `${role} ${fmt(median(runs.map((r) => r.cpuUsPerRequest[role] ?? NaN)), 0)}`).join(', ');
    return { rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50Ms)), p99: median(runs.map((r) => r.p99Ms)), cpu };
  };
  const direct = best('direct');
  const ngx = best('nginx');
  const order = ['plain', 'direct', 'nginx', 'swy1', 'swy2'];
  const rows = order.filter((k) => results.has(k)).map((k) => {
    const r = best(k)!;
    return [results.get(k)!.label, fmt(r.rps, 0), fmt(r.p50, 2), fmt(r.p99, 2),
      direct ? `${fmt(r.rps / direct.rps, 2)}x` : '-', ngx ? `${fmt(r.rps / ngx.rps, 2)}x` : '-', r.cpu];
  });
  console.log(`\n${table(['target', 'req/s', 'p50 ms', 'p99 ms', 'vs direct', 'vs nginx', 'CPU us per request'], rows)}`);
  if (ROUNDS > 1) console.log(`(medians of ${ROUNDS} rounds)`);

  if (values.profile) {
    const dir = resolve(values.profile);
    mkdirSync(dir, { recursive: true });
    const before = new Set(readdirSync(dir));
    const spawned = performance.now();
    const t = await gateway(1, ['--cpu-prof', '--cpu-prof-dir', dir]);
    let window: { fromMs: number; toMs: number };
    try {
      await measure(t); // warm-up and a first measurement, unprofiled in the summary below
      const fromMs = performance.now() - spawned;
      record({ ...t, label: 'switchyard run, 1 replica, gateway under --cpu-prof' }, await measureOnce(t));
      window = { fromMs, toMs: performance.now() - spawned };
    } finally {
      await t.stop();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
    if (!file) throw new Error(`no profile written in ${dir}`);
    // The profile starts a little after the spawn: the window errs on the side of the load phase.
    const s = summariseProfile(join(dir, file), 30, window!);
    console.log(`\ngateway CPU profile ${join(dir, file)}, load phase only: ${s.totalSamples} samples, ${fmt(s.idle * 100, 1)}% idle`);
    console.log(table(['area (self time)', 'share of busy'], s.areas.map(([a, v]) => [a, `${fmt(v * 100, 1)}%`])));
    console.log();
    console.log(table(['function (self time)', 'share of busy'], s.functions.map(([a, v]) => [a, `${fmt(v * 100, 1)}%`])));
  }
}

await main();
