/**
 * Dynamic request batching (Ray Serve's `@serve.batch`): concurrent per-item calls are grouped
 * into one call of a function that takes a list, for models that are faster on a batch.
 */
import { outsideRequestContext } from './request-context.ts';

export interface BatchOptions {
  /** Most items in one batch. Default 10. */
  readonly maxBatchSize?: number;
  /** How long the first item of a batch waits for more, in seconds. Default 0.01. */
  readonly batchWaitTimeoutS?: number;
  /**
   * Batches that may run at once. Default 1, as in Ray Serve: items that arrive while a batch
   * runs form the next, bigger batch instead of starting small ones.
   */
  readonly maxConcurrentBatches?: number;
}

interface Item<I, O> {
  readonly input: I;
  readonly resolve: (value: O) => void;
  readonly reject: (reason: unknown) => void;
  readonly since: number;
}

interface Queue<I, O> {
  items: Item<I, O>[];
  timer: NodeJS.Timeout | undefined;
  running: number;
}

/**
 * Turns `fn(inputs) => outputs` (same length, same order) into `(input) => Promise<output>`.
 * A throw, or a result of the wrong length, rejects every caller of that batch.
 *
 * `fn` runs with the `this` of the call that filled the batch, and batches never mix callers with
 * different `this`; so both forms work:
 * ```ts
 * class Model {
 *   // a class field: one queue per instance, `this` from the arrow function
 *   embed = batch(async (texts: string[]) => this.model.embed(texts), { maxBatchSize: 8 });
 * }
 * // a method on the prototype: `this` is the instance the method is called on
 * Model.prototype.classify = batch(async function (this: Model, texts: string[]) { ... });
 * ```
 * `fn` runs outside any request context (it serves many requests): read what you need from
 * `getRequestContext()` in the per-item caller.
 */
export function batch<I, O, T = unknown>(
  fn: (this: T, inputs: I[]) => O[] | Promise<O[]>,
  options: BatchOptions = {},
): (this: T, input: I) => Promise<O> {
  const max = options.maxBatchSize ?? 10;
  const waitMs = (options.batchWaitTimeoutS ?? 0.01) * 1000;
  const concurrency = options.maxConcurrentBatches ?? 1;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`batch(): maxBatchSize must be an integer >= 1, got ${max}`);
  if (!(waitMs >= 0)) throw new RangeError(`batch(): batchWaitTimeoutS must be >= 0, got ${options.batchWaitTimeoutS}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`batch(): maxConcurrentBatches must be an integer >= 1, got ${concurrency}`);

  const queues = new WeakMap<object, Queue<I, O>>();
  const shared: Queue<I, O> = { items: [], timer: undefined, running: 0 };
  const queueFor = (self: unknown): Queue<I, O> => {
    if (self === null || (typeof self !== 'object' && typeof self !== 'function')) return shared;
    let q = queues.get(self);
    if (q === undefined) queues.set(self, (q = { items: [], timer: undefined, running: 0 }));
    return q;
  };

  /** Starts batches while there is room and a full batch, or an item that has waited enough. */
  const pump = (self: T, q: Queue<I, O>): void => {
    while (q.running < concurrency && q.items.length > 0) {
      const waited = performance.now() - q.items[0]!.since;
      if (q.items.length < max && waited < waitMs) {
        if (q.timer === undefined) {
          q.timer = setTimeout(() => {
            q.timer = undefined;
            pump(self, q);
          }, waitMs - waited);
        }
        return;
      }
      if (q.timer !== undefined) {
        clearTimeout(q.timer);
        q.timer = undefined;
      }
      run(self, q, q.items.splice(0, max));
    }
  };

  const run = (self: T, q: Queue<I, O>, items: Item<I, O>[]): void => {
    q.running++;
    const inputs = items.map((item) => item.input);
    const call = (): Promise<O[]> => Promise.resolve().then(() => fn.call(self, inputs));
    // The timer or caller that starts a batch carries one request's context; the batch is not it.
    outsideRequestContext(call).then(
      (outputs) => {
        if (!Array.isArray(outputs)) {
          throw new TypeError(`batch(): the batched function must return an array, got ${outputs === null ? 'null' : typeof outputs}`);
        }
        if (outputs.length !== items.length) {
          throw new Error(`batch(): the batched function returned ${outputs.length} outputs for ${items.length} inputs; it must return one output per input, in order`);
        }
        items.forEach((item, i) => item.resolve(outputs[i]!));
      },
    ).catch((err: unknown) => {
      for (const item of items) item.reject(err);
    }).finally(() => {
      q.running--;
      pump(self, q);
    });
  };

  return function batched(this: T, input: I): Promise<O> {
    const q = queueFor(this);
    return new Promise<O>((resolve, reject) => {
      q.items.push({ input, resolve, reject, since: performance.now() });
      pump(this, q);
    });
  };
}
