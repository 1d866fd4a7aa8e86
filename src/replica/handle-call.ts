/**
 * The server side of a handle call (`POST /-/swy/call`): deserialize the arguments, call the
 * method inside the request context, and answer with one of the `CallKind`s of protocol.ts.
 * Arguments and results are v8-serialized, so they are structured-clone values (Date, Map,
 * BigInt, Uint8Array survive); a result that cannot be cloned is the method's error, named.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { deserialize, serialize } from 'node:v8';
import type { Handler } from './handler-module.ts';
import { failResponse } from './error-response.ts';
import type { ReplicaServer } from './http-server.ts';
import { FRAME, HEADERS, type CallKind } from './protocol.ts';
import { toRemoteError } from './remote-error.ts';
import type { CallContext } from './request-context.ts';

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

export async function serveHandleCall(server: ReplicaServer, req: IncomingMessage, res: ServerResponse, ctx: CallContext): Promise<void> {
  const name = (req.headers[HEADERS.METHOD] as string | undefined) ?? '';
  try {
    const input = await readBody(req);
    if (ctx.aborted) return;
    const method = findMethod(server.handler, name);
    if (method === undefined) return sendKind(res, 'error', serialize(toRemoteError(unknownMethod(server, name))));
    const args: unknown = deserialize(input);
    if (!Array.isArray(args)) throw new TypeError(`handle call to ${name}() sent arguments that are not an array`);
    let result: unknown;
    try {
      result = method.apply(server.handler, args);
      if (result instanceof Promise) result = await result;
    } catch (err) {
      if (ctx.aborted) return;
      server.log.debug(`${name}() threw: ${(err as Error)?.stack ?? String(err)}`, { request_id: ctx.requestId });
      return sendKind(res, 'error', serialize(toRemoteError(err)));
    }
    if (ctx.aborted) return;
    if (result !== null && typeof result === 'object' && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
      return await streamFrames(res, ctx, name, result as AsyncIterable<unknown>);
    }
    let body: Buffer;
    try {
      body = serialize(result);
    } catch (err) {
      const reason = (err as Error)?.message ?? String(err);
      return sendKind(res, 'error', serialize(toRemoteError(new TypeError(`${name}() returned a value that cannot cross a process boundary: ${reason}`))));
    }
    sendKind(res, 'value', body);
  } catch (err) {
    failResponse(server.log, res, ctx, err);
  }
}

/** The whole request body (events, not `for await`: the async iterator costs more than the call). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the caller went away while sending the arguments'));
    });
  });
}

function sendKind(res: ServerResponse, kind: CallKind, body: Buffer): void {
  res.writeHead(200, { [HEADERS.KIND]: kind, 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
}

function frame(type: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = type;
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, 5);
  return out;
}

/** Writes each chunk as a frame as soon as it is yielded; a failure ends with an ERROR frame. */
async function streamFrames(res: ServerResponse, ctx: CallContext, name: string, iterable: AsyncIterable<unknown>): Promise<void> {
  const iterator = iterable[Symbol.asyncIterator]();
  ctx.source = iterator;
  res.writeHead(200, { [HEADERS.KIND]: 'stream', 'content-type': 'application/octet-stream' });
  // The caller learns the kind (and can reject `await` on a generator) before the first chunk.
  res.flushHeaders();
  try {
    for (;;) {
      const step = await iterator.next();
      if (ctx.aborted) return;
      if (step.done) break;
      let payload: Buffer;
      try {
        payload = serialize(step.value);
      } catch (err) {
        const reason = (err as Error)?.message ?? String(err);
        void Promise.resolve(iterator.return?.()).catch(() => {});
        throw new TypeError(`${name}() yielded a value that cannot cross a process boundary: ${reason}`);
      }
      if (!res.write(frame(FRAME.CHUNK, payload))) {
        try {
          await once(res, 'drain', { signal: ctx.signal });
        } catch {
          return;
        }
      }
    }
  } catch (err) {
    if (ctx.aborted) return;
    res.write(frame(FRAME.ERROR, serialize(toRemoteError(err))));
  }
  res.end();
}
