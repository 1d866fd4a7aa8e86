import t from 'tap';
import { multiplexed } from '../../src/index.ts';
import { loadedModelIds } from '../../src/replica/multiplexed.ts';

class FakeModel {
  closed = false;
  readonly id: string;
  constructor(id: string) { this.id = id; }
  async close() { this.closed = true; }
}

t.test('an LRU of maxModelsPerReplica models; eviction closes the least recently used', async (t) => {
  const loads: string[] = [];
  const models = new Map<string, FakeModel>();
  const getModel = multiplexed(async (id: string) => {
    loads.push(id);
    const m = new FakeModel(id);
    models.set(id, m);
    return m;
  }, { maxModelsPerReplica: 2 });
  await getModel('a');
  await getModel('b');
  await getModel('a'); // a is now the most recently used
  t.same(loads, ['a', 'b']);
  await getModel('c'); // evicts b
  t.same(loads, ['a', 'b', 'c']);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(models.get('b')!.closed, true);
  t.equal(models.get('a')!.closed, false);
  t.same(loadedModelIds()!.sort(), ['a', 'c']);
  await getModel('b'); // loaded again, evicts a
  t.same(loads, ['a', 'b', 'c', 'b']);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(models.get('a')!.closed, true);
});

t.test('concurrent loads of one id share one promise; [Symbol.asyncDispose] runs on eviction', async (t) => {
  let loads = 0;
  let disposed = 0;
  const getModel = multiplexed(async (id: string) => {
    loads++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { id, async [Symbol.asyncDispose]() { disposed++; } };
  }, { maxModelsPerReplica: 1 });
  const [x, y] = await Promise.all([getModel('m'), getModel('m')]);
  t.equal(loads, 1);
  t.equal(x, y);
  await getModel('n');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(disposed, 1);
});

t.test('a failed load is not cached', async (t) => {
  let attempts = 0;
  const getModel = multiplexed(async (id: string) => {
    attempts++;
    if (attempts === 1) throw new Error('download failed');
    return id;
  });
  await t.rejects(getModel('m'), { message: 'download failed' });
  t.equal(await getModel('m'), 'm');
  t.equal(attempts, 2);
});

t.test('without an id and outside a request, getModel says what is missing', async (t) => {
  const getModel = multiplexed(async (id: string) => id);
  await t.rejects(getModel(), /no model id; pass one, or send the serve_multiplexed_model_id header/);
});
