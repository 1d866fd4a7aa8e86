/**
 * One autoscaled Deployment's autoscaler: collects demand (per-reporter reports, or totals the
 * caller already summed), keeps the windowed series, and runs the pure policy on every
 * `metrics_interval_s` tick. The Controller owns one per Deployment with `scaling.kind === 'auto'`
 * and applies the targets it returns; everything here is synchronous and clock-free (times are
 * arguments), so it is tested with plain numbers.
 */
import {
  decide,
  INITIAL_AUTOSCALING_STATE,
  type AutoscalingDecision,
  type AutoscalingPolicyConfig,
  type AutoscalingPolicyState,
} from './autoscaling-policy.ts';
import { DemandTracker, MetricsWindow } from './autoscaling-metrics.ts';

/** A reporter silent for this many report intervals counts as 0. */
export const STALE_AFTER_INTERVALS = 3;

/** What the Autoscaler reads: the policy's fields plus the metrics interval (the Plan's `scaling.config` fits). */
export type AutoscalerConfig = AutoscalingPolicyConfig & { readonly metrics_interval_s: number };

export interface AutoscalerOptions {
  /**
   * How often reporters report, in ms; a reporter silent for 3 x this counts as 0.
   * Default: the config's `metrics_interval_s`.
   */
  readonly reportIntervalMs?: number;
}

/** A target change (or a panic mode change) for the Controller to apply and log. */
export interface AutoscaleChange {
  readonly target: number;
  readonly reason: string;
  readonly panicking: boolean;
}

export class Autoscaler {
  #config: AutoscalerConfig;
  readonly #options: AutoscalerOptions;
  readonly #window: MetricsWindow;
  readonly #tracker: DemandTracker;
  /** Set by the first `report`: from then on ticks sample the reporters' sum. */
  #reporting = false;
  #state: AutoscalingPolicyState = INITIAL_AUTOSCALING_STATE;
  #panicking = false;
  #lastReason = '';

  constructor(config: AutoscalerConfig, options: AutoscalerOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.#window = new MetricsWindow(retainMsOf(config));
    this.#tracker = new DemandTracker(staleAfterMsOf(config, options));
  }

  get config(): AutoscalerConfig {
    return this.#config;
  }

  /** Whether the last decision was made in panic mode. */
  get panicking(): boolean {
    return this.#panicking;
  }

  /** The last decision's reason, changed or not (for status and debugging). */
  get lastReason(): string {
    return this.#lastReason;
  }

  /**
   * A new config for the same Deployment (an apply that changed its scale version). The demand
   * history is kept (it is still true; a longer window averages over what there is); pending
   * delays and panic start over, since they were measured against the old config.
   */
  reconfigure(config: AutoscalerConfig): void {
    this.#config = config;
    this.#window.retainMs = retainMsOf(config);
    this.#tracker.staleAfterMs = staleAfterMsOf(config, this.#options);
    this.#state = INITIAL_AUTOSCALING_STATE;
    this.#panicking = false;
  }

  /** Records the Deployment's total demand at `now`, for callers that sum it themselves. */
  observe(now: number, demand: number): void {
    this.#window.record(now, demand);
  }

  /**
   * One reporter's current value: a Replica's ongoing requests, or a Router's requests queued for
   * this Deployment (not yet sent, so nothing is counted twice). Every report updates the total
   * at once (the window is time-weighted, so irregular reports are fine). Use either this or
   * `observe`, not both.
   */
  report(reporterId: string, now: number, value: number): void {
    this.#reporting = true;
    this.#tracker.report(reporterId, now, value);
    this.#sample(now);
  }

  /** A reporter that is gone for good (a stopped Replica): its value stops counting now. */
  forget(reporterId: string, now: number): void {
    this.#tracker.forget(reporterId);
    if (this.#reporting) this.#sample(now);
  }

  /**
   * The decision of this tick: a change to apply, or undefined for "keep the target". A change
   * is also returned when only panic mode began or ended, so that it can be logged.
   */
  tick(now: number, currentTarget: number, runningReplicas: number): AutoscaleChange | undefined {
    if (this.#reporting) this.#sample(now);
    const d = this.#decide(now, currentTarget, runningReplicas, 0);
    const panicChanged = d.panicking !== this.#panicking;
    this.#panicking = d.panicking;
    if (d.target === currentTarget && !panicChanged) return undefined;
    return { target: d.target, reason: d.reason, panicking: d.panicking };
  }

  /**
   * A request arrived for this Deployment while its target is 0: the target to set at once
   * (at least 1, more when the recorded demand already asks for more; never above max_replicas).
   * The waiting request is counted as demand even if no Router has reported it yet.
   */
  onRequestWhileZero(now: number): AutoscaleChange {
    if (this.#reporting) this.#sample(now);
    const d = this.#decide(now, 0, 0, 1);
    this.#panicking = d.panicking;
    return { target: d.target, reason: d.reason, panicking: d.panicking };
  }

  #decide(now: number, currentTarget: number, runningReplicas: number, atLeast: number): AutoscalingDecision {
    const c = this.#config;
    const d = decide(c, this.#state, {
      now_ms: now,
      current_target: currentTarget,
      running_replicas: runningReplicas,
      stable_demand: this.#window.average(now, c.look_back_period_s * 1000),
      panic_demand: c.panic_window_s !== undefined ? this.#window.average(now, c.panic_window_s * 1000) : undefined,
      instant_demand: Math.max(atLeast, this.#window.latest()),
    });
    this.#state = d.state;
    this.#lastReason = d.reason;
    return d;
  }

  #sample(now: number): void {
    this.#window.record(now, this.#tracker.sample(now));
  }
}

function retainMsOf(c: AutoscalingPolicyConfig): number {
  return Math.max(c.look_back_period_s, c.panic_window_s ?? 0) * 1000;
}

function staleAfterMsOf(c: AutoscalerConfig, o: AutoscalerOptions): number {
  return STALE_AFTER_INTERVALS * (o.reportIntervalMs ?? c.metrics_interval_s * 1000);
}
