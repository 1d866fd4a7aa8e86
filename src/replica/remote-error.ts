/**
 * Errors as they leave a replica: as a `RemoteError` (control messages, handle calls) or as an
 * HTTP error answer to a proxied request (CONTRACT section 4).
 */
import { ERRORS, type ErrorDef } from '../errors.ts';
import type { RemoteError } from './protocol.ts';

/** Anything thrown, as plain strings that survive v8.serialize and JSON. */
export function toRemoteError(err: unknown): RemoteError {
  if (err !== null && typeof err === 'object') {
    const e = err as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown };
    const name = typeof e.name === 'string' && e.name !== '' ? e.name : 'Error';
    const message = typeof e.message === 'string' ? e.message : String(err);
    const out: { name: string; message: string; code?: string | number; stack?: string } = { name, message };
    if (typeof e.code === 'string' || typeof e.code === 'number') out.code = e.code;
    if (typeof e.stack === 'string') out.stack = e.stack;
    return out;
  }
  return { name: 'Error', message: String(err) };
}

/**
 * The catalogue entry a handler's error answers with. A downstream deployment's backpressure and
 * timeout arrive as errors named `BackPressureError` / `TimeoutError` (re-thrown by a handle, or
 * `AbortSignal.timeout`); uncaught, they keep their meaning for the client.
 */
export function errorDefFor(err: unknown): ErrorDef {
  const name = err !== null && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
  if (name === 'BackPressureError') return ERRORS.BACKPRESSURE;
  if (name === 'DeploymentUnavailableError') return ERRORS.UNAVAILABLE;
  if (name === 'ReplicaDiedError') return ERRORS.REPLICA_DIED;
  if (name === 'TimeoutError') return ERRORS.TIMEOUT;
  return ERRORS.HANDLER_ERROR;
}

/** The JSON body of an error answer: `{"error": CODE, "message": ...}`, never a stack. */
export function errorBody(def: ErrorDef, err: unknown): string {
  const { name, message } = toRemoteError(err);
  const text = def === ERRORS.HANDLER_ERROR ? `${name}: ${message}` : message || def.message;
  return JSON.stringify({ error: def.code, message: text });
}
