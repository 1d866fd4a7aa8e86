import t from 'tap';
import { compilePlanSync } from '../../src/compile/compile.ts';
import { FakeClock } from '../../src/controller/clock.ts';
import { Controller, TICK_MS } from '../../src/controller/controller.ts';
import { BACKOFF_RESET_MS, backoffDelayMs, maxStartFailures, rollingStep } from '../../src/controller/backoff.ts';
import { DRAIN_PROPAGATION_MS } from '../../src/controller/deployment-state.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { makeSpec, tempTree, type DeploymentInput } from '../compile/make-spec.ts';
import { FakeLauncher } from './fake-launcher.ts';

/** What the controllers under test logged (tests that read it clear it first). */
const logLines: string[] = [];
const quiet = createLogger({ write: (line) => void logLines.push(line) });

function setup(deployment: Partial<DeploymentInput> = {}, handlerSource = 'export default class M {}') {
  const dir = tempTree({ 'M.ts': handlerSource });
  const spec = (over: Partial<DeploymentInput> = {}) =>
    makeSpec(dir, [{ name: 'app', deployments: [{ name: 'M', ...deployment, ...over }] }]);
  const clock = new FakeClock();
  const launcher = new FakeLauncher();
  const controller = new Controller({ launcher, clock, logger: quiet });
  controller.start();
  const apply = (over: Partial<DeploymentInput> = {}) => controller.apply(compilePlanSync(spec(over)));
  /** Lets queued microtasks (event-driven reconciles) run, then advances time. */
  const advance = async (ms = 0) => {
    await flush();
    clock.advance(ms);
    await flush();
  };
  const deployment_ = () => controller.status().applications.app!.deployments.M!;
  return { dir, clock, launcher, controller, apply, advance, status: deployment_, spec };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

t.test('pure policies', async (t) => {
  t.same([1, 2, 3, 4, 5, 20].map(backoffDelayMs), [0, 500, 1000, 2000, 4000, 30_000], 'first crash at once, then doubling, capped');
  t.same([1, 2, 7, 10].map(maxStartFailures), [3, 6, 20, 20], 'min(3 x replicas, 20)');
  t.same([1, 4, 5, 10, 23].map(rollingStep), [1, 1, 1, 2, 4], '20%, at least one');
});

t.test('converges to the target from nothing, and publishes only RUNNING replicas', async (t) => {
  const s = setup({ num_replicas: 3 });
  s.apply();
  await s.advance(TICK_MS);
  t.equal(s.launcher.alive.length, 3, 'three replicas started');
  t.equal(s.status().status, 'UPDATING');
  t.same(s.controller.snapshot.deployments.get('app#M')!.replicas, [], 'none routed before ready');
  s.launcher.launched[0]!.ready();
  s.launcher.launched[1]!.ready();
  await s.advance(TICK_MS);
  t.equal(s.controller.snapshot.deployments.get('app#M')!.replicas.length, 2);
  s.launcher.launched[2]!.ready();
  await s.advance(TICK_MS);
  t.equal(s.status().status, 'HEALTHY');
  t.equal(s.controller.status().applications.app!.status, 'RUNNING');
});

t.test('a crashed replica is replaced at once; a crash loop backs off and shows RECOVERING', async (t) => {
  const s = setup({ num_replicas: 1 });
  s.apply();
  await s.advance(TICK_MS);
  s.launcher.launched[0]!.ready();
  await s.advance(TICK_MS);
  s.launcher.launched[0]!.exit('signal SIGKILL');
  await s.advance(0);
  t.equal(s.launcher.launched.length, 2, 'replaced at once');
  t.equal(s.status().status, 'UPSCALING', 'a one-off crash is not UNHEALTHY: requests keep waiting for the replacement');
  t.match(s.status().message, /^replica app#M#\w+ exited unexpectedly \(signal SIGKILL\); replacing it$/, 'status says why it is below target');
  s.launcher.launched[1]!.ready();
  await s.advance(TICK_MS);
  t.same([s.status().status, s.status().message], ['HEALTHY', ''], 'replaced: healthy, no message');
  // A second crash in a row: backoff 0.5 s.
  s.launcher.launched[1]!.exit('exit code 1');
  await s.advance(0);
  t.equal(s.launcher.launched.length, 2, 'not yet restarted');
  t.equal(s.status().replicas[0]!.state, 'RECOVERING');
  t.equal(s.status().status, 'UNHEALTHY');
  t.match(s.status().message, /exited unexpectedly \(exit code 1\); next start in 0.5s/);
  await s.advance(backoffDelayMs(2) + TICK_MS);
  t.equal(s.launcher.launched.length, 3, 'restarted after the backoff');
  // Third crash in a row: 1 s.
  s.launcher.launched[2]!.exit();
  await s.advance(backoffDelayMs(2) + TICK_MS);
  t.equal(s.launcher.launched.length, 3, 'the backoff grew');
  await s.advance(backoffDelayMs(3));
  t.equal(s.launcher.launched.length, 4);
  // Staying up resets the streak: the next crash is replaced at once again.
  s.launcher.launched[3]!.ready();
  await s.advance(BACKOFF_RESET_MS + TICK_MS);
  t.equal(s.status().status, 'HEALTHY');
  s.launcher.launched[3]!.exit();
  await s.advance(0);
  t.equal(s.launcher.launched.length, 5, 'streak reset: replaced at once');
});

t.test('three failed health checks replace a replica; a hang counts as a failure', async (t) => {
  const s = setup({ num_replicas: 1, health_check_period_s: 1, health_check_timeout_s: 0.5 });
  s.apply();
  await s.advance(TICK_MS);
  const r = s.launcher.launched[0]!;
  r.ready();
  await s.advance(TICK_MS);
  for (let i = 1; i <= 2; i++) {
    await s.advance(1000);
    const h = r.last('health')!;
    r.emit({ t: 'health', seq: h.seq, error: { name: 'Error', message: 'db down' } });
    await s.advance(0);
    t.notOk(r.last('stop'), `still serving after ${i} failure(s)`);
  }
  // One success resets the count.
  await s.advance(1000);
  r.emit({ t: 'health', seq: r.last('health')!.seq });
  for (let i = 0; i < 2; i++) {
    await s.advance(1000);
    r.emit({ t: 'health', seq: r.last('health')!.seq, error: { name: 'Error', message: 'db down' } });
  }
  await s.advance(0);
  t.notOk(r.last('stop'), 'two failures after a success are not three');
  // The third: a hang past the timeout.
  await s.advance(1000);
  t.ok(r.last('health'));
  await s.advance(600);
  t.same(s.controller.snapshot.deployments.get('app#M')!.replicas, [], 'out of routing at once');
  t.equal(s.launcher.launched.length, 2, 'a replacement started');
  await s.advance(DRAIN_PROPAGATION_MS);
  t.ok(r.last('stop'), 'then told to stop (drain)');
});

t.test('a replica that ignores stop is killed after graceful_shutdown_timeout_s', async (t) => {
  const s = setup({ num_replicas: 1, graceful_shutdown_timeout_s: 1 });
  s.apply();
  await s.advance(TICK_MS);
  const r = s.launcher.launched[0]!;
  r.ready();
  await s.advance(TICK_MS);
  s.apply({ num_replicas: 0 });
  await s.advance(DRAIN_PROPAGATION_MS + TICK_MS);
  t.ok(r.last('stop'));
  t.notOk(r.exited);
  await s.advance(3100);
  t.equal(r.killedWith, 'SIGKILL');
  t.same(s.status().replicas, []);
});

t.test('a constructor that always throws ends DEPLOY_FAILED after min(3 x replicas, 20) failures', async (t) => {
  const s = setup({ num_replicas: 2 });
  s.apply();
  for (let i = 0; i < 60 && s.status().status !== 'DEPLOY_FAILED'; i++) {
    await s.advance(TICK_MS);
    for (const r of s.launcher.alive) {
      r.emit({ t: 'failed', phase: 'construct', error: { name: 'Error', message: 'no model file' } });
      r.exit('exit code 1');
    }
    await s.advance(2000);
  }
  t.equal(s.status().status, 'DEPLOY_FAILED');
  t.equal(s.launcher.launched.length, maxStartFailures(2), 'exactly the limit of attempts');
  t.match(s.status().message, /failed to start 6 times.*construct failed: Error: no model file/);
  t.equal(s.controller.status().applications.app!.status, 'DEPLOY_FAILED');
  const routing = s.controller.snapshot.deployments.get('app#M')!;
  t.equal(routing.availability, 'failed', 'queued requests fail fast');
  await s.advance(60_000);
  t.equal(s.launcher.launched.length, maxStartFailures(2), 'no more attempts');
});

t.test('converges from a mix of states after the target changes', async (t) => {
  const s = setup({ num_replicas: 4 });
  s.apply();
  await s.advance(TICK_MS);
  s.launcher.launched[0]!.ready();
  s.launcher.launched[1]!.ready();
  s.launcher.launched[2]!.exit();
  await s.advance(TICK_MS);
  // 2 running, 1 starting, 1 replacement starting.
  t.equal(s.launcher.alive.length, 4);
  s.apply({ num_replicas: 2 });
  await s.advance(TICK_MS);
  const active = s.status().replicas.filter((r) => r.state !== 'STOPPING');
  t.equal(active.length, 2);
  t.ok(active.every((r) => r.state === 'RUNNING'), 'starting replicas go first when scaling down');
  await s.advance(DRAIN_PROPAGATION_MS + TICK_MS);
  for (const r of s.launcher.alive) if (r.last('stop')) r.exit('exit code 0');
  await s.advance(TICK_MS);
  t.equal(s.launcher.alive.length, 2);
  t.equal(s.status().status, 'HEALTHY');
});

t.test('a rolling restart keeps serving: old replicas leave only as new ones run', async (t) => {
  const s = setup({ num_replicas: 5, args: { v: 1 } });
  s.apply();
  await s.advance(TICK_MS);
  for (const r of s.launcher.launched) r.ready();
  await s.advance(TICK_MS);
  const old = [...s.launcher.launched];
  s.apply({ args: { v: 2 } });
  await s.advance(TICK_MS);
  t.equal(s.launcher.launched.length, 6, 'one new replica at a time (20% of 5)');
  t.equal(s.controller.snapshot.deployments.get('app#M')!.replicas.length, 5, 'all old still routed');
  for (let step = 0; step < 5; step++) {
    s.launcher.launched.at(-1)!.ready();
    await s.advance(TICK_MS);
    t.equal(s.controller.snapshot.deployments.get('app#M')!.replicas.length, 5, `never fewer than 5 routed (step ${step})`);
    await s.advance(DRAIN_PROPAGATION_MS);
    for (const r of old) if (r.last('stop') && !r.exited) r.exit('exit code 0');
    await s.advance(TICK_MS);
  }
  t.ok(old.every((r) => r.exited), 'every old replica stopped');
  t.equal(s.status().status, 'HEALTHY');
});

t.test('a new version that fails to start leaves the old one serving', async (t) => {
  const s = setup({ num_replicas: 1, args: { v: 1 } });
  s.apply();
  await s.advance(TICK_MS);
  const old = s.launcher.launched[0]!;
  old.ready();
  await s.advance(TICK_MS);
  s.apply({ args: { v: 2 } });
  for (let i = 0; i < 10 && s.status().status !== 'DEPLOY_FAILED'; i++) {
    await s.advance(TICK_MS);
    for (const r of s.launcher.alive) if (r !== old) r.exit('exit code 1');
    await s.advance(2000);
  }
  t.equal(s.status().status, 'DEPLOY_FAILED');
  t.notOk(old.exited);
  t.same(s.controller.snapshot.deployments.get('app#M')!.replicas.map((r) => r.replica_id), [old.id]);
  t.equal(s.controller.snapshot.deployments.get('app#M')!.availability, 'ok');
});

t.test('user_config changes reconfigure live replicas without restarting them', async (t) => {
  const s = setup({ num_replicas: 2, user_config: { threshold: 1 } });
  s.apply();
  await s.advance(TICK_MS);
  for (const r of s.launcher.launched) r.ready();
  await s.advance(TICK_MS);
  s.apply({ user_config: { threshold: 2 } });
  await s.advance(TICK_MS);
  t.equal(s.launcher.launched.length, 2, 'nothing restarted');
  for (const r of s.launcher.launched) {
    const m = r.last('reconfigure')!;
    t.same(m.user_config, { threshold: 2 });
    r.emit({ t: 'reconfigured', seq: m.seq });
  }
  await s.advance(TICK_MS);
  t.equal(s.status().status, 'HEALTHY');
});

t.test('a reconfigure sent while a health check is pending does not orphan its reply', async (t) => {
  const s = setup({ num_replicas: 1, user_config: { v: 1 }, health_check_period_s: 1, health_check_timeout_s: 0.5 });
  s.apply();
  await s.advance(TICK_MS);
  const r = s.launcher.launched[0]!;
  r.ready();
  await s.advance(1000);
  const health = r.last('health')!;
  logLines.length = 0;
  s.apply({ user_config: { v: 2 } });
  await s.advance(TICK_MS);
  const reconfigure = r.last('reconfigure')!;
  t.ok(reconfigure, 'reconfigure sent while the health check is pending');
  r.emit({ t: 'health', seq: health.seq });
  r.emit({ t: 'reconfigured', seq: reconfigure.seq });
  for (let i = 0; i < 3; i++) {
    await s.advance(1000);
    r.emit({ t: 'health', seq: r.last('health')!.seq });
  }
  await s.advance(TICK_MS);
  t.same(logLines.filter((l) => l.includes('health check failed')), [], 'every answered health check counted as answered');
  t.notOk(r.last('stop'));
  t.equal(s.launcher.launched.length, 1);
});
