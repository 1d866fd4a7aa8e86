/**
 * Autoscaling defaults, kept in code rather than injected by the schema: which defaults apply
 * depends on `num_replicas` (Ray Serve's `num_replicas: "auto"` has its own set), and a Spec
 * without `autoscaling_config` must stay without one.
 *
 * The field defaults of `schemas/serve.schema.json` document the same numbers for editors;
 * `test/spec/defaults.test.ts` keeps the two in step.
 */
import type { AutoscalingConfig } from './types.ts';

/** The fields of an autoscaling config that always have a value once defaults are applied. */
export type AutoscalingDefaults = Required<
  Omit<AutoscalingConfig, 'initial_replicas' | 'downscale_to_zero_delay_s' | 'panic_window_s' | 'panic_threshold'>
>;

/** Ray Serve's `AutoscalingConfig` defaults: used when `autoscaling_config` is written out. */
export const AUTOSCALING_CONFIG_DEFAULTS: AutoscalingDefaults = Object.freeze({
  min_replicas: 1,
  max_replicas: 1,
  target_ongoing_requests: 2,
  upscale_delay_s: 30,
  downscale_delay_s: 600,
  metrics_interval_s: 10,
  look_back_period_s: 30,
  upscaling_factor: 1,
  downscaling_factor: 1,
});

/**
 * Ray Serve's defaults for `num_replicas: "auto"`: the same as above but with room to grow
 * (max 100). Fields given in `autoscaling_config` override these.
 */
export const AUTO_NUM_REPLICAS_DEFAULTS: AutoscalingDefaults = Object.freeze({
  ...AUTOSCALING_CONFIG_DEFAULTS,
  max_replicas: 100,
});

/** Knative's panic threshold (200% of capacity), used when `panic_window_s` is set alone. */
export const PANIC_THRESHOLD_DEFAULT = 2;

/**
 * The defaults an autoscaling config starts from, before the fields the user wrote.
 *
 * @param numReplicas - the deployment's `num_replicas` as the user wrote it: `"auto"` picks
 *   Ray's auto defaults (max_replicas 100); anything else (absent, as it must be when
 *   `autoscaling_config` is given) picks Ray's `AutoscalingConfig` defaults (max_replicas 1).
 */
export function autoscalingDefaults(numReplicas: number | 'auto' | undefined): AutoscalingDefaults {
  return numReplicas === 'auto' ? AUTO_NUM_REPLICAS_DEFAULTS : AUTOSCALING_CONFIG_DEFAULTS;
}

/** An autoscaling config with every field that has a default (direct or derived) filled in. */
export type ResolvedAutoscalingConfig = AutoscalingDefaults & {
  readonly initial_replicas: number;
  readonly downscale_to_zero_delay_s: number;
  readonly panic_window_s?: number;
  readonly panic_threshold?: number;
};

/**
 * The complete autoscaling config of a deployment: `autoscalingDefaults(numReplicas)` overridden
 * by the given fields, then the derived defaults: `initial_replicas` = `min_replicas` (Ray),
 * `downscale_to_zero_delay_s` = `downscale_delay_s`, and `panic_threshold` = 2 when only
 * `panic_window_s` is given (panic mode stays off without a window).
 */
export function resolveAutoscaling(
  numReplicas: number | 'auto' | undefined,
  given: Partial<AutoscalingConfig> | undefined,
): ResolvedAutoscalingConfig {
  const merged = { ...autoscalingDefaults(numReplicas), ...withoutUndefined(given ?? {}) };
  const resolved: ResolvedAutoscalingConfig = {
    ...merged,
    initial_replicas: merged.initial_replicas ?? merged.min_replicas,
    downscale_to_zero_delay_s: merged.downscale_to_zero_delay_s ?? merged.downscale_delay_s,
  };
  if (resolved.panic_window_s !== undefined && resolved.panic_threshold === undefined) {
    return { ...resolved, panic_threshold: PANIC_THRESHOLD_DEFAULT };
  }
  return resolved;
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
