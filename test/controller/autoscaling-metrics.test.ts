import t from 'tap';
import { DemandTracker, MetricsWindow } from '../../src/controller/autoscaling-metrics.ts';

t.test('MetricsWindow: time-weighted average over a step function', async (t) => {
  const w = new MetricsWindow(10_000);
  t.equal(w.average(0, 1000), 0, 'no sample: 0');
  w.record(0, 4);
  t.equal(w.average(0, 1000), 4, 'a single sample at now: its value');
  w.record(1000, 0);
  // 4 held for 1 s, then 0 for 3 s: 4 x 1 / 4.
  t.equal(w.average(4000, 10_000), 1, 'only the covered 4 s count, not the unmeasured rest of the window');
  t.equal(w.average(4000, 2000), 0, 'a window after the step sees only 0');
  t.equal(w.average(1500, 1000), 2, 'half the window at 4, half at 0');
});

t.test('MetricsWindow: a burst of samples does not outweigh a long quiet stretch', async (t) => {
  const w = new MetricsWindow(60_000);
  w.record(0, 0);
  // Ten reports of 10 within 100 ms, then back to 0 for ~10 s.
  for (let i = 0; i < 10; i++) w.record(9_900 + i * 10, 10);
  w.record(10_000, 0);
  const avg = w.average(10_000, 10_000);
  t.ok(Math.abs(avg - 0.1) < 1e-9, `10 for 100 ms over 10 s averages 0.1 (got ${avg}); a plain sample mean would say ~8`);
});

t.test('MetricsWindow: drops samples older than the longest window but keeps the value at its start', async (t) => {
  const w = new MetricsWindow(2000);
  for (let at = 0; at <= 10_000; at += 100) w.record(at, at % 200 === 0 ? 1 : 3);
  t.ok(w.size <= 22, `about 2 s of samples kept (${w.size})`);
  t.equal(w.average(10_000, 2000), 2, 'the full 2 s window still averages correctly after pruning');
  w.record(20_000, 5);
  t.equal(w.size, 2, 'after a long silence: the sample that holds at the window start, and the new one');
  t.equal(w.average(20_000, 2000), 1, 'the old value held until the new sample');
});

t.test('MetricsWindow: equal consecutive samples are not stored; bad values count as 0', async (t) => {
  const w = new MetricsWindow(60_000);
  for (let at = 0; at < 5000; at += 100) w.record(at, 2);
  t.equal(w.size, 1, 'steady load is one sample');
  t.equal(w.average(5000, 5000), 2);
  w.record(5000, Number.NaN);
  w.record(6000, -3);
  t.equal(w.latest(), 0, 'NaN and negatives count as 0');
  w.record(6000, 7);
  t.equal(w.latest(), 7, 'a second sample at the same time replaces the first');
});

t.test('DemandTracker: sums the latest value of each reporter', async (t) => {
  const d = new DemandTracker(1500);
  d.report('replica-a', 0, 2);
  d.report('replica-b', 0, 1);
  d.report('router-proxy', 100, 3);
  t.equal(d.sample(100), 6);
  d.report('replica-a', 200, 0);
  t.equal(d.sample(200), 4, 'a new report replaces the reporter\'s old value');
  d.report('replica-a', 150, 9);
  t.equal(d.sample(200), 4, 'a report older than the one held is ignored');
  d.forget('router-proxy');
  t.equal(d.sample(200), 1, 'a forgotten reporter stops counting at once');
});

t.test('DemandTracker: a reporter silent for 3 x the interval counts as 0, and comes back when it reports', async (t) => {
  const interval = 500;
  const d = new DemandTracker(3 * interval);
  d.report('replica-a', 0, 5);
  d.report('replica-b', 0, 1);
  for (let at = interval; at <= 2000; at += interval) d.report('replica-b', at, 1);
  t.equal(d.sample(1499), 6, 'still fresh just before 3 intervals');
  t.equal(d.sample(1500), 1, 'stale at 3 intervals: counts as 0');
  t.equal(d.reporters, 1, 'and is forgotten');
  d.report('replica-a', 2100, 2);
  t.equal(d.sample(2100), 3, 'back with its next report');
});
