/**
 * Supervision end to end, crashes (CONTRACT sections 4 and 5): a replica killed with SIGKILL is
 * replaced at once while requests keep succeeding; a replica that dies mid-request answers that
 * request 502 `replica_died` and is replaced; a crash loop backs off exponentially, visible in
 * status as RECOVERING with the last exit reason. Every status read is checked against
 * schemas/status.schema.json.
 */
import t from 'tap';
import { startGateway, tempDir } from '../helpers/gateway.ts';
import { statusProblems } from '../helpers/status-schema.ts';
import { hasExited, replicasOf, request, runningPids, until, waitForRunning } from './supervision-helpers.ts';

const WORKER = `
export default class Worker {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    // Dies with the request in hand: no byte of an answer goes out.
    if (path === '/die') process.exit(1);
    return { pid: process.pid };
  }
}
`;

function spec(replicas: number, timeoutS = 15): string {
  return `
http_options: { request_timeout_s: ${timeoutS} }
applications:
  - name: w
    route_prefix: /
    deployments: [{ name: Worker, handler: ./worker.mjs, num_replicas: ${replicas} }]
`;
}

t.test('kill -9 of one of two replicas: a new pid RUNNING within seconds, and not one request fails', async (t) => {
  const dir = tempDir({ 'worker.mjs': WORKER, 'serve.yaml': spec(2) });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const before = await gw.status();
  t.same(statusProblems(before), [], 'status matches the schema');
  const pids = runningPids(before, 'w', 'Worker');
  t.equal(pids.length, 2);
  const victim = pids[0]!;

  // One client loop, sequential; the kill lands between two of its requests, so every failure
  // would be one the gateway caused by routing to a dead replica.
  const failures: string[] = [];
  const servedBy = new Set<number>();
  const servedAfterKill = new Set<number>();
  let sent = 0;
  let replacedAt = 0;
  let newPid = 0;
  const killedAt = { t: 0 };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const res = await request(`${gw.http}/`, { timeoutMs: 5_000 }).catch((err) => ({ status: 0, text: String(err), json: undefined }));
    sent++;
    if (res.status !== 200) failures.push(`request ${sent} (${killedAt.t ? Math.round(performance.now() - killedAt.t) : -1} ms after the kill): ${res.status} ${res.text}`);
    else {
      servedBy.add(res.json.pid);
      if (killedAt.t) servedAfterKill.add(res.json.pid);
    }
    if (sent === 20) {
      process.kill(victim, 'SIGKILL');
      killedAt.t = performance.now();
      await until(() => hasExited(victim), 5_000, `pid ${victim} exited`);
    }
    if (sent > 20 && sent % 10 === 0 && !replacedAt) {
      const now = runningPids(await gw.status(), 'w', 'Worker');
      if (now.length === 2 && !now.includes(victim)) {
        replacedAt = performance.now();
        newPid = now.find((p) => p !== pids[1])!;
      }
    }
    // Keep going a while after the replacement runs: it must take its share.
    if (replacedAt && servedBy.has(newPid) && sent >= 100) break;
  }
  t.same(failures, [], `all ${sent} requests succeeded`);
  t.ok(replacedAt, `a new replica replaced pid ${victim}\n${gw.log()}`);
  t.ok(replacedAt - killedAt.t < 5_000, `the replacement ran ${Math.round(replacedAt - killedAt.t)} ms after the kill`);
  t.ok(servedBy.has(newPid), 'the new replica serves');
  t.notOk(servedAfterKill.has(victim), 'the killed replica answered nothing after the kill');
  t.match(gw.log(), new RegExp(`exited unexpectedly \\(signal SIGKILL\\)`), 'the exit reason is logged');
  const after = await gw.status();
  t.same(statusProblems(after), []);
  t.equal(after.applications.w.deployments.Worker.status, 'HEALTHY');
});

t.test('kill -9 of the only replica: requests wait in the queue for the replacement and succeed', async (t) => {
  const dir = tempDir({ 'worker.mjs': WORKER, 'serve.yaml': spec(1) });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const [victim] = runningPids(await gw.status(), 'w', 'Worker');
  t.ok(victim);
  process.kill(victim!, 'SIGKILL');
  await until(() => hasExited(victim!), 5_000, `pid ${victim} exited`);
  const pending = Promise.all(Array.from({ length: 5 }, () => request(`${gw.http}/`, { timeoutMs: 15_000 })));
  // Meanwhile status says what happened (the replacement takes a few hundred ms to start).
  const seen: string[] = [];
  await gw.waitFor((s) => {
    const d = s.applications.w.deployments.Worker;
    seen.push(`${d.status}: ${d.message}`);
    return runningPids(s, 'w', 'Worker').length === 1 && !runningPids(s, 'w', 'Worker').includes(victim!);
  }, 15_000, 'the replacement RUNNING');
  t.match(seen.join('\n'), /UPSCALING: replica w#Worker#\w+ exited unexpectedly \(signal SIGKILL\); replacing it/, 'status shows the replacement and why');
  t.notMatch(seen.join('\n'), /UNHEALTHY/, 'a one-off crash is not UNHEALTHY (queued requests keep waiting)');
  const answers = await pending;
  t.same(answers.map((a) => a.status), [200, 200, 200, 200, 200], `every queued request succeeded: ${answers.map((a) => a.text).join(' | ')}`);
  const served = new Set(answers.map((a) => a.json?.pid));
  t.equal(served.size, 1, 'all served by one replica');
  t.notOk(served.has(victim), 'the replacement, not the killed one');
  const status = await waitForRunning(gw, 'w', 'Worker', 1, [victim!]);
  t.same(statusProblems(status), []);
  t.same(runningPids(status, 'w', 'Worker'), [...served], 'status shows the pid that served');
});

t.test('a replica that dies mid-request: that request gets 502 replica_died, is not retried, and the replica is replaced', async (t) => {
  const dir = tempDir({ 'worker.mjs': WORKER, 'serve.yaml': spec(2) });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const pids = runningPids(await gw.status(), 'w', 'Worker');
  const res = await request(`${gw.http}/die`);
  t.equal(res.status, 502);
  t.equal(res.json?.error, 'replica_died');
  t.match(res.json?.message, /^Replica w#Worker#\w+ failed before answering/);
  t.ok(res.headers.get('x-request-id'), 'the error carries the request id');
  // Exactly one replica died: a retry elsewhere would have killed the other one too.
  const dead = pids.filter(hasExited);
  t.equal(dead.length, 1, `one of ${pids} died, not both`);
  const status = await waitForRunning(gw, 'w', 'Worker', 2, dead);
  t.same(statusProblems(status), []);
  t.equal(runningPids(status, 'w', 'Worker').filter((p) => pids.includes(p)).length, 1, 'the survivor kept serving; one new pid');
  t.match(gw.log(), /exited unexpectedly \(exit code 1\)/);
  for (let i = 0; i < 5; i++) t.equal((await request(`${gw.http}/`)).status, 200, `request ${i + 1} after the replacement`);
});

t.test('a crash loop backs off exponentially, shown in status as RECOVERING with the exit reason', async (t) => {
  const dir = tempDir({
    // Comes up, serves briefly, then dies: a crash after a successful start, again and again.
    'flaky.mjs': `
export default class Flaky {
  constructor() { setTimeout(() => process.exit(3), 300); }
  fetch() { return 'ok'; }
}
`,
    'serve.yaml': `
applications:
  - name: flaky
    route_prefix: /
    deployments: [{ name: Flaky, handler: ./flaky.mjs }]
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`, { waitRunning: false });
  t.teardown(() => gw.stop());
  const delays: number[] = [];
  let recovering: any;
  let unhealthy: any;
  let invalid: string[] = [];
  const deadline = Date.now() + 20_000;
  // Crashes in a row wait 0, 0.5, 1, 2 s before the next start (backoff.ts).
  while (Date.now() < deadline && delays.length < 3) {
    const s = await gw.status();
    const problems = statusProblems(s);
    if (problems.length) invalid = problems;
    const d = s.applications.flaky?.deployments.Flaky;
    const slot = replicasOf(s, 'flaky', 'Flaky').find((r) => r.state === 'RECOVERING');
    if (slot) recovering ??= { slot, deployment: d, app: s.applications.flaky };
    const m = /next start in ([\d.]+)s/.exec(d?.message ?? '');
    if (m && d.status === 'UNHEALTHY') {
      unhealthy ??= { deployment: d, app: s.applications.flaky };
      const delay = Number(m[1]);
      if (delays.at(-1) !== delay) delays.push(delay);
    }
    await new Promise((r) => setTimeout(r, 40));
  }
  t.same(invalid, [], 'every status matched the schema');
  t.same(delays, [0.5, 1, 2], 'the wait doubles with each crash in a row');
  t.ok(recovering, `a RECOVERING slot was shown\n${gw.log()}`);
  t.equal(recovering?.slot.pid, null, 'a RECOVERING slot has no process');
  t.equal(unhealthy?.deployment.status, 'UNHEALTHY');
  t.match(unhealthy?.deployment.message, /^replica flaky#Flaky#\w+ exited unexpectedly \(exit code 3\); next start in/, 'the last exit reason');
  t.equal(unhealthy?.app.status, 'UNHEALTHY', 'the app takes its deployment\'s state');
  t.match(unhealthy?.app.message, /^Flaky: replica flaky#Flaky#\w+ exited unexpectedly \(exit code 3\)/);
  t.match(gw.log(), /waits 2\.0s before starting \(crash backoff\)/);
});
