/**
 * The Router through the real gateway: backpressure (503 + Retry-After), the per-replica
 * in-flight cap, and spreading over replicas (CONTRACT section 4).
 */
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { sleep, startGateway, tempDir } from '../helpers/gateway.ts';
import { raw, waitForFile } from './data-plane-http.ts';

const HANDLER = `
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getRequestContext } from 'switchyard';
let current = 0;
let max = 0;
let served = 0;
export default class Worker {
  constructor({ args }) { this.dir = args.dir; }
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/stats') return { max, served, replica: getRequestContext().replicaId };
    current++;
    served++;
    max = Math.max(max, current);
    try {
      if (url.pathname === '/gate') {
        const tag = url.searchParams.get('tag');
        writeFileSync(join(this.dir, tag + '.started'), '');
        while (!existsSync(join(this.dir, 'open'))) await new Promise((r) => setTimeout(r, 10));
        return { tag };
      }
      await new Promise((r) => setTimeout(r, Number(url.searchParams.get('ms') ?? 0)));
      return { replica: getRequestContext().replicaId, requestId: getRequestContext().requestId };
    } finally {
      current--;
    }
  }
}
`;

function spec(dir: string, deployments: string): string {
  return `
applications:
  - name: bp
    route_prefix: /bp
    deployments: [{ name: W, handler: ./worker.mjs, args: { dir: ${JSON.stringify(dir)} }, max_ongoing_requests: 1, max_queued_requests: 1 }]
  - name: cap
    route_prefix: /cap
    deployments: [{ name: W, handler: ./worker.mjs, args: { dir: ${JSON.stringify(dir)} }, max_ongoing_requests: 3 }]
  - name: spread
    route_prefix: /spread
    deployments: [{ name: W, handler: ./worker.mjs, args: { dir: ${JSON.stringify(dir)} }, num_replicas: 2, max_ongoing_requests: 4 }]
${deployments}`;
}

t.test('router behaviour through the proxy', async (t) => {
  const dir = tempDir({ 'worker.mjs': HANDLER });
  writeFileSync(join(dir, 'serve.yaml'), spec(dir, ''));
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const url = (p: string) => gw.http + p;

  t.test('503 backpressure with Retry-After: 1 executing + 1 queued, the third is refused', async (t) => {
    const first = raw(url('/bp/gate?tag=a'));
    t.ok(await waitForFile(join(dir, 'a.started')), 'the first request is executing');
    const second = raw(url('/bp/gate?tag=b'));
    await sleep(300);
    const third = raw(url('/bp/gate?tag=c'));
    // Normally b is queued and c refused; on a very busy machine c may overtake b on the way in.
    // Either way exactly one of them is refused at once, while a still holds the only slot.
    const refused = await Promise.race([second.then((r) => ['b', r] as const), third.then((r) => ['c', r] as const)]);
    const [refusedTag, res] = refused;
    t.equal(res.status, 503, `request ${refusedTag} refused while the gate is still closed`);
    t.equal(res.headers['retry-after'], '1');
    const body = JSON.parse(res.text);
    t.equal(body.error, 'backpressure');
    t.match(body.message, /max_queued_requests: 1/);
    t.ok(res.headers['x-request-id']);
    writeFileSync(join(dir, 'open'), '');
    const queuedTag = refusedTag === 'c' ? 'b' : 'c';
    const [a, q] = await Promise.all([first, refusedTag === 'c' ? second : third]);
    t.same([a.status, JSON.parse(a.text)], [200, { tag: 'a' }]);
    t.same([q.status, JSON.parse(q.text)], [200, { tag: queuedTag }], 'the queued request ran once capacity freed');
    const stats = JSON.parse((await raw(url('/bp/stats'))).text);
    t.equal(stats.served, 2, 'the refused request never reached the handler');
    t.equal(stats.max, 1);
  });

  t.test('never more than max_ongoing_requests in flight on one replica', async (t) => {
    const results = await Promise.all(Array.from({ length: 15 }, () => raw(url('/cap/work?ms=60'), { timeoutMs: 15_000 })));
    t.same(results.map((r) => r.status), Array(15).fill(200), 'every request served (queued, not refused)');
    const stats = JSON.parse((await raw(url('/cap/stats'))).text);
    t.equal(stats.served, 15);
    t.equal(stats.max, 3, 'the handler saw exactly max_ongoing_requests (3) at once, never more');
  });

  t.test('requests spread over 2 replicas', async (t) => {
    const results = await Promise.all(Array.from({ length: 16 }, () => raw(url('/spread/work?ms=50'), { timeoutMs: 15_000 })));
    const replicas = new Set(results.map((r) => JSON.parse(r.text).replica));
    t.equal(replicas.size, 2, `two distinct replica ids: ${[...replicas].join(', ')}`);
    for (const id of replicas) t.match(id, /^spread#W#/);
    const status = await gw.status();
    const ids = status.applications.spread.deployments.W.replicas.map((r: any) => r.replica_id).sort();
    t.same([...replicas].sort(), ids, 'the ids getRequestContext() gives are the status ids');
    for (const r of results) t.equal(JSON.parse(r.text).requestId, r.headers['x-request-id']);
  });
});
