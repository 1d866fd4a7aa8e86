/**
 * Autoscaling benchmarks, against the real gateway (the built CLI), loopback only:
 *
 * - Step in load: a deployment at 1 replica (`max_ongoing_requests: 1`, `target_ongoing_requests:
 *   1`, `upscale_delay_s: 0`, `metrics_interval_s: 0.5`) suddenly gets N concurrent requests that
 *   each hold a replica; times from the step to the first upscale decision (`target_replicas`
 *   rises), to the decision for N (or `max_replicas`), and to N replicas RUNNING. A fresh gateway
 *   per run, so every run starts from the same state.
 * - Scale from zero: a `min_replicas: 0` deployment with no replica; the time from a request to
 *   its 200, repeated after the deployment has gone back to zero; next to a warm request's time.
 *
 *   npm run build && node bench/autoscaling.bench.ts [--runs 5] [--step 8] [--only step,zero]
 *
 * Status is polled every 25 ms, so times are good to about that.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fmt, machineLine, median, table } from './lib/bench-stats.ts';
import { removeProject, sleep, startBenchGateway, writeProject, type BenchGateway } from './lib/swy-gateway.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    step: { type: 'string', default: '8' },
    only: { type: 'string', default: 'step,zero' },
  },
});
const RUNS = Number(values.runs);
const STEP = Number(values.step);
const ONLY = new Set(values.only.split(','));
const POLL_MS = 25;

// `/block?ms=N` holds its replica for N ms, so the load is exactly the open requests.
const BLOCKING = `
export default class Blocking {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/block') {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Number(url.searchParams.get('ms')));
        request.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); });
      });
      return 'done';
    }
    return 'ok';
  }
}
`;

/** `extra`: more autoscaling_config lines (the panic mode variant). */
const stepSpec = (extra: readonly string[]) => `
applications:
  - name: app
    deployments:
      - name: B
        handler: ./blocking.mjs
        max_ongoing_requests: 1
        autoscaling_config:
          min_replicas: 1
          max_replicas: ${STEP}
          target_ongoing_requests: 1
          upscale_delay_s: 0
          downscale_delay_s: 600
          metrics_interval_s: 0.5
          look_back_period_s: 2
${extra.map((line) => `          ${line}`).join('\n')}
`;

/** Ray Serve's policy alone, then with Knative-style panic mode on. */
const STEP_VARIANTS: ReadonlyArray<{ name: string; extra: readonly string[] }> = [
  { name: 'default policy', extra: [] },
  { name: 'panic mode (panic_window_s 1, panic_threshold 2)', extra: ['panic_window_s: 1', 'panic_threshold: 2'] },
];

const ZERO_SPEC = `
applications:
  - name: app
    deployments:
      - name: B
        handler: ./blocking.mjs
        autoscaling_config:
          min_replicas: 0
          initial_replicas: 0
          max_replicas: 2
          target_ongoing_requests: 1
          downscale_delay_s: 1
          downscale_to_zero_delay_s: 1
          metrics_interval_s: 0.5
          look_back_period_s: 1
`;

const deployment = (s: any) => s.applications.app?.deployments.B;
const running = (s: any) => deployment(s)?.replicas.filter((r: any) => r.state === 'RUNNING').length ?? 0;

interface StepRun { firstDecision: number; fullDecision: number; half: number; full: number }

/** One step: the times (ms after the step) of the first upscale decision, the decision for STEP, STEP/2 and STEP replicas RUNNING. */
async function stepRun(gw: BenchGateway): Promise<StepRun> {
  await gw.waitFor((s) => running(s) === 1, 20_000, '1 replica RUNNING');
  const controller = new AbortController();
  const t0 = performance.now();
  const requests = Array.from({ length: STEP }, () =>
    fetch(`${gw.http}/block?ms=60000`, { signal: controller.signal }).then((r) => r.text()).catch(() => undefined));
  const out: Partial<StepRun> = {};
  const deadline = Date.now() + 60_000;
  try {
    while (out.full === undefined) {
      if (Date.now() > deadline) throw new Error(`no ${STEP} replicas after 60 s; last status ${JSON.stringify(await gw.status())}\n${gw.log()}`);
      const s = await gw.status();
      const at = performance.now() - t0;
      const target = deployment(s)?.target_replicas ?? 0;
      if (out.firstDecision === undefined && target > 1) out.firstDecision = at;
      if (out.fullDecision === undefined && target >= STEP) out.fullDecision = at;
      if (out.half === undefined && running(s) >= STEP / 2) out.half = at;
      if (running(s) >= STEP) out.full = at;
      else await sleep(POLL_MS);
    }
  } finally {
    controller.abort();
    await Promise.all(requests);
  }
  return out as StepRun;
}

async function benchStep(): Promise<string> {
  const runs = new Map<string, StepRun[]>();
  for (let i = 0; i < RUNS; i++) {
    for (const variant of STEP_VARIANTS) {
      const dir = writeProject({ 'blocking.mjs': BLOCKING, 'serve.yaml': stepSpec(variant.extra) });
      const gw = await startBenchGateway(`${dir}/serve.yaml`);
      try {
        const run = await stepRun(gw);
        runs.set(variant.name, [...(runs.get(variant.name) ?? []), run]);
        console.error(`step run ${i + 1}, ${variant.name}: ${JSON.stringify(run, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
      } finally {
        await gw.stop();
        removeProject(dir);
      }
    }
  }
  const rows: string[][] = [];
  const measures: ReadonlyArray<[string, (r: StepRun) => number]> = [
    ['first upscale decision (target_replicas > 1)', (r) => r.firstDecision],
    [`decision for ${STEP} replicas`, (r) => r.fullDecision],
    [`${STEP / 2} replicas RUNNING`, (r) => r.half],
    [`${STEP} replicas RUNNING`, (r) => r.full],
  ];
  for (const variant of STEP_VARIANTS) {
    for (const [what, pick] of measures) {
      const xs = runs.get(variant.name)!.map(pick);
      rows.push([variant.name, what, fmt(median(xs), 0), fmt(Math.min(...xs), 0), fmt(Math.max(...xs), 0)]);
    }
  }
  return table(['policy', `from the step (${STEP} blocking requests at once) to`, 'median ms', 'min ms', 'max ms'], rows);
}

async function benchZero(): Promise<string> {
  const dir = writeProject({ 'blocking.mjs': BLOCKING, 'serve.yaml': ZERO_SPEC });
  const gw = await startBenchGateway(`${dir}/serve.yaml`);
  const cold: number[] = [];
  const warm: number[] = [];
  const timed = async () => {
    const t0 = performance.now();
    const res = await fetch(`${gw.http}/`, { signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    if (res.status !== 200 || body !== 'ok') throw new Error(`got ${res.status} ${body}\n${gw.log()}`);
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      await gw.waitFor((s) => deployment(s)?.target_replicas === 0 && deployment(s).replicas.length === 0, 30_000, 'zero replicas');
      // A moment at zero, so that nothing from the previous run is still settling.
      await sleep(300);
      cold.push(await timed());
      for (let k = 0; k < 20; k++) warm.push(await timed());
      console.error(`zero run ${i + 1}: first response ${cold.at(-1)!.toFixed(0)} ms`);
    }
  } finally {
    await gw.stop();
    removeProject(dir);
  }
  return table(['request', 'median ms', 'min ms', 'max ms'], [
    ['first request to a deployment at zero replicas (to its 200)', fmt(median(cold), 0), fmt(Math.min(...cold), 0), fmt(Math.max(...cold), 0)],
    ['a request once a replica runs (20 per run)', fmt(median(warm), 2), fmt(Math.min(...warm), 2), fmt(Math.max(...warm), 2)],
  ]);
}

console.log(`${machineLine()}; ${RUNS} runs`);
if (ONLY.has('step')) console.log(`\n### Step in load (target_ongoing_requests 1, upscale_delay_s 0, metrics_interval_s 0.5, look_back_period_s 2, max_replicas ${STEP})\n\n${await benchStep()}`);
if (ONLY.has('zero')) console.log(`\n### Scale from zero (min_replicas 0, initial_replicas 0)\n\n${await benchZero()}`);
