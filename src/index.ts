/**
 * The package's public face for handler modules:
 * `import { batch, multiplexed, getRequestContext } from 'switchyard'`.
 *
 * Importing it has no side effects: handler modules import it at load, and it may be a
 * different copy of the package than the replica runtime's (state shared between copies lives
 * on `globalThis` under `Symbol.for('switchyard.*')` keys).
 */
export { getRequestContext, type RequestContext } from './replica/request-context.ts';
export { batch, type BatchOptions } from './replica/batch.ts';
export { multiplexed, type MultiplexedOptions } from './replica/multiplexed.ts';
export type { HandlerContext } from './replica/handler-module.ts';
export { BackPressureError, DeploymentUnavailableError, ReplicaDiedError } from './handle/errors.ts';
export { DeploymentResponse, type DeploymentHandle } from './handle/deployment-handle.ts';
export type { CallOptions } from './handle/handle-client.ts';
