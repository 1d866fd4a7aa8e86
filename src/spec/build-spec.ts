/**
 * The last step of loading: a checked, defaulted value becomes the Spec — every default filled,
 * `ingress` and `base_dir` set, and the whole tree frozen so nothing downstream can change it or
 * needs to re-check it.
 */
import { autoscalingDefaults } from './defaults.ts';
import type { ApplicationSpec, AutoscalingConfig, DeploymentSpec, JsonValue, Spec } from './types.ts';

type Rec = Record<string, unknown>;

/**
 * Builds the Spec from `data`, which has passed the schema and semantic checks and carries the
 * schema's defaults. Defaults that depend on other fields are applied here:
 * - `num_replicas` is 1, or `"auto"` when only `autoscaling_config` is given (Ray Serve then
 *   autoscales from the `AutoscalingConfig` defaults);
 * - a given `autoscaling_config` gets `autoscalingDefaults(num_replicas)` for its missing fields.
 */
export function buildSpec(data: Rec, baseDir: string): Spec {
  const applications = (data.applications as Rec[]).map(buildApplication);
  return deepFreeze({
    http_options: data.http_options as Spec['http_options'],
    admin: data.admin as Spec['admin'],
    applications,
    base_dir: baseDir,
  });
}

function buildApplication(app: Rec): ApplicationSpec {
  const deployments = (app.deployments as Rec[]).map(buildDeployment);
  return {
    name: app.name as string,
    route_prefix: app.route_prefix as string | null,
    // A single deployment is the ingress by default; with more, the checks made it required.
    ingress: (app.ingress as string | undefined) ?? deployments[0]!.name,
    deployments,
  };
}

function buildDeployment(d: Rec): DeploymentSpec {
  const given = d.num_replicas as number | 'auto' | undefined;
  const autoscaling = d.autoscaling_config as Partial<AutoscalingConfig> | undefined;
  const spec: DeploymentSpec = {
    name: d.name as string,
    handler: d.handler as string,
    ...(d.args !== undefined ? { args: d.args as JsonValue } : {}),
    bindings: d.bindings as Record<string, string>,
    num_replicas: given ?? (autoscaling !== undefined ? 'auto' : 1),
    max_ongoing_requests: d.max_ongoing_requests as number,
    max_queued_requests: d.max_queued_requests as number,
    ...(d.user_config !== undefined ? { user_config: d.user_config as JsonValue } : {}),
    health_check_period_s: d.health_check_period_s as number,
    health_check_timeout_s: d.health_check_timeout_s as number,
    graceful_shutdown_timeout_s: d.graceful_shutdown_timeout_s as number,
    env: d.env as Record<string, string>,
    ...(autoscaling !== undefined ? { autoscaling_config: { ...autoscalingDefaults(given), ...autoscaling } } : {}),
  };
  return spec;
}

/** Freezes `value` and everything reachable from it; returns it, typed as given. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  // Typed arrays (a YAML !!binary) cannot be frozen while they have elements; leave them be.
  if (ArrayBuffer.isView(value)) return value;
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Rec)[key as string]);
  return Object.freeze(value);
}
