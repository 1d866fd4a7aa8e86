import { rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { compilePlanSync } from '../../src/compile/compile.ts';
import { diffPlans } from '../../src/compile/diff.ts';
import type { PlanDiff } from '../../src/compile/types.ts';
import { makeSpec, tempTree, writeTree, type AppInput } from './make-spec.ts';

const dir = tempTree({
  'a.ts': `import { u } from './lib/util'; export default class A {} export class Named {}`,
  'b.ts': 'export default class B {}',
  'c.ts': 'export default class C {}',
  'lib/util.ts': `import 'lodash'; export const u = 1;`,
  'node_modules/lodash/index.js': 'module.exports = 1',
});
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** The old spec every case starts from: two apps, three deployments. */
function base(): AppInput[] {
  return [
    {
      name: 'text',
      route_prefix: '/text',
      ingress: 'A',
      deployments: [
        { name: 'A', handler: './a.ts', bindings: { b: 'B' }, args: { x: 1 }, env: { LOG: 'info' } },
        { name: 'B', handler: './b.ts', user_config: { threshold: 0.5 } },
      ],
    },
    { name: 'other', route_prefix: '/other', deployments: [{ name: 'C', handler: './c.ts' }] },
  ];
}

function plan(apps: AppInput[]) {
  return compilePlanSync(makeSpec(dir, apps));
}

/** `app.Deployment` -> [action, reasons] for compact expectations. */
function flat(diff: PlanDiff): Record<string, [string, string[]]> {
  const out: Record<string, [string, string[]]> = {};
  for (const app of diff.applications) {
    out[app.name] = [app.action, [...(app.reasons ?? [])]];
    for (const d of app.deployments) out[`${app.name}.${d.name}`] = [d.action, [...d.reasons]];
  }
  return out;
}

type Edit = (apps: AppInput[]) => void;
const dep = (apps: AppInput[], app: number, d: number) => apps[app]!.deployments[d]!;

const cases: Array<[string, Edit, Record<string, [string, string[]]>]> = [
  ['nothing changed: everything listed unchanged', () => {}, {
    text: ['unchanged', []], 'text.A': ['unchanged', []], 'text.B': ['unchanged', []],
    other: ['unchanged', []], 'other.C': ['unchanged', []],
  }],
  ['args change restarts', (a) => { dep(a, 0, 0).args = { x: 2 }; }, { text: ['update', []], 'text.A': ['restart', ['args']] }],
  ['env change restarts', (a) => { dep(a, 0, 0).env = { LOG: 'debug' }; }, { 'text.A': ['restart', ['env']] }],
  ['bindings change restarts', (a) => { dep(a, 0, 0).bindings = { b: 'B', c: 'app:other' }; }, { 'text.A': ['restart', ['bindings']] }],
  ['handler path change restarts', (a) => { dep(a, 0, 1).handler = './c.ts'; }, { 'text.B': ['restart', ['handler path ./b.ts -> ./c.ts']] }],
  ['handler export change restarts', (a) => { dep(a, 0, 0).handler = './a.ts#Named'; }, { 'text.A': ['restart', ['handler export default -> Named']] }],
  ['absolute path to the same file is no change', (a) => { dep(a, 0, 1).handler = join(dir, 'b.ts'); }, { 'text.B': ['unchanged', []] }],
  ['user_config change reconfigures', (a) => { dep(a, 0, 1).user_config = { threshold: 0.9 }; }, { 'text.B': ['reconfigure', ['user_config']] }],
  ['user_config added reconfigures', (a) => { dep(a, 1, 0).user_config = 1; }, { 'other.C': ['reconfigure', ['user_config']] }],
  ['num_replicas change scales', (a) => { dep(a, 0, 1).num_replicas = 3; }, { 'text.B': ['scale', ['num_replicas 1 -> 3']] }],
  ['fixed to auto scales', (a) => { dep(a, 0, 1).num_replicas = 'auto'; }, { 'text.B': ['scale', ['num_replicas 1 -> auto']] }],
  ['limits and timeouts scale, each named', (a) => {
    Object.assign(dep(a, 1, 0), { max_ongoing_requests: 10, max_queued_requests: 100, health_check_period_s: 5, health_check_timeout_s: 15, graceful_shutdown_timeout_s: 2 });
  }, { 'other.C': ['scale', [
    'max_ongoing_requests 5 -> 10', 'max_queued_requests -1 -> 100', 'health_check_period_s 10 -> 5',
    'health_check_timeout_s 30 -> 15', 'graceful_shutdown_timeout_s 20 -> 2',
  ]] }],
  ['restart wins over reconfigure and scale, every reason listed', (a) => {
    Object.assign(dep(a, 0, 1), { args: [1], user_config: { threshold: 1 }, num_replicas: 2, max_ongoing_requests: 8 });
  }, { 'text.B': ['restart', ['args', 'user_config', 'num_replicas 1 -> 2', 'max_ongoing_requests 5 -> 8']] }],
  ['reconfigure wins over scale', (a) => {
    Object.assign(dep(a, 0, 1), { user_config: null, num_replicas: 0 });
  }, { 'text.B': ['reconfigure', ['user_config', 'num_replicas 1 -> 0']] }],
  ['route_prefix change updates the app only', (a) => { a[1]!.route_prefix = null; }, {
    other: ['update', ['route_prefix /other -> null']], 'other.C': ['unchanged', []],
  }],
  ['ingress change updates the app', (a) => { a[0]!.ingress = 'B'; }, { text: ['update', ['ingress A -> B']], 'text.A': ['unchanged', []] }],
  ['new deployment is created, removed one deleted (after the kept ones)', (a) => {
    a[0]!.deployments = [{ name: 'New', handler: './c.ts' }, a[0]!.deployments[0]!];
    a[0]!.deployments[1]!.bindings = {};
  }, { text: ['update', []], 'text.New': ['create', []], 'text.A': ['restart', ['bindings']], 'text.B': ['delete', []] }],
  ['new app is created with its deployments', (a) => { a.push({ name: 'fresh', route_prefix: '/fresh', deployments: [{ name: 'F', handler: './b.ts' }] }); }, {
    fresh: ['create', []], 'fresh.F': ['create', []],
  }],
  ['removed app is deleted with its deployments', (a) => { a.splice(1, 1); }, { other: ['delete', []], 'other.C': ['delete', []] }],
  ['binding to another app follows its ingress', (a) => {
    dep(a, 0, 0).bindings = { b: 'B', c: 'app:other' };
  }, { 'text.A': ['restart', ['bindings']], 'other.C': ['unchanged', []] }],
];

for (const [name, edit, expected] of cases) {
  t.test(name, async (t) => {
    const next = base();
    edit(next);
    const got = flat(diffPlans(plan(base()), plan(next)));
    for (const [key, want] of Object.entries(expected)) t.same(got[key], want, key);
  });
}

t.test('an autoscaling change names each field', async (t) => {
  const old = base();
  dep(old, 0, 1).num_replicas = 'auto';
  const next = base();
  dep(next, 0, 1).num_replicas = 'auto';
  dep(next, 0, 1).autoscaling_config = { max_replicas: 5, target_ongoing_requests: 4 };
  t.same(flat(diffPlans(plan(old), plan(next)))['text.B'], ['scale', [
    'autoscaling_config.max_replicas 100 -> 5', 'autoscaling_config.target_ongoing_requests 2 -> 4',
  ]]);
});

t.test('the ingress of a bound app changing restarts the deployments bound to it', async (t) => {
  const old = base();
  dep(old, 0, 0).bindings = { c: 'app:other' };
  const next = base();
  dep(next, 0, 0).bindings = { c: 'app:other' };
  next[1]!.deployments.push({ name: 'D', handler: './b.ts' });
  next[1]!.ingress = 'D';
  const got = flat(diffPlans(plan(old), plan(next)));
  t.same(got['text.A'], ['restart', ['bindings']]);
  t.same(got.other, ['update', ['ingress C -> D']]);
  t.same(got['other.D'], ['create', []]);
});

t.test('no old Plan: every app and deployment is created', async (t) => {
  t.same(diffPlans(undefined, plan(base())), {
    applications: [
      { name: 'text', action: 'create', deployments: [{ name: 'A', action: 'create', reasons: [] }, { name: 'B', action: 'create', reasons: [] }] },
      { name: 'other', action: 'create', deployments: [{ name: 'C', action: 'create', reasons: [] }] },
    ],
  });
});

t.test('order: apps and deployments in the new spec order, then the deleted ones', async (t) => {
  const old = base();
  old.push({ name: 'gone', deployments: [{ name: 'G', handler: './b.ts' }] });
  const next = base().reverse();
  next[1]!.deployments.reverse();
  const diff = diffPlans(plan(old), plan(next));
  t.same(diff.applications.map((a) => a.name), ['other', 'text', 'gone']);
  t.same(diff.applications[1]!.deployments.map((d) => d.name), ['B', 'A']);
});

t.test('Plan JSON: reasons on an app only when it has its own; JSON round-trips', async (t) => {
  const next = base();
  dep(next, 0, 1).num_replicas = 3;
  const diff = diffPlans(plan(base()), plan(next));
  t.same(JSON.parse(JSON.stringify(diff)).applications[0], {
    name: 'text',
    action: 'update',
    deployments: [{ name: 'A', action: 'unchanged', reasons: [] }, { name: 'B', action: 'scale', reasons: ['num_replicas 1 -> 3'] }],
  });
});

t.test('on disk: a transitively imported helper change restarts, naming the module; node_modules is not hashed', async (t) => {
  const old = plan(base());
  writeTree(dir, { 'node_modules/lodash/index.js': 'module.exports = 2' });
  t.same(flat(diffPlans(old, plan(base())))['text.A'], ['unchanged', []], 'node_modules edit');
  writeTree(dir, { 'lib/util.ts': `import 'lodash'; export const u = 2;` });
  const next = plan(base());
  t.same(flat(diffPlans(old, next))['text.A'], ['restart', ['imported module changed: lib/util.ts']]);
  t.same(flat(diffPlans(old, next))['text.B'], ['unchanged', []]);
  writeTree(dir, { 'a.ts': `import { u } from './lib/util'; import './lib/extra'; export default class A2 {} export class Named {}`, 'lib/extra.ts': '' });
  t.same(flat(diffPlans(next, plan(base())))['text.A'], ['restart', ['handler file changed', 'imported module added: lib/extra.ts']]);
});

t.test('diffPlans is pure: it does not touch its inputs', async (t) => {
  const a = plan(base());
  const b = plan(base());
  const before = JSON.stringify(a.applications);
  diffPlans(a, b);
  t.equal(JSON.stringify(a.applications), before);
  t.ok(Object.isFrozen(a) && Object.isFrozen(b));
});
