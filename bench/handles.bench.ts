/**
 * Handle (composition) benchmarks, measured from inside an ingress replica so that HTTP between
 * the load generator and the gateway does not dominate: the ingress `Driver` runs N handle calls
 * itself and answers with their timings.
 *
 * - Pipelines of 1, 2 and 3 stages (one handle call per stage, each stage its own deployment, as
 *   in examples/pipeline), at concurrency 1 and 8, against the same stage logic called in the
 *   Driver's own process as plain async functions: latency p50/p99 and throughput; the added
 *   latency per hop is (handle p50 - in-process p50) / stages.
 * - Streaming through a handle: chunks per second of an async generator, and time to first chunk.
 * - A 10 MB Uint8Array: round trip (there and back) and one way.
 * - The same pipelines driven over HTTP from this process, for the view a client has.
 *
 *   npm run build && node bench/handles.bench.ts [--calls 3000] [--runs 3] [--cpu-prof DIR]
 *     [--only pipelines,streaming,payload,http] [--http-requests 2000]
 *
 * `--cpu-prof DIR` runs the Driver and Stage1 replicas with `node --cpu-prof` (profiles in DIR,
 * written when the replicas stop). Loopback only; it stops only the gateway it started.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fmt, machineLine, median, percentile, table } from './lib/bench-stats.ts';
import { removeProject, startBenchGateway, writeProject } from './lib/swy-gateway.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '3000' },
    runs: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
    'http-requests': { type: 'string', default: '2000' },
    only: { type: 'string', default: 'pipelines,streaming,payload,http' },
  },
});
const CALLS = Number(values.calls);
const RUNS = Number(values.runs);
const HTTP_REQUESTS = Number(values['http-requests']);
const ONLY = new Set(values.only.split(','));
const PROFILE_DIR = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;

/** The stage logic: small structured data in, small structured data out. */
const STAGE = `
export default class Stage {
  work(x) { return { id: x.id, text: x.text, n: x.n + 1 }; }
}
`;

const STREAMER = `
export default class Streamer {
  async *tokens(n) { for (let i = 0; i < n; i++) yield 'tok' + i; }
}
`;

const ECHO = `
export default class Echo {
  echo(bytes) { return bytes; }
  size(bytes) { return bytes.byteLength; }
}
`;

const DRIVER = `
import { performance } from 'node:perf_hooks';
import { deserialize, serialize } from 'node:v8';
import Stage from './stage.mjs';
import Streamer from './streamer.mjs';

const local = [new Stage(), new Stage(), new Stage()];
const localStreamer = new Streamer();

function summary(samples, wallMs) {
  const sorted = Float64Array.from(samples).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
  let sum = 0;
  for (const s of samples) sum += s;
  return { calls: samples.length, p50: at(50), p99: at(99), mean: sum / samples.length, min: sorted[0], perSecond: samples.length / (wallMs / 1000) };
}

export default class Driver {
  constructor({ handles }) {
    this.stages = [handles.s1, handles.s2, handles.s3];
    this.streamer = handles.streamer;
    this.echoer = handles.echo;
  }

  async run(stages, mode, x) {
    // Plain async function calls in this process: the baseline a handle hop is compared with.
    if (mode === 'inproc') { for (let i = 0; i < stages; i++) x = await local[i].work(x); return x; }
    for (let i = 0; i < stages; i++) x = await this.stages[i].work(x);
    return x;
  }

  async pipeline(stages, mode, concurrency, calls) {
    const input = { id: 'req-0001', text: 'the quick brown fox jumps over the lazy dog', n: 0 };
    const once = async (samples) => {
      const t0 = performance.now();
      const out = await this.run(stages, mode, input);
      samples?.push(performance.now() - t0);
      if (out.n !== stages) throw new Error('wrong result ' + JSON.stringify(out));
    };
    const loop = async (count, samples) => {
      let left = count;
      await Promise.all(Array.from({ length: concurrency }, async () => { while (left-- > 0) await once(samples); }));
    };
    await loop(Math.min(500, calls), undefined);   // warm-up: connections, JIT
    const samples = [];
    const t0 = performance.now();
    await loop(calls, samples);
    return summary(samples, performance.now() - t0);
  }

  async stream(chunks, mode) {
    const gen = () => mode === 'inproc' ? localStreamer.tokens(chunks) : this.streamer.tokens(chunks);
    for await (const _ of gen()) {}                 // warm-up
    const t0 = performance.now();
    let n = 0;
    for await (const _ of gen()) n++;
    const ms = performance.now() - t0;
    if (n !== chunks) throw new Error('lost chunks: ' + n);
    return { chunks: n, ms, perSecond: n / (ms / 1000) };
  }

  async firstChunk(samplesWanted, mode) {
    const samples = [];
    for (let i = 0; i < samplesWanted + 50; i++) {
      const t0 = performance.now();
      const it = (mode === 'inproc' ? localStreamer.tokens(5) : this.streamer.tokens(5))[Symbol.asyncIterator]();
      await it.next();
      const ms = performance.now() - t0;
      await it.return?.();
      if (i >= 50) samples.push(ms);
    }
    return summary(samples, 1);
  }

  async payload(mb, rounds, op) {
    const bytes = new Uint8Array(mb * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i & 255;
    const samples = [];
    for (let i = 0; i < rounds + 2; i++) {
      const t0 = performance.now();
      if (op === 'roundtrip') {
        const back = await this.echoer.echo(bytes);
        if (back.byteLength !== bytes.byteLength || back[4096] !== bytes[4096]) throw new Error('payload changed');
      } else if (op === 'oneway') {
        if (await this.echoer.size(bytes) !== bytes.byteLength) throw new Error('payload changed');
      } else {
        // The copies a process boundary cannot avoid: serialize and deserialize, there and back.
        const back = deserialize(serialize(deserialize(serialize(bytes))));
        if (back.byteLength !== bytes.byteLength) throw new Error('payload changed');
      }
      const ms = performance.now() - t0;
      if (i >= 2) samples.push(ms);
    }
    return summary(samples, 1);
  }

  async fetch(request) {
    const q = new URL(request.url).searchParams;
    const num = (k) => Number(q.get(k));
    switch (new URL(request.url).pathname) {
      case '/pipeline': return this.pipeline(num('stages'), q.get('mode'), num('concurrency'), num('calls'));
      case '/stream': return this.stream(num('chunks'), q.get('mode'));
      case '/first-chunk': return this.firstChunk(num('samples'), q.get('mode'));
      case '/payload': return this.payload(num('mb'), num('rounds'), q.get('op'));
      case '/once': return (await this.run(num('stages'), q.get('mode'), { id: 'r', text: 'the quick brown fox', n: 0 })).n;
    }
    return new Response('unknown', { status: 404 });
  }
}
`;

function spec(): string {
  const deployment = (name: string, handler: string, extra: string[]) => {
    const lines = [`      - name: ${name}`, `        handler: ./${handler}`, ...extra.map((e) => `        ${e}`)];
    if (PROFILE_DIR && (name === 'Driver' || name === 'Stage1')) {
      lines.push(`        env: { NODE_OPTIONS: "--cpu-prof --cpu-prof-dir=${PROFILE_DIR} --cpu-prof-name=${name}-\${pid}.cpuprofile" }`);
    }
    return lines.join('\n');
  };
  return [
    'applications:',
    '  - name: bench',
    '    route_prefix: /',
    '    ingress: Driver',
    '    deployments:',
    deployment('Driver', 'driver.mjs', ['bindings: { s1: Stage1, s2: Stage2, s3: Stage3, streamer: Streamer, echo: Echo }']),
    // Above the 8 concurrent calls, so that no call waits for a slot.
    deployment('Stage1', 'stage.mjs', ['max_ongoing_requests: 16']),
    deployment('Stage2', 'stage.mjs', ['max_ongoing_requests: 16']),
    deployment('Stage3', 'stage.mjs', ['max_ongoing_requests: 16']),
    deployment('Streamer', 'streamer.mjs', []),
    deployment('Echo', 'echo.mjs', []),
    '',
  ].join('\n');
}

interface Summary { calls: number; p50: number; p99: number; mean: number; min: number; perSecond: number }

/** GETs a Driver endpoint and returns its JSON. */
type Get = <T>(path: string) => Promise<T>;

/**
 * Every configuration runs RUNS times, interleaved, and each figure is the median over runs (the
 * machine is shared: interleaving spreads its noise over all configurations alike).
 */
async function benchPipelines(get: Get): Promise<string> {
  const configs: Array<{ stages: number; concurrency: number; mode: string }> = [];
  for (const concurrency of [1, 8]) for (const stages of [1, 2, 3]) for (const mode of ['inproc', 'handle']) configs.push({ stages, concurrency, mode });
  const results = new Map<string, Summary[]>();
  for (let run = 0; run < RUNS; run++) {
    for (const c of configs) {
      const s = await get<Summary>(`/pipeline?stages=${c.stages}&mode=${c.mode}&concurrency=${c.concurrency}&calls=${CALLS}`);
      const key = `${c.stages}/${c.concurrency}/${c.mode}`;
      results.set(key, [...(results.get(key) ?? []), s]);
    }
  }
  const med = (key: string, field: keyof Summary) => median(results.get(key)!.map((s) => s[field]));
  const rows: string[][] = [];
  for (const concurrency of [1, 8]) {
    for (const stages of [1, 2, 3]) {
      const h = `${stages}/${concurrency}/handle`;
      const i = `${stages}/${concurrency}/inproc`;
      const perHop = (med(h, 'p50') - med(i, 'p50')) / stages;
      rows.push([
        String(stages), String(concurrency),
        fmt(med(i, 'p50'), 4), fmt(med(h, 'p50')), fmt(med(h, 'p99')),
        fmt(med(i, 'perSecond'), 0), fmt(med(h, 'perSecond'), 0), fmt(perHop),
      ]);
    }
  }
  return table(['stages', 'concurrency', 'in-process p50 ms', 'handles p50 ms', 'handles p99 ms', 'in-process pipelines/s', 'handles pipelines/s', 'added p50 per hop ms'], rows);
}

async function benchStreaming(get: Get): Promise<string> {
  const streams: Record<string, Array<{ perSecond: number }>> = { inproc: [], handle: [] };
  const firsts: Record<string, Summary[]> = { inproc: [], handle: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const mode of ['inproc', 'handle']) {
      streams[mode]!.push(await get(`/stream?chunks=20000&mode=${mode}`));
      firsts[mode]!.push(await get<Summary>(`/first-chunk?samples=300&mode=${mode}`));
    }
  }
  return table(['path', 'chunks/s', 'time to first chunk p50 ms', 'p99 ms'], ['inproc', 'handle'].map((mode) => [
    mode === 'inproc' ? 'in-process generator' : 'through a handle',
    fmt(median(streams[mode]!.map((s) => s.perSecond)), 0),
    fmt(median(firsts[mode]!.map((s) => s.p50)), 4),
    fmt(median(firsts[mode]!.map((s) => s.p99)), 4),
  ]));
}

async function benchPayload(get: Get): Promise<string> {
  const payload: Record<string, Summary[]> = { roundtrip: [], oneway: [], copies: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const op of ['copies', 'oneway', 'roundtrip']) payload[op]!.push(await get<Summary>(`/payload?mb=10&rounds=10&op=${op}`));
  }
  const row = (what: string, op: string, mbMoved: number) => {
    const p50 = median(payload[op]!.map((s) => s.p50));
    return [what, fmt(p50, 2), fmt(median(payload[op]!.map((s) => s.min)), 2), fmt(mbMoved / (p50 / 1000), 0)];
  };
  return table(['what', 'p50 ms', 'min ms', 'MB/s moved (p50)'], [
    row('in-process v8 serialize + deserialize, twice (the copies a round trip needs)', 'copies', 20),
    row('one way: `await echo.size(bytes)`', 'oneway', 10),
    row('round trip: `await echo.echo(bytes)`', 'roundtrip', 20),
  ]);
}

/** One client request per pipeline, sequential, from this process: what a client sees. */
async function benchHttp(http: string): Promise<string> {
  const timings = new Map<number, number[]>();
  for (let run = 0; run < RUNS; run++) {
    for (const stages of [0, 1, 2, 3]) {
      const samples: number[] = [];
      for (let i = 0; i < HTTP_REQUESTS + 200; i++) {
        const t0 = performance.now();
        const res = await fetch(`${http}/once?stages=${stages}&mode=handle`, { signal: AbortSignal.timeout(10_000) });
        await res.text();
        if (i >= 200) samples.push(performance.now() - t0);
      }
      timings.set(stages, [...(timings.get(stages) ?? []), percentile(samples, 50)]);
    }
  }
  const base = median(timings.get(0)!);
  return table(['handle stages', 'request p50 ms', 'added p50 per hop ms'], [0, 1, 2, 3].map((stages) => {
    const p50 = median(timings.get(stages)!);
    return [String(stages), fmt(p50), stages === 0 ? '-' : fmt((p50 - base) / stages)];
  }));
}

async function main(): Promise<void> {
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  const dir = writeProject({ 'serve.yaml': spec(), 'driver.mjs': DRIVER, 'stage.mjs': STAGE, 'streamer.mjs': STREAMER, 'echo.mjs': ECHO });
  const gw = await startBenchGateway(`${dir}/serve.yaml`);
  const get: Get = async <T>(path: string): Promise<T> => {
    const res = await fetch(gw.http + path, { signal: AbortSignal.timeout(300_000) });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}\n${gw.log()}`);
    return (await res.json()) as T;
  };
  try {
    console.log(`${machineLine()}; ${RUNS} runs, ${CALLS} timed calls per run (after 500 warm-up calls); median of runs`);
    if (ONLY.has('pipelines')) console.log(`\n### Pipelines (handle calls timed inside the ingress replica)\n\n${await benchPipelines(get)}`);
    if (ONLY.has('streaming')) console.log(`\n### Streaming through a handle (an async generator yielding short strings)\n\n${await benchStreaming(get)}`);
    if (ONLY.has('payload')) console.log(`\n### A 10 MB Uint8Array through a handle\n\n${await benchPayload(get)}`);
    if (ONLY.has('http')) console.log(`\n### The same pipelines over HTTP (client in this process, sequential requests)\n\n${await benchHttp(gw.http)}`);
  } finally {
    await gw.stop();
    removeProject(dir);
  }
  if (PROFILE_DIR) console.log(`\nCPU profiles of Driver and Stage1 in ${PROFILE_DIR}`);
}

await main();
