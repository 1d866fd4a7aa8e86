/**
 * Every CLI command that talks to a gateway, with the admin token missing and wrong (exit 3,
 * one line, nothing changed), with nothing listening (exit 3), and its usage errors (exit 2).
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { startGateway, tempDir } from '../helpers/gateway.ts';
import { admin, cli, mapLimit, pidsOf } from './control-plane-lib.ts';

const TOKEN = 'tok-123';
const HELLO = `export default class Hello { fetch() { return 'hello'; } }\n`;
const SPEC = `applications:
  - name: hello
    route_prefix: /
    deployments:
      - name: Hello
        handler: ./hello.mjs
        num_replicas: 2
`;

t.test('admin commands against a gateway that requires a token', async (t) => {
  const dir = tempDir({ 'hello.mjs': HELLO, 'serve.yaml': SPEC });
  const gw = await startGateway(`${dir}/serve.yaml`, { env: { SWITCHYARD_ADMIN_TOKEN: TOKEN } });
  t.teardown(() => gw.stop());
  const good = { SWITCHYARD_ADDRESS: gw.admin, SWITCHYARD_ADMIN_TOKEN: TOKEN };
  writeFileSync(`${dir}/v2.yaml`, SPEC.replace('num_replicas: 2', 'num_replicas: 1'));

  await t.test('every command refuses a wrong or missing token with exit 3 and one line', async (t) => {
    const commands = [['status'], ['status', '--json'], ['config'], ['diff', 'v2.yaml'], ['apply', 'v2.yaml'], ['deploy', 'v2.yaml', '--no-wait'], ['shutdown']];
    type Case = { args: string[]; label: string; env: Record<string, string> };
    const cases = commands.flatMap((args): Case[] => [
      { args, label: 'missing', env: { SWITCHYARD_ADDRESS: gw.admin } },
      { args, label: 'wrong', env: { SWITCHYARD_ADDRESS: gw.admin, SWITCHYARD_ADMIN_TOKEN: 'nope' } },
    ]);
    cases.push({ args: ['status', '--token', 'nope'], label: 'wrong --token (wins over the right env)', env: good });
    // In parallel: each is a fresh CLI process, and none of them may change anything.
    const runs = await mapLimit(cases, 4, (c) => cli(c.args, { cwd: dir, env: c.env }));
    for (const [i, r] of runs.entries()) {
      t.equal(r.code, 3, `${cases[i]!.args.join(' ')}: ${cases[i]!.label} token${r.code === 3 ? '' : `: ${r.stderr}`}`);
      t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      t.match(r.stderr, /^switchyard: the gateway at http:\/\/127\.0\.0\.1:\d+ refused the admin token \(401\); pass --token or set SWITCHYARD_ADMIN_TOKEN\.$/m);
    }
    const s = await admin(gw, 'GET', '/api/serve/applications/', { token: TOKEN });
    t.equal(pidsOf(s.json, 'hello', 'Hello').length, 2, 'nothing was applied, nothing shut down');
  });

  await t.test('the right token, from the env or --token, is accepted by diff and apply', async (t) => {
    const diff = await cli(['diff', 'v2.yaml', '--json'], { cwd: dir, env: good });
    t.equal(diff.code, 0, diff.stderr);
    t.equal(JSON.parse(diff.stdout).applications[0].deployments[0].action, 'scale');
    const apply = await cli(['apply', 'v2.yaml', '--token', TOKEN, '--address', gw.admin], { cwd: dir });
    t.equal(apply.code, 0, apply.stderr);
    t.match(apply.stdout, /Applied: hello RUNNING\.\n$/);
    const s = await admin(gw, 'GET', '/api/serve/applications/', { token: TOKEN });
    t.equal(pidsOf(s.json, 'hello', 'Hello').length, 1, 'scaled to 1');
  });

  await t.test('with nothing listening every command exits 3 with one line', async (t) => {
    await gw.stop();
    const commands = [['status'], ['status', '--json'], ['status', '--watch'], ['config'], ['shutdown'], ['apply', 'v2.yaml'], ['diff', 'v2.yaml']];
    const runs = await mapLimit(commands, 4, (args) => cli(args, { cwd: dir, env: good }));
    for (const [i, r] of runs.entries()) {
      t.equal(r.code, 3, commands[i]!.join(' '));
      t.equal(r.stderr.trim().split('\n').length, 1);
      t.match(r.stderr, /^switchyard: cannot reach the gateway's admin API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is it running\?/);
    }
  });

  await t.test('usage errors exit 2', async (t) => {
    const usage = [['status', '--address', 'not a url'], ['apply'], ['config', '--bogus'], ['shutdown', '--timeout', 'soon'], ['apply', 'x.yaml', '--timeout', '-1']];
    const runs = await mapLimit(usage, 4, (args) => cli(args, { cwd: dir }));
    for (const [i, r] of runs.entries()) t.equal(r.code, 2, `${usage[i]!.join(' ')}: ${r.stderr}`);
    const env = await cli(['status'], { cwd: dir, env: { SWITCHYARD_ADDRESS: 'ftp://x' } });
    t.equal(env.code, 2, 'a bad SWITCHYARD_ADDRESS is a usage error too');
    t.match(env.stderr, /must be an http:\/\/ or https:\/\/ URL/);
  });
});

t.test('--help of each command shows examples', async (t) => {
  const commands = ['apply', 'deploy', 'diff', 'status', 'config', 'shutdown'];
  const runs = await mapLimit(commands, 4, (command) => cli([command, '--help'], { cwd: process.cwd() }));
  for (const [i, r] of runs.entries()) {
    t.equal(r.code, 0, commands[i]!);
    t.match(r.stdout, /--address <url>/);
    t.match(r.stdout, /--token <token>/);
    t.match(r.stdout, /Examples:\n {2}\$ switchyard /);
  }
});
