/**
 * `status` (table, `--json`, `--watch`), `config` and `shutdown` through the built CLI against a
 * gateway that requires a token (the token's refusals are in cli-token.test.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import t from 'tap';
import { CLI, cleanEnv, isAlive, sleep, startGateway, tempDir } from '../helpers/gateway.ts';
import { statusProblems } from '../helpers/status-schema.ts';
import { admin, cli, pidsOf, waitDead } from './control-plane-lib.ts';

const TOKEN = 'tok-123';
const HELLO = `export default class Hello { fetch() { return 'hello'; } }\n`;
const SPEC = `applications:
  - name: hello
    route_prefix: /
    deployments:
      - name: Hello
        handler: ./hello.mjs
        num_replicas: 2
  - name: hidden
    route_prefix: null
    deployments:
      - name: Worker
        handler: ./hello.mjs
`;

/** Runs `status --watch` for `ms`, then SIGINT; `tty` runs it under script(1) so stdout is a terminal. */
function watchFor(ms: number, env: Record<string, string>, cwd: string, tty: boolean): Promise<{ code: number | null; out: string }> {
  const fullEnv = { ...cleanEnv(), ...env };
  const child = tty
    ? spawn('script', ['-qfec', `timeout --preserve-status -s INT ${ms / 1000} ${process.execPath} ${CLI} status --watch`, '/dev/null'], { cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [CLI, 'status', '--watch'], { cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  if (!tty) setTimeout(() => child.kill('SIGINT'), ms);
  const hard = setTimeout(() => child.kill('SIGKILL'), ms + 10_000);
  return new Promise((resolve) => child.once('exit', (code) => { clearTimeout(hard); resolve({ code, out }); }));
}

t.test('status, config and shutdown with a token', async (t) => {
  const dir = tempDir({ 'hello.mjs': HELLO, 'serve.yaml': SPEC });
  const gw = await startGateway(`${dir}/serve.yaml`, { env: { SWITCHYARD_ADMIN_TOKEN: TOKEN } });
  t.teardown(() => gw.stop());
  const good = { SWITCHYARD_ADDRESS: gw.admin, SWITCHYARD_ADMIN_TOKEN: TOKEN };

  await t.test('status prints a table: apps, deployments, replicas with state, pid, age, in-flight', async (t) => {
    const r = await cli(['status'], { cwd: dir, env: good });
    t.equal(r.code, 0, r.stderr);
    const s = (await admin(gw, 'GET', '/api/serve/applications/', { token: TOKEN })).json;
    const lines = r.stdout.split('\n');
    t.equal(lines[0], 'hello: RUNNING at /');
    t.equal(lines[1], '  Hello: HEALTHY, 2/2 running');
    t.match(lines[2], /^ {4}REPLICA +STATE +PID +AGE +IN-FLIGHT +VERSION$/);
    for (const pid of pidsOf(s, 'hello', 'Hello')) {
      t.match(r.stdout, new RegExp(`^ {4}hello#Hello#[0-9a-f]{4} +RUNNING +${pid} +\\d+s +0 +[0-9a-f]{12}$`, 'm'));
    }
    t.match(r.stdout, /^hidden: RUNNING not exposed over HTTP\n {2}Worker: HEALTHY, 1\/1 running$/m);
    // --token works as well as the env.
    const flag = await cli(['status', '--token', TOKEN, '--address', gw.admin], { cwd: dir });
    t.equal(flag.code, 0, flag.stderr);
    t.match(flag.stdout, /^hello: RUNNING at \/$/m);
  });

  await t.test('status --json prints the status JSON as the admin API answers it', async (t) => {
    const r = await cli(['status', '--json'], { cwd: dir, env: good });
    t.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout);
    t.same(statusProblems(printed), []);
    t.equal(r.stdout, `${JSON.stringify(printed, null, 2)}\n`, 'the admin API\'s own formatting');
    const api = (await admin(gw, 'GET', '/api/serve/applications/', { token: TOKEN })).json;
    const noAge = (s: any) => JSON.parse(JSON.stringify(s, (k, v) => (k === 'age_s' ? undefined : v)));
    t.same(noAge(printed), noAge(api));
  });

  await t.test('status --watch refreshes every second until Ctrl-C, then exits 0', async (t) => {
    const plain = await watchFor(2_600, good, dir, false);
    t.equal(plain.code, 0, plain.out);
    const frames = plain.out.split(/^Every 1s: switchyard status at /m).length - 1;
    t.ok(frames >= 2 && frames <= 4, `about one frame a second (${frames})`);
    t.notMatch(plain.out, /\x1b\[/, 'no terminal codes when stdout is not a terminal');
    t.match(plain.out, /hello: RUNNING at \//);
    if (spawnSync('script', ['--version']).status !== 0) return t.comment('script(1) is not installed: the terminal redraw is not checked');
    // Under script(1) the CLI's own start is part of the window: give it room for two redraws.
    const tty = await watchFor(4_000, good, dir, true);
    t.equal(tty.code, 0, tty.out);
    const redraws = tty.out.split('\x1b[H\x1b[2J').length - 1;
    t.ok(redraws >= 2, `redrawn in place (${redraws} redraws)`);
    t.match(tty.out, /hello: RUNNING at \//);
  });

  await t.test('config prints the applied spec as YAML', async (t) => {
    const r = await cli(['config'], { cwd: dir, env: good });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, (await admin(gw, 'GET', '/api/serve/config', { token: TOKEN })).text);
    t.match(r.stdout, /^applications:\n {2}- name: hello\n {4}route_prefix: \/\n/m);
    t.match(r.stdout, /handler: .*\/hello\.mjs\n/);
    t.match(r.stdout, /num_replicas: 2\n/);
  });

  await t.test('shutdown drains and stops the gateway and waits until it is gone', async (t) => {
    const replicas = [...pidsOf(await gw.status(), 'hello', 'Hello'), ...pidsOf(await gw.status(), 'hidden', 'Worker')];
    t.equal(replicas.length, 3);
    const r = await cli(['shutdown'], { cwd: dir, env: good });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^Shutting down the gateway at http:\/\/127\.0\.0\.1:\d+: draining requests, stopping replicas\.\.\.\nStopped\.\n$/);
    t.same(await waitDead(replicas, 3_000), [], 'every replica has exited by then');
    const end = Date.now() + 5_000;
    while (isAlive(gw.child.pid!) && gw.child.exitCode === null && Date.now() < end) await sleep(20);
    t.equal(gw.child.exitCode, 0, 'the gateway exited 0');
  });

});
