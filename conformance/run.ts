/**
 * The conformance runner: black-box scenarios against the built CLI (`bin/switchyard.js`, which
 * loads `dist/`). See conformance/README.md for the scenario format.
 *
 *   node conformance/run.ts [scenario-dir...]     # default: every dir in conformance/scenarios/
 *
 * Prints one line per scenario and, for a failed step, the details; exits 1 on any failure.
 * `runScenario` is exported for test/conformance.test.ts, which runs each scenario as a subtest.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Agent } from 'undici';
import { loadScenario, ScenarioFormatError, stepLabel } from './lib/scenario.ts';
import { runStep, StepFailure, type Context } from './lib/steps.ts';
import { killGateway } from './lib/gateway.ts';
import { within } from './lib/proc.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root (the package the CLI belongs to). */
export const REPO = resolve(HERE, '..');
export const SCENARIOS_DIR = join(HERE, 'scenarios');
const BIN = join(REPO, 'bin', 'switchyard.js');

export interface StepReport {
  index: number;
  label: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ScenarioReport {
  name: string;
  description: string;
  ok: boolean;
  ms: number;
  steps: StepReport[];
  /** Set when the scenario failed outside a step: a malformed scenario, the overall timeout. */
  error?: string;
}

/** Scenario directories under `root`, sorted by name (the NNN- prefix orders them). */
export function listScenarios(root: string = SCENARIOS_DIR): string[] {
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'scenario.yaml')))
    .sort()
    .map((d) => join(root, d));
}

/** Why the built CLI may not match the sources: missing or older than src/. */
function buildProblem(): string | undefined {
  const main = join(REPO, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) return `${main} does not exist: run \`npm run build\` first`;
  const built = statSync(main).mtimeMs;
  const newer = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) {
        const hit = newer(p);
        if (hit) return hit;
      } else if (entry.name.endsWith('.ts') && statSync(p).mtimeMs > built) {
        return p;
      }
    }
    return undefined;
  };
  const src = join(REPO, 'src');
  const stale = existsSync(src) ? newer(src) : undefined;
  return stale ? `note: ${stale} is newer than dist/cli/main.js; run \`npm run build\` if failures look stale` : undefined;
}

/** A fresh temporary copy of the scenario, where `import 'switchyard'` resolves to this repo. */
function prepareCopy(dir: string): string {
  const tmp = mkdtempSync(join(tmpdir(), `swy-conformance-${basename(dir)}-`));
  cpSync(dir, tmp, { recursive: true });
  mkdirSync(join(tmp, 'node_modules'), { recursive: true });
  if (!existsSync(join(tmp, 'node_modules', 'switchyard'))) symlinkSync(REPO, join(tmp, 'node_modules', 'switchyard'), 'dir');
  return tmp;
}

export interface RunOptions {
  /** The CLI entry to run instead of bin/switchyard.js (the runner's own tests use a fake). */
  bin?: string;
}

/**
 * Runs one scenario in a temporary copy of its directory. Steps run in order and the first
 * failure ends the scenario. Gateways it started are always killed (process group and
 * marked children), and the copy removed (kept when SWY_CONFORMANCE_KEEP=1).
 */
export async function runScenario(dir: string, options: RunOptions = {}): Promise<ScenarioReport> {
  const name = basename(dir);
  const started = Date.now();
  const report: ScenarioReport = { name, description: '', ok: false, ms: 0, steps: [] };
  let scenario;
  try {
    scenario = loadScenario(dir, name);
  } catch (err) {
    if (!(err instanceof ScenarioFormatError)) throw err;
    report.error = `malformed scenario: ${err.message}`;
    report.ms = Date.now() - started;
    return report;
  }
  report.description = scenario.description;

  const tmp = prepareCopy(dir);
  const agent = new Agent({ keepAliveTimeout: 1_000, connections: 16 });
  const abort = new AbortController();
  const ctx: Context = {
    dir: tmp, bin: options.bin ?? BIN, node: process.execPath, agent, signal: abort.signal,
    runId: `${process.pid}-${randomBytes(4).toString('hex')}`, started: [],
  };
  const deadline = started + scenario.timeout_s * 1000;
  try {
    for (const [index, step] of scenario.steps.entries()) {
      const t0 = Date.now();
      const label = stepLabel(step);
      const left = deadline - t0;
      let error: string | undefined;
      try {
        const done = await within(runStep(ctx, step).then(() => true), Math.max(left, 0));
        if (done === undefined) {
          abort.abort();
          error = `scenario timeout (${scenario.timeout_s} s) reached during this step`;
        }
      } catch (err) {
        error = err instanceof StepFailure ? err.message : `runner error: ${(err as Error)?.stack ?? String(err)}`;
      }
      report.steps.push({ index, label, ok: error === undefined, ms: Date.now() - t0, ...(error === undefined ? {} : { error }) });
      if (error !== undefined) {
        const note = options.bin === undefined ? buildProblem() : undefined;
        if (note) report.steps[report.steps.length - 1]!.error += `\n  ${note}`;
        break;
      }
    }
    report.ok = report.steps.length === scenario.steps.length && report.steps.every((s) => s.ok);
  } finally {
    await Promise.all(ctx.started.map((g) => killGateway(g)));
    await agent.destroy().catch(() => undefined);
    if (process.env.SWY_CONFORMANCE_KEEP === '1') report.description += ` [kept at ${tmp}]`;
    else rmSync(tmp, { recursive: true, force: true });
  }
  report.ms = Date.now() - started;
  return report;
}

/** The report as text: the scenario line, then each failed step's details, indented. */
export function formatReport(r: ScenarioReport): string {
  const head = `${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${(r.ms / 1000).toFixed(1)} s) - ${r.description}`;
  const lines = [head];
  if (r.error) lines.push(`  ${r.error}`);
  for (const s of r.steps) {
    if (!s.ok) lines.push(`  step ${s.index + 1} (${s.label}) failed:`, ...(s.error ?? '').split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}

async function cli(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: node conformance/run.ts [scenario-dir...]\n');
    return 0;
  }
  const dirs = argv.length > 0 ? argv.map((a) => resolve(a)) : listScenarios();
  for (const d of dirs) {
    if (!existsSync(join(d, 'scenario.yaml'))) {
      process.stderr.write(`run.ts: ${d} has no scenario.yaml\n`);
      return 2;
    }
  }
  let failed = 0;
  for (const d of dirs) {
    const r = await runScenario(d);
    if (!r.ok) failed++;
    process.stdout.write(`${formatReport(r)}\n`);
  }
  process.stdout.write(`${dirs.length - failed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) {
  process.exitCode = await cli(process.argv.slice(2));
}
