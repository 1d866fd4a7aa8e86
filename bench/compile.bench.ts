/**
 * Spec validation and compile at scale: a 500-deployment spec (50 applications x 10
 * deployments, every handler importing a few shared modules, bindings inside and across apps),
 * generated in a temp directory. Times load+validate, compile (async and sync), diff, and route
 * matching separately; prints the median of several runs.
 *
 *   node bench/compile.bench.ts [--apps 50] [--deployments 10] [--runs 9] [--keep]
 *
 * `--keep` leaves the generated project in place (its path is printed) for profiling.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { compilePlan, compilePlanSync } from '../src/compile/compile.ts';
import { diffPlans } from '../src/compile/diff.ts';
import { matchRoute } from '../src/compile/route-table.ts';
import { loadSpecFile } from '../src/spec/load.ts';

const { values } = parseArgs({
  options: { apps: { type: 'string', default: '50' }, deployments: { type: 'string', default: '10' }, runs: { type: 'string', default: '9' }, keep: { type: 'boolean', default: false } },
});
const APPS = Number(values.apps);
const DEPLOYMENTS = Number(values.deployments);
const RUNS = Number(values.runs);

function generate(dir: string): string {
  mkdirSync(join(dir, 'lib'), { recursive: true });
  mkdirSync(join(dir, 'handlers'), { recursive: true });
  writeFileSync(join(dir, 'lib/util.ts'), `import { K } from './constants';\nexport const util = (x: number) => x * K;\n`);
  writeFileSync(join(dir, 'lib/constants.ts'), 'export const K = 2;\n');
  writeFileSync(join(dir, 'lib/model.ts'), `import { util } from './util.js';\nexport class Model { run(x: number) { return util(x); } }\n`);
  const lines = ['applications:'];
  for (let a = 0; a < APPS; a++) {
    lines.push(`  - name: app${a}`, `    route_prefix: /app${a}`, '    ingress: D0', '    deployments:');
    for (let d = 0; d < DEPLOYMENTS; d++) {
      const file = `handlers/app${a}-d${d}.ts`;
      writeFileSync(
        join(dir, file),
        `// handler ${a}/${d}: import x from './nowhere' (a comment the scanner must skip)\n` +
          `import { util } from '../lib/util';\nimport { Model } from '../lib/model.ts';\n` +
          `export default class D${d} { model = new Model(); async fetch() { return String(util(${d})); } }\n`,
      );
      lines.push(`      - name: D${d}`, `        handler: ./${file}`, `        args: { index: ${d}, app: app${a} }`);
      const bindings: string[] = [];
      if (d === 0) {
        for (let k = 1; k < DEPLOYMENTS; k++) bindings.push(`d${k}: D${k}`);
        if (a + 1 < APPS) bindings.push(`next: "app:app${a + 1}"`);
      }
      if (bindings.length > 0) lines.push('        bindings:', ...bindings.map((b) => `          ${b}`));
      if (d % 3 === 0) lines.push('        num_replicas: auto', '        autoscaling_config: { max_replicas: 8 }');
      else lines.push(`        num_replicas: ${1 + (d % 4)}`);
      if (d % 2 === 0) lines.push(`        user_config: { threshold: 0.${d} }`);
    }
  }
  const specPath = join(dir, 'serve.yaml');
  writeFileSync(specPath, `${lines.join('\n')}\n`);
  return specPath;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const loadAtStart = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'swy-bench-compile-'));
try {
  const specPath = generate(dir);
  const rows: Array<[string, number[]]> = [['load + validate', []], ['compile (async)', []], ['compile (sync)', []], ['diff', []]];
  let files = 0;
  for (let run = 0; run < RUNS; run++) {
    const loaded = await time(() => loadSpecFile(specPath));
    if (!loaded.value.ok) throw new Error(`generated spec is invalid: ${JSON.stringify(loaded.value.problems.slice(0, 3))}`);
    const spec = loaded.value.spec;
    const a = await time(() => compilePlan(spec));
    const s = await time(() => compilePlanSync(spec));
    const d = await time(() => diffPlans(a.value, s.value));
    rows[0]![1].push(loaded.ms);
    rows[1]![1].push(a.ms);
    rows[2]![1].push(s.ms);
    rows[3]![1].push(d.ms);
    files = new Set([...s.value.deployments.values()].flatMap((x) => x.code_files)).size;
  }
  const loaded = await loadSpecFile(specPath);
  if (!loaded.ok) throw new Error('invalid');
  const plan = compilePlanSync(loaded.spec);
  const paths = Array.from({ length: 1000 }, (_, i) => `/app${i % APPS}/some/path?q=${i}`);
  let hits = 0;
  const iterations = 2_000_000;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) if (matchRoute(plan.routes, paths[i % paths.length]!) !== undefined) hits++;
  const nsPerMatch = ((performance.now() - t0) * 1e6) / iterations;
  if (hits !== iterations) throw new Error('route matching missed');

  const deployments = APPS * DEPLOYMENTS;
  process.stdout.write(`Spec: ${APPS} apps x ${DEPLOYMENTS} deployments = ${deployments} deployments, ${files} code files; median of ${RUNS} runs\n`);
  process.stdout.write(`Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; 1-min load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end\n\n`);
  process.stdout.write('| step | median ms | min ms | max ms |\n|---|---|---|---|\n');
  for (const [name, xs] of rows) {
    process.stdout.write(`| ${name} | ${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |\n`);
  }
  process.stdout.write(`| matchRoute (${plan.routes.length} routes) | ${nsPerMatch.toFixed(0)} ns per match | | |\n`);
} finally {
  if (values.keep) process.stdout.write(`\nkept: ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}
