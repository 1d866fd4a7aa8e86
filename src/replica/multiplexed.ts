/**
 * Model multiplexing (Ray Serve's `@serve.multiplexed`): many models served by one deployment,
 * each replica keeping the few most recently used ones loaded. The ids loaded here are reported
 * to the gateway (`LoadMessage.models`) so requests for a model prefer replicas that hold it.
 */
import { getRequestContext } from './request-context.ts';

export interface MultiplexedOptions {
  /** How many models one replica keeps loaded; the least recently used is evicted. Default 3. */
  readonly maxModelsPerReplica?: number;
}

/** Reports every multiplexed cache's loaded ids; on globalThis so any copy of the package joins. */
const REGISTRY_KEY = Symbol.for('switchyard.multiplexed');
type Registry = Set<() => readonly string[]>;

function registry(create: boolean): Registry | undefined {
  const g = globalThis as { [REGISTRY_KEY]?: Registry };
  if (create) g[REGISTRY_KEY] ??= new Set();
  return g[REGISTRY_KEY];
}

/** Loaded model ids of every `multiplexed()` cache in this process; undefined when none exists. */
export function loadedModelIds(): string[] | undefined {
  const caches = registry(false);
  if (caches === undefined || caches.size === 0) return undefined;
  const ids = new Set<string>();
  for (const list of caches) for (const id of list()) ids.add(id);
  return [...ids];
}

interface Entry<M> {
  readonly promise: Promise<M>;
  model?: M;
  loaded: boolean;
  evicted: boolean;
}

/**
 * Wraps `loader(modelId)` into `getModel(modelId?)`, backed by a per-replica LRU cache.
 * Concurrent requests for one id share one load; a failed load is not cached. An evicted
 * model's `close()` or `[Symbol.asyncDispose]()` runs (after its load finishes, if it was still
 * loading). `modelId` defaults to `getRequestContext().multiplexedModelId`. The loader is called
 * with the `this` of the `getModel` call, so it can be a method.
 *
 * ```ts
 * class Models {
 *   getModel = multiplexed((id: string) => loadModel(id), { maxModelsPerReplica: 2 });
 *   async fetch(req: Request) { const model = await this.getModel(); return model.run(await req.text()); }
 * }
 * ```
 * Create it once per replica (a class field, or module scope), not per request: each call
 * creates a new cache.
 */
export function multiplexed<M>(
  loader: (modelId: string) => M | Promise<M>,
  options: MultiplexedOptions = {},
): (modelId?: string) => Promise<M> {
  const max = options.maxModelsPerReplica ?? 3;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`multiplexed(): maxModelsPerReplica must be an integer >= 1, got ${max}`);
  // Map order is recency order: a hit moves its entry to the end, eviction takes the first.
  const cache = new Map<string, Entry<M>>();
  registry(true)!.add(() => [...cache].filter(([, e]) => e.loaded).map(([id]) => id));

  function evictOverflow(): void {
    while (cache.size > max) {
      const [id, entry] = cache.entries().next().value as [string, Entry<M>];
      cache.delete(id);
      entry.evicted = true;
      if (entry.loaded) void dispose(entry.model, id);
    }
  }

  return async function getModel(this: unknown, modelId?: string): Promise<M> {
    const id = modelId ?? getRequestContext()?.multiplexedModelId ?? '';
    if (id === '') throw new TypeError('getModel(): no model id; pass one, or send the serve_multiplexed_model_id header / handle option');
    const hit = cache.get(id);
    if (hit !== undefined) {
      cache.delete(id);
      cache.set(id, hit);
      return hit.promise;
    }
    const entry: Entry<M> = { promise: Promise.resolve().then(() => loader.call(this, id)), loaded: false, evicted: false };
    cache.set(id, entry);
    evictOverflow();
    entry.promise.then(
      (model) => {
        entry.model = model;
        entry.loaded = true;
        if (entry.evicted) void dispose(model, id);
      },
      () => {
        if (cache.get(id) === entry) cache.delete(id);
      },
    );
    return entry.promise;
  };
}

async function dispose(model: unknown, id: string): Promise<void> {
  if (model === null || (typeof model !== 'object' && typeof model !== 'function')) return;
  const m = model as { close?: () => unknown; [Symbol.asyncDispose]?: () => unknown };
  try {
    if (typeof m.close === 'function') await m.close();
    else if (typeof m[Symbol.asyncDispose] === 'function') await m[Symbol.asyncDispose]!();
  } catch (err) {
    process.stderr.write(`switchyard: closing evicted model '${id}' failed: ${(err as Error)?.stack ?? String(err)}\n`);
  }
}
