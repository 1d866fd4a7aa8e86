/**
 * DeploymentHandle and DeploymentResponse: what `handles.<binding>` gives a handler.
 * `await handle.predict(x)` for a value; `for await (const c of handle.generate(p))` for an
 * async generator's chunks; a response may be passed unawaited as another call's argument.
 */
import type { CallOptions, CallResult, HandleClient } from './handle-client.ts';
import { rebuildRemoteError } from './errors.ts';

/** The result of one handle call: awaitable (a value) or async-iterable (a stream), as the method is. */
export class DeploymentResponse<T = unknown> implements PromiseLike<T>, AsyncIterable<unknown> {
  readonly #result: Promise<CallResult>;
  readonly #method: string;
  #value: Promise<T> | undefined;

  constructor(result: Promise<CallResult>, method: string) {
    this.#result = result;
    this.#method = method;
    // A response nobody awaits must not crash the replica with an unhandled rejection.
    result.catch(() => {});
  }

  #awaitValue(): Promise<T> {
    return (this.#value ??= this.#result.then((r) => {
      if (r.kind === 'stream') {
        r.cancel();
        throw new TypeError(`${this.#method}() is an async generator method: iterate its response with \`for await (const chunk of handle.${this.#method}(...))\` instead of awaiting it`);
      }
      return r.value as T;
    }));
  }

  then<A = T, B = never>(onfulfilled?: ((value: T) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.#awaitValue().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#awaitValue().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#awaitValue().finally(onfinally);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<unknown, void, undefined> {
    const r = await this.#result;
    if (r.kind === 'value') {
      throw new TypeError(`${this.#method}() returns a single value, not a stream: \`await handle.${this.#method}(...)\` instead of iterating it`);
    }
    try {
      for await (const frame of r.frames) {
        if (frame.type === 'error') throw rebuildRemoteError(frame.error, `${this.#method}() stream`);
        yield frame.value;
      }
    } finally {
      // Runs on early `break` too: the callee's generator is returned.
      r.cancel();
    }
  }
}

/** Methods a handle has itself; every other property name is a remote method. */
export interface DeploymentHandle {
  /** A handle whose calls carry these options (e.g. `{ multiplexedModelId: 'm1' }`). */
  options(options: CallOptions): DeploymentHandle;
  readonly deploymentId: string;
  readonly [method: string]: unknown;
}

export function createDeploymentHandle(client: HandleClient, deploymentId: string, options: CallOptions = {}): DeploymentHandle {
  const methods = new Map<string, (...args: unknown[]) => DeploymentResponse>();
  const own = {
    options: (more: CallOptions) => createDeploymentHandle(client, deploymentId, { ...options, ...more }),
    deploymentId,
  };
  return new Proxy(own, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof typeof target];
      // Not thenable (so `await handle` is the handle) and no symbol protocols.
      if (typeof prop === 'symbol' || prop === 'then' || prop === 'toJSON') return undefined;
      let fn = methods.get(prop);
      if (!fn) {
        fn = (...args: unknown[]) => new DeploymentResponse(client.call(deploymentId, prop, args, options), prop);
        methods.set(prop, fn);
      }
      return fn;
    },
  }) as unknown as DeploymentHandle;
}
