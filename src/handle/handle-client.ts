/**
 * The caller side of handle calls inside a replica: one Router per bound deployment (the same
 * Router the Proxy uses: power of two choices, in-flight caps, a FIFO queue per caller), kept
 * current by the Controller's `routing` messages, and keep-alive pools straight to the callee
 * replicas' Unix sockets: no hop through the gateway.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { deserialize, serialize } from 'node:v8';
import { ERRORS, SwitchyardError } from '../errors.ts';
import { Upstreams } from '../proxy/upstreams.ts';
import { CALL_PATH, HEADERS, type DeploymentRouting, type RemoteError } from '../replica/protocol.ts';
import { getRequestContext } from '../replica/request-context.ts';
import { RouterSet } from '../router/router-set.ts';
import type { Lease } from '../router/router.ts';
import { assertCloneable } from './cloneable.ts';
import { BackPressureError, DeploymentUnavailableError, ReplicaDiedError, rebuildRemoteError } from './errors.ts';
import { exchange, type CallReply } from './call-exchange.ts';
import { readFrames, type Frame } from './frames.ts';

export interface CallOptions {
  readonly multiplexedModelId?: string;
}

export type CallResult =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'stream'; readonly frames: AsyncGenerator<Frame>; cancel(): void };

/** Connect-time failures: the call never reached the replica, so another may take it. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOENT']);
const REJECT_BACKOFF_MS = [5, 10, 20, 50, 100];

export class HandleClient {
  readonly #routers = new RouterSet();
  readonly #upstreams = new Upstreams();
  readonly #caller: string;

  constructor(routing: readonly DeploymentRouting[], caller: string) {
    this.#caller = caller;
    this.updateRouting(routing);
  }

  updateRouting(routing: readonly DeploymentRouting[]): void {
    this.#routers.update(routing);
    const live = new Set<string>();
    for (const d of routing) for (const r of d.replicas) live.add(r.socket_path);
    this.#upstreams.retain(live);
  }

  queued(): Record<string, number> {
    return this.#routers.queued();
  }

  async close(): Promise<void> {
    this.#routers.update([]);
    await this.#upstreams.close();
  }

  /** Calls `method` on one replica of `deploymentId`; resolves once the callee answered (value) or started streaming. */
  async call(deploymentId: string, method: string, rawArgs: readonly unknown[], options: CallOptions): Promise<CallResult> {
    // Unawaited responses passed as arguments are resolved first (Ray Serve passes them through too).
    const args = rawArgs.some(isThenable) ? await Promise.all(rawArgs) : rawArgs;
    args.forEach((a, i) => assertCloneable(a, `argument ${i + 1} of ${method}()`));
    const body = serialize(args);
    const router = this.#routers.get(deploymentId);
    if (!router) throw new DeploymentUnavailableError(`${this.#caller} has no binding to deployment ${deploymentId}`);
    const ctx = getRequestContext();
    const signal = ctx?.signal;
    const headers: Record<string, string> = {
      [HEADERS.METHOD]: method,
      [HEADERS.REQUEST_ID]: ctx?.requestId ?? randomUUID(),
      'content-type': 'application/octet-stream',
    };
    const modelId = options.multiplexedModelId;
    if (modelId) headers[HEADERS.MODEL_ID] = modelId;
    let exclude: Set<string> | undefined;
    for (let attempt = 0; ; attempt++) {
      const lease = await this.#acquire(router.deploymentId, deploymentId, { signal, exclude, modelId });
      const where = `${method}() on ${lease.replica.replica_id}`;
      let reply: CallReply;
      try {
        reply = await exchange(this.#upstreams.get(lease.replica.socket_path), { path: CALL_PATH, headers, body, signal, isStream });
      } catch (err) {
        lease.release();
        if (signal?.aborted) throw signal.reason;
        if (CONNECT_ERRORS.has((err as NodeJS.ErrnoException).code ?? '') && attempt < 5) {
          (exclude ??= new Set()).add(lease.replica.replica_id);
          continue;
        }
        if ((err as { code?: string }).code === 'UND_ERR_SOCKET') throw new ReplicaDiedError(`${where}: the replica died during the call`);
        throw new ReplicaDiedError(`${where} failed: ${(err as Error).message}`);
      }
      if (reply.statusCode === 503 && reply.headers[HEADERS.REJECTED] !== undefined) {
        // The callee is at max_ongoing_requests (other callers) or stopping: it read nothing.
        lease.release();
        (exclude ??= new Set()).add(lease.replica.replica_id);
        if (exclude.size >= router.replicaCount) {
          exclude = undefined;
          await sleep(REJECT_BACKOFF_MS[Math.min(attempt, REJECT_BACKOFF_MS.length - 1)]!, signal);
        }
        continue;
      }
      if (reply.stream !== undefined) return this.#stream(reply.stream, lease, where);
      lease.release();
      const bytes = reply.body!;
      const kind = reply.headers[HEADERS.KIND];
      if (kind === 'value') return { kind: 'value', value: deserialize(bytes) };
      if (kind === 'error') throw rebuildRemoteError(deserialize(bytes) as RemoteError, where);
      throw new Error(`${where} answered ${reply.statusCode}: ${bytes.toString('utf8').slice(0, 500)}`);
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

  #stream(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, lease: Lease, where: string): CallResult {
    const frames = (async function* () {
      try {
        yield* readFrames(body);
      } catch (err) {
        if ((err as { code?: string }).code === 'UND_ERR_SOCKET' || (err as Error).message?.includes('terminated')) {
          throw new ReplicaDiedError(`${where}: the replica died while streaming`);
        }
        throw err;
      } finally {
        lease.release();
      }
    })();
    return {
      kind: 'stream',
      frames,
      cancel: () => {
        // Closing the connection is what the callee sees: its generator is returned. The body
        // reports the abort as an error event; nobody reads it any more.
        (body as unknown as NodeJS.EventEmitter).on('error', () => {});
        body.destroy();
        lease.release();
      },
    };
  }
}

function isStream(headers: IncomingHttpHeaders): boolean {
  return headers[HEADERS.KIND] === 'stream';
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
