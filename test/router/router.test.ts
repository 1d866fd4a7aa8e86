import t from 'tap';
import { Router } from '../../src/router/router.ts';
import type { DeploymentRouting } from '../../src/replica/protocol.ts';

function routing(ids: string[], over: Partial<DeploymentRouting> = {}): DeploymentRouting {
  return {
    deployment_id: 'app#D',
    replicas: ids.map((id) => ({ replica_id: id, socket_path: `/tmp/${id}.sock` })),
    max_ongoing_requests: 2,
    max_queued_requests: -1,
    availability: 'ok',
    message: '',
    ...over,
  };
}

t.test('never puts more than max_ongoing_requests on one replica', async (t) => {
  const router = new Router(routing(['a', 'b']));
  const leases = [router.tryAcquire(), router.tryAcquire(), router.tryAcquire(), router.tryAcquire()];
  t.ok(leases.every(Boolean), 'four slots over two replicas of two');
  t.equal(router.inflightOn('a'), 2);
  t.equal(router.inflightOn('b'), 2);
  t.equal(router.tryAcquire(), undefined, 'the fifth must queue');
});

t.test('power of two choices picks the less loaded of the two candidates', async (t) => {
  // random() = 0 then 0: candidates are pool[0] and pool[1].
  const router = new Router(routing(['a', 'b'], { max_ongoing_requests: 10 }), () => 0);
  const first = router.tryAcquire()!;
  t.equal(first.replica.replica_id, 'a');
  const second = router.tryAcquire()!;
  t.equal(second.replica.replica_id, 'b', 'a has one in flight, b none');
});

t.test('queues FIFO and dispatches on release', async (t) => {
  const router = new Router(routing(['a'], { max_ongoing_requests: 1 }));
  const held = router.tryAcquire()!;
  const order: number[] = [];
  const p1 = router.acquire().then((l) => { order.push(1); return l; });
  const p2 = router.acquire().then((l) => { order.push(2); return l; });
  t.equal(router.queued, 2);
  held.release();
  const l1 = await p1;
  l1.release();
  const l2 = await p2;
  l2.release();
  t.same(order, [1, 2]);
  t.equal(router.ongoing, 0);
});

t.test('a full queue rejects with backpressure (503)', async (t) => {
  const router = new Router(routing(['a'], { max_ongoing_requests: 1, max_queued_requests: 1 }));
  router.tryAcquire();
  const queued = router.acquire();
  await t.rejects(router.acquire(), { code: 'backpressure', status: 503 });
  queued.catch(() => {});
});

t.test('requests wait while there is no replica and go when one appears', async (t) => {
  const router = new Router(routing([]));
  const p = router.acquire();
  t.equal(router.queued, 1);
  router.update(routing(['a']));
  const lease = await p;
  t.equal(lease.replica.replica_id, 'a');
});

t.test('queued requests fail fast when the deployment can no longer serve', async (t) => {
  const router = new Router(routing([]));
  const p = router.acquire();
  router.update(routing([], { availability: 'failed', message: 'constructor threw' }));
  await t.rejects(p, { code: 'unavailable', message: /constructor threw/ });
  await t.rejects(router.acquire(), { code: 'unavailable' }, 'and new ones at once');
});

t.test('an aborted wait leaves the queue and is never dispatched', async (t) => {
  const router = new Router(routing(['a'], { max_ongoing_requests: 1 }));
  const held = router.tryAcquire()!;
  const ac = new AbortController();
  const p = router.acquire({ signal: ac.signal });
  ac.abort(new Error('timeout'));
  await t.rejects(p, { message: 'timeout' });
  t.equal(router.queued, 0);
  held.release();
  t.equal(router.ongoing, 0, 'the aborted request took no slot');
});

t.test('excluded replicas are skipped (retry elsewhere)', async (t) => {
  const router = new Router(routing(['a', 'b'], { max_ongoing_requests: 5 }));
  for (let i = 0; i < 10; i++) {
    const l = router.tryAcquire({ exclude: new Set(['a']) })!;
    t.equal(l.replica.replica_id, 'b');
    l.release();
  }
});

t.test('replicas holding the requested model are preferred', async (t) => {
  const r = routing(['a', 'b', 'c'], { max_ongoing_requests: 5 });
  const router = new Router({ ...r, replicas: r.replicas.map((x) => (x.replica_id === 'c' ? { ...x, models: ['m1'] } : x)) });
  for (let i = 0; i < 5; i++) t.equal(router.tryAcquire({ modelId: 'm1' })!.replica.replica_id, 'c');
  t.not(router.tryAcquire({ modelId: 'm1' })!.replica.replica_id, 'c', 'c is full: others take it');
});

t.test('release is idempotent', async (t) => {
  const router = new Router(routing(['a']));
  const l = router.tryAcquire()!;
  l.release();
  l.release();
  t.equal(router.ongoing, 0);
});
