/**
 * The hot-swap rules of CONTRACT section 5, end to end through the admin API of a real gateway:
 * what each kind of spec change does to the replica processes (by pid) and to behaviour.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { sleep, startGateway, tempDir } from '../helpers/gateway.ts';
import { planProblems } from '../helpers/plan-schema.ts';
import { admin, get, pidsOf, replicasOf, settled, waitDead } from './control-plane-lib.ts';

const greeter = (tag: string): string => `
let reconfigures = 0;
export default class Greeter {
  constructor({ args }) { this.greeting = args.greeting; this.suffix = '?'; }
  reconfigure(config) { reconfigures++; this.suffix = config.suffix; }
  fetch() { return { text: this.greeting + this.suffix, tag: '${tag}', pid: process.pid, reconfigures }; }
}
`;

const OTHER = `export default { fetch() { return 'other'; } };\n`;

interface Shape { greeting?: string; suffix?: string; replicas?: number; withOther?: boolean }

function spec({ greeting = 'hello', suffix = '!', replicas = 1, withOther = true }: Shape = {}): string {
  return `applications:
  - name: a
    route_prefix: /a
    deployments:
      - name: Greeter
        handler: ./greeter.mjs
        args: { greeting: ${greeting} }
        user_config: { suffix: '${suffix}' }
        num_replicas: ${replicas}
${withOther ? `  - name: b
    route_prefix: /b
    deployments:
      - name: Other
        handler: ./other.mjs
` : ''}`;
}

/** The same spec as JSON: the admin API takes either. */
function specJson(shape: Shape): string {
  const s = { greeting: 'hello', suffix: '!', replicas: 1, withOther: true, ...shape };
  return JSON.stringify({
    applications: [
      { name: 'a', route_prefix: '/a', deployments: [{ name: 'Greeter', handler: './greeter.mjs', args: { greeting: s.greeting }, user_config: { suffix: s.suffix }, num_replicas: s.replicas }] },
      ...(s.withOther ? [{ name: 'b', route_prefix: '/b', deployments: [{ name: 'Other', handler: './other.mjs' }] }] : []),
    ],
  });
}

t.test('each kind of change touches exactly what the hot-swap rules say', async (t) => {
  const dir = tempDir({ 'greeter.mjs': greeter('v1'), 'other.mjs': OTHER, 'serve.yaml': spec() });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const put = async (body: string, type = 'application/yaml') => {
    const res = await admin(gw, 'PUT', '/api/serve/applications/', { body, type });
    t.equal(res.status, 200, res.status === 200 ? 'PUT answered 200' : res.text);
    t.same(planProblems(res.json), [], 'the PUT answer matches schemas/plan.schema.json');
    return res.json;
  };
  const rolled = (what: string) => gw.waitFor((s) => settled(s, 'a') && settled(s, 'b'), 20_000, what);

  const s0 = await gw.status();
  const first = pidsOf(s0, 'a', 'Greeter');
  t.equal(first.length, 1);
  t.match((await get(gw, '/a')).json, { text: 'hello!', tag: 'v1', reconfigures: 1 });

  await t.test('POST /api/serve/plan returns the plan and changes nothing', async (t) => {
    const res = await admin(gw, 'POST', '/api/serve/plan', { body: spec({ suffix: '?!', replicas: 3, withOther: false }) });
    t.equal(res.status, 200);
    t.same(planProblems(res.json), []);
    t.same(res.json, { applications: [
      { name: 'a', action: 'update', deployments: [{ name: 'Greeter', action: 'reconfigure', reasons: ['user_config', 'num_replicas 1 -> 3'] }] },
      { name: 'b', action: 'delete', deployments: [{ name: 'Other', action: 'delete', reasons: [] }] },
    ] });
    await sleep(300);
    const now = await gw.status();
    t.same(replicasOf(now, 'a', 'Greeter'), replicasOf(s0, 'a', 'Greeter'), 'same replicas, versions, pids');
    t.same(replicasOf(now, 'b', 'Other'), replicasOf(s0, 'b', 'Other'), 'the app it would delete still runs');
    t.match((await get(gw, '/a')).json, { text: 'hello!', reconfigures: 1 });
    t.equal((await get(gw, '/b')).text, 'other');
  });

  await t.test('an unchanged re-apply touches nothing and the plan is all unchanged', async (t) => {
    const plan = await put(specJson({}), 'application/json');
    t.same(plan, { applications: [
      { name: 'a', action: 'unchanged', deployments: [{ name: 'Greeter', action: 'unchanged', reasons: [] }] },
      { name: 'b', action: 'unchanged', deployments: [{ name: 'Other', action: 'unchanged', reasons: [] }] },
    ] });
    await sleep(300);
    const now = await gw.status();
    t.same(replicasOf(now, 'a', 'Greeter'), replicasOf(s0, 'a', 'Greeter'));
    t.same(replicasOf(now, 'b', 'Other'), replicasOf(s0, 'b', 'Other'));
    t.match((await get(gw, '/a')).json, { reconfigures: 1 }, 'reconfigure() not called again');
  });

  await t.test('user_config change: reconfigure() on the same pids, new behaviour at once after the rollout', async (t) => {
    const plan = await put(spec({ suffix: '!!' }));
    t.same(plan.applications[0].deployments, [{ name: 'Greeter', action: 'reconfigure', reasons: ['user_config'] }]);
    t.equal(plan.applications[1].action, 'unchanged');
    await rolled('reconfigure rolled');
    t.same(pidsOf(await gw.status(), 'a', 'Greeter'), first, 'same pids');
    t.match((await get(gw, '/a')).json, { text: 'hello!!', reconfigures: 2, pid: first[0] });
  });

  let three: number[] = [];
  await t.test('num_replicas 1 -> 3 keeps the first pid and adds two', async (t) => {
    const plan = await put(spec({ suffix: '!!', replicas: 3 }));
    t.same(plan.applications[0].deployments, [{ name: 'Greeter', action: 'scale', reasons: ['num_replicas 1 -> 3'] }]);
    const s = await rolled('scaled to 3');
    three = pidsOf(s, 'a', 'Greeter');
    t.equal(three.length, 3);
    t.ok(three.includes(first[0]!), 'the first replica kept its process');
  });

  await t.test('args change: every replica is replaced by a new process', async (t) => {
    const plan = await put(spec({ greeting: 'hi', suffix: '!!', replicas: 3 }));
    t.same(plan.applications[0].deployments, [{ name: 'Greeter', action: 'restart', reasons: ['args'] }]);
    const s = await gw.waitFor((s) => settled(s, 'a') && pidsOf(s, 'a', 'Greeter').every((p) => !three.includes(p)), 20_000, 'restart rolled');
    const pids = pidsOf(s, 'a', 'Greeter');
    t.equal(pids.length, 3);
    t.same(await waitDead(three), [], 'the old processes exited');
    t.match((await get(gw, '/a')).json, { text: 'hi!!', tag: 'v1' });
    three = pids;
  });

  await t.test('handler file change: a re-apply of the same spec restarts every replica on the new code', async (t) => {
    writeFileSync(`${dir}/greeter.mjs`, greeter('v2'));
    const plan = await put(spec({ greeting: 'hi', suffix: '!!', replicas: 3 }));
    t.same(plan.applications[0].deployments, [{ name: 'Greeter', action: 'restart', reasons: ['handler file changed'] }]);
    const s = await gw.waitFor((s) => settled(s, 'a') && pidsOf(s, 'a', 'Greeter').every((p) => !three.includes(p)), 20_000, 'restart rolled');
    t.equal(pidsOf(s, 'a', 'Greeter').length, 3);
    t.same(await waitDead(three), []);
    for (let i = 0; i < 5; i++) t.match((await get(gw, '/a')).json, { text: 'hi!!', tag: 'v2' });
  });

  await t.test('an app dropped from the spec is stopped and its route is gone', async (t) => {
    const other = pidsOf(await gw.status(), 'b', 'Other');
    t.equal(other.length, 1);
    const plan = await put(spec({ greeting: 'hi', suffix: '!!', replicas: 3, withOther: false }));
    t.same(plan.applications.find((a: any) => a.name === 'b'), { name: 'b', action: 'delete', deployments: [{ name: 'Other', action: 'delete', reasons: [] }] });
    await gw.waitFor((s) => !('b' in s.applications), 15_000, 'app b gone from status');
    t.same(await waitDead(other), [], 'its replica process exited');
    const res = await get(gw, '/b');
    t.equal(res.status, 404);
    t.match(res.json, { error: 'no_route' });
    const routes = await (await fetch(`${gw.http}/-/routes`, { signal: AbortSignal.timeout(5_000) })).json();
    t.same(routes, { '/a': 'a' });
    t.equal((await get(gw, '/a')).status, 200, 'the other app kept serving');
  });
});
