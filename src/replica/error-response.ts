/**
 * Error answers of the replica's data plane: JSON `{"error": CODE, "message": ...}` with the
 * catalogue's status and an `x-swy-error` header, so the proxy can tell a replica's error from a
 * handler's own error response.
 */
import type { ServerResponse } from 'node:http';
import { ERRORS, type ErrorDef } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { HEADERS } from './protocol.ts';
import { errorBody, errorDefFor } from './remote-error.ts';
import type { CallContext } from './request-context.ts';

/** A refusal before reading any of the request: the caller may send it elsewhere. */
export function refuse(res: ServerResponse, def: ErrorDef, message: string, close: boolean): void {
  const body = JSON.stringify({ error: def.code, message });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [HEADERS.ERROR]: def.code,
    [HEADERS.REJECTED]: '1',
  };
  if (close) headers.connection = 'close';
  res.writeHead(def.status, headers);
  res.end(body);
}

export function sendError(res: ServerResponse, def: ErrorDef, message: string): void {
  const body = JSON.stringify({ error: def.code, message });
  res.writeHead(def.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [HEADERS.ERROR]: def.code });
  res.end(body);
}

/**
 * Answers a handler's error: JSON with the catalogue code before the response started, a cut
 * stream after (the client must not mistake a partial body for a whole one).
 */
export function failResponse(log: Logger, res: ServerResponse, ctx: CallContext, err: unknown): void {
  if (ctx.aborted || res.destroyed) {
    log.debug(`request cancelled: ${(err as Error)?.message ?? String(err)}`, { request_id: ctx.requestId });
    return;
  }
  const def = errorDefFor(err);
  const stack = err instanceof Error && err.stack ? err.stack : String(err);
  if (res.headersSent) {
    log.error(`handler failed while streaming its response: ${stack}`, { request_id: ctx.requestId });
    // Cut the stream without its final chunk, but after what was already written: destroying at
    // once would drop the head too, and the client would be told the replica died instead.
    const socket = res.socket;
    if (socket) socket.destroySoon();
    else res.destroy();
    return;
  }
  if (def === ERRORS.HANDLER_ERROR) log.error(`handler error: ${stack}`, { request_id: ctx.requestId });
  else log.warn(`${def.code}: ${(err as Error).message}`, { request_id: ctx.requestId });
  const body = errorBody(def, err);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [HEADERS.ERROR]: def.code,
  };
  if (def.status === 503) headers['retry-after'] = '1';
  res.writeHead(def.status, headers);
  res.end(body);
}
