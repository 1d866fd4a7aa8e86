/**
 * Errors a handle call rejects with. A remote error is rebuilt with the remote name, message and
 * `code` (the remote stack rides along as `cause`, for logs); the handle's own failures have
 * names the replica runtime maps to HTTP answers when uncaught (see replica/remote-error.ts).
 */
import type { RemoteError } from '../replica/protocol.ts';

/** The called deployment's queue for this caller is full (max_queued_requests). Uncaught: 503. */
export class BackPressureError extends Error {
  override readonly name = 'BackPressureError';
  readonly code = 'backpressure';
}

/** The called deployment has no replica that can serve (DEPLOY_FAILED, UNHEALTHY, deleted). Uncaught: 503. */
export class DeploymentUnavailableError extends Error {
  override readonly name = 'DeploymentUnavailableError';
  readonly code = 'unavailable';
}

/** The replica serving the call exited before answering. Uncaught: 502. */
export class ReplicaDiedError extends Error {
  override readonly name = 'ReplicaDiedError';
  readonly code = 'replica_died';
}

/** A remote error as the caller sees it: same name, message and code; remote stack in `cause`. */
export function rebuildRemoteError(remote: RemoteError, where: string): Error {
  const cause = remote.stack ? new Error(`remote stack (${where}):\n${remote.stack}`) : undefined;
  const Ctor = ({ TypeError, RangeError, SyntaxError, ReferenceError } as Record<string, ErrorConstructor>)[remote.name] ?? Error;
  const err = new Ctor(remote.message, cause ? { cause } : undefined) as Error & { code?: string | number };
  if (err.name !== remote.name) {
    Object.defineProperty(err, 'name', { value: remote.name, configurable: true, writable: true, enumerable: false });
  }
  if (remote.code !== undefined) err.code = remote.code;
  return err;
}
