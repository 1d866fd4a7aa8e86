/**
 * Supervision end to end, health (CONTRACT section 5): `checkHealth()` runs every
 * health_check_period_s; three failures in a row, a throw or a hang past health_check_timeout_s,
 * replace the replica (drained, then stopped); a replica that stops answering altogether
 * (SIGSTOP) is replaced and killed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isAlive, startGateway, tempDir } from '../helpers/gateway.ts';
import { statusProblems } from '../helpers/status-schema.ts';
import { request, runningPids, until, waitForRunning } from './supervision-helpers.ts';

/**
 * Counts its health checks in `checks` (one line per call, with its pid), and turns sick when
 * the file `sick` names its pid: then `checkHealth()` throws, or hangs with `args.hang`.
 * Only the replica the test picks is sick, so its replacement is healthy.
 */
const PATIENT = `
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
export default class Patient {
  constructor({ args }) { this.dir = args.dir; this.hang = args.hang === true; }
  checkHealth() {
    appendFileSync(join(this.dir, 'checks'), process.pid + '\\n');
    let sick = '';
    try { sick = readFileSync(join(this.dir, 'sick'), 'utf8').trim(); } catch {}
    if (sick !== String(process.pid)) return;
    if (this.hang) return new Promise(() => {});
    throw new Error('database connection lost');
  }
  close() { appendFileSync(join(this.dir, 'closed'), process.pid + '\\n'); }
  fetch() { return { pid: process.pid }; }
}
`;

function setup(hang: boolean, extra = '') {
  const dir = tempDir({ 'patient.mjs': PATIENT });
  writeFileSync(join(dir, 'serve.yaml'), `
applications:
  - name: p
    route_prefix: /
    deployments:
      - name: Patient
        handler: ./patient.mjs
        args: { dir: ${JSON.stringify(dir)}, hang: ${hang} }
        health_check_period_s: 0.2
        health_check_timeout_s: 0.3
        graceful_shutdown_timeout_s: 0.5
${extra}`);
  return dir;
}

const checksBy = (dir: string, pid: number): number => {
  try {
    return readFileSync(join(dir, 'checks'), 'utf8').split('\n').filter((l) => l === String(pid)).length;
  } catch {
    return 0;
  }
};

t.test('checkHealth() throwing three times in a row replaces the replica; it is drained and stopped', async (t) => {
  const dir = setup(false);
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const [pid] = runningPids(await gw.status(), 'p', 'Patient');
  // Healthy: checked every 0.2 s and left alone.
  await until(() => checksBy(dir, pid!) >= 4, 5_000, 'four health checks');
  t.same(runningPids(await gw.status(), 'p', 'Patient'), [pid], 'a healthy replica stays');
  writeFileSync(join(dir, 'sick'), String(pid));
  const sickSince = checksBy(dir, pid!);
  const status = await waitForRunning(gw, 'p', 'Patient', 1, [pid!], 10_000);
  t.same(statusProblems(status), []);
  t.ok(checksBy(dir, pid!) - sickSince >= 3, 'three failed checks before the replacement');
  const log = gw.log();
  for (const n of [1, 2, 3]) t.match(log, `health check failed (${n}/3): checkHealth() threw Error: database connection lost`);
  t.match(log, /failed 3 health checks|stopping: unhealthy/);
  // Drained, then stopped: close() ran and the process exited on its own (not killed).
  await until(() => !isAlive(pid!), 5_000, `pid ${pid} exited`);
  t.match(readFileSync(join(dir, 'closed'), 'utf8'), String(pid), 'its close() ran');
  // The gateway logs the exit after reaping the process: the line can trail the pid's death.
  await until(() => /stopped \(unhealthy; exit code 0\)/.test(gw.log()), 2_000, 'the stop logged').catch(() => {});
  t.match(gw.log(), new RegExp(`stopped \\(unhealthy; exit code 0\\)`));
  t.equal((await request(`${gw.http}/`)).json?.pid, runningPids(await gw.status(), 'p', 'Patient')[0], 'the replacement serves');
});

t.test('checkHealth() hanging past health_check_timeout_s counts as a failure: replaced after three', async (t) => {
  const dir = setup(true);
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const [pid] = runningPids(await gw.status(), 'p', 'Patient');
  writeFileSync(join(dir, 'sick'), String(pid));
  const started = performance.now();
  const status = await waitForRunning(gw, 'p', 'Patient', 1, [pid!], 10_000);
  t.same(statusProblems(status), []);
  // Three hangs of 0.3 s each cannot be detected sooner than 0.9 s.
  t.ok(performance.now() - started >= 900, 'not before three timeouts');
  const log = gw.log();
  for (const n of [1, 2, 3]) t.match(log, `health check failed (${n}/3): checkHealth() did not answer within 0.3s`);
  await until(() => !isAlive(pid!), 5_000, `pid ${pid} exited`);
  t.equal((await request(`${gw.http}/`)).status, 200, 'the replacement serves');
});

t.test('a replica that stops answering at all (SIGSTOP) is replaced, then killed', async (t) => {
  const dir = setup(false);
  const gw = await startGateway(`${dir}/serve.yaml`);
  const [pid] = runningPids(await gw.status(), 'p', 'Patient');
  t.teardown(async () => {
    // If the test fails midway, do not leave a frozen process behind.
    try { process.kill(pid!, 'SIGKILL'); } catch { /* gone, as it should be */ }
    await gw.stop();
  });
  process.kill(pid!, 'SIGSTOP');
  const status = await waitForRunning(gw, 'p', 'Patient', 1, [pid!], 10_000);
  t.same(statusProblems(status), []);
  const [fresh] = runningPids(status, 'p', 'Patient');
  t.equal((await request(`${gw.http}/`)).json?.pid, fresh, 'the replacement serves while the frozen one waits to be killed');
  // Told to stop, it cannot; after graceful_shutdown_timeout_s and the kill grace it is killed.
  await until(() => !isAlive(pid!), 8_000, `pid ${pid} killed`);
  t.match(gw.log(), /health check failed \(3\/3\): checkHealth\(\) did not answer within 0\.3s/);
  t.match(gw.log(), /did not stop in time; killing it/);
  t.match(gw.log(), /stopped \(unhealthy; signal SIGKILL\)/);
  t.same(runningPids(await gw.status(), 'p', 'Patient'), [fresh]);
});
