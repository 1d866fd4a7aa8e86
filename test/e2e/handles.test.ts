import { existsSync } from 'node:fs';
import { request } from 'node:http';
import t from 'tap';
import { sleep, startGateway, tempDir } from '../helpers/gateway.ts';

const INGRESS = `
import { getRequestContext } from 'switchyard';
export default class Ingress {
  constructor({ handles }) { this.worker = handles.worker; }
  async fetch(request) {
    const url = new URL(request.url);
    const op = url.pathname.slice(1);
    const w = this.worker;
    switch (op) {
      case 'clone': {
        const value = { d: new Date(0), m: new Map([['k', 1n]]), s: new Set([1, 2]), b: new Uint8Array([1, 2, 3]), nested: { a: [1, { x: 'y' }] } };
        const back = await w.echo(value);
        return {
          date: back.d instanceof Date && back.d.getTime() === 0,
          map: back.m instanceof Map && back.m.get('k') === 1n,
          set: back.s instanceof Set && back.s.has(2),
          bytes: back.b instanceof Uint8Array && back.b.join() === '1,2,3',
          nested: back.nested.a[1].x === 'y',
        };
      }
      case 'error':
        try { await w.fail(); return { caught: false }; }
        catch (e) { return { name: e.name, message: e.message, code: e.code, hasCause: e.cause instanceof Error }; }
      case 'chain': {
        const first = w.add(1, 2);            // not awaited
        return { result: await w.add(first, 10) };
      }
      case 'stream': {
        const gen = w.tokens(Number(url.searchParams.get('n') ?? 3), Number(url.searchParams.get('delay') ?? 0));
        return (async function* () { for await (const tok of gen) yield tok + '\\n'; })();
      }
      case 'await-generator':
        try { await w.tokens(2, 0); return 'no error'; } catch (e) { return { name: e.name, message: e.message }; }
      case 'iterate-plain':
        try { for await (const _ of w.add(1, 1)) {} return 'no error'; } catch (e) { return { name: e.name, message: e.message }; }
      case 'uncloneable':
        try { await w.echo({ f: () => 1 }); return 'no error'; } catch (e) { return { name: e.name, message: e.message }; }
      case 'model':
        return await w.options({ multiplexedModelId: 'm-7' }).whoami();
      case 'context':
        return { outer: getRequestContext().requestId, inner: await w.whoami() };
      case 'spread': {
        const ids = await Promise.all(Array.from({ length: 40 }, () => w.slowId(20)));
        return { distinct: [...new Set(ids)].length };
      }
      case 'cancel': {
        const gen = w.forever(url.searchParams.get('marker'));
        return (async function* () { for await (const tok of gen) yield tok + '\\n'; })();
      }
    }
    return new Response('unknown op', { status: 400 });
  }
}
`;

const WORKER = `
import { writeFileSync } from 'node:fs';
import { getRequestContext } from 'switchyard';
export default class Worker {
  echo(v) { return v; }
  add(a, b) { return a + b; }
  fail() { const e = new RangeError('too far'); e.code = 'E_FAR'; throw e; }
  async *tokens(n, delay) { for (let i = 0; i < n; i++) { if (delay) await new Promise((r) => setTimeout(r, delay)); yield 'tok' + i; } }
  whoami() { const c = getRequestContext(); return { requestId: c.requestId, model: c.multiplexedModelId, deployment: c.deployment, app: c.app, replicaId: c.replicaId }; }
  async slowId(ms) { await new Promise((r) => setTimeout(r, ms)); return getRequestContext().replicaId; }
  async *forever(marker) {
    try { for (let i = 0; ; i++) { await new Promise((r) => setTimeout(r, 20)); yield i; } }
    finally { writeFileSync(marker, 'returned'); }
  }
}
`;

t.test('handles compose deployments end to end', async (t) => {
  const dir = tempDir({
    'ingress.mjs': INGRESS,
    'worker.mjs': WORKER,
    'serve.yaml': `
applications:
  - name: app
    route_prefix: /
    ingress: Ingress
    deployments:
      - { name: Ingress, handler: ./ingress.mjs, bindings: { worker: Worker } }
      - { name: Worker, handler: ./worker.mjs, num_replicas: 2, max_ongoing_requests: 10 }
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const json = async (path: string, headers: Record<string, string> = {}) => {
    try {
      const res = await fetch(gw.http + path, { headers, signal: AbortSignal.timeout(10_000) });
      t.equal(res.status, 200, `${path} status`);
      return await res.json();
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}\n${gw.log()}`);
    }
  };

  t.same(await json('/clone'), { date: true, map: true, set: true, bytes: true, nested: true }, 'structured clone round trip');
  t.same(await json('/error'), { name: 'RangeError', message: 'too far', code: 'E_FAR', hasCause: true }, 'remote error re-thrown with name, message, code');
  t.same(await json('/chain'), { result: 13 }, 'an unawaited response passed as an argument');
  const awaitGen = await json('/await-generator');
  t.equal(awaitGen.name, 'TypeError');
  t.match(awaitGen.message, /tokens\(\) is an async generator method: iterate/);
  const iterPlain = await json('/iterate-plain');
  t.equal(iterPlain.name, 'TypeError');
  t.match(iterPlain.message, /add\(\) returns a single value, not a stream: `await/);
  const unclone = await json('/uncloneable');
  t.equal(unclone.name, 'TypeError');
  t.match(unclone.message, /argument 1 of echo\(\)\.f is a function/);
  const model = await json('/model', { 'x-request-id': 'rid-42' });
  t.same({ model: model.model, requestId: model.requestId, deployment: model.deployment, app: model.app },
    { model: 'm-7', requestId: 'rid-42', deployment: 'Worker', app: 'app' }, 'per-call options and the request id reach the callee');
  const ctx = await json('/context');
  t.equal(ctx.inner.requestId, ctx.outer, 'request id propagates down the tree');
  t.equal((await json('/spread')).distinct, 2, 'calls spread over both replicas');
});

t.test('a stream flows through a handle into a chunked HTTP response as it is produced', async (t) => {
  const dir = tempDir({
    'ingress.mjs': INGRESS,
    'worker.mjs': WORKER,
    'serve.yaml': `
applications:
  - name: app
    ingress: Ingress
    deployments:
      - { name: Ingress, handler: ./ingress.mjs, bindings: { worker: Worker } }
      - { name: Worker, handler: ./worker.mjs }
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const started = Date.now();
  const res = await fetch(`${gw.http}/stream?n=5&delay=150`);
  t.equal(res.headers.get('transfer-encoding'), 'chunked');
  const reader = res.body!.getReader();
  const arrivals: Array<[number, string]> = [];
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    arrivals.push([Date.now() - started, decoder.decode(value)]);
  }
  t.equal(arrivals.map(([, s]) => s).join(''), 'tok0\ntok1\ntok2\ntok3\ntok4\n');
  t.ok(arrivals.length >= 3, `chunks arrived separately (${arrivals.length})`);
  t.ok(arrivals[0]![0] < arrivals.at(-1)![0] - 300, 'the first chunk arrived well before the last');

  // Client disconnect cancels the whole tree: the downstream generator's finally runs.
  const marker = `${dir}/returned.txt`;
  await new Promise<void>((resolve, reject) => {
    const req = request(`${gw.http}/cancel?marker=${encodeURIComponent(marker)}`, (r) => {
      r.once('data', () => {});
      setTimeout(() => { req.destroy(); resolve(); }, 300);
    });
    req.on('error', () => {});
    req.end();
    setTimeout(() => reject(new Error(`no response from /cancel\n${gw.log()}`)), 10_000).unref();
  });
  for (let i = 0; i < 100 && !existsSync(marker); i++) await sleep(50);
  t.ok(existsSync(marker), 'the downstream generator was returned');
});
