/**
 * `switchyard apply` / `deploy` and `diff` against a real gateway, through the built CLI: the
 * plan and progress it prints, its exit codes, and handler paths resolved against FILE's
 * directory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import t from 'tap';
import { startGateway, tempDir } from '../helpers/gateway.ts';
import { planProblems } from '../helpers/plan-schema.ts';
import { cli, get, pidsOf, replicasOf, settled } from './control-plane-lib.ts';

const HELLO = `export default class Hello {
  constructor({ args }) { this.greeting = args.greeting; this.suffix = ''; }
  reconfigure(c) { this.suffix = c.suffix; }
  fetch() { return this.greeting + this.suffix; }
}
`;
const BROKEN = `export default class Broken {
  constructor() { throw new Error('model weights missing'); }
}
`;

const spec = (o: { greeting?: string; replicas?: number; suffix?: string; handler?: string; head?: string } = {}): string => `${o.head ?? ''}applications:
  - name: hello
    route_prefix: /
    deployments:
      - name: Hello
        handler: ${o.handler ?? './hello.mjs'}
        args: { greeting: ${o.greeting ?? 'hello'} }
        user_config: { suffix: '${o.suffix ?? ''}' }
        num_replicas: ${o.replicas ?? 1}
`;

t.test('apply and diff against a running gateway', async (t) => {
  const dir = tempDir({ 'hello.mjs': HELLO, 'broken.mjs': BROKEN, 'serve.yaml': spec() });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const env = { SWITCHYARD_ADDRESS: gw.admin };
  const write = (name: string, text: string): string => {
    writeFileSync(`${dir}/${name}`, text);
    return name;
  };

  await t.test('diff FILE asks the gateway and applies nothing; --json matches the plan schema', async (t) => {
    const before = replicasOf(await gw.status(), 'hello', 'Hello');
    const file = write('v-diff.yaml', spec({ greeting: 'hi', replicas: 2 }));
    const r = await cli(['diff', file, '--json'], { cwd: dir, env });
    t.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    t.same(planProblems(plan), []);
    t.same(plan, { applications: [{ name: 'hello', action: 'update', deployments: [{ name: 'Hello', action: 'restart', reasons: ['args', 'num_replicas 1 -> 2'] }] }] });
    const human = await cli(['diff', file, '--address', gw.admin], { cwd: dir });
    t.equal(human.code, 0);
    t.match(human.stdout, /^~ hello: update\n {4}~ Hello +restart +args; num_replicas 1 -> 2\n/);
    t.same(replicasOf(await gw.status(), 'hello', 'Hello'), before, 'nothing changed');
  });

  await t.test('apply prints the plan, then one line per change of progress, and exits 0 when RUNNING', async (t) => {
    const old = pidsOf(await gw.status(), 'hello', 'Hello');
    const r = await cli(['apply', write('v2.yaml', spec({ greeting: 'hi', replicas: 3 }))], { cwd: dir, env });
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    t.same(lines.slice(0, 4), ['~ hello: update', '    ~ Hello  restart      args; num_replicas 1 -> 3', '', 'Plan: applications: 1 update; deployments: 1 restart.']);
    const progress = lines.slice(5, -1);
    t.ok(progress.length >= 2 && progress.length <= 12, `a few progress lines, not a flood:\n${progress.join('\n')}`);
    t.match(progress[0], /^hello\/Hello: restarting \(UPDATING\), [0-3]\/3 new replicas ready$/);
    t.equal(new Set(progress).size, progress.length, 'no line repeated');
    t.equal(progress.at(-1), 'hello/Hello: HEALTHY, 3/3 new replicas ready');
    t.equal(lines.at(-1), 'Applied: hello RUNNING.');
    const s = await gw.status();
    t.ok(settled(s, 'hello'), 'RUNNING when apply returned');
    t.ok(pidsOf(s, 'hello', 'Hello').every((p) => !old.includes(p)), 'all new replicas');
    t.equal((await get(gw, '/')).text, 'hi');
  });

  await t.test('a user_config apply waits until reconfigure() ran everywhere', async (t) => {
    const pids = pidsOf(await gw.status(), 'hello', 'Hello');
    const r = await cli(['apply', write('v3.yaml', spec({ greeting: 'hi', replicas: 3, suffix: '!' }))], { cwd: dir, env });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /~ Hello +reconfigure +user_config/);
    t.match(r.stdout, /Applied: hello RUNNING\.\n$/);
    for (let i = 0; i < 6; i++) t.equal((await get(gw, '/')).text, 'hi!', 'every replica has the new config once apply returned');
    t.same(pidsOf(await gw.status(), 'hello', 'Hello'), pids, 'same processes');
  });

  await t.test('deploy is an alias; --no-wait returns after the plan; --json prints the plan JSON', async (t) => {
    const r = await cli(['deploy', write('v4.yaml', spec({ greeting: 'hey', replicas: 3, suffix: '!' })), '--no-wait'], { cwd: dir, env });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^~ hello: update\n {4}~ Hello +restart +args\n\nPlan: .*\n$/);
    t.notMatch(r.stdout, /Applied/);
    await gw.waitFor((s) => settled(s, 'hello'), 20_000, 'rolled');
    const json = await cli(['apply', 'v4.yaml', '--json'], { cwd: dir, env });
    t.equal(json.code, 0, json.stderr);
    t.same(JSON.parse(json.stdout), { applications: [{ name: 'hello', action: 'unchanged', deployments: [{ name: 'Hello', action: 'unchanged', reasons: [] }] }] });
    t.match(json.stderr, /Applied: hello RUNNING\./, 'progress goes to stderr with --json');
  });

  await t.test('relative handler paths resolve against the FILE\'s directory, whatever the working directory', async (t) => {
    mkdirSync(`${dir}/next`);
    writeFileSync(`${dir}/next/hello2.mjs`, `export default class { reconfigure() {} fetch() { return 'from next/'; } }\n`);
    writeFileSync(`${dir}/next/serve.yaml`, spec({ handler: './hello2.mjs' }));
    const r = await cli(['apply', `${dir}/next/serve.yaml`], { cwd: tmpdir(), env });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /handler path .*hello2\.mjs/);
    t.equal((await get(gw, '/')).text, 'from next/');
  });

  await t.test('an invalid spec prints its problems like validate, exits 1 and changes nothing', async (t) => {
    const before = replicasOf(await gw.status(), 'hello', 'Hello');
    const bad = write('bad.yaml', spec().replace('num_replicas: 1', 'num_replicas: many'));
    const r = await cli(['apply', bad], { cwd: dir, env });
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.match(r.stderr, /^bad\.yaml:9:23: applications\[0\]\.deployments\[0\]\.num_replicas: must be an integer >= 0 or "auto"$/m);
    const missing = await cli(['apply', 'nope.yaml'], { cwd: dir, env });
    t.equal(missing.code, 1);
    t.match(missing.stderr, /nope\.yaml/);
    const staticChange = await cli(['apply', write('static.yaml', spec({ head: 'http_options: { port: 9911 }\n' }))], { cwd: dir, env });
    t.equal(staticChange.code, 1);
    t.match(staticChange.stderr, /^switchyard: the gateway refused static\.yaml: http_options cannot change while the gateway runs/m);
    t.same(replicasOf(await gw.status(), 'hello', 'Hello'), before);
  });

  await t.test('a new version that fails to start: exit 1 with the reason, the old one keeps serving', async (t) => {
    const r = await cli(['apply', write('broken.yaml', spec({ handler: './broken.mjs' }))], { cwd: dir, env });
    t.equal(r.code, 1, r.stdout);
    t.match(r.stderr, /^switchyard: the apply failed: hello: Hello: .*model weights missing/m);
    t.match(r.stdout, /hello\/Hello: DEPLOY_FAILED, 0\/1 new replicas ready: /);
    t.equal((await get(gw, '/')).text, 'from next/', 'the old version still answers');
    const fixed = await cli(['apply', 'serve.yaml'], { cwd: dir, env });
    t.equal(fixed.code, 0, fixed.stderr);
    t.equal((await get(gw, '/')).text, 'hello');
  });

  await t.test('an unreachable gateway: exit 3 with one line', async (t) => {
    await gw.stop();
    const r = await cli(['deploy', 'serve.yaml', '--no-wait'], { cwd: dir, env });
    t.equal(r.code, 3);
    t.equal(r.stderr.trim().split('\n').length, 1);
    t.match(r.stderr, /^switchyard: cannot reach the gateway's admin API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });
});
