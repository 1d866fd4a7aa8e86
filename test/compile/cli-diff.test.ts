/**
 * `switchyard diff` through the real CLI (bin/switchyard.js, which runs the compiled dist/:
 * `npm test` builds first). The gateway path talks to a fake admin API on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { tempTree } from './make-spec.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repo, 'bin/switchyard.js');

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((resolve) => {
    // The caller's own gateway settings must not leak into the test.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SWITCHYARD_ADDRESS;
    delete env.SWITCHYARD_ADMIN_TOKEN;
    Object.assign(env, opts.env);
    execFile(process.execPath, [bin, ...args], { cwd: opts.cwd, env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const OLD = `applications:
  - name: text
    route_prefix: /text
    ingress: Pipeline
    deployments:
      - name: Pipeline
        handler: ./pipeline.ts
        bindings: { model: Model }
      - name: Model
        handler: ./model.ts#Model
        user_config: { threshold: 0.5 }
      - name: Pre
        handler: ./pipeline.ts
  - name: old
    deployments:
      - name: Gone
        handler: ./model.ts#Model
`;

const NEW = `applications:
  - name: text
    route_prefix: /text
    ingress: Pipeline
    deployments:
      - name: Pipeline
        handler: ./pipeline.ts
        args: { greeting: hi }
        bindings: { model: Model }
        num_replicas: 2
      - name: Model
        handler: ./model.ts#Model
        user_config: { threshold: 0.9 }
      - name: Pre
        handler: ./pipeline.ts
        num_replicas: 3
  - name: fresh
    route_prefix: /fresh
    deployments:
      - name: F
        handler: ./sub/f.ts
`;

function project(t: Test) {
  const dir = tempTree({
    'old.yaml': OLD,
    'new.yaml': NEW,
    'pipeline.ts': `import { u } from './lib/util'; export default class Pipeline {}`,
    'model.ts': 'export class Model { reconfigure() {} }',
    'lib/util.ts': 'export const u = 1;',
    'sub/f.ts': 'export default class F {}',
    'bad.yaml': 'applications:\n  - name: a\n    deployments:\n      - name: X\n        handler: ./x.ts\n        num_replica: 2\n',
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const EXPECTED_PLAN = {
  applications: [
    { name: 'text', action: 'update', deployments: [
      { name: 'Pipeline', action: 'restart', reasons: ['args', 'num_replicas 1 -> 2'] },
      { name: 'Model', action: 'reconfigure', reasons: ['user_config'] },
      { name: 'Pre', action: 'scale', reasons: ['num_replicas 1 -> 3'] },
    ] },
    { name: 'fresh', action: 'create', deployments: [{ name: 'F', action: 'create', reasons: [] }] },
    { name: 'old', action: 'delete', deployments: [{ name: 'Gone', action: 'delete', reasons: [] }] },
  ],
};

t.before(() => {
  if (!existsSync(join(repo, 'dist/cli/main.js'))) throw new Error('dist/ is not built: run `npm run build` first');
});

t.test('diff NEW --from OLD --json prints the Plan JSON and exits 0', async (t) => {
  const dir = project(t);
  const r = await cli(['diff', 'new.yaml', '--from', 'old.yaml', '--json'], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), EXPECTED_PLAN);
});

t.test('human output: app lines, indented deployment lines with action and reasons, a summary', async (t) => {
  const dir = project(t);
  const r = await cli(['diff', join(dir, 'new.yaml'), '--from', join(dir, 'old.yaml')], { cwd: repo });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.match(lines[0], /^~ text: update$/);
  t.match(lines[1], /^ {4}~ Pipeline +restart +args; num_replicas 1 -> 2$/);
  t.match(lines[2], /^ {4}~ Model +reconfigure +user_config$/);
  t.match(r.stdout, /^\+ fresh: create$/m);
  t.match(r.stdout, /^- old: delete\n {4}- Gone +delete$/m);
  t.match(r.stdout, /Plan: applications: 1 create, 1 update, 1 delete; deployments: 1 create, 1 restart, 1 reconfigure, 1 scale, 1 delete\./);
});

t.test('no change still exits 0 and lists everything unchanged', async (t) => {
  const dir = project(t);
  const r = await cli(['diff', 'new.yaml', '--from', 'new.yaml', '--json'], { cwd: dir });
  t.equal(r.code, 0);
  const plan = JSON.parse(r.stdout);
  t.same(plan.applications.map((a: { action: string }) => a.action), ['unchanged', 'unchanged']);
  t.equal(plan.applications[0].deployments.length, 3);
  const human = await cli(['diff', 'new.yaml', '--from', 'new.yaml'], { cwd: dir });
  t.match(human.stdout, /No changes/);
});

t.test('an invalid spec prints its problems like validate and exits 1', async (t) => {
  const dir = project(t);
  for (const args of [['diff', 'bad.yaml', '--from', 'old.yaml'], ['diff', 'new.yaml', '--from', 'bad.yaml']]) {
    const r = await cli(args, { cwd: dir });
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.match(r.stderr, /^bad\.yaml:6:9: applications\[0\]\.deployments\[0\]\.num_replica: unknown key/m);
  }
});

/** A fake admin API: answers with `reply` and remembers what it was sent. */
async function fakeGateway(t: Test, reply: (req: IncomingMessage) => [number, unknown]) {
  const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
    const [status, json] = reply(req);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

t.test('against the gateway: POSTs the spec with absolute handler paths and the Bearer token', async (t) => {
  const dir = project(t);
  const gw = await fakeGateway(t, () => [200, EXPECTED_PLAN]);
  const r = await cli(['diff', 'new.yaml', '--address', gw.address, '--json'], { cwd: dir, env: { SWITCHYARD_ADMIN_TOKEN: 's3cret' } });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), EXPECTED_PLAN);
  t.equal(gw.seen.length, 1);
  t.equal(gw.seen[0]!.method, 'POST');
  t.equal(gw.seen[0]!.url, '/api/serve/plan');
  t.equal(gw.seen[0]!.auth, 'Bearer s3cret');
  const sent = JSON.parse(gw.seen[0]!.body);
  t.same(sent.applications[0].deployments.map((d: { handler: string }) => d.handler), [
    join(dir, 'pipeline.ts'), `${join(dir, 'model.ts')}#Model`, join(dir, 'pipeline.ts'),
  ]);
  t.equal(sent.applications[1].deployments[0].handler, join(dir, 'sub/f.ts'));
  t.equal(sent.http_options, undefined, 'defaults the user did not write are not sent');
  t.equal(sent.applications[0].deployments[0].num_replicas, 2);
});

t.test('against the gateway: --token wins, SWITCHYARD_ADDRESS is honoured, human output', async (t) => {
  const dir = project(t);
  const gw = await fakeGateway(t, () => [200, EXPECTED_PLAN]);
  const r = await cli(['diff', 'new.yaml', '--token', 'flag'], { cwd: dir, env: { SWITCHYARD_ADDRESS: gw.address, SWITCHYARD_ADMIN_TOKEN: 'env' } });
  t.equal(r.code, 0, r.stderr);
  t.equal(gw.seen[0]?.auth, 'Bearer flag');
  t.match(r.stdout, /^~ text: update$/m);
});

t.test('against the gateway: a refused token exits 3 with one line', async (t) => {
  const dir = project(t);
  const gw = await fakeGateway(t, () => [401, { error: 'unauthorized', message: 'nope' }]);
  const r = await cli(['diff', 'new.yaml', '--address', gw.address], { cwd: dir });
  t.equal(r.code, 3);
  t.equal(r.stderr.trim().split('\n').length, 1);
  t.match(r.stderr, /refused the admin token \(401\)/);
});

t.test('against the gateway: an unreachable gateway exits 3 with one line', async (t) => {
  const dir = project(t);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const r = await cli(['diff', 'new.yaml', '--address', `http://127.0.0.1:${port}`], { cwd: dir });
  t.equal(r.code, 3);
  t.equal(r.stderr.trim().split('\n').length, 1);
  t.match(r.stderr, /cannot reach the gateway's admin API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});

t.test('against the gateway: its spec problems are printed and exit 1', async (t) => {
  const dir = project(t);
  const gw = await fakeGateway(t, () => [400, { error: 'spec_invalid', message: 'The spec is invalid.', problems: ['<request>:3:5: applications[0].name: duplicate'] }]);
  const r = await cli(['diff', 'new.yaml', '--address', gw.address], { cwd: dir });
  t.equal(r.code, 1);
  t.match(r.stderr, /^<request>:3:5: applications\[0\]\.name: duplicate$/m);
});

t.test('a bad --address is a usage error (exit 2)', async (t) => {
  const dir = project(t);
  const r = await cli(['diff', 'new.yaml', '--address', 'not a url'], { cwd: dir });
  t.equal(r.code, 2);
});
