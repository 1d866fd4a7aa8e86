/**
 * The autoscaling policy: a pure function from (config, previous policy state, current demand)
 * to the replica target, with Ray Serve's default policy at its core
 * (`replica_queue_length_autoscaling_policy` in ray-project/ray `python/ray/serve/autoscaling_policy.py`)
 * and Knative KPA's panic mode on top. `docs/autoscaling.md` describes it for users.
 *
 * 1. Raw desired = demand / target_ongoing_requests (Ray's `current x error_ratio`).
 * 2. Scaling factors: ceil(current + factor x (raw - current)), upscaling_factor above current,
 *    downscaling_factor below; a downscale the factor would round away still takes one step.
 * 3. Clamp to [min_replicas, max_replicas].
 * 4. Delays: a change happens only once the same direction has been wanted continuously for
 *    upscale_delay_s / downscale_delay_s; wanting "no change" or the other direction resets the
 *    count. Below one replica only from exactly one, after downscale_to_zero_delay_s.
 * 5. From zero: any demand scales up at once, no delay (the request is waiting for it).
 * 6. Panic (only with panic_window_s): demand over the panic window >= panic_threshold x
 *    capacity (running replicas x target_ongoing_requests) enters panic; while panicking, scale-ups
 *    apply at once and the target never goes down; panic ends once the condition has not held for
 *    look_back_period_s (Knative's stable window).
 *
 * Differences from Ray Serve, each on purpose:
 * - Delays are measured in time since the direction was first wanted, not in control-loop ticks,
 *   so an irregular tick does not stretch or shrink them.
 * - The scaling factor is applied relative to the current *target*, not the running count:
 *   while new replicas start (running < target), Ray's formula can ask for a downscale below the
 *   target it just set; relative to the target it does not.
 * - From zero, the first target is enough for the demand seen (at least 1), not always 1.
 */
import type { ResolvedAutoscalingConfig } from '../spec/defaults.ts';

/** The fields the policy reads; both the Plan's `scaling.config` and `resolveAutoscaling()` fit. */
export type AutoscalingPolicyConfig = Pick<
  ResolvedAutoscalingConfig,
  | 'min_replicas' | 'max_replicas' | 'target_ongoing_requests' | 'upscale_delay_s' | 'downscale_delay_s'
  | 'downscale_to_zero_delay_s' | 'look_back_period_s' | 'upscaling_factor' | 'downscaling_factor'
  | 'panic_window_s' | 'panic_threshold'
>;

/** What the policy remembers between decisions. Plain and immutable: `decide` returns a new one. */
export interface AutoscalingPolicyState {
  /** The direction wanted at the last decision, if it differed from the target. */
  readonly wanted: 'up' | 'down' | undefined;
  /** Since when (ms) `wanted` has been wanted without a break. */
  readonly wanted_since_ms: number | undefined;
  /** When panic began; undefined when not panicking. */
  readonly panic_since_ms: number | undefined;
  /** The last time the panic condition held; panic ends look_back_period_s after it. */
  readonly panic_last_over_ms: number | undefined;
}

export const INITIAL_AUTOSCALING_STATE: AutoscalingPolicyState = Object.freeze({
  wanted: undefined,
  wanted_since_ms: undefined,
  panic_since_ms: undefined,
  panic_last_over_ms: undefined,
});

export interface AutoscalingInput {
  readonly now_ms: number;
  /** The replica target the Deployment has now (what the last decision set). */
  readonly current_target: number;
  /** Replicas RUNNING now: the capacity the panic check measures. */
  readonly running_replicas: number;
  /** Total demand (ongoing + queued requests) averaged over look_back_period_s. */
  readonly stable_demand: number;
  /** Total demand averaged over panic_window_s; needed only when panic mode is on. */
  readonly panic_demand?: number;
  /** Total demand right now (the latest sample): wakes a Deployment at zero before any average moves. */
  readonly instant_demand?: number;
}

export interface AutoscalingDecision {
  /** The replica target to set (equal to `current_target` when nothing changes). */
  readonly target: number;
  readonly state: AutoscalingPolicyState;
  /** Why, in a short human sentence: logged, and shown in status by the Controller. */
  readonly reason: string;
  readonly panicking: boolean;
}

/** Guards `ceil` against float noise such as 3.0000000000000004 meaning 3. */
const EPSILON = 1e-9;

/** The replica count the policy wants for `demand`, before delays: factors applied, then clamped. */
export function desiredReplicas(config: AutoscalingPolicyConfig, demand: number, current: number): number {
  const raw = Math.max(0, demand) / config.target_ongoing_requests;
  const delta = raw - current;
  const factor = delta > 0 ? config.upscaling_factor : config.downscaling_factor;
  let scaled = ceil(current + factor * delta);
  // A small downscaling_factor can round a wanted downscale back to `current` forever; take one step (Ray does too).
  if (ceil(raw) < current && scaled >= current) scaled = current - 1;
  return clamp(scaled, config.min_replicas, config.max_replicas);
}

/**
 * One autoscaling decision. Call it on every metrics tick with the previous decision's `state`
 * (start from `INITIAL_AUTOSCALING_STATE`); apply `target` when it differs from `current_target`.
 */
export function decide(
  config: AutoscalingPolicyConfig,
  state: AutoscalingPolicyState,
  input: AutoscalingInput,
): AutoscalingDecision {
  const c = config;
  const now = input.now_ms;
  const cur = input.current_target;
  const min = c.min_replicas;
  const max = c.max_replicas;

  // The bounds changed under us (an apply): follow them at once, it was asked for explicitly.
  if (cur < min || cur > max) {
    const target = clamp(cur, min, max);
    return { target, state: INITIAL_AUTOSCALING_STATE, panicking: false, reason: `target ${cur} outside [min_replicas ${min}, max_replicas ${max}] -> ${target} replicas` };
  }

  // From zero: a request is waiting for a replica, so no delay applies.
  if (cur === 0) {
    const demand = Math.max(input.stable_demand, input.panic_demand ?? 0, input.instant_demand ?? 0);
    if (demand <= 0) return hold(INITIAL_AUTOSCALING_STATE, 'no demand at 0 replicas');
    const target = Math.min(max, Math.max(1, min, ceil(c.upscaling_factor), ceil(demand / c.target_ongoing_requests)));
    return { target, state: INITIAL_AUTOSCALING_STATE, panicking: false, reason: `demand ${fmt(demand)} at 0 replicas -> ${target} at once (scale from zero)` };
  }

  const stableWant = desiredReplicas(c, input.stable_demand, cur);
  const panic = panicStep(c, state, input, stableWant);
  if (panic) return panic;
  const exitedPanic = state.panic_since_ms !== undefined;
  // After a panic, downscale delays count from its end, not from before it.
  const base: AutoscalingPolicyState = exitedPanic ? INITIAL_AUTOSCALING_STATE : state;
  const why = `demand ${fmt(input.stable_demand)} over ${replicas(cur)}${runningNote(input)} (target ${fmt(c.target_ongoing_requests)} each)${exitedPanic ? ', panic over' : ''}`;

  // Below one replica only from exactly one (Ray): 5 -> 1 -> 0, each step with its own delay.
  const want = stableWant < cur && cur !== 1 ? Math.max(1, stableWant) : stableWant;
  if (want === cur) return hold(INITIAL_AUTOSCALING_STATE, `${why} -> ${replicas(cur)}: no change`);

  const dir = want > cur ? 'up' : 'down';
  const since = base.wanted === dir && base.wanted_since_ms !== undefined ? base.wanted_since_ms : now;
  const [delayName, delayS] =
    dir === 'up' ? ['upscale_delay_s', c.upscale_delay_s]
    : want === 0 ? ['downscale_to_zero_delay_s', c.downscale_to_zero_delay_s]
    : ['downscale_delay_s', c.downscale_delay_s];
  const waited = now - since;
  if (waited >= delayS * 1000) {
    return { target: want, state: INITIAL_AUTOSCALING_STATE, panicking: false, reason: `${why} -> ${replicas(want)} after ${delayName} ${fmt(delayS)}` };
  }
  const next: AutoscalingPolicyState = { ...INITIAL_AUTOSCALING_STATE, wanted: dir, wanted_since_ms: since };
  return hold(next, `${why} wants ${replicas(want)}; waiting for ${delayName} ${fmt(delayS)} (${fmt(waited / 1000)}s so far)`);

  function hold(s: AutoscalingPolicyState, reason: string): AutoscalingDecision {
    return { target: cur, state: s, panicking: false, reason };
  }
}

/**
 * Knative's panic mode: undefined when panic mode is off or not active at `now` (the stable
 * path decides), else the whole decision.
 */
function panicStep(
  c: AutoscalingPolicyConfig,
  state: AutoscalingPolicyState,
  input: AutoscalingInput,
  stableWant: number,
): AutoscalingDecision | undefined {
  if (c.panic_window_s === undefined || c.panic_threshold === undefined) return undefined;
  const now = input.now_ms;
  const cur = input.current_target;
  const demand = input.panic_demand ?? input.stable_demand;
  // Knative counts at least one ready pod, so a Deployment whose replicas are all starting can still panic.
  const running = Math.max(1, input.running_replicas);
  const capacity = running * c.target_ongoing_requests;
  const over = demand >= c.panic_threshold * capacity;

  let since = state.panic_since_ms;
  let lastOver = state.panic_last_over_ms;
  if (over) {
    since ??= now;
    lastOver = now;
  } else if (since !== undefined && lastOver !== undefined && now - lastOver >= c.look_back_period_s * 1000) {
    return undefined; // the surge has reached the stable window: back to normal
  }
  if (since === undefined) return undefined;

  // Provision for the larger of the two windows, never below the current target.
  const panicWant = desiredReplicas(c, demand, cur);
  const target = Math.min(c.max_replicas, Math.max(cur, stableWant, panicWant));
  const entering = state.panic_since_ms === undefined;
  const cond = `demand ${fmt(demand)} over panic_window_s ${fmt(c.panic_window_s)} ${over ? '>=' : '<'} panic_threshold ${fmt(c.panic_threshold)} x capacity ${fmt(capacity)} (${replicas(running)} x ${fmt(c.target_ongoing_requests)})`;
  const what =
    target > cur ? `-> ${replicas(target)} at once`
    : over ? `holding ${replicas(cur)}`
    : `holding ${replicas(cur)} until ${fmt(c.look_back_period_s)}s below the threshold`;
  return {
    target,
    state: { ...INITIAL_AUTOSCALING_STATE, panic_since_ms: since, panic_last_over_ms: lastOver },
    panicking: true,
    reason: `${entering ? 'panic' : 'panicking'}: ${cond} ${what}`,
  };
}

function runningNote(input: AutoscalingInput): string {
  return input.running_replicas !== input.current_target ? ` (${input.running_replicas} running)` : '';
}

function replicas(n: number): string {
  return `${n} replica${n === 1 ? '' : 's'}`;
}

function ceil(x: number): number {
  return Math.ceil(x - EPSILON);
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

/** Numbers for reasons: at most two decimals, no trailing zeros. */
function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}
