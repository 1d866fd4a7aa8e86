import t from 'tap';
import { scalingOf } from '../../src/compile/compile.ts';
import type { Scaling } from '../../src/compile/types.ts';
import { Autoscaler } from '../../src/controller/autoscaler.ts';
import type { AutoscalingConfig } from '../../src/spec/types.ts';

type PlanAutoscalingConfig = Extract<Scaling, { kind: 'auto' }>['config'];

/**
 * The config exactly as the Plan carries it (`scaling.config` of an autoscaled deployment; the
 * loader writes num_replicas "auto" when only autoscaling_config is given), so these tests also prove the
 * Autoscaler accepts the Plan's type.
 */
function planConfig(given: Partial<AutoscalingConfig>): PlanAutoscalingConfig {
  const s = scalingOf({ num_replicas: 'auto', autoscaling_config: given });
  if (s.kind !== 'auto') throw new Error('expected an autoscaled deployment');
  return s.config;
}

/** The issue's end-to-end deployment. */
const E2E = { min_replicas: 1, max_replicas: 4, target_ongoing_requests: 1, upscale_delay_s: 0, downscale_delay_s: 2, metrics_interval_s: 0.5, look_back_period_s: 1 };

/**
 * A small world on a fake clock: `load(at)` concurrent requests; a replica starts 1 s after the
 * target asks for it; running replicas each report their ongoing share every 250 ms, the proxy's
 * Router reports what it could not place; the Autoscaler ticks every metrics_interval_s.
 */
function simulate(config: PlanAutoscalingConfig, load: (at: number) => number, untilMs: number) {
  const a = new Autoscaler(config, { reportIntervalMs: 250 });
  let target = config.initial_replicas;
  const startsAt: number[] = Array.from({ length: target }, () => 0);
  const timeline: { at: number; target: number; reason: string; panicking: boolean }[] = [];
  const tickMs = config.metrics_interval_s * 1000;
  for (let at = 0; at <= untilMs; at += 250) {
    const running = startsAt.filter((s) => s <= at).length;
    const demand = load(at);
    const perReplica = running > 0 ? Math.min(demand, running) / running : 0;
    for (let i = 0; i < running; i++) a.report(`replica-${i}`, at, perReplica);
    for (let i = running; i < 8; i++) a.forget(`replica-${i}`, at);
    a.report('router-proxy', at, Math.max(0, demand - running));
    if (at % tickMs === 0) {
      const change = target === 0 && demand > 0 ? a.onRequestWhileZero(at) : a.tick(at, target, running);
      if (change) {
        timeline.push({ at, ...change });
        while (startsAt.length < change.target) startsAt.push(at + 1000);
        startsAt.length = change.target;
        target = change.target;
      }
    }
  }
  const targetAt = (ms: number) => [...timeline].reverse().find((e) => e.at <= ms)?.target ?? config.initial_replicas;
  return { timeline, targetAt, autoscaler: a };
}

t.test('the issue\'s scenario on a fake clock: 4 blocked requests -> 4 replicas, back to 1 after the load stops', async (t) => {
  const { timeline, targetAt } = simulate(planConfig(E2E), (at) => (at < 10_000 ? 4 : 0), 20_000);
  t.ok(targetAt(500) >= 3, `>= 3 replicas half a second into the load (${targetAt(500)})`);
  t.equal(targetAt(9_999), 4, 'all 4 while the load lasts');
  t.equal(targetAt(11_999), 4, 'no downscale within downscale_delay_s of the load stopping');
  t.equal(targetAt(14_000), 1, 'back to min_replicas within a few seconds');
  t.ok(timeline.every((e) => e.target >= 1 && e.target <= 4), 'within [min, max] throughout');
  t.ok(timeline.length <= 3, `no flapping: ${timeline.map((e) => `${e.at}ms->${e.target}`).join(', ')}`);
});

t.test('tick returns undefined when nothing changes, and a reason when it does', async (t) => {
  const a = new Autoscaler(planConfig({ max_replicas: 5, target_ongoing_requests: 2, upscale_delay_s: 1 }));
  a.observe(0, 2);
  t.equal(a.tick(0, 1, 1), undefined, 'demand 2 at target 2 each: no change');
  a.observe(100, 8);
  t.equal(a.tick(500, 1, 1), undefined, 'wants more, but inside upscale_delay_s');
  t.match(a.lastReason, /waiting for upscale_delay_s 1/);
  const change = a.tick(1500, 1, 1);
  t.same(change && { target: change.target, panicking: change.panicking }, { target: 4, panicking: false });
  t.match(change?.reason, /-> 4 replicas after upscale_delay_s 1$/);
});

t.test('stale reporters age out: a silent replica stops holding the target up', async (t) => {
  const cfg = planConfig({ max_replicas: 5, target_ongoing_requests: 1, downscale_delay_s: 1, look_back_period_s: 1, metrics_interval_s: 0.5 });
  const a = new Autoscaler(cfg);
  a.report('replica-a', 0, 3);
  a.report('replica-b', 0, 0);
  let target = 3;
  for (let at = 500; at <= 1000; at += 500) {
    a.report('replica-b', at, 0);
    t.equal(a.tick(at, target, 3), undefined, `${at} ms: replica-a's last report still counts`);
  }
  // replica-a has said nothing since 0; at 1500 ms (3 x 0.5 s) it counts as 0.
  const changes: number[] = [];
  for (let at = 1500; at <= 5000; at += 500) {
    a.report('replica-b', at, 0);
    const c = a.tick(at, target, 3);
    if (c) {
      changes.push(at);
      target = c.target;
    }
  }
  t.equal(target, 1, 'down to 1 once the silent replica no longer counts');
  t.ok(changes[0]! >= 2500, `not before the look-back window and downscale_delay_s (at ${changes[0]} ms)`);
  t.equal(changes.length, 1);

  const kept = new Autoscaler(cfg);
  for (let at = 0; at <= 5000; at += 500) kept.report('replica-a', at, 3);
  t.equal(kept.tick(5000, 3, 3), undefined, 'a replica that keeps reporting keeps counting');
});

t.test('scale to zero and back: zero -> one at once, one -> zero after downscale_to_zero_delay_s', async (t) => {
  const cfg = planConfig({ min_replicas: 0, max_replicas: 4, downscale_delay_s: 10, downscale_to_zero_delay_s: 2, look_back_period_s: 1, metrics_interval_s: 0.5 });
  t.equal(cfg.initial_replicas, 0, 'starts at min_replicas');
  const a = new Autoscaler(cfg);
  t.equal(a.tick(0, 0, 0), undefined, 'idle at zero stays at zero');
  const wake = a.onRequestWhileZero(100);
  t.equal(wake.target, 1, 'a request at zero asks for one replica at once');
  t.match(wake.reason, /scale from zero/);
  let target = wake.target;
  const changes: [number, number][] = [];
  for (let at = 500; at <= 6000; at += 500) {
    const c = a.tick(at, target, at >= 1000 ? target : 0);
    if (c) {
      changes.push([at, c.target]);
      target = c.target;
    }
  }
  t.same(changes, [[2500, 0]], 'no demand recorded: back to 0 after downscale_to_zero_delay_s 2 from the first tick at 1');

  const kept = new Autoscaler(planConfig({ min_replicas: 1, max_replicas: 4, downscale_delay_s: 1, downscale_to_zero_delay_s: 1 }));
  for (let at = 0; at <= 10_000; at += 500) t.equal(kept.tick(at, 1, 1), undefined, `${at} ms: min_replicas 1 never goes to 0`);

  const factor = new Autoscaler(planConfig({ min_replicas: 0, max_replicas: 4, upscaling_factor: 2 }));
  t.equal(factor.onRequestWhileZero(0).target, 2, 'upscaling_factor 2: two replicas from zero (Ray)');
  const queued = new Autoscaler(planConfig({ min_replicas: 0, max_replicas: 4, target_ongoing_requests: 1 }));
  queued.report('router-proxy', 0, 3);
  t.equal(queued.onRequestWhileZero(0).target, 3, 'three requests queued at zero: three replicas at once');
});

t.test('panic through the windows: a burst panics on the next tick, the panic ends a look-back window after the last overload', async (t) => {
  const cfg = planConfig({
    min_replicas: 1, max_replicas: 10, target_ongoing_requests: 1, upscale_delay_s: 30, downscale_delay_s: 5,
    metrics_interval_s: 1, look_back_period_s: 20, panic_window_s: 2, panic_threshold: 2,
  });
  const a = new Autoscaler(cfg);
  let target = 2;
  const events: { at: number; target: number; panicking: boolean }[] = [];
  const overTicks: number[] = [];
  for (let at = 0; at <= 60_000; at += 250) {
    // 1 request per replica at first; a burst of 8 from 10 s to 14 s; then quiet.
    a.observe(at, at < 10_000 ? 2 : at < 14_000 ? 8 : 0);
    if (at % 1000 !== 0) continue;
    const c = a.tick(at, target, target);
    if (/^panick?(ing)?: .* >= panic_threshold/.test(a.lastReason)) overTicks.push(at);
    if (c) {
      events.push({ at, target: c.target, panicking: c.panicking });
      target = c.target;
    }
  }
  t.same(events[0], { at: 11_000, target: 5, panicking: true }, 'the first tick that sees the burst: panic, 5 replicas at once (upscale_delay_s 30 bypassed)');
  t.same(events[1], { at: 12_000, target: 8, panicking: true }, 'and on up to what the panic window asks for');
  const exit = events.find((e) => !e.panicking);
  const lastOver = overTicks.at(-1)!;
  t.equal(exit?.at, lastOver + 20_000, `panic ends look_back_period_s after the last tick over the threshold (${lastOver} ms)`);
  t.notOk(events.some((e) => e.at > 12_000 && e.at < exit!.at && e.target < 8), 'no downscale while panicking, though the burst ended at 14 s');
  t.equal(exit?.target, 8, 'ending the panic changes nothing by itself (reported so it can be logged)');
  const down = events.find((e) => e.at > exit!.at && e.target < 8);
  t.equal(down?.at, exit!.at + 5000, 'the downscale comes downscale_delay_s after the panic ended');
  t.equal(target, 1, 'down to min_replicas');
  t.notOk(a.panicking);
});

t.test('reconfigure keeps the demand history and restarts the delays', async (t) => {
  const a = new Autoscaler(planConfig({ max_replicas: 5, target_ongoing_requests: 1, upscale_delay_s: 10, look_back_period_s: 10 }));
  a.observe(0, 4);
  t.equal(a.tick(0, 1, 1), undefined);
  t.equal(a.tick(9000, 1, 1), undefined, 'one second short of the delay');
  a.reconfigure(planConfig({ max_replicas: 3, target_ongoing_requests: 1, upscale_delay_s: 10, look_back_period_s: 10 }));
  t.equal(a.tick(10_000, 1, 1), undefined, 'the delay starts over under the new config');
  t.equal(a.tick(20_000, 1, 1)?.target, 3, 'the kept demand (4) scales to the new max_replicas 3');
});
