/**
 * The rules a JSON Schema cannot say: names unique where they must be, ingress and bindings
 * naming deployments that exist, no binding cycles, handler files present, and autoscaling
 * bounds that agree with each other.
 *
 * It runs on the schema-checked (and defaulted) value even when the schema found problems, so
 * one run reports everything; every read is therefore type-guarded, and a value with the wrong
 * type is skipped here (the schema check has already reported it).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { findBindingCycles, type BindingEdge } from './binding-cycles.ts';
import { autoscalingDefaults } from './defaults.ts';
import { didYouMean } from './hints.ts';
import type { Position, SourceMap } from './parse-yaml.ts';
import { type PathSegment, formatPath } from './paths.ts';
import type { SpecProblem } from './types.ts';

type Rec = Record<string, unknown>;

interface Context {
  readonly file: string;
  readonly baseDir: string;
  readonly sourceMap: SourceMap;
  readonly problems: SpecProblem[];
}

/** An application as far as the checks below can read it. */
interface AppView {
  readonly index: number;
  readonly name: string | undefined;
  readonly raw: Rec;
  readonly deployments: ReadonlyArray<{ readonly index: number; readonly name: string | undefined; readonly raw: Rec }>;
  /** The deployment `app:NAME` bindings reach, when it can be told. */
  readonly ingress: string | undefined;
}

/** The prefix of a binding that names an application's ingress rather than a deployment. */
export const APP_BINDING_PREFIX = 'app:';

/** Every semantic problem in `data`; `baseDir` is where relative handler paths resolve. */
export function checkSemantics(data: unknown, sourceMap: SourceMap, file: string, baseDir: string): SpecProblem[] {
  const ctx: Context = { file, baseDir, sourceMap, problems: [] };
  const apps = readApps(data);
  checkUnique(ctx, apps);
  for (const app of apps) {
    checkIngress(ctx, app);
    for (const d of app.deployments) {
      const path: PathSegment[] = ['applications', app.index, 'deployments', d.index];
      checkHandler(ctx, d.raw, path);
      checkAutoscaling(ctx, d.raw, path);
    }
  }
  checkBindings(ctx, apps);
  return ctx.problems;
}

function report(ctx: Context, path: readonly PathSegment[], which: 'key' | 'value', message: string): void {
  ctx.problems.push({ file: ctx.file, ...ctx.sourceMap.locate(path, which), path: formatPath(path), message });
}

function where(p: Position): string {
  return `${p.line}:${p.col}`;
}

function readApps(data: unknown): AppView[] {
  const list = isRecord(data) && Array.isArray(data.applications) ? data.applications : [];
  return list.flatMap((raw, index): AppView[] => {
    if (!isRecord(raw)) return [];
    const deployments = (Array.isArray(raw.deployments) ? raw.deployments : []).flatMap((d, i) =>
      isRecord(d) ? [{ index: i, name: stringOrUndefined(d.name), raw: d }] : [],
    );
    const ingress = typeof raw.ingress === 'string'
      ? raw.ingress
      : deployments.length === 1 ? deployments[0]!.name : undefined;
    return [{ index, name: stringOrUndefined(raw.name), raw, deployments, ingress }];
  });
}

/** Application names, route prefixes and deployment names (per app): reported at the repeat. */
function checkUnique(ctx: Context, apps: readonly AppView[]): void {
  const names = new Map<string, PathSegment[]>();
  const prefixes = new Map<string, { path: PathSegment[]; app: string }>();
  for (const app of apps) {
    const base: PathSegment[] = ['applications', app.index];
    if (app.name !== undefined) {
      const first = names.get(app.name);
      if (first) {
        report(ctx, [...base, 'name'], 'value',
          `duplicate application name "${app.name}" (first used by ${formatPath(first.slice(0, 2))} at ${where(ctx.sourceMap.locate(first, 'value'))})`);
      } else {
        names.set(app.name, [...base, 'name']);
      }
    }
    // null prefixes are not exposed over HTTP, so any number of apps may have one.
    const prefix = app.raw.route_prefix;
    if (typeof prefix === 'string') {
      const first = prefixes.get(prefix);
      if (first) {
        const path = [...base, 'route_prefix'];
        const defaulted = ctx.sourceMap.has(path) ? '' : ', the default';
        report(ctx, path, 'value',
          `duplicate route_prefix "${prefix}"${defaulted} (first used by application "${first.app}" at ${where(ctx.sourceMap.locate(first.path, 'value'))})`);
      } else {
        prefixes.set(prefix, { path: [...base, 'route_prefix'], app: app.name ?? formatPath(base) });
      }
    }
    const deploymentNames = new Map<string, PathSegment[]>();
    for (const d of app.deployments) {
      if (d.name === undefined) continue;
      const path = [...base, 'deployments', d.index, 'name'];
      const first = deploymentNames.get(d.name);
      if (first) {
        report(ctx, path, 'value',
          `duplicate deployment name "${d.name}" in application "${app.name ?? ''}" (first at ${where(ctx.sourceMap.locate(first, 'value'))})`);
      } else {
        deploymentNames.set(d.name, path);
      }
    }
  }
}

function checkIngress(ctx: Context, app: AppView): void {
  const base: PathSegment[] = ['applications', app.index];
  const names = deploymentNames(app);
  if (typeof app.raw.ingress === 'string') {
    if (!names.includes(app.raw.ingress)) {
      report(ctx, [...base, 'ingress'], 'value', `${noSuchDeployment(app.raw.ingress, app, names)}`);
    }
  } else if (app.raw.ingress === undefined && app.deployments.length > 1) {
    ctx.problems.push({
      file: ctx.file, ...ctx.sourceMap.locate(base, 'value'), path: formatPath([...base, 'ingress']),
      message: `missing required key "ingress": application "${app.name ?? ''}" has ${app.deployments.length} deployments; name the one that receives HTTP requests`,
    });
  }
}

function checkHandler(ctx: Context, d: Rec, path: readonly PathSegment[]): void {
  if (typeof d.handler !== 'string') return;
  const file = d.handler.split('#')[0]!;
  if (file === '') return; // the schema reports the malformed value
  const absolute = resolve(ctx.baseDir, file);
  let isFile: boolean;
  try {
    isFile = statSync(absolute).isFile();
  } catch {
    report(ctx, [...path, 'handler'], 'value', `handler file not found: ${file} (looked for ${absolute})`);
    return;
  }
  if (!isFile) report(ctx, [...path, 'handler'], 'value', `handler ${file} is not a file (looked at ${absolute})`);
}

function checkAutoscaling(ctx: Context, d: Rec, path: readonly PathSegment[]): void {
  const config = d.autoscaling_config;
  if (config === undefined) return;
  if (typeof d.num_replicas === 'number') {
    report(ctx, [...path, 'autoscaling_config'], 'value',
      `cannot be combined with an integer num_replicas (${d.num_replicas}); write num_replicas: auto, or remove num_replicas, to autoscale`);
    return;
  }
  if (!isRecord(config)) return;
  const base = [...path, 'autoscaling_config'];
  const defaults = autoscalingDefaults(d.num_replicas === 'auto' ? 'auto' : undefined);
  const field = (name: 'min_replicas' | 'max_replicas'): { value: number; label: string } | undefined => {
    const given = config[name];
    if (given === undefined) return { value: defaults[name], label: `${name} (${defaults[name]}, the default)` };
    return Number.isInteger(given) ? { value: given as number, label: `${name} (${String(given)})` } : undefined;
  };
  const min = field('min_replicas');
  const max = field('max_replicas');
  if (min === undefined || max === undefined) return;
  if (min.value > max.value) {
    report(ctx, [...base, config.min_replicas === undefined ? 'max_replicas' : 'min_replicas'], 'value',
      `${min.label} must be <= ${max.label}`);
    return;
  }
  const initial = config.initial_replicas;
  if (Number.isInteger(initial) && ((initial as number) < min.value || (initial as number) > max.value)) {
    report(ctx, [...base, 'initial_replicas'], 'value',
      `initial_replicas (${String(initial)}) must be between ${min.label} and ${max.label}`);
  }
}

/** Binding targets exist, then no cycle runs through them (across applications too). */
function checkBindings(ctx: Context, apps: readonly AppView[]): void {
  const byName = new Map<string, AppView>();
  for (const app of apps) if (app.name !== undefined && !byName.has(app.name)) byName.set(app.name, app);

  type Edge = BindingEdge & { readonly at: PathSegment[] };
  const edges: Edge[] = [];
  const nodes: Array<{ app: string; deployment: string }> = [];
  for (const app of apps) {
    if (app.name === undefined || byName.get(app.name) !== app) continue;
    const names = deploymentNames(app);
    const seen = new Set<string>();
    for (const d of app.deployments) {
      if (d.name === undefined || seen.has(d.name)) continue;
      seen.add(d.name);
      nodes.push({ app: app.name, deployment: d.name });
      if (!isRecord(d.raw.bindings)) continue;
      for (const [handle, target] of Object.entries(d.raw.bindings)) {
        if (typeof target !== 'string') continue;
        const at: PathSegment[] = ['applications', app.index, 'deployments', d.index, 'bindings', handle];
        if (target.startsWith(APP_BINDING_PREFIX)) {
          const appName = target.slice(APP_BINDING_PREFIX.length);
          const other = byName.get(appName);
          if (other === undefined) {
            const hint = didYouMean(appName, [...byName.keys()]);
            report(ctx, at, 'value', `no application "${appName}"${hint ? ` (did you mean "app:${hint}"?)` : ` (applications: ${[...byName.keys()].join(', ')})`}`);
          } else if (other.ingress !== undefined && deploymentNames(other).includes(other.ingress)) {
            edges.push({ app: app.name, deployment: d.name, targetApp: appName, targetDeployment: other.ingress, at });
          }
        } else if (!names.includes(target)) {
          report(ctx, at, 'value', noSuchDeployment(target, app, names));
        } else {
          edges.push({ app: app.name, deployment: d.name, targetApp: app.name, targetDeployment: target, at });
        }
      }
    }
  }
  for (const cycle of findBindingCycles(nodes, edges)) {
    report(ctx, cycle.closing.at, 'value', `binding cycle: ${cycle.description} (bindings must not form a cycle)`);
  }
}

function noSuchDeployment(name: string, app: AppView, names: readonly string[]): string {
  const hint = didYouMean(name, names);
  const tail = hint !== undefined ? `did you mean "${hint}"?` : `deployments: ${names.join(', ')}`;
  return `no deployment "${name}" in application "${app.name ?? ''}" (${tail})`;
}

function deploymentNames(app: AppView): string[] {
  return app.deployments.flatMap((d) => (d.name === undefined ? [] : [d.name]));
}

function isRecord(v: unknown): v is Rec {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
