/**
 * The server side of one handle call, whatever carries it (rpc-server.ts): find the method, call
 * it inside the request context (the caller already set it up), and answer with a value, an
 * error, or a stream of chunks. Arguments and results are v8-serialized, so they are
 * structured-clone values (Date, Map, BigInt, Uint8Array survive); a result that cannot be
 * cloned is the method's error, named.
 */
import { serialize } from 'node:v8';
import type { Handler } from './handler-module.ts';
import type { ReplicaServer } from './http-server.ts';
import { toRemoteError } from './remote-error.ts';
import { RPC } from './rpc-frames.ts';
import type { RpcCall } from './rpc-server.ts';

/** Called by switchyard itself, never through a handle (and `fetch` takes a Request). */
const RESERVED = new Set(['constructor', 'fetch', 'init', 'reconfigure', 'checkHealth', 'close']);

/**
 * The method `name` of the instance: an own or inherited function, not one of Object's (no
 * `toString` or `__proto__` through a handle). Getters are not run.
 */
export function findMethod(handler: Handler, name: string): ((...args: unknown[]) => unknown) | undefined {
  if (name === '' || RESERVED.has(name)) return undefined;
  for (let obj: object | null = handler; obj !== null && obj !== Object.prototype; obj = Object.getPrototypeOf(obj)) {
    const desc = Object.getOwnPropertyDescriptor(obj, name);
    if (desc !== undefined) return typeof desc.value === 'function' ? desc.value : undefined;
  }
  return undefined;
}

function unknownMethod(server: ReplicaServer, name: string): TypeError {
  const why = RESERVED.has(name) ? `; ${name}() is called by switchyard itself, not through a handle` : '';
  return new TypeError(`deployment ${server.deploymentId} has no method '${name}' that a handle can call${why}`);
}

/** Runs `name(...args)` and answers `call`: VALUE, ERROR, or STREAM then CHUNKs then END / STREAM_ERROR. */
export async function serveHandleCall(server: ReplicaServer, call: RpcCall, name: string, args: unknown): Promise<void> {
  const ctx = call.ctx;
  try {
    const method = findMethod(server.handler, name);
    if (method === undefined) return call.send(RPC.ERROR, serialize(toRemoteError(unknownMethod(server, name))), true);
    if (!Array.isArray(args)) throw new TypeError(`handle call to ${name}() sent arguments that are not an array`);
    let result: unknown;
    try {
      result = method.apply(server.handler, args);
      if (result instanceof Promise) result = await result;
    } catch (err) {
      if (ctx.aborted) return;
      server.log.debug(`${name}() threw: ${(err as Error)?.stack ?? String(err)}`, { request_id: ctx.requestId });
      return call.send(RPC.ERROR, serialize(toRemoteError(err)), true);
    }
    if (ctx.aborted) return;
    if (result !== null && typeof result === 'object' && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
      return await streamChunks(call, name, result as AsyncIterable<unknown>);
    }
    let body: Buffer;
    try {
      body = serialize(result);
    } catch (err) {
      const reason = (err as Error)?.message ?? String(err);
      return call.send(RPC.ERROR, serialize(toRemoteError(new TypeError(`${name}() returned a value that cannot cross a process boundary: ${reason}`))), true);
    }
    call.send(RPC.VALUE, body, true);
  } catch (err) {
    call.fail(err);
  }
}

/**
 * Sends each chunk as soon as it is yielded, at most STREAM_WINDOW chunks ahead of the caller's
 * reading, and no further while the connection's write buffer is full.
 */
async function streamChunks(call: RpcCall, name: string, iterable: AsyncIterable<unknown>): Promise<void> {
  const ctx = call.ctx;
  const iterator = iterable[Symbol.asyncIterator]();
  ctx.source = iterator;
  call.streaming = true;
  // The caller learns the kind (and can reject `await` on a generator) before the first chunk.
  call.send(RPC.STREAM, undefined, false);
  try {
    for (;;) {
      const step = await iterator.next();
      if (ctx.aborted || call.ended) return;
      if (step.done) break;
      let payload: Buffer;
      try {
        payload = serialize(step.value);
      } catch (err) {
        const reason = (err as Error)?.message ?? String(err);
        void Promise.resolve(iterator.return?.()).catch(() => {});
        throw new TypeError(`${name}() yielded a value that cannot cross a process boundary: ${reason}`);
      }
      call.send(RPC.CHUNK, payload, false);
      if (--call.credit <= 0) {
        await call.waitCredit();
        if (call.ended) return;
      }
      if (call.congested) {
        await call.drained();
        if (call.ended) return;
      }
    }
  } catch (err) {
    if (ctx.aborted) return;
    return call.send(RPC.STREAM_ERROR, serialize(toRemoteError(err)), true);
  }
  call.send(RPC.END, undefined, true);
}
