/**
 * Supervision end to end, failures and the admin API's guard (CONTRACT sections 4 and 5): a
 * constructor that always throws ends DEPLOY_FAILED with its message, and its requests, queued
 * or new, get 503 `unavailable` at once; with SWITCHYARD_ADMIN_TOKEN every admin call needs the
 * bearer token; a non-loopback admin host without a token is refused at start; `status --json`
 * matches schemas/status.schema.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import t from 'tap';
import { CLI, cleanEnv, startGateway, tempDir } from '../helpers/gateway.ts';
import { statusProblems } from '../helpers/status-schema.ts';
import { request, until } from './supervision-helpers.ts';

const HELLO = `export default class Hello { fetch() { return 'hello'; } }\n`;

t.test('a constructor that always throws: DEPLOY_FAILED with its message; queued requests fail at once with 503', async (t) => {
  const dir = tempDir({
    'broken.mjs': `
export default class Broken {
  constructor() { throw new Error('model file /models/missing.bin not found'); }
  fetch() { return 'never'; }
}
`,
    'hello.mjs': HELLO,
    'serve.yaml': `
http_options: { request_timeout_s: 30 }
applications:
  - name: broken
    route_prefix: /broken
    deployments: [{ name: Broken, handler: ./broken.mjs }]
  - name: fine
    route_prefix: /fine
    deployments: [{ name: Hello, handler: ./hello.mjs }]
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`, { waitRunning: false });
  t.teardown(() => gw.stop());
  // Sent while the first replica starts: they wait in the Proxy's queue.
  const settled: number[] = [];
  const queued = Array.from({ length: 3 }, (_, i) =>
    request(`${gw.http}/broken/q${i}`, { timeoutMs: 40_000 }).then((a) => (settled.push(performance.now()), a)));
  await until(() => /construct failed/.test(gw.log()), 10_000, 'the first start failure');
  t.same(settled, [], 'still queued after the first failed start (the deployment may yet come up)');
  const status = await gw.waitFor((s) => s.applications.broken?.status === 'DEPLOY_FAILED', 20_000, 'broken DEPLOY_FAILED');
  const failedAt = performance.now();
  t.same(statusProblems(status), [], 'status matches the schema');
  const d = status.applications.broken.deployments.Broken;
  t.equal(d.status, 'DEPLOY_FAILED');
  t.match(d.message, /^Replicas failed to start 3 times \(limit 3\); last error: construct failed: Error: model file \/models\/missing\.bin not found/);
  t.same(d.replicas, [], 'no replica left');
  t.match(status.applications.broken.message, /^Broken: Replicas failed to start 3 times.*model file \/models\/missing\.bin not found/);

  const answers = await Promise.all(queued);
  for (const a of answers) {
    t.equal(a.status, 503);
    t.equal(a.json?.error, 'unavailable');
    t.match(a.json?.message, /model file \/models\/missing\.bin not found/, 'the reason reaches the client');
    t.equal(a.headers.get('retry-after'), '1');
  }
  // Failed fast: at DEPLOY_FAILED, not at request_timeout_s (30 s).
  for (const at of settled) t.ok(at - failedAt < 2_000, `answered ${Math.round(at - failedAt)} ms from DEPLOY_FAILED being visible`);
  const fresh = await request(`${gw.http}/broken/x`);
  t.equal(fresh.status, 503, 'a new request: 503 at once');
  t.equal(fresh.json?.error, 'unavailable');
  t.ok(fresh.ms < 1_000, `in ${Math.round(fresh.ms)} ms`);
  t.equal(fresh.headers.get('retry-after'), '1');

  // A failure stays where it happened: the other app serves.
  await gw.waitFor((s) => s.applications.fine?.status === 'RUNNING', 15_000, 'fine RUNNING');
  t.equal((await request(`${gw.http}/fine`)).text, 'hello');
  // No more attempts once failed.
  const starts = (gw.log().match(/replica broken#Broken#\w+ starting/g) ?? []).length;
  t.equal(starts, 3, 'exactly min(3 x 1, 20) attempts');
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal((gw.log().match(/replica broken#Broken#\w+ starting/g) ?? []).length, 3, 'none after DEPLOY_FAILED');
});

t.test('SWITCHYARD_ADMIN_TOKEN: every admin call needs the bearer token; status --json matches the schema', async (t) => {
  const token = 'test-token-5f1c';
  const dir = tempDir({
    'hello.mjs': HELLO,
    'serve.yaml': `
applications:
  - name: hello
    route_prefix: /
    deployments: [{ name: Hello, handler: ./hello.mjs, num_replicas: 2 }]
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`, { env: { SWITCHYARD_ADMIN_TOKEN: token } });
  t.teardown(() => gw.stop());
  const status = `${gw.admin}/api/serve/applications/`;
  for (const [what, headers] of [
    ['no Authorization', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['the token without Bearer', { authorization: token }],
    ['a longer token', { authorization: `Bearer ${token}x` }],
  ] as const) {
    const res = await request(status, { headers });
    t.equal(res.status, 401, what);
    t.equal(res.json?.error, 'unauthorized', what);
    t.equal(res.headers.get('www-authenticate'), 'Bearer', what);
  }
  for (const [method, path] of [['GET', '/metrics'], ['GET', '/api/serve/config'], ['POST', '/api/serve/shutdown'], ['DELETE', '/api/serve/applications/']]) {
    t.equal((await request(`${gw.admin}${path}`, { method })).status, 401, `${method} ${path} without the token`);
  }
  const ok = await request(status, { headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.status, 200, 'the right token');
  t.same(statusProblems(ok.json), [], 'the admin API answer matches the schema');
  t.equal(ok.json.applications.hello.status, 'RUNNING', 'shutdown and delete above did not run');
  t.equal((await request(`${gw.http}/`)).text, 'hello', 'the data plane needs no token');

  // The CLI sends the token from the environment or --token.
  const env: Record<string, string> = { ...cleanEnv(), NO_COLOR: '1' };
  delete env.SWITCHYARD_ADMIN_TOKEN;
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, [CLI, 'status', '--json', '--address', gw.admin, ...args], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 20_000 });
  for (const [what, run] of [
    ['SWITCHYARD_ADMIN_TOKEN', () => cli([], { SWITCHYARD_ADMIN_TOKEN: token })],
    ['--token', () => cli(['--token', token])],
  ] as const) {
    const r = run();
    t.equal(r.status, 0, `status --json with ${what}: ${r.stderr}`);
    const json = JSON.parse(r.stdout);
    t.same(statusProblems(json), [], `status --json output (${what}) matches the schema`);
    t.equal(json.applications.hello.deployments.Hello.replicas.length, 2);
  }
  const refused = cli([]);
  t.equal(refused.status, 3, 'no token: exit 3');
  t.equal(refused.stdout, '', 'nothing on stdout');
  t.equal(refused.stderr.trim().split('\n').length, 1, `one line: ${refused.stderr}`);
  t.match(refused.stderr, /token/i);
});

t.test('a non-loopback admin host without a token: refused at start, exit 1, one line, nothing listening', async (t) => {
  const dir = tempDir({
    'hello.mjs': HELLO,
    'serve.yaml': `
applications:
  - name: hello
    route_prefix: /
    deployments: [{ name: Hello, handler: ./hello.mjs }]
`,
  });
  const [port, adminPort] = [await freePort(), await freePort()];
  const env = cleanEnv();
  delete env.SWITCHYARD_ADMIN_TOKEN;
  const child = spawn(process.execPath, [CLI, 'run', `${dir}/serve.yaml`, '--no-watch', '--port', String(port), '--admin-host', '0.0.0.0', '--admin-port', String(adminPort)], {
    cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  t.equal(code, 1, 'exit code 1');
  t.equal(stdout, '');
  const lines = stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line: ${stderr}`);
  t.match(lines[0], /^switchyard: .*SWITCHYARD_ADMIN_TOKEN.*0\.0\.0\.0/, 'says what is missing and why');
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
  for (const p of [port, adminPort]) t.equal(await connects(p), false, `nothing listens on ${p}`);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(2_000, () => { socket.destroy(); resolve(false); });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
