import t from 'tap';
import {
  decide,
  desiredReplicas,
  INITIAL_AUTOSCALING_STATE,
  type AutoscalingPolicyConfig,
  type AutoscalingPolicyState,
} from '../../src/controller/autoscaling-policy.ts';
import type { AutoscalingConfig } from '../../src/spec/types.ts';
import { resolveAutoscaling } from '../../src/spec/defaults.ts';

/** A resolved config: Ray's defaults under the given fields, as the Plan carries it. */
function cfg(given: Partial<AutoscalingConfig>): AutoscalingPolicyConfig {
  return resolveAutoscaling(undefined, given);
}

interface Step {
  /** Seconds on the fake clock. */
  readonly at: number;
  readonly demand: number;
  /** Demand over the panic window; defaults to `demand`. */
  readonly panic?: number;
  /** Running replicas; defaults to the current target (replicas start at once). */
  readonly running?: number;
}

interface Trace {
  readonly targets: number[];
  readonly panicking: boolean[];
  readonly reasons: string[];
}

/** Feeds `steps` through `decide`, applying each target, as the Controller's tick would. */
function run(config: AutoscalingPolicyConfig, start: number, steps: readonly Step[]): Trace {
  let target = start;
  let state: AutoscalingPolicyState = INITIAL_AUTOSCALING_STATE;
  const trace: Trace = { targets: [], panicking: [], reasons: [] };
  for (const s of steps) {
    const d = decide(config, state, {
      now_ms: s.at * 1000,
      current_target: target,
      running_replicas: s.running ?? target,
      stable_demand: s.demand,
      panic_demand: s.panic ?? s.demand,
    });
    state = d.state;
    target = d.target;
    trace.targets.push(d.target);
    trace.panicking.push(d.panicking);
    trace.reasons.push(d.reason);
  }
  return trace;
}

/** Ticks every `every` seconds from 0 to `until` (inclusive) with demand from `demand(at)`. */
function ticks(every: number, until: number, demand: (at: number) => number | Omit<Step, 'at'>): Step[] {
  const out: Step[] = [];
  for (let at = 0; at <= until + 1e-9; at += every) {
    const d = demand(at);
    out.push(typeof d === 'number' ? { at, demand: d } : { at, ...d });
  }
  return out;
}

t.test('desiredReplicas: demand / target, scaling factors, clamps', async (t) => {
  const cases: [string, Partial<AutoscalingConfig>, number, number, number][] = [
    // name, config, demand, current, expected
    ['at target: no change', { max_replicas: 10 }, 4, 2, 2],
    ['7.5 requests at 2 each: 4', { max_replicas: 10 }, 7.5, 1, 4],
    ['no demand: down to min', { min_replicas: 1, max_replicas: 10 }, 0, 5, 1],
    ['clamped to max_replicas', { max_replicas: 5 }, 100, 2, 5],
    ['clamped to min_replicas', { min_replicas: 2, max_replicas: 5 }, 0, 4, 2],
    ['min 0 allows 0', { min_replicas: 0, max_replicas: 5 }, 0, 1, 0],
    ['upscaling_factor 0.5 takes half the step', { max_replicas: 20, upscaling_factor: 0.5 }, 20, 2, 6],
    ['upscaling_factor 2 doubles the step', { max_replicas: 20, upscaling_factor: 2 }, 8, 2, 6],
    ['downscaling_factor 0.5 takes half the step', { max_replicas: 20, downscaling_factor: 0.5 }, 4, 10, 6],
    ['a tiny downscaling_factor still takes one step', { max_replicas: 20, downscaling_factor: 0.01 }, 4, 3, 2],
    ['the factor does not round a wanted downscale below its goal', { max_replicas: 20, downscaling_factor: 0.01 }, 4, 2, 2],
    ['float noise does not add a replica (0.3 / 0.1)', { max_replicas: 20, target_ongoing_requests: 0.1 }, 0.3, 1, 3],
  ];
  for (const [name, given, demand, current, expected] of cases) {
    t.equal(desiredReplicas(cfg(given), demand, current), expected, name);
  }
});

t.test('step up: after upscale_delay_s of sustained demand, not before', async (t) => {
  const c = cfg({ max_replicas: 10, target_ongoing_requests: 2, upscale_delay_s: 30, metrics_interval_s: 10 });
  const tr = run(c, 1, ticks(10, 40, () => 8));
  t.same(tr.targets, [1, 1, 1, 4, 4]);
  t.match(tr.reasons[1], /wants 4 replicas; waiting for upscale_delay_s 30 \(10s so far\)/);
  t.equal(tr.reasons[3], 'demand 8 over 1 replica (target 2 each) -> 4 replicas after upscale_delay_s 30');
});

t.test('upscale_delay_s 0 scales up on the first tick', async (t) => {
  const c = cfg({ max_replicas: 10, target_ongoing_requests: 2, upscale_delay_s: 0 });
  const tr = run(c, 1, [{ at: 0, demand: 7.5 }]);
  t.same(tr.targets, [4]);
  t.equal(tr.reasons[0], 'demand 7.5 over 1 replica (target 2 each) -> 4 replicas after upscale_delay_s 0');
});

t.test('step down: only after downscale_delay_s, to what the demand needs', async (t) => {
  const c = cfg({ max_replicas: 10, target_ongoing_requests: 2, downscale_delay_s: 60 });
  const tr = run(c, 4, ticks(10, 80, () => 2));
  t.same(tr.targets, [4, 4, 4, 4, 4, 4, 1, 1, 1]);
  t.match(tr.reasons[6], /-> 1 replica after downscale_delay_s 60/);
});

t.test('no change inside the delays: a single tick at target resets the count', async (t) => {
  const c = cfg({ max_replicas: 10, target_ongoing_requests: 2, upscale_delay_s: 30, downscale_delay_s: 30 });
  // Up for 20 s, at target for one tick, up for 20 s: never 30 s in a row.
  const up = run(c, 2, ticks(10, 50, (at) => (at === 30 ? 4 : 8)));
  t.same(up.targets, [2, 2, 2, 2, 2, 2]);
  // Down for 20 s, up for one tick, down for 20 s.
  const down = run(c, 2, ticks(10, 50, (at) => (at === 30 ? 8 : 0)));
  t.same(down.targets, [2, 2, 2, 2, 2, 2]);
});

t.test('oscillating load inside the delays never changes the target', async (t) => {
  const c = cfg({ max_replicas: 10, target_ongoing_requests: 2, upscale_delay_s: 30, downscale_delay_s: 60, metrics_interval_s: 10 });
  const patterns: [string, (at: number) => number][] = [
    ['high/low every tick', (at) => ((at / 10) % 2 === 0 ? 12 : 0)],
    ['high 20 s / low 20 s', (at) => (Math.floor(at / 20) % 2 === 0 ? 12 : 1)],
    ['high 20 s / low 50 s', (at) => (at % 70 < 20 ? 12 : 0)],
  ];
  for (const [name, demand] of patterns) {
    const tr = run(c, 2, ticks(10, 1200, demand));
    t.ok(tr.targets.every((x) => x === 2), `${name}: stays at 2 for 20 minutes`);
  }
});

t.test('min/max clamps hold whatever the demand', async (t) => {
  const c = cfg({ min_replicas: 2, max_replicas: 5, target_ongoing_requests: 1, upscale_delay_s: 0, downscale_delay_s: 0 });
  t.same(run(c, 2, [{ at: 0, demand: 1000 }, { at: 1, demand: 1000 }]).targets, [5, 5], 'never above max_replicas');
  t.same(run(c, 5, [{ at: 0, demand: 0 }, { at: 1, demand: 0 }]).targets, [2, 2], 'never below min_replicas');
  const out = run(c, 9, [{ at: 0, demand: 9 }]);
  t.same(out.targets, [5], 'a target outside new bounds (after an apply) is corrected at once');
  t.match(out.reasons[0], /outside \[min_replicas 2, max_replicas 5\] -> 5 replicas/);
  t.same(run(c, 0, [{ at: 0, demand: 0 }]).targets, [2], 'below min_replicas at once too');
});

t.test('zero -> one: at once on any demand, ignoring upscale_delay_s', async (t) => {
  const c = cfg({ min_replicas: 0, max_replicas: 10, target_ongoing_requests: 2, upscale_delay_s: 30 });
  const cases: [string, Partial<Step>, number][] = [
    ['no demand stays at 0', { demand: 0 }, 0],
    ['one queued request: 1', { demand: 0.01 }, 1],
    ['demand 9 at 2 each: 5 at once', { demand: 9 }, 5],
    ['only the panic window has seen it', { demand: 0, panic: 3 }, 2],
  ];
  for (const [name, step, expected] of cases) {
    t.equal(run(c, 0, [{ at: 0, demand: 0, ...step }]).targets[0], expected, name);
  }
  const instant = decide(c, INITIAL_AUTOSCALING_STATE, { now_ms: 0, current_target: 0, running_replicas: 0, stable_demand: 0, instant_demand: 1 });
  t.equal(instant.target, 1, 'a request seen only in the latest sample wakes it');
  t.match(instant.reason, /at 0 replicas -> 1 at once \(scale from zero\)/);
  t.equal(run(cfg({ min_replicas: 0, max_replicas: 10, upscaling_factor: 3 }), 0, [{ at: 0, demand: 1 }]).targets[0], 3, 'upscaling_factor applies to the first step (Ray)');
  t.equal(run(cfg({ min_replicas: 0, max_replicas: 2 }), 0, [{ at: 0, demand: 50 }]).targets[0], 2, 'never above max_replicas');
});

t.test('one -> zero only after downscale_to_zero_delay_s, and only from one', async (t) => {
  const c = cfg({ min_replicas: 0, max_replicas: 10, downscale_delay_s: 20, downscale_to_zero_delay_s: 60 });
  const fromOne = run(c, 1, ticks(10, 70, () => 0));
  t.same(fromOne.targets, [1, 1, 1, 1, 1, 1, 0, 0]);
  t.match(fromOne.reasons[6], /-> 0 replicas after downscale_to_zero_delay_s 60/);

  // 4 -> 1 at 20 s (downscale_delay_s), then a fresh wish from the next tick (30 s): 0 at 90 s.
  const fromFour = run(c, 4, ticks(10, 100, () => 0));
  t.same(fromFour.targets, [4, 4, 1, 1, 1, 1, 1, 1, 1, 0, 0]);

  const defaulted = cfg({ min_replicas: 0, max_replicas: 10, downscale_delay_s: 20 });
  t.same(run(defaulted, 1, ticks(10, 30, () => 0)).targets, [1, 1, 0, 0], 'downscale_to_zero_delay_s defaults to downscale_delay_s');

  const kept = cfg({ min_replicas: 1, max_replicas: 10, downscale_delay_s: 1, downscale_to_zero_delay_s: 1 });
  t.ok(run(kept, 1, ticks(10, 600, () => 0)).targets.every((x) => x === 1), 'never below min_replicas 1');
});

t.test('scaling factors shape each step', async (t) => {
  const up = cfg({ max_replicas: 20, target_ongoing_requests: 1, upscale_delay_s: 0, upscaling_factor: 0.5 });
  t.same(run(up, 2, ticks(1, 3, () => 10)).targets, [6, 8, 9, 10], 'upscaling_factor 0.5 closes half the gap per step');
  const down = cfg({ max_replicas: 20, target_ongoing_requests: 1, downscale_delay_s: 0, downscaling_factor: 0.5 });
  t.same(run(down, 10, ticks(1, 4, () => 2)).targets, [6, 4, 3, 2, 2], 'downscaling_factor 0.5 likewise, down');
});

t.test('panic: enters at once when the panic window reaches threshold x capacity', async (t) => {
  const c = cfg({ max_replicas: 20, target_ongoing_requests: 2, upscale_delay_s: 30, look_back_period_s: 60, panic_window_s: 6 });
  t.equal(c.panic_threshold, 2, 'panic_threshold defaults to 2 with a window');
  // 2 replicas x 2 = capacity 4; threshold 2 -> panic at demand >= 8 over the panic window.
  const below = run(c, 2, [{ at: 0, demand: 3, panic: 7.9 }]);
  t.same([below.targets, below.panicking], [[2], [false]], 'just below the threshold: no panic, the upscale waits');
  const over = run(c, 2, [{ at: 0, demand: 3, panic: 10 }]);
  t.same([over.targets, over.panicking], [[5], [true]], 'at 2.5 x capacity: panic, 5 replicas at once');
  t.match(over.reasons[0], /^panic: demand 10 over panic_window_s 6 >= panic_threshold 2 x capacity 4 \(2 replicas x 2\) -> 5 replicas at once/);
  const larger = run(c, 2, [{ at: 0, demand: 14, panic: 10 }]);
  t.same(larger.targets, [7], 'the larger of the stable and panic wants');
  const capped = run(c, 2, [{ at: 0, demand: 3, panic: 100 }]);
  t.same(capped.targets, [20], 'still clamped to max_replicas');
  const starting = run(c, 4, [{ at: 0, demand: 3, panic: 8, running: 1 }]);
  t.same([starting.targets, starting.panicking], [[4], [true]], 'capacity counts running replicas: panics, keeps the target it has');
  const off = cfg({ max_replicas: 20, target_ongoing_requests: 2, upscale_delay_s: 30 });
  t.same(run(off, 2, [{ at: 0, demand: 3, panic: 100 }]).panicking, [false], 'no panic without panic_window_s');
});

t.test('panic: no downscale while panicking, exit after a stable window below the threshold', async (t) => {
  const c = cfg({
    max_replicas: 20, target_ongoing_requests: 2, upscale_delay_s: 30, downscale_delay_s: 20,
    look_back_period_s: 60, panic_window_s: 6,
  });
  const steps: Step[] = [
    { at: 0, demand: 3, panic: 10 }, // panic: 5
    { at: 10, demand: 4, panic: 24 }, // still over (24 >= 2 x 5 x 2): 12 at once
    { at: 20, demand: 2, panic: 1 }, // below: holds 12 (no downscale in panic)
    ...ticks(10, 60, () => ({ demand: 2, panic: 1 })).map((s) => ({ ...s, at: s.at + 30 })), // 30..90
    { at: 100, demand: 2, panic: 1 },
    { at: 110, demand: 2, panic: 1 },
  ];
  const tr = run(c, 2, steps);
  const at = (s: number) => steps.findIndex((x) => x.at === s);
  t.same(tr.targets.slice(0, at(70) + 1), [5, 12, 12, 12, 12, 12, 12, 12], 'up at once twice, then held');
  t.ok(tr.panicking.slice(0, at(60) + 1).every(Boolean), 'panicking until 60 s after the last tick over the threshold (at 10 s)');
  t.equal(tr.panicking[at(70)], false, 'panic over at 70 s');
  t.match(tr.reasons[at(20)], /^panicking: .* < panic_threshold .* holding 12 replicas until 60s below the threshold/);
  t.match(tr.reasons[at(70)], /panic over/);
  t.equal(tr.targets[at(80)], 12, 'downscale_delay_s counts from the end of the panic, not before it');
  t.equal(tr.targets[at(90)], 1, 'then down after downscale_delay_s 20');
});

t.test('panic: stays in panic while the surge lasts, and keeps scaling up at once', async (t) => {
  const c = cfg({ max_replicas: 50, target_ongoing_requests: 1, upscale_delay_s: 60, look_back_period_s: 30, panic_window_s: 3 });
  // Demand doubles every tick; the panic window always sees >= 2 x the capacity running.
  const steps = [0, 2, 4, 6].map((at, i) => ({ at, demand: 1, panic: 4 * 2 ** i, running: i === 0 ? 2 : undefined }));
  const tr = run(c, 2, steps);
  t.same(tr.targets, [4, 8, 16, 32]);
  t.ok(tr.panicking.every(Boolean));
});
