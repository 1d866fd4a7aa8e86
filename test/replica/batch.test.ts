import t from 'tap';
import { batch } from '../../src/index.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('concurrent calls are grouped up to maxBatchSize', async (t) => {
  const seen: number[][] = [];
  const double = batch(async (xs: number[]) => {
    seen.push(xs);
    return xs.map((x) => x * 2);
  }, { maxBatchSize: 3, batchWaitTimeoutS: 0.05 });
  const out = await Promise.all([1, 2, 3, 4, 5].map((x) => double(x)));
  t.same(out, [2, 4, 6, 8, 10]);
  t.same(seen, [[1, 2, 3], [4, 5]]);
});

t.test('a partial batch runs when the wait elapses', async (t) => {
  const seen: string[][] = [];
  const upper = batch((xs: string[]) => {
    seen.push(xs);
    return xs.map((x) => x.toUpperCase());
  }, { maxBatchSize: 10, batchWaitTimeoutS: 0.03 });
  const started = performance.now();
  const a = upper('a');
  await sleep(5);
  const b = upper('b');
  t.same(await Promise.all([a, b]), ['A', 'B']);
  t.same(seen, [['a', 'b']]);
  t.ok(performance.now() - started >= 25, 'waited for the batch to fill');
});

t.test('items arriving while a batch runs form the next batch', async (t) => {
  const seen: number[][] = [];
  const slow = batch(async (xs: number[]) => {
    seen.push(xs);
    await sleep(40);
    return xs;
  }, { maxBatchSize: 10, batchWaitTimeoutS: 0 });
  const first = slow(1);
  await sleep(5);
  const rest = [2, 3, 4].map((x) => slow(x));
  t.same(await Promise.all([first, ...rest]), [1, 2, 3, 4]);
  t.same(seen, [[1], [2, 3, 4]]);
});

t.test('a throw rejects every caller of that batch, and only that batch', async (t) => {
  let calls = 0;
  const flaky = batch(async (xs: number[]) => {
    calls++;
    if (calls === 1) throw new Error('model crashed');
    return xs;
  }, { maxBatchSize: 2, batchWaitTimeoutS: 0.01 });
  const results = await Promise.allSettled([flaky(1), flaky(2), flaky(3)]);
  t.match(results[0], { status: 'rejected', reason: { message: 'model crashed' } });
  t.match(results[1], { status: 'rejected', reason: { message: 'model crashed' } });
  t.same(results[2], { status: 'fulfilled', value: 3 });
});

t.test('an output length mismatch rejects every caller with a clear error', async (t) => {
  const wrong = batch(async (xs: number[]) => xs.slice(1), { maxBatchSize: 3, batchWaitTimeoutS: 0.01 });
  const results = await Promise.allSettled([wrong(1), wrong(2), wrong(3)]);
  for (const r of results) {
    t.match(r, { status: 'rejected', reason: { message: 'batch(): the batched function returned 2 outputs for 3 inputs; it must return one output per input, in order' } });
  }
});

t.test('works as a class field and as a prototype method, with `this`', async (t) => {
  class Model {
    factor: number;
    batches = 0;
    constructor(factor: number) { this.factor = factor; }
    scale = batch(async (xs: number[]) => { this.batches++; return xs.map((x) => x * this.factor); }, { maxBatchSize: 4, batchWaitTimeoutS: 0.01 });
    declare add: (x: number) => Promise<number>;
  }
  Model.prototype.add = batch(async function (this: Model, xs: number[]) {
    this.batches++;
    return xs.map((x) => x + this.factor);
  }, { maxBatchSize: 4, batchWaitTimeoutS: 0.01 });
  const a = new Model(10);
  const b = new Model(100);
  t.same(await Promise.all([a.scale(1), a.scale(2), b.scale(1)]), [10, 20, 100]);
  // Calls on different instances never share a batch: each sees its own `this`.
  t.same(await Promise.all([a.add(1), b.add(1), a.add(2)]), [11, 101, 12]);
  t.equal(a.batches, 2);
  t.equal(b.batches, 2);
});

t.test('invalid options are refused', async (t) => {
  t.throws(() => batch((x: number[]) => x, { maxBatchSize: 0 }), /maxBatchSize must be an integer >= 1/);
  t.throws(() => batch((x: number[]) => x, { batchWaitTimeoutS: -1 }), /batchWaitTimeoutS must be >= 0/);
});
