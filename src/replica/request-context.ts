/**
 * The request context: what `getRequestContext()` returns inside a call (`fetch`, a handle
 * method, the body of a streaming generator), and `undefined` outside one.
 *
 * A handler may import `switchyard` from its own `node_modules` while the replica runtime runs
 * from the gateway's install: two copies of this module in one process. So the
 * AsyncLocalStorage lives on `globalThis` under a registered symbol, and every copy reads the
 * one the runtime created.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a handler sees of the call it is serving. */
export interface RequestContext {
  /** The `x-request-id` the gateway sent (the client's, if it sent one). */
  readonly requestId: string;
  readonly app: string;
  readonly deployment: string;
  readonly replicaId: string;
  /** From the `serve_multiplexed_model_id` header or the handle option; `''` when absent. */
  readonly multiplexedModelId: string;
  /** Aborts when the caller goes away (client disconnect, request timeout) or the replica stops. */
  readonly signal: AbortSignal;
}

const STORAGE_KEY = Symbol.for('switchyard.requestContext');

type Global = { [STORAGE_KEY]?: AsyncLocalStorage<RequestContext> };

/** The process-wide storage, created on first use by the runtime (never at import). */
export function requestStorage(): AsyncLocalStorage<RequestContext> {
  const g = globalThis as Global;
  return (g[STORAGE_KEY] ??= new AsyncLocalStorage<RequestContext>());
}

/**
 * The context of the call being served, or `undefined` outside a call (module top level,
 * constructor, timers started outside a request).
 */
export function getRequestContext(): RequestContext | undefined {
  return (globalThis as Global)[STORAGE_KEY]?.getStore();
}

/** Runs `fn` outside any request context (work that serves many requests, like a batch). */
export function outsideRequestContext<R>(fn: () => R): R {
  const storage = (globalThis as Global)[STORAGE_KEY];
  return storage === undefined ? fn() : storage.exit(fn);
}

/** Who this replica is; shared by every call it serves. */
export interface ReplicaIdentity {
  readonly app: string;
  readonly deployment: string;
  readonly replicaId: string;
}

/** Something a call is reading from, stopped when the call is cancelled. */
interface Source {
  return?(): unknown;
  cancel?(): unknown;
}

/**
 * The runtime's side of one call. The AbortController is created only when someone reads
 * `signal` (the fetch path always does, through `Request`; most handle calls never do), since
 * it is the costliest part of a context.
 */
export class CallContext implements RequestContext {
  readonly requestId: string;
  readonly app: string;
  readonly deployment: string;
  readonly replicaId: string;
  readonly multiplexedModelId: string;
  /** The async iterator or stream reader the response is being written from. */
  source: Source | undefined = undefined;
  /** The runtime's handle on the call's response (for failing it from outside the call). */
  response: unknown = undefined;
  #controller: AbortController | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;

  constructor(identity: ReplicaIdentity, requestId: string, multiplexedModelId: string) {
    this.requestId = requestId;
    this.app = identity.app;
    this.deployment = identity.deployment;
    this.replicaId = identity.replicaId;
    this.multiplexedModelId = multiplexedModelId;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Cancels the call: aborts `signal` and stops the source so a generator's `finally` runs. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const source = this.source;
    if (source === undefined) return;
    try {
      const done = typeof source.return === 'function' ? source.return() : source.cancel?.();
      if (done instanceof Promise) done.catch(ignore);
    } catch {
      // A source that throws while being stopped has nothing left to tell anyone.
    }
  }
}

function ignore(): void {}
