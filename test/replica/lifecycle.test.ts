import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FromReplica, HealthReplyMessage, LoadMessage, ReconfiguredMessage } from '../../src/replica/protocol.ts';
import { get, startReady } from './replica-harness.ts';

t.test('health: checkHealth() passing and throwing', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });
  r.send({ t: 'health', seq: 1 });
  const ok = await r.waitFor((m): m is HealthReplyMessage => m.t === 'health' && m.seq === 1);
  t.equal(ok.error, undefined);
  await get(r, '/unhealthy');
  r.send({ t: 'health', seq: 2 });
  const bad = await r.waitFor((m): m is HealthReplyMessage => m.t === 'health' && m.seq === 2);
  t.match(bad.error, { name: 'Error', message: 'model not loaded' });
});

t.test('reconfigure message calls reconfigure() and replies', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });
  r.send({ t: 'reconfigure', seq: 5, user_config: { level: 3 } });
  const ok = await r.waitFor((m): m is ReconfiguredMessage => m.t === 'reconfigured' && m.seq === 5);
  t.equal(ok.error, undefined);
  t.same(JSON.parse((await get(r, '/state')).text).config, { level: 3 });
  r.send({ t: 'reconfigure', seq: 6, user_config: { fail: true } });
  const bad = await r.waitFor((m): m is ReconfiguredMessage => m.t === 'reconfigured' && m.seq === 6);
  t.equal(bad.error?.message, 'bad config');
});

t.test('load reports: ongoing and queued every interval', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs', load_report_interval_ms: 50 });
  const slow = get(r, '/slow?ms=400');
  const busy = await r.waitFor((m): m is LoadMessage => m.t === 'load' && m.ongoing === 1);
  t.same(busy.queued, {});
  t.equal(busy.models, undefined, 'no models field when multiplexed() is not used');
  await slow;
  const n = r.messages.length;
  await r.waitFor((m): m is LoadMessage => m.t === 'load' && m.ongoing === 0 && r.messages.indexOf(m) >= n);
});

t.test('load reports list multiplexed models loaded here', async (t) => {
  const r = await startReady(t, { handler_path: 'models.mjs', load_report_interval_ms: 50 });
  for (const id of ['m1', 'm2', 'm3']) {
    const res = await get(r, '/', { headers: { serve_multiplexed_model_id: id } });
    t.same(JSON.parse(res.text), { model: id, ctx: id });
  }
  const n = r.messages.length;
  const load = await r.waitFor((m): m is LoadMessage => m.t === 'load' && r.messages.indexOf(m) >= n);
  t.same(load.models, ['m2', 'm3'], 'the LRU keeps maxModelsPerReplica = 2');
});

t.test('stop drains an in-flight request, refuses new ones, runs close(), exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-close-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'closed');
  const r = await startReady(t, { handler_path: 'kinds.mjs', args: { closeMarker: marker } });
  const inflight = get(r, '/slow?ms=500');
  await new Promise((resolve) => setTimeout(resolve, 100));
  r.send({ t: 'stop', graceful_shutdown_timeout_s: 5 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const res = await inflight;
  t.equal(res.status, 200);
  t.equal(res.text, 'slow done');
  t.same(await r.exited, { code: 0, signal: null });
  t.equal(readFileSync(marker, 'utf8'), 'closed');
  t.notOk(existsSync(r.socketPath), 'the socket file is removed');
});

t.test('stop answers requests on kept-alive connections with 503 unavailable', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });
  const inflight = get(r, '/slow?ms=600');
  await new Promise((resolve) => setTimeout(resolve, 100));
  // A raw keep-alive connection opened before stop, used after it.
  const { connect } = await import('node:net');
  const socket = connect(r.socketPath);
  await new Promise((resolve) => socket.once('connect', resolve));
  r.send({ t: 'stop', graceful_shutdown_timeout_s: 5 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (d) => { text += d; }).on('close', () => resolve(text));
  });
  socket.write('GET /string HTTP/1.1\r\nhost: x\r\n\r\n');
  const text = await answer;
  t.match(text, /^HTTP\/1\.1 503/);
  t.match(text, /x-swy-rejected: 1/i);
  t.match(text, /connection: close/i);
  t.match(text, /"error":"unavailable"/);
  t.equal((await inflight).status, 200);
  t.equal((await r.exited).code, 0);
});

t.test('stop cancels what is still running after graceful_shutdown_timeout_s', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });
  const hung = r.client.request({ path: '/hang', method: 'GET' }).then(() => 'answered', () => 'cut');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  r.send({ t: 'stop', graceful_shutdown_timeout_s: 0.3 });
  t.equal(await hung, 'cut');
  t.same(await r.exited, { code: 0, signal: null });
  t.ok(Date.now() - started < 3000, 'exits soon after the timeout');
});

t.test('the replica exits when the IPC channel disconnects', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });
  r.child.disconnect();
  const exit = await Promise.race([r.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
  t.same(exit, { code: 0, signal: null });
});

t.test('the replica exits when the IPC channel disconnects during construction', async (t) => {
  const r = (await import('./replica-harness.ts')).startReplica(t, { handler_path: 'typed.ts', args: { name: 'x' } });
  r.child.disconnect();
  const exit = await Promise.race([r.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
  t.same(exit, { code: 0, signal: null });
  t.notOk(r.messages.some((m: FromReplica) => m.t === 'ready'));
});
