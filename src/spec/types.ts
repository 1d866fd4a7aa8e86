/**
 * The Spec: a validated, defaulted, deep-frozen `serve.yaml`.
 *
 * Keys keep the YAML's snake_case (Ray Serve's names) so that what the user wrote, what the
 * schema documents and what the code reads are the same words. Every field that has a default
 * in `schemas/serve.schema.json` is filled in by the loader, so consumers never re-default.
 */

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  /** Absent = no timeout. */
  readonly request_timeout_s?: number;
  readonly keep_alive_timeout_s: number;
  readonly max_body_bytes: number;
}

export interface AdminOptions {
  readonly host: string;
  readonly port: number;
}

export interface AutoscalingConfig {
  readonly min_replicas: number;
  readonly max_replicas: number;
  readonly initial_replicas?: number;
  readonly target_ongoing_requests: number;
  readonly upscale_delay_s: number;
  readonly downscale_delay_s: number;
  readonly metrics_interval_s: number;
  readonly look_back_period_s: number;
  readonly downscale_to_zero_delay_s?: number;
  readonly upscaling_factor: number;
  readonly downscaling_factor: number;
  readonly panic_window_s?: number;
  readonly panic_threshold?: number;
}

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

export interface DeploymentSpec {
  readonly name: string;
  /** As written in the spec (relative to the spec file's directory, or absolute). */
  readonly handler: string;
  readonly args?: JsonValue;
  /** handle name -> deployment name in the same app, or `app:NAME` (the ingress of app NAME). */
  readonly bindings: Readonly<Record<string, string>>;
  /** `"auto"` when written so, and also when only `autoscaling_config` is written (Ray Serve then autoscales). */
  readonly num_replicas: number | 'auto';
  readonly max_ongoing_requests: number;
  /** -1 = unbounded. */
  readonly max_queued_requests: number;
  readonly user_config?: JsonValue;
  readonly health_check_period_s: number;
  readonly health_check_timeout_s: number;
  readonly graceful_shutdown_timeout_s: number;
  readonly env: Readonly<Record<string, string>>;
  /**
   * Present only when written. The loader fills its defaulted fields from
   * `autoscalingDefaults(num_replicas as written)`; `resolveAutoscaling` adds the derived ones.
   */
  readonly autoscaling_config?: Partial<AutoscalingConfig>;
}

export interface ApplicationSpec {
  readonly name: string;
  /** null = not exposed over HTTP (reachable through bindings only). */
  readonly route_prefix: string | null;
  /** Filled in by the loader when the app has a single deployment. */
  readonly ingress: string;
  readonly deployments: readonly DeploymentSpec[];
}

export interface Spec {
  readonly http_options: HttpOptions;
  readonly admin: AdminOptions;
  readonly applications: readonly ApplicationSpec[];
  /**
   * Absolute directory that relative handler paths resolve against: the spec file's directory
   * for a file, the gateway's working directory for a spec sent over the admin API.
   */
  readonly base_dir: string;
}

/** One problem found in a spec; `file:line:col: path: message` when printed. */
export interface SpecProblem {
  /** The file as the user named it (or `<request>` for a spec sent over the admin API). */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** e.g. `applications[0].deployments[1].num_replicas`; empty for the document root. */
  readonly path: string;
  readonly message: string;
}

export type LoadResult =
  | { readonly ok: true; readonly spec: Spec }
  | { readonly ok: false; readonly problems: readonly SpecProblem[] };
