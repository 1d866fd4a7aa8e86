/**
 * Compile: Spec -> Plan. Resolves handler paths and bindings to DeploymentIds, turns
 * num_replicas / autoscaling_config into a Scaling, hashes each deployment's code graph into
 * its versions, and precomputes the route table and start order. The Spec is already validated
 * (the loader checked names, bindings, cycles and handler files), so compile does not re-check;
 * a handler file that vanished since validation is the one user-caused error left.
 */
import { resolve } from 'node:path';
import { ERRORS, SwitchyardError } from '../errors.ts';
import { resolveAutoscaling } from '../spec/defaults.ts';
import type { DeploymentSpec, Spec } from '../spec/types.ts';
import { startOrder } from './binding-graph.ts';
import { codeGraph, MISSING } from './code-graph.ts';
import { deepFreeze, frozenMap } from './freeze.ts';
import { buildRoutes } from './route-table.ts';
import { prefetch, runAsync, runSync, SourceCache, type IoTask } from './source-cache.ts';
import type { ApplicationPlan, DeploymentId, DeploymentPlan, Plan, Scaling } from './types.ts';
import { codeVersion, scaleVersion, userConfigVersion } from './versions.ts';

/** Options for a compile; tests pass a cache to count file reads. */
export interface CompileOptions {
  /** One per compile; a fresh one is made when absent. */
  readonly cache?: SourceCache;
}

/** Compiles a Spec into a deep-frozen Plan, reading handler files without blocking. */
export async function compilePlan(spec: Spec, options: CompileOptions = {}): Promise<Plan> {
  const cache = options.cache ?? new SourceCache();
  await prefetch(spec.applications.flatMap((app) => app.deployments.map((d) => handlerPathOf(spec, d.handler))), cache);
  return runAsync(compileTask(spec, cache));
}

/** Same as `compilePlan`, with blocking file reads (for the CLI and tests). */
export function compilePlanSync(spec: Spec, options: CompileOptions = {}): Plan {
  return runSync(compileTask(spec, options.cache ?? new SourceCache()));
}

/** `APP#DEPLOYMENT`. */
export function deploymentId(app: string, deployment: string): DeploymentId {
  return `${app}#${deployment}`;
}

const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

/**
 * Splits a spec `handler` into its path and export name: `./m.ts#Model` -> (`./m.ts`, `Model`).
 * Only an identifier after the last `#` is an export name, so a `#` in a directory name
 * (`./a#b/m.ts`) stays part of the path; `#default` and a trailing `#` mean the default export.
 */
export function splitHandler(handler: string): { path: string; exportName: string | undefined } {
  const at = handler.lastIndexOf('#');
  if (at < 0) return { path: handler, exportName: undefined };
  const name = handler.slice(at + 1);
  if (name !== '' && !EXPORT_NAME.test(name)) return { path: handler, exportName: undefined };
  return { path: handler.slice(0, at), exportName: name === '' || name === 'default' ? undefined : name };
}

/**
 * Scaling from num_replicas and autoscaling_config: an integer alone is fixed; `auto` or an
 * autoscaling_config is autoscaled, the given fields over Ray Serve's defaults, with the derived
 * defaults (initial_replicas, downscale_to_zero_delay_s, panic_threshold) filled in by the
 * spec's own `resolveAutoscaling`, so the controller never re-defaults.
 */
export function scalingOf(d: Pick<DeploymentSpec, 'num_replicas' | 'autoscaling_config'>): Scaling {
  if (typeof d.num_replicas === 'number' && d.autoscaling_config === undefined) {
    return { kind: 'fixed', replicas: d.num_replicas };
  }
  return { kind: 'auto', config: resolveAutoscaling(d.num_replicas, d.autoscaling_config) };
}

/** The absolute handler file of a spec `handler` (relative paths are against the spec's base_dir). */
function handlerPathOf(spec: Spec, handler: string): string {
  return resolve(spec.base_dir, splitHandler(handler).path);
}

function* compileTask(spec: Spec, cache: SourceCache): IoTask<Plan> {
  const ingressOf = new Map<string, DeploymentId>();
  for (const app of spec.applications) ingressOf.set(app.name, deploymentId(app.name, app.ingress));

  const resolveBinding = (app: string, target: string): DeploymentId => {
    if (!target.startsWith('app:')) return deploymentId(app, target);
    const other = ingressOf.get(target.slice(4));
    // The loader rejects unknown apps; reaching this is a defect, not a user mistake.
    if (other === undefined) throw new Error(`compile: binding to unknown application ${target}`);
    return other;
  };

  const applications: ApplicationPlan[] = [];
  for (const [a, app] of spec.applications.entries()) {
    const deployments: DeploymentPlan[] = [];
    for (const [i, d] of app.deployments.entries()) {
      const { exportName } = splitHandler(d.handler);
      const handlerPath = handlerPathOf(spec, d.handler);
      const graph = yield* codeGraph(handlerPath, cache);
      if (graph.hashes[handlerPath] === MISSING) {
        throw new SwitchyardError(
          ERRORS.SPEC_INVALID,
          `applications[${a}].deployments[${i}].handler: handler file not found: ${handlerPath}`,
        );
      }
      const bindings: Record<string, DeploymentId> = {};
      for (const [handle, target] of Object.entries(d.bindings)) bindings[handle] = resolveBinding(app.name, target);
      const scaling = scalingOf(d);
      deployments.push({
        id: deploymentId(app.name, d.name),
        app: app.name,
        name: d.name,
        handler_path: handlerPath,
        export_name: exportName,
        args: d.args,
        bindings,
        env: d.env,
        user_config: d.user_config,
        scaling,
        max_ongoing_requests: d.max_ongoing_requests,
        max_queued_requests: d.max_queued_requests,
        health_check_period_s: d.health_check_period_s,
        health_check_timeout_s: d.health_check_timeout_s,
        graceful_shutdown_timeout_s: d.graceful_shutdown_timeout_s,
        code_files: graph.files,
        code_hashes: graph.hashes,
        versions: {
          code: codeVersion({ handler_path: handlerPath, export_name: exportName, code_hashes: graph.hashes, args: d.args, bindings, env: d.env }),
          user_config: userConfigVersion(d.user_config),
          scale: scaleVersion({ ...d, scaling }),
        },
      });
    }
    applications.push({ name: app.name, route_prefix: app.route_prefix, ingress: deploymentId(app.name, app.ingress), deployments });
  }

  const all = applications.flatMap((app) => app.deployments);
  const plan: Plan = {
    base_dir: spec.base_dir,
    http_options: spec.http_options,
    admin: spec.admin,
    applications,
    routes: buildRoutes(applications),
    start_order: startOrder(all),
    deployments: frozenMap(all.map((d) => [d.id, d] as const)),
  };
  return deepFreeze(plan);
}
