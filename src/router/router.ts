/**
 * The Router: one per caller and deployment (the Proxy holds one per ingress deployment; every
 * replica holds one per Binding). It picks a replica by power of two choices on the caller's own
 * in-flight counts, never exceeds `max_ongoing_requests` on one replica, and queues the rest FIFO,
 * bounded by `max_queued_requests`, as Ray Serve's per-caller queues do.
 *
 * It only decides *where*; sending the request is the caller's transport. That keeps the same
 * logic usable from the Proxy (HTTP) and from Handles (calls), and testable without sockets.
 */
import { ERRORS, SwitchyardError } from '../errors.ts';
import type { DeploymentRouting, ReplicaEndpoint } from '../replica/protocol.ts';

/** A claim on one slot of one replica; `release()` exactly once when the request is over. */
export interface Lease {
  readonly replica: ReplicaEndpoint;
  release(): void;
}

export interface AcquireOptions {
  /** Aborting removes a queued request (it is then never dispatched) and rejects with the reason. */
  readonly signal?: AbortSignal | undefined;
  /** Replicas not to use (a retry after a refusal or a failed connect). */
  readonly exclude?: ReadonlySet<string> | undefined;
  /** Prefer replicas that hold this multiplexed model. */
  readonly modelId?: string | undefined;
}

interface Waiter {
  readonly options: AcquireOptions;
  resolve(lease: Lease): void;
  reject(err: unknown): void;
  onAbort: (() => void) | undefined;
}

/** Injected randomness so replica choice is deterministic in tests. */
export type Random = () => number;

export class Router {
  #routing: DeploymentRouting;
  readonly #inflight = new Map<string, number>();
  readonly #queue: Waiter[] = [];
  readonly #random: Random;

  constructor(routing: DeploymentRouting, random: Random = Math.random) {
    this.#routing = routing;
    this.#random = random;
  }

  get deploymentId(): string {
    return this.#routing.deployment_id;
  }

  /** Requests waiting in this caller's queue. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Requests this caller has in flight, over all replicas. */
  get ongoing(): number {
    let total = 0;
    for (const n of this.#inflight.values()) total += n;
    return total;
  }

  /** Replicas that may take requests now. */
  get replicaCount(): number {
    return this.#routing.replicas.length;
  }

  inflightOn(replicaId: string): number {
    return this.#inflight.get(replicaId) ?? 0;
  }

  /**
   * Replaces the replica set (a new Snapshot). Queued requests are dispatched to new capacity at
   * once; if the deployment can no longer serve at all, they fail fast with 503 `unavailable`.
   */
  update(routing: DeploymentRouting): void {
    this.#routing = routing;
    if (routing.availability === 'failed' && routing.replicas.length === 0) {
      const err = unavailable(routing);
      for (const w of this.#queue.splice(0)) this.#settle(w, err);
      return;
    }
    this.#drain();
  }

  /** Resolves with a lease on a replica, waiting in the queue while every replica is at its cap. */
  acquire(options: AcquireOptions = {}): Promise<Lease> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const routing = this.#routing;
    if (routing.availability === 'failed' && routing.replicas.length === 0) {
      return Promise.reject(unavailable(routing));
    }
    const lease = this.tryAcquire(options);
    if (lease) return Promise.resolve(lease);
    const max = routing.max_queued_requests;
    if (max !== -1 && this.#queue.length >= max) {
      return Promise.reject(new SwitchyardError(ERRORS.BACKPRESSURE,
        `Deployment ${routing.deployment_id} has ${this.#queue.length} requests queued (max_queued_requests: ${max}).`));
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = { options, resolve, reject, onAbort: undefined };
      const signal = options.signal;
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#queue.indexOf(waiter);
          if (i !== -1) this.#queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
    });
  }

  /**
   * The synchronous fast path: a lease at once, or undefined when the request would have to queue
   * (or the deployment cannot serve: `acquire` then says why). Saves a promise per request.
   */
  tryAcquire(options: AcquireOptions = {}): Lease | undefined {
    // FIFO: a newcomer may not overtake requests already waiting.
    if (this.#queue.length > 0) return undefined;
    return this.#tryLease(options);
  }

  #tryLease(options: AcquireOptions): Lease | undefined {
    const replica = this.#choose(options);
    if (!replica) return undefined;
    this.#inflight.set(replica.replica_id, (this.#inflight.get(replica.replica_id) ?? 0) + 1);
    let released = false;
    return {
      replica,
      release: () => {
        if (released) return;
        released = true;
        const n = (this.#inflight.get(replica.replica_id) ?? 1) - 1;
        if (n <= 0) this.#inflight.delete(replica.replica_id);
        else this.#inflight.set(replica.replica_id, n);
        this.#drain();
      },
    };
  }

  /**
   * Power of two choices: two random candidates with spare capacity, the less loaded wins.
   * Replicas holding the requested model are preferred when one has capacity (multiplexing).
   */
  #choose(options: AcquireOptions): ReplicaEndpoint | undefined {
    const { replicas, max_ongoing_requests: cap } = this.#routing;
    const exclude = options.exclude;
    const candidates: ReplicaEndpoint[] = [];
    const withModel: ReplicaEndpoint[] = [];
    for (const r of replicas) {
      if (exclude?.has(r.replica_id)) continue;
      if ((this.#inflight.get(r.replica_id) ?? 0) >= cap) continue;
      candidates.push(r);
      if (options.modelId && r.models?.includes(options.modelId)) withModel.push(r);
    }
    const pool = withModel.length > 0 ? withModel : candidates;
    if (pool.length <= 1) return pool[0];
    const i = Math.floor(this.#random() * pool.length);
    let j = Math.floor(this.#random() * (pool.length - 1));
    if (j >= i) j += 1;
    const a = pool[i]!;
    const b = pool[j]!;
    return this.inflightOn(a.replica_id) <= this.inflightOn(b.replica_id) ? a : b;
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const lease = this.#tryLease(head.options);
      if (!lease) return;
      this.#queue.shift();
      if (head.onAbort) head.options.signal?.removeEventListener('abort', head.onAbort);
      head.resolve(lease);
    }
  }

  #settle(w: Waiter, err: unknown): void {
    if (w.onAbort) w.options.signal?.removeEventListener('abort', w.onAbort);
    w.reject(err);
  }
}

function unavailable(routing: DeploymentRouting): SwitchyardError {
  const why = routing.message ? `: ${routing.message}` : '.';
  return new SwitchyardError(ERRORS.UNAVAILABLE, `Deployment ${routing.deployment_id} has no replica that can serve${why}`);
}
