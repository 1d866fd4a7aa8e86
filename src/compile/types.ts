/**
 * The Plan: what a Spec compiles to. Immutable; the controller reconciles towards it and the
 * diff compares two of them. Names follow ARCHITECTURE.md's glossary.
 */
import type { AdminOptions, AutoscalingConfig, HttpOptions, JsonValue } from '../spec/types.ts';

/** `APP#DEPLOYMENT`: unique across the whole Plan. Replica ids extend it: `APP#DEPLOYMENT#xxxx`. */
export type DeploymentId = string;

/** How many replicas a deployment wants: a fixed count, or an autoscaling policy. */
export type Scaling =
  | { readonly kind: 'fixed'; readonly replicas: number }
  | { readonly kind: 'auto'; readonly config: Required<Omit<AutoscalingConfig, 'panic_window_s' | 'panic_threshold'>> & Pick<AutoscalingConfig, 'panic_window_s' | 'panic_threshold'> };

/**
 * Three versions per deployment so that a diff tells the hot-swap kinds apart
 * (the idea of Ray Serve's `is_scaled_copy_of()`):
 * - `code`: handler path and the content of the handler file and the local modules it imports
 *   (transitively, not node_modules), args, bindings, env. A change means a rolling restart.
 * - `user_config`: a change means `reconfigure()` on live replicas.
 * - `scale`: counts, limits, timeouts, autoscaling. A change means nothing restarts.
 */
export interface DeploymentVersions {
  readonly code: string;
  readonly user_config: string;
  readonly scale: string;
}

export interface DeploymentPlan {
  readonly id: DeploymentId;
  readonly app: string;
  readonly name: string;
  /** Absolute path of the handler module. */
  readonly handler_path: string;
  /** The named export after `#`, or undefined for the default export. */
  readonly export_name: string | undefined;
  readonly args: JsonValue | undefined;
  /** handle name -> DeploymentId it is bound to (`app:NAME` resolved to that app's ingress). */
  readonly bindings: Readonly<Record<string, DeploymentId>>;
  readonly env: Readonly<Record<string, string>>;
  readonly user_config: JsonValue | undefined;
  readonly scaling: Scaling;
  readonly max_ongoing_requests: number;
  readonly max_queued_requests: number;
  readonly health_check_period_s: number;
  readonly health_check_timeout_s: number;
  readonly graceful_shutdown_timeout_s: number;
  /** Absolute paths of the files hashed into `versions.code` (the handler and its local imports). */
  readonly code_files: readonly string[];
  /**
   * Absolute path -> content hash of each file in `code_files` (plus `missing` for a local
   * import that resolves to no file), so a diff can name the file that changed.
   */
  readonly code_hashes: Readonly<Record<string, string>>;
  readonly versions: DeploymentVersions;
}

export interface ApplicationPlan {
  readonly name: string;
  readonly route_prefix: string | null;
  readonly ingress: DeploymentId;
  /** In the order the spec lists them. */
  readonly deployments: readonly DeploymentPlan[];
}

export interface Route {
  /** `/` or `/seg[/seg...]`, never a trailing slash. */
  readonly prefix: string;
  readonly app: string;
  readonly ingress: DeploymentId;
}

export interface Plan {
  /** The Spec's base_dir: diff reasons show paths relative to it. */
  readonly base_dir: string;
  readonly http_options: HttpOptions;
  readonly admin: AdminOptions;
  readonly applications: readonly ApplicationPlan[];
  /** Longest prefix first, so the first whole-segment match wins. */
  readonly routes: readonly Route[];
  /** Every deployment, dependencies before the deployments bound to them. */
  readonly start_order: readonly DeploymentId[];
  /** Lookup by DeploymentId. */
  readonly deployments: ReadonlyMap<DeploymentId, DeploymentPlan>;
}

/* ---- Plan JSON (CONTRACT "Plan JSON"): the result of diff(oldPlan, newPlan). ---- */

export type AppAction = 'create' | 'update' | 'delete' | 'unchanged';
export type DeploymentAction = 'create' | 'restart' | 'reconfigure' | 'scale' | 'delete' | 'unchanged';

export interface DeploymentChange {
  readonly name: string;
  readonly action: DeploymentAction;
  readonly reasons: readonly string[];
}

export interface ApplicationChange {
  readonly name: string;
  readonly action: AppAction;
  /** App-level reasons (route_prefix, ingress); present on an `update` that has any. */
  readonly reasons?: readonly string[];
  readonly deployments: readonly DeploymentChange[];
}

export interface PlanDiff {
  readonly applications: readonly ApplicationChange[];
}
