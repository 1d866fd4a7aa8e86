/**
 * `switchyard diff FILE [--from OLD] [--json]`: the Plan that applying FILE would carry out,
 * applying nothing. With `--from` it compares two files offline; without, it asks the running
 * gateway (`POST /api/serve/plan`). Exit 0 whether or not anything changes (CONTRACT section 5).
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { compilePlan, splitHandler } from '../../compile/compile.ts';
import { diffPlans } from '../../compile/diff.ts';
import type { AppAction, DeploymentAction, Plan, PlanDiff } from '../../compile/types.ts';
import { formatProblem, loadSpecFile } from '../../spec/load.ts';
import type { Spec } from '../../spec/types.ts';
import { AdminClient, addConnectionOptions, reportRefused, type ConnectionOptions } from '../admin-client.ts';
import { EXIT } from '../exit-codes.ts';

interface DiffOptions extends ConnectionOptions {
  from?: string;
  json?: boolean;
}

/** Adds the `diff` command to `program`. */
export function registerDiff(program: Command): void {
  const command = program
    .command('diff')
    .description('Show what applying a spec would change (create, restart, reconfigure, scale, delete), applying nothing.')
    .argument('<file>', 'the new spec (serve.yaml)')
    .option('--from <old>', 'compare against this spec file offline instead of the running gateway')
    .option('--json', 'print the Plan JSON');
  addConnectionOptions(command)
    .addHelpText('after', `
Exit status is 0 whether or not anything changes; 1 for an invalid spec; 3 when the gateway
cannot be reached or refuses the token.

Examples:
  $ switchyard diff serve.yaml                        # against the running gateway
  $ switchyard diff serve.yaml --from serve.old.yaml  # offline, between two files
  $ switchyard diff serve.yaml --json                 # the Plan JSON, for scripts
  $ SWITCHYARD_ADDRESS=http://10.0.0.5:8265 SWITCHYARD_ADMIN_TOKEN=s3cret switchyard diff serve.yaml`)
    .action(async (file: string, options: DiffOptions) => {
      process.exitCode = await diff(file, options);
    });
}

async function diff(file: string, options: DiffOptions): Promise<number> {
  const next = await loadOrReport(file);
  if (next === undefined) return EXIT.FAILED;
  let plan: PlanDiff;
  let notes: string[] = [];
  if (options.from !== undefined) {
    const old = await loadOrReport(options.from);
    if (old === undefined) return EXIT.FAILED;
    const [oldPlan, nextPlan] = await Promise.all([compilePlan(old), compilePlan(next)]);
    plan = diffPlans(oldPlan, nextPlan);
    notes = staticConfigNotes(oldPlan, nextPlan);
  } else {
    const result = await planFromGateway(file, options);
    if (!result.ok) return EXIT.FAILED;
    plan = result.plan;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  } else {
    process.stdout.write(formatPlanDiff(plan));
    for (const note of notes) process.stdout.write(`note: ${note}\n`);
  }
  return EXIT.OK;
}

/** Loads and validates a spec file; prints its problems like `validate` and returns undefined when invalid. */
export async function loadOrReport(file: string): Promise<Spec | undefined> {
  const loaded = await loadSpecFile(file);
  if (loaded.ok) return loaded.spec;
  for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
  process.stderr.write(`switchyard: ${file} is invalid.\n`);
  return undefined;
}

/** http_options and admin cannot change on a running gateway; say so rather than hide it. */
function staticConfigNotes(old: Plan, next: Plan): string[] {
  const notes: string[] = [];
  if (JSON.stringify(old.http_options) !== JSON.stringify(next.http_options)) notes.push('http_options changed: fixed when the gateway starts, an apply would be refused.');
  if (JSON.stringify(old.admin) !== JSON.stringify(next.admin)) notes.push('admin changed: fixed when the gateway starts, an apply would be refused.');
  return notes;
}

/**
 * The spec as the user wrote it, with relative handler paths made absolute against the file's
 * directory: the gateway resolves relative paths against its own working directory (CONTRACT
 * section 5), which is not where the file is. Defaults are left to the gateway, so values the
 * user did not write (http_options, admin) are not sent as if they were.
 */
export async function specBodyForGateway(file: string): Promise<string> {
  const doc = parseYaml(await readFile(file, 'utf8')) as { applications?: Array<{ deployments?: Array<{ handler?: unknown }> }> };
  const baseDir = dirname(resolve(file));
  for (const app of doc.applications ?? []) {
    for (const d of app.deployments ?? []) {
      if (typeof d.handler !== 'string') continue;
      const { path } = splitHandler(d.handler);
      if (isAbsolute(path) || path.startsWith('file:')) continue;
      // `path` is a prefix of `handler`; what follows it is the `#Export` part, kept as written.
      d.handler = resolve(baseDir, path) + d.handler.slice(path.length);
    }
  }
  return JSON.stringify(doc);
}

async function planFromGateway(file: string, options: DiffOptions): Promise<{ ok: true; plan: PlanDiff } | { ok: false }> {
  const result = await new AdminClient(options).submit('plan', await specBodyForGateway(file));
  if (result.ok) return result;
  reportRefused(result, file);
  return { ok: false };
}

const APP_ORDER: readonly AppAction[] = ['create', 'update', 'delete', 'unchanged'];
const DEPLOYMENT_ORDER: readonly DeploymentAction[] = ['create', 'restart', 'reconfigure', 'scale', 'delete', 'unchanged'];

/** Marks that let a reader scan a long plan for what changes. */
const MARK: Readonly<Record<AppAction | DeploymentAction, string>> = {
  create: '+', update: '~', delete: '-', unchanged: ' ', restart: '~', reconfigure: '~', scale: '~',
};

/**
 * The human form of a Plan: one line per app (action, app-level reasons), its deployments
 * indented under it (action, reasons), then a one-line summary.
 */
export function formatPlanDiff(plan: PlanDiff): string {
  const lines: string[] = [];
  const appCounts = new Map<AppAction, number>();
  const depCounts = new Map<DeploymentAction, number>();
  for (const app of plan.applications) {
    appCounts.set(app.action, (appCounts.get(app.action) ?? 0) + 1);
    const why = app.reasons && app.reasons.length > 0 ? ` (${app.reasons.join('; ')})` : '';
    lines.push(`${MARK[app.action]} ${app.name}: ${app.action}${why}`);
    const width = Math.max(0, ...app.deployments.map((d) => d.name.length));
    for (const d of app.deployments) {
      depCounts.set(d.action, (depCounts.get(d.action) ?? 0) + 1);
      const reasons = d.reasons.length > 0 ? `  ${d.reasons.join('; ')}` : '';
      lines.push(`    ${MARK[d.action]} ${d.name.padEnd(width)}  ${d.action.padEnd(11)}${reasons}`.trimEnd());
    }
  }
  const count = <A extends string>(order: readonly A[], counts: Map<A, number>): string =>
    order.filter((a) => counts.has(a)).map((a) => `${counts.get(a)} ${a}`).join(', ') || 'none';
  const changed = [...appCounts.keys()].some((a) => a !== 'unchanged');
  lines.push('');
  lines.push(changed
    ? `Plan: applications: ${count(APP_ORDER, appCounts)}; deployments: ${count(DEPLOYMENT_ORDER, depCounts)}.`
    : 'No changes: every application and deployment is unchanged.');
  return `${lines.join('\n')}\n`;
}
