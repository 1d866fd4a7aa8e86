/**
 * schemas/status.schema.json against the status JSON of CONTRACT section 5: it accepts the
 * contract's example and every state the Controller reports (driven with a fake clock through a
 * crash loop, a rolling stop and DEPLOY_FAILED), and rejects what the contract does not allow.
 * The end-to-end tests (test/e2e/supervision-*.test.ts) check real admin API answers with it.
 */
import t from 'tap';
import { compilePlanSync } from '../src/compile/compile.ts';
import { FakeClock } from '../src/controller/clock.ts';
import { Controller, TICK_MS } from '../src/controller/controller.ts';
import { appStatus } from '../src/controller/status.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { makeSpec, tempTree } from './compile/make-spec.ts';
import { FakeLauncher } from './controller/fake-launcher.ts';
import { STATUS_SCHEMA, statusProblems } from './helpers/status-schema.ts';

/** CONTRACT section 5's example, plus the `age_s` every replica carries. */
const EXAMPLE = {
  applications: {
    text: {
      status: 'RUNNING', route_prefix: '/text', message: '',
      deployments: {
        Model: {
          status: 'HEALTHY', target_replicas: 2, message: '',
          replicas: [{ replica_id: 'text#Model#a1b2', state: 'RUNNING', pid: 4242, version: '9f2c', ongoing_requests: 1, age_s: 12.3 }],
        },
      },
    },
  },
};

function edit(fn: (s: any) => void): unknown {
  const copy = structuredClone(EXAMPLE);
  fn(copy);
  return copy;
}

t.test('the contract example is valid; an empty gateway is valid', async (t) => {
  t.same(statusProblems(EXAMPLE), []);
  t.same(statusProblems({ applications: {} }), []);
  t.same(statusProblems(edit((s) => { s.applications.text.route_prefix = null; })), [], 'route_prefix null: bindings only');
  t.same(statusProblems(edit((s) => {
    s.applications.text.deployments.Model.replicas[0] = { ...s.applications.text.deployments.Model.replicas[0], state: 'RECOVERING', pid: null };
  })), [], 'a RECOVERING slot has no pid');
});

t.test('the enums are exactly the states of the contract', async (t) => {
  const d = STATUS_SCHEMA.$defs;
  t.same(d.application.properties.status.enum, ['DEPLOYING', 'RUNNING', 'DEPLOY_FAILED', 'UNHEALTHY', 'DELETING']);
  t.same(d.deployment.properties.status.enum, ['UPDATING', 'HEALTHY', 'UNHEALTHY', 'UPSCALING', 'DOWNSCALING', 'DEPLOY_FAILED']);
  t.same(d.replica.properties.state.enum, ['STARTING', 'RUNNING', 'STOPPING', 'RECOVERING']);
  // Every app status the Controller can derive is in the schema.
  const all = d.deployment.properties.status.enum as string[];
  for (const s of all) t.ok(d.application.properties.status.enum.includes(appStatus([s as never])), `app status for a ${s} deployment`);
});

t.test('rejects what the contract does not allow', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['unknown app status', edit((s) => { s.applications.text.status = 'STARTED'; }), /\/applications\/text\/status: must be equal to one of the allowed values/],
    ['unknown deployment status', edit((s) => { s.applications.text.deployments.Model.status = 'RUNNING'; }), /deployments\/Model\/status: must be equal to one of the allowed values/],
    ['unknown replica state', edit((s) => { s.applications.text.deployments.Model.replicas[0].state = 'DEAD'; }), /replicas\/0\/state: must be equal to one of the allowed values/],
    ['missing age_s', edit((s) => { delete s.applications.text.deployments.Model.replicas[0].age_s; }), /must have required property 'age_s'/],
    ['missing message', edit((s) => { delete s.applications.text.message; }), /must have required property 'message'/],
    ['extra key', edit((s) => { s.applications.text.deployments.Model.healthy = true; }), /must NOT have additional properties \(healthy\)/],
    ['negative target', edit((s) => { s.applications.text.deployments.Model.target_replicas = -1; }), /target_replicas: must be >= 0/],
    ['pid as a string', edit((s) => { s.applications.text.deployments.Model.replicas[0].pid = '4242'; }), /pid: must be integer,null/],
    ['fractional ongoing', edit((s) => { s.applications.text.deployments.Model.replicas[0].ongoing_requests = 0.5; }), /ongoing_requests: must be integer/],
    ['replica id without app#deployment#', edit((s) => { s.applications.text.deployments.Model.replicas[0].replica_id = 'a1b2'; }), /replica_id: must match pattern/],
    ['no applications key', {}, /must have required property 'applications'/],
  ];
  for (const [name, value, re] of cases) t.match(statusProblems(value).join('\n'), re, name);
});

t.test('every status the Controller reports on the way to DEPLOY_FAILED and through a crash loop is valid', async (t) => {
  const dir = tempTree({ 'M.ts': 'export default class M {}' });
  const clock = new FakeClock();
  const launcher = new FakeLauncher();
  const controller = new Controller({ launcher, clock, logger: createLogger({ write: () => {} }) });
  controller.start();
  const flush = async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); };
  const advance = async (ms: number) => { await flush(); clock.advance(ms); await flush(); };
  const seen = { app: new Set<string>(), deployment: new Set<string>(), replica: new Set<string>() };
  const check = (when: string) => {
    const status = controller.status();
    t.same(statusProblems(status), [], when);
    for (const app of Object.values(status.applications)) {
      seen.app.add(app.status);
      for (const d of Object.values(app.deployments)) {
        seen.deployment.add(d.status);
        for (const r of d.replicas) seen.replica.add(r.state);
      }
    }
  };
  controller.apply(compilePlanSync(makeSpec(dir, [
    { name: 'ok', route_prefix: '/ok', deployments: [{ name: 'M', num_replicas: 2 }] },
    { name: 'bad', route_prefix: '/bad', deployments: [{ name: 'M', num_replicas: 1 }] },
  ])));
  await advance(TICK_MS);
  check('starting');
  const ok = () => launcher.alive.filter((r) => r.id.startsWith('ok#'));
  for (const r of ok()) r.ready();
  // `bad` fails every start: a constructor that throws.
  for (let i = 0; i < 10 && controller.status().applications.bad!.status !== 'DEPLOY_FAILED'; i++) {
    for (const r of launcher.alive.filter((x) => x.id.startsWith('bad#'))) {
      r.emit({ t: 'failed', phase: 'construct', error: { name: 'Error', message: 'no model' } });
      r.exit('exit code 1');
    }
    await advance(TICK_MS);
    check(`bad start failure ${i + 1}`);
    await advance(2_000);
  }
  t.equal(controller.status().applications.bad!.status, 'DEPLOY_FAILED');
  // `ok` crash-loops: the second crash in a row leaves a RECOVERING slot (no process, pid null).
  for (let i = 0; i < 2; i++) {
    ok()[0]!.exit('signal SIGKILL');
    await advance(0);
    check(`ok crash ${i + 1}`);
    for (const r of ok()) r.ready();
    await advance(TICK_MS);
  }
  // Delete everything: `ok` is DELETING while its replicas drain (STOPPING).
  controller.apply(compilePlanSync(makeSpec(dir, [])));
  await advance(TICK_MS);
  check('deleting');
  t.ok(seen.replica.has('RECOVERING') && seen.replica.has('STOPPING') && seen.replica.has('STARTING') && seen.replica.has('RUNNING'), `replica states seen: ${[...seen.replica]}`);
  t.ok(seen.app.has('DEPLOY_FAILED') && seen.app.has('DELETING') && seen.app.has('UNHEALTHY'), `app states seen: ${[...seen.app]}`);
});
