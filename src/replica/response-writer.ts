/**
 * Turns what `fetch` returned into the HTTP response (CONTRACT section 3): a `Response`, a
 * string, bytes, an async iterable of strings/bytes, `undefined` or a JSON value. Streamed bodies
 * are written chunk by chunk as they are produced, waiting for 'drain' when the socket is full,
 * so a slow client slows the producer instead of filling memory.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { CallContext } from './request-context.ts';

/** Hop-by-hop headers (RFC 9110 section 7.6.1): they describe one connection, never forwarded. */
export const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
]);

const TEXT = 'text/plain; charset=utf-8';
const BYTES = 'application/octet-stream';
const JSON_TYPE = 'application/json';

/** Writes `result`; throws (before any byte is sent, when it can) if it is not a valid response. */
export async function writeResult(res: ServerResponse, ctx: CallContext, result: unknown): Promise<void> {
  if (typeof result === 'string') return sendWhole(res, 200, TEXT, result);
  if (result === undefined) {
    res.writeHead(204);
    res.end();
    return;
  }
  if (result instanceof Response || isResponseLike(result)) return writeResponse(res, ctx, result);
  if (result instanceof Uint8Array) return sendWhole(res, 200, BYTES, result);
  if (result instanceof ArrayBuffer) return sendWhole(res, 200, BYTES, Buffer.from(result));
  if (result !== null && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return writeIterable(res, ctx, result as AsyncIterable<unknown>);
  }
  const json = JSON.stringify(result);
  if (json === undefined) throw new TypeError(`fetch() returned a ${typeof result}, which is not a response`);
  sendWhole(res, 200, JSON_TYPE, json);
}

function sendWhole(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  res.writeHead(status, { 'content-type': type, 'content-length': length });
  res.end(body);
}

/** A `Response` from another copy of undici (an npm `undici` the handler imported). */
function isResponseLike(value: unknown): value is Response {
  if (value === null || typeof value !== 'object') return false;
  const r = value as Partial<Response>;
  return typeof r.status === 'number' && r.headers !== undefined && typeof r.headers.forEach === 'function' && 'body' in r && typeof r.arrayBuffer === 'function';
}

async function writeResponse(res: ServerResponse, ctx: CallContext, response: Response): Promise<void> {
  // A flat [name, value, ...] list keeps repeated headers (set-cookie) separate.
  const headers: string[] = [];
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie' || HOP_BY_HOP.has(name)) return;
    headers.push(name, value);
  });
  for (const cookie of response.headers.getSetCookie?.() ?? []) headers.push('set-cookie', cookie);
  const body = response.body;
  if (body === null) {
    res.writeHead(response.status, response.statusText || undefined, headers);
    res.end();
    return;
  }
  const reader = body.getReader();
  ctx.source = reader;
  // Read the first chunk before the head: a body that fails at once can still become a 500.
  let chunk = await reader.read();
  res.writeHead(response.status, response.statusText || undefined, headers);
  while (!chunk.done) {
    if (ctx.aborted) return;
    if (!res.write(chunk.value)) await drained(res, ctx);
    chunk = await reader.read();
  }
  if (!ctx.aborted) res.end();
}

async function writeIterable(res: ServerResponse, ctx: CallContext, iterable: AsyncIterable<unknown>): Promise<void> {
  const iterator = iterable[Symbol.asyncIterator]();
  ctx.source = iterator;
  // The first chunk decides the content type; it is sent as soon as it exists.
  let step = await iterator.next();
  if (ctx.aborted) return;
  const first = step.done ? '' : step.value;
  res.writeHead(200, { 'content-type': first instanceof Uint8Array ? BYTES : TEXT });
  while (!step.done) {
    const value = step.value;
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      throw new TypeError(`fetch() streamed a ${value === null ? 'null' : typeof value} chunk; stream strings or Uint8Array`);
    }
    if (!res.write(value)) await drained(res, ctx);
    if (ctx.aborted) return;
    step = await iterator.next();
    if (ctx.aborted) return;
  }
  res.end();
}

/** Waits for the socket to take more; a cancelled call (the client left) ends the wait. */
async function drained(res: ServerResponse, ctx: CallContext): Promise<void> {
  try {
    await once(res, 'drain', { signal: ctx.signal });
  } catch {
    // Aborted: the caller checks ctx.aborted.
  }
}
