/**
 * The admin API of CONTRACT section 5 end to end: every route with the token right, wrong and
 * missing; YAML and JSON bodies; the 400 bodies; refused static config; a bad new version that
 * leaves the old one serving; metrics after traffic; shutdown.
 */
import t from 'tap';
import { childPids, sleep, startGateway, tempDir } from '../helpers/gateway.ts';
import { planProblems } from '../helpers/plan-schema.ts';
import { statusProblems } from '../helpers/status-schema.ts';
import { admin, get, pidsOf, replicasOf, settled, waitDead } from './control-plane-lib.ts';

const TOKEN = 's3cret-token';

const HELLO = `export default class Hello {
  constructor({ args }) { this.greeting = args.greeting; }
  fetch() { return this.greeting; }
}
`;
const BROKEN = `export default class Broken {
  constructor() { throw new Error('model weights missing'); }
  fetch() { return 'never'; }
}
`;

const spec = (greeting: string, handler = './hello.mjs', head = ''): string => `${head}applications:
  - name: hello
    route_prefix: /hello
    deployments:
      - name: Hello
        handler: ${handler}
        args: { greeting: ${greeting} }
`;

t.test('admin API with a token', async (t) => {
  const dir = tempDir({ 'hello.mjs': HELLO, 'broken.mjs': BROKEN, 'serve.yaml': spec('hello') });
  const gw = await startGateway(`${dir}/serve.yaml`, { env: { SWITCHYARD_ADMIN_TOKEN: TOKEN } });
  t.teardown(() => gw.stop());
  const authed = (method: string, path: string, init: { body?: string; type?: string } = {}) => admin(gw, method, path, { ...init, token: TOKEN });

  await t.test('every route refuses a missing or wrong token with 401 and changes nothing', async (t) => {
    const before = replicasOf(await gw.status(), 'hello', 'Hello');
    const routes: Array<[string, string, string?]> = [
      ['GET', '/api/serve/applications/'], ['PUT', '/api/serve/applications/', spec('changed')], ['DELETE', '/api/serve/applications/'],
      ['POST', '/api/serve/plan', spec('changed')], ['GET', '/api/serve/config'], ['POST', '/api/serve/shutdown'], ['GET', '/metrics'],
    ];
    for (const [method, path, body] of routes) {
      for (const token of [undefined, 'wrong-token', `${TOKEN}x`]) {
        const res = await admin(gw, method, path, { ...(body !== undefined && { body }), ...(token !== undefined && { token }) });
        t.equal(res.status, 401, `${method} ${path} with ${token ?? 'no'} token`);
        t.match(res.json, { error: 'unauthorized' });
        t.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
    }
    t.same(replicasOf(await gw.status(), 'hello', 'Hello'), before, 'nothing changed, nothing stopped');
    t.equal((await get(gw, '/hello')).text, 'hello');
  });

  await t.test('GET status and config with the right token', async (t) => {
    const status = await authed('GET', '/api/serve/applications/');
    t.equal(status.status, 200);
    t.same(statusProblems(status.json), []);
    t.match(status.json, { applications: { hello: { status: 'RUNNING', route_prefix: '/hello', deployments: { Hello: { status: 'HEALTHY', target_replicas: 1 } } } } });
    const config = await authed('GET', '/api/serve/config');
    t.equal(config.status, 200);
    t.match(config.headers.get('content-type'), /^application\/yaml/);
    t.match(config.text, /^applications:\n {2}- name: hello\n {4}route_prefix: \/hello\n/m);
    t.match(config.text, /greeting: hello/);
    t.match(config.text, /max_ongoing_requests: 5/, 'defaults filled in');
  });

  await t.test('an invalid spec: 400 spec_invalid with <request>:LINE:COL problems, nothing changes', async (t) => {
    const before = replicasOf(await gw.status(), 'hello', 'Hello');
    const yaml = `applications:
  - name: hello
    route_prefix: /hello
    deployments:
      - name: Hello
        handler: ./hello.mjs
        num_replica: 2
        max_ongoing_requests: 0
`;
    for (const [method, path] of [['PUT', '/api/serve/applications/'], ['POST', '/api/serve/plan']] as const) {
      const res = await authed(method, path, { body: yaml });
      t.equal(res.status, 400, `${method} ${path}`);
      t.same(res.json, {
        error: 'spec_invalid',
        message: 'The spec is invalid (2 problems); nothing changed.',
        problems: [
          '<request>:7:9: applications[0].deployments[0].num_replica: unknown key "num_replica" (did you mean "num_replicas"?)',
          '<request>:8:31: applications[0].deployments[0].max_ongoing_requests: must be an integer >= 1',
        ],
      });
    }
    const json = await authed('PUT', '/api/serve/applications/', { body: '{"applications": [{"name": "x", "deployments": []}]}', type: 'application/json' });
    t.equal(json.status, 400);
    t.equal(json.json.error, 'spec_invalid');
    t.match(json.json.problems[0], /^<request>:1:\d+: applications\[0\]\.deployments: /);
    const garbage = await authed('PUT', '/api/serve/applications/', { body: 'applications: [\n' });
    t.equal(garbage.status, 400);
    t.match(garbage.json.problems[0], /^<request>:\d+:\d+: /);
    t.same(replicasOf(await gw.status(), 'hello', 'Hello'), before);
  });

  await t.test('changes to http_options or admin are refused with 400 and nothing changes', async (t) => {
    const before = replicasOf(await gw.status(), 'hello', 'Hello');
    for (const [head, key] of [['http_options: { port: 9123 }\n', 'http_options'], ['admin: { port: 9124 }\n', 'admin'], ['http_options: { request_timeout_s: 5 }\n', 'http_options']]) {
      for (const [method, path] of [['PUT', '/api/serve/applications/'], ['POST', '/api/serve/plan']] as const) {
        const res = await authed(method, path, { body: spec('changed', './hello.mjs', head) });
        t.equal(res.status, 400, `${method} ${path} ${key}`);
        t.equal(res.json.error, 'static_config_changed');
        t.match(res.json.message, new RegExp(`^${key} cannot change while the gateway runs .*Nothing changed\\.$`));
      }
    }
    await sleep(200);
    t.same(replicasOf(await gw.status(), 'hello', 'Hello'), before);
    t.equal((await get(gw, '/hello')).text, 'hello');
  });

  await t.test('a JSON body applies like YAML; PUT and POST plan answers match the plan schema', async (t) => {
    const body = JSON.stringify({ applications: [{ name: 'hello', route_prefix: '/hello', deployments: [{ name: 'Hello', handler: './hello.mjs', args: { greeting: 'json' } }] }] });
    const plan = await authed('POST', '/api/serve/plan', { body, type: 'application/json' });
    t.equal(plan.status, 200);
    t.same(planProblems(plan.json), []);
    const res = await authed('PUT', '/api/serve/applications/', { body, type: 'application/json' });
    t.equal(res.status, 200);
    t.same(planProblems(res.json), []);
    t.same(res.json, plan.json, 'the applied plan is the planned one');
    t.same(res.json.applications[0].deployments, [{ name: 'Hello', action: 'restart', reasons: ['args'] }]);
    await gw.waitFor((s) => settled(s, 'hello'), 20_000, 'restart rolled');
    const end = Date.now() + 5_000;
    while ((await get(gw, '/hello')).text !== 'json' && Date.now() < end) await sleep(50);
    t.equal((await get(gw, '/hello')).text, 'json');
  });

  await t.test('a new version whose constructor throws leaves the old one serving; a later good apply fixes it', async (t) => {
    const old = pidsOf(await gw.status(), 'hello', 'Hello');
    let stop = false;
    const answers = new Map<string, number>();
    const loop = (async () => {
      while (!stop) {
        const r = await get(gw, '/hello').catch((e) => ({ status: 0, text: String(e) }));
        const key = `${r.status} ${r.text}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
        await sleep(10);
      }
    })();
    const res = await authed('PUT', '/api/serve/applications/', { body: spec('json', './broken.mjs') });
    t.equal(res.status, 200);
    t.same(res.json.applications[0].deployments, [{ name: 'Hello', action: 'restart', reasons: ['handler path ./hello.mjs -> ./broken.mjs'] }]);
    const failed = await gw.waitFor((s) => s.applications.hello?.status === 'DEPLOY_FAILED', 20_000, 'DEPLOY_FAILED');
    await sleep(300);
    stop = true;
    await loop;
    t.same([...answers.keys()], ['200 json'], `only 200s from the old version during the failed deploy: ${JSON.stringify([...answers])}`);
    const d = failed.applications.hello.deployments.Hello;
    t.equal(d.status, 'DEPLOY_FAILED');
    t.match(d.message, /Error: model weights missing/);
    t.match(failed.applications.hello.message, /^Hello: .*model weights missing/);
    t.same(pidsOf(await gw.status(), 'hello', 'Hello'), old, 'the old replica still runs');

    const fixed = await authed('PUT', '/api/serve/applications/', { body: spec('fixed') });
    t.equal(fixed.status, 200);
    await gw.waitFor((s) => settled(s, 'hello') && pidsOf(s, 'hello', 'Hello').every((p) => !old.includes(p)), 20_000, 'the good apply rolled out');
    t.equal((await get(gw, '/hello')).text, 'fixed');
    const status = await gw.status();
    t.equal(status.applications.hello.status, 'RUNNING');
    t.equal(status.applications.hello.deployments.Hello.message, '');
  });

  await t.test('GET /metrics: requests and latency per deployment, replicas per state', async (t) => {
    for (let i = 0; i < 5; i++) t.equal((await get(gw, '/hello')).status, 200);
    const res = await authed('GET', '/metrics');
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^text\/plain/);
    const value = (re: RegExp): number => Number(re.exec(res.text)?.[1] ?? NaN);
    t.ok(value(/^switchyard_requests(?:_total)?\{app="hello",deployment="Hello",status="200"\} (\d+)/m) >= 5, 'request counter per deployment and status');
    t.ok(value(/^switchyard_request_duration_seconds_count\{app="hello",deployment="Hello"\} (\d+)/m) >= 5, 'latency histogram per deployment');
    t.match(res.text, /^switchyard_request_duration_seconds_bucket\{app="hello",deployment="Hello",le="0\.005"\} \d+/m);
    t.equal(value(/^switchyard_replicas\{app="hello",deployment="Hello",state="RUNNING"\} (\d+)/m), 1, 'replicas per state');
    t.equal(value(/^switchyard_replicas\{app="hello",deployment="Hello",state="STARTING"\} (\d+)/m), 0);
  });

  await t.test('unknown routes are 404 and wrong methods 405, with the JSON error body', async (t) => {
    const nf = await authed('GET', '/api/serve/nothing');
    t.equal(nf.status, 404);
    t.match(nf.json, { error: 'not_found' });
    const na = await authed('POST', '/api/serve/config');
    t.equal(na.status, 405);
    t.match(na.json, { error: 'method_not_allowed' });
    t.equal(na.headers.get('allow'), 'GET');
  });

  await t.test('DELETE removes every application', async (t) => {
    const pids = pidsOf(await gw.status(), 'hello', 'Hello');
    const res = await authed('DELETE', '/api/serve/applications/');
    t.equal(res.status, 200);
    t.same(planProblems(res.json), []);
    t.same(res.json, { applications: [{ name: 'hello', action: 'delete', deployments: [{ name: 'Hello', action: 'delete', reasons: [] }] }] });
    await gw.waitFor((s) => Object.keys(s.applications).length === 0, 15_000, 'no applications');
    t.same(await waitDead(pids), []);
    t.equal((await get(gw, '/hello')).status, 404);
    t.match((await authed('GET', '/api/serve/config')).text, /^applications: \[\]$/m);
  });

  await t.test('POST /api/serve/shutdown answers, then stops the gateway and every replica', async (t) => {
    const res = await authed('PUT', '/api/serve/applications/', { body: spec('again') });
    t.equal(res.status, 200);
    await gw.waitFor((s) => settled(s, 'hello'), 20_000, 'running again');
    const replicas = await childPids(gw.child.pid!);
    t.ok(replicas.length >= 1);
    const down = await authed('POST', '/api/serve/shutdown');
    t.equal(down.status, 200);
    t.same(down.json, { status: 'shutting down' });
    const code = await new Promise<number | null>((resolve) => {
      if (gw.child.exitCode !== null) return resolve(gw.child.exitCode);
      const timer = setTimeout(() => resolve(-1), 20_000);
      gw.child.once('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    t.equal(code, 0, 'the gateway exited 0');
    t.same(await waitDead(replicas, 5_000), [], 'no replica left');
  });
});
