/**
 * The caller side of handle calls inside a replica: one Router per bound deployment (the same
 * Router the Proxy uses: power of two choices, in-flight caps, a FIFO queue per caller), kept
 * current by the Controller's `routing` messages, and one multiplexed connection straight to
 * each callee replica's handle-call socket (rpc-client.ts): no hop through the gateway.
 */
import { randomUUID } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { ERRORS, SwitchyardError } from '../errors.ts';
import type { DeploymentRouting, RemoteError } from '../replica/protocol.ts';
import { getRequestContext } from '../replica/request-context.ts';
import { RouterSet } from '../router/router-set.ts';
import type { Lease } from '../router/router.ts';
import { assertCloneable } from './cloneable.ts';
import { BackPressureError, DeploymentUnavailableError, ReplicaDiedError, rebuildRemoteError } from './errors.ts';
import { RpcConnections, RpcTransportError, type Frame, type RpcReply, type RpcStream } from './rpc-client.ts';

export interface CallOptions {
  readonly multiplexedModelId?: string;
}

export type CallResult =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'stream'; readonly frames: AsyncGenerator<Frame>; cancel(): void };

const REJECT_BACKOFF_MS = [5, 10, 20, 50, 100];

export class HandleClient {
  readonly #routers = new RouterSet();
  readonly #connections = new RpcConnections();
  readonly #caller: string;

  constructor(routing: readonly DeploymentRouting[], caller: string) {
    this.#caller = caller;
    this.updateRouting(routing);
  }

  updateRouting(routing: readonly DeploymentRouting[]): void {
    this.#routers.update(routing);
    const live = new Set<string>();
    for (const d of routing) for (const r of d.replicas) live.add(r.socket_path);
    this.#connections.retain(live);
  }

  queued(): Record<string, number> {
    return this.#routers.queued();
  }

  async close(): Promise<void> {
    this.#routers.update([]);
    await this.#connections.close();
  }

  /** Calls `method` on one replica of `deploymentId`; resolves once the callee answered (value) or started streaming. */
  async call(deploymentId: string, method: string, rawArgs: readonly unknown[], options: CallOptions): Promise<CallResult> {
    // Unawaited responses passed as arguments are resolved first (Ray Serve passes them through too).
    const args = rawArgs.some(isThenable) ? await Promise.all(rawArgs) : rawArgs;
    args.forEach((a, i) => assertCloneable(a, `argument ${i + 1} of ${method}()`));
    const router = this.#routers.get(deploymentId);
    if (!router) throw new DeploymentUnavailableError(`${this.#caller} has no binding to deployment ${deploymentId}`);
    const ctx = getRequestContext();
    const signal = ctx?.signal;
    const modelId = options.multiplexedModelId || undefined;
    // rpc-server.ts reads [method, requestId, modelId, args].
    const payload = serialize([method, ctx?.requestId ?? randomUUID(), modelId ?? '', args]);
    let exclude: Set<string> | undefined;
    for (let attempt = 0; ; attempt++) {
      const lease = await this.#acquire(router.deploymentId, deploymentId, { signal, exclude, modelId });
      const where = `${method}() on ${lease.replica.replica_id}`;
      let reply: RpcReply;
      try {
        reply = await this.#connections.get(lease.replica.socket_path).call(payload, signal);
      } catch (err) {
        lease.release();
        if (signal?.aborted) throw signal.reason;
        // The call never reached the replica (not listening, or gone before the CALL left): another may take it.
        if (err instanceof RpcTransportError && err.unsent && attempt < 5) {
          (exclude ??= new Set()).add(lease.replica.replica_id);
          continue;
        }
        if (err instanceof RpcTransportError) throw new ReplicaDiedError(`${where}: the replica died during the call`);
        throw new ReplicaDiedError(`${where} failed: ${(err as Error).message}`);
      }
      if (reply.kind === 'rejected') {
        // The callee is at max_ongoing_requests (other callers) or stopping: it read nothing.
        lease.release();
        (exclude ??= new Set()).add(lease.replica.replica_id);
        if (exclude.size >= router.replicaCount) {
          exclude = undefined;
          await sleep(REJECT_BACKOFF_MS[Math.min(attempt, REJECT_BACKOFF_MS.length - 1)]!, signal);
        }
        continue;
      }
      if (reply.kind === 'stream') return this.#stream(reply.stream, lease, where);
      lease.release();
      if (reply.kind === 'value') return { kind: 'value', value: deserialize(reply.payload) };
      throw rebuildRemoteError(deserialize(reply.payload) as RemoteError, where);
    }
  }

  async #acquire(id: string, deploymentId: string, options: { signal: AbortSignal | undefined; exclude: Set<string> | undefined; modelId: string | undefined }): Promise<Lease> {
    const router = this.#routers.get(id)!;
    try {
      return router.tryAcquire(options) ?? (await router.acquire(options));
    } catch (err) {
      if (err instanceof SwitchyardError && err.code === ERRORS.BACKPRESSURE.code) throw new BackPressureError(err.message);
      if (err instanceof SwitchyardError && err.code === ERRORS.UNAVAILABLE.code) throw new DeploymentUnavailableError(err.message);
      if (options.signal?.aborted) throw options.signal.reason;
      throw new DeploymentUnavailableError(`cannot route to ${deploymentId}: ${(err as Error).message}`);
    }
  }

  #stream(stream: RpcStream, lease: Lease, where: string): CallResult {
    const frames = (async function* () {
      try {
        for (;;) {
          const frame = await stream.next();
          if (frame === undefined) return;
          yield frame;
        }
      } catch (err) {
        if (err instanceof RpcTransportError) throw new ReplicaDiedError(`${where}: the replica died while streaming`);
        throw err;
      } finally {
        lease.release();
      }
    })();
    return {
      kind: 'stream',
      frames,
      cancel: () => {
        // A CANCEL frame: the callee aborts the call's signal and returns its generator.
        stream.cancel();
        lease.release();
      },
    };
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}
