import { rmSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { compilePlan, compilePlanSync, splitHandler } from '../../src/compile/compile.ts';
import { SourceCache } from '../../src/compile/source-cache.ts';
import { SwitchyardError } from '../../src/errors.ts';
import { makeSpec, tempTree, writeTree } from './make-spec.ts';

const files = {
  'front.ts': `import { util } from './lib/util'; export default class Front {}`,
  'models/model.ts': `import { util } from '../lib/util.js'; export class Model {} export class Other {}`,
  'pre.ts': `import { util } from './lib/util'; import 'yaml'; export default {}`,
  'lib/util.ts': `import './constants'; export const util = 1;`,
  'lib/constants.ts': 'export const K = 1;',
  'back.ts': 'export default class Back {}',
};

function fixture(t: Test) {
  const dir = tempTree(files);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const spec = makeSpec(dir, [
    {
      name: 'text',
      route_prefix: '/text',
      ingress: 'Front',
      deployments: [
        { name: 'Front', handler: './front.ts', bindings: { model: 'Model', pre: 'Pre', back: 'app:back' } },
        { name: 'Model', handler: './models/model.ts#Model', num_replicas: 3, args: { size: 'small' } },
        { name: 'Pre', handler: `${dir}/pre.ts`, num_replicas: 'auto', autoscaling_config: { max_replicas: 7 } },
      ],
    },
    { name: 'back', route_prefix: null, deployments: [{ name: 'Back', handler: './back.ts', user_config: { t: 1 } }] },
    { name: 'root', deployments: [{ name: 'Root', handler: './back.ts#default', autoscaling_config: { min_replicas: 0, max_replicas: 2 } }] },
  ]);
  return { dir, spec };
}

t.test('ids, handler paths, export names and bindings are resolved', async (t) => {
  const { dir, spec } = fixture(t);
  const plan = await compilePlan(spec);
  const front = plan.deployments.get('text#Front')!;
  t.equal(front.handler_path, join(dir, 'front.ts'));
  t.equal(front.export_name, undefined);
  t.same(front.bindings, { model: 'text#Model', pre: 'text#Pre', back: 'back#Back' });
  const model = plan.deployments.get('text#Model')!;
  t.equal(model.handler_path, join(dir, 'models/model.ts'));
  t.equal(model.export_name, 'Model');
  t.same(model.args, { size: 'small' });
  t.equal(plan.deployments.get('text#Pre')!.handler_path, join(dir, 'pre.ts'));
  t.equal(plan.deployments.get('root#Root')!.export_name, undefined);
  t.same(plan.applications.map((a) => [a.name, a.ingress, a.route_prefix]), [
    ['text', 'text#Front', '/text'],
    ['back', 'back#Back', null],
    ['root', 'root#Root', '/'],
  ]);
  t.equal(plan.base_dir, dir);
});

t.test('scaling: integer is fixed, auto and autoscaling_config are autoscaled over the defaults', async (t) => {
  const { spec } = fixture(t);
  const plan = compilePlanSync(spec);
  t.same(plan.deployments.get('text#Model')!.scaling, { kind: 'fixed', replicas: 3 });
  const pre = plan.deployments.get('text#Pre')!.scaling;
  t.equal(pre.kind, 'auto');
  if (pre.kind === 'auto') {
    t.equal(pre.config.max_replicas, 7);
    t.equal(pre.config.min_replicas, 1);
    t.equal(pre.config.initial_replicas, 1);
    t.equal(pre.config.target_ongoing_requests, 2);
    t.equal(pre.config.downscale_to_zero_delay_s, pre.config.downscale_delay_s);
  }
  const root = plan.deployments.get('root#Root')!.scaling;
  t.same(root.kind === 'auto' && [root.config.min_replicas, root.config.max_replicas, root.config.initial_replicas], [0, 2, 0]);
});

t.test('code files are the handler and its local imports, not node_modules or bare packages', async (t) => {
  const { dir, spec } = fixture(t);
  writeTree(dir, { 'node_modules/yaml/index.js': 'export default 1' });
  const plan = compilePlanSync(spec);
  const pre = plan.deployments.get('text#Pre')!;
  t.same(pre.code_files, [join(dir, 'lib/constants.ts'), join(dir, 'lib/util.ts'), join(dir, 'pre.ts')]);
  t.same(Object.keys(pre.code_hashes), pre.code_files);
});

t.test('routes, start order and the deployment map are in the Plan', async (t) => {
  const { spec } = fixture(t);
  const plan = compilePlanSync(spec);
  t.same(plan.routes.map((r) => [r.prefix, r.app, r.ingress]), [['/text', 'text', 'text#Front'], ['/', 'root', 'root#Root']]);
  t.same(plan.start_order, ['text#Model', 'text#Pre', 'back#Back', 'text#Front', 'root#Root']);
  t.same([...plan.deployments.keys()], ['text#Front', 'text#Model', 'text#Pre', 'back#Back', 'root#Root']);
});

t.test('the Plan is deep-frozen, its Map included', async (t) => {
  const { spec } = fixture(t);
  const plan = compilePlanSync(spec);
  t.ok(Object.isFrozen(plan));
  t.ok(Object.isFrozen(plan.applications[0]!.deployments[0]!.versions));
  t.ok(Object.isFrozen(plan.deployments.get('text#Front')!.bindings));
  t.ok(Object.isFrozen(plan.start_order));
  t.throws(() => (plan.deployments as Map<string, unknown>).set('x', 1), TypeError);
  t.throws(() => (plan.deployments as Map<string, unknown>).delete('text#Front'), TypeError);
  t.equal(plan.deployments.size, 5);
});

t.test('every shared file is read once per compile', async (t) => {
  const { spec } = fixture(t);
  const cache = new SourceCache();
  await compilePlan(spec, { cache });
  // front, model, pre, util, constants, back (shared by two deployments)
  t.equal(cache.reads, 6);
});

t.test('async and sync compiles agree, and compiles are deterministic', async (t) => {
  const { spec } = fixture(t);
  const a = await compilePlan(spec);
  const b = compilePlanSync(spec);
  t.same([...a.deployments.values()].map((d) => d.versions), [...b.deployments.values()].map((d) => d.versions));
});

t.test('versions: user_config none, hex hashes, and args key order does not matter', async (t) => {
  const dir = tempTree({ 'h.ts': '' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const mk = (args: unknown) =>
    compilePlanSync(makeSpec(dir, [{ name: 'a', deployments: [{ name: 'H', handler: './h.ts', args: args as never }] }])).deployments.get('a#H')!;
  const one = mk({ a: 1, b: { c: 2, d: 3 } });
  const two = mk({ b: { d: 3, c: 2 }, a: 1 });
  t.equal(one.versions.user_config, 'none');
  t.match(one.versions.code, /^[0-9a-f]{16}$/);
  t.match(one.versions.scale, /^[0-9a-f]{16}$/);
  t.equal(one.versions.code, two.versions.code);
  t.not(mk({ a: 2 }).versions.code, one.versions.code);
  t.not(mk(null).versions.code, mk(undefined).versions.code);
});

t.test('a handler file that vanished since validation is a spec error naming it', async (t) => {
  const dir = tempTree({});
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const spec = makeSpec(dir, [{ name: 'a', deployments: [{ name: 'H', handler: './gone.ts' }] }]);
  await t.rejects(compilePlan(spec), { constructor: SwitchyardError, code: 'spec_invalid', message: /applications\[0\]\.deployments\[0\]\.handler: handler file not found: .*gone\.ts/ });
});

t.test('splitHandler takes the export after the last #', async (t) => {
  t.same(splitHandler('./m.ts'), { path: './m.ts', exportName: undefined });
  t.same(splitHandler('./m.ts#Model'), { path: './m.ts', exportName: 'Model' });
  t.same(splitHandler('./m.ts#default'), { path: './m.ts', exportName: undefined });
  t.same(splitHandler('./a#b/m.ts#X'), { path: './a#b/m.ts', exportName: 'X' });
  t.same(splitHandler('./a#b/m.ts'), { path: './a#b/m.ts', exportName: undefined });
});
