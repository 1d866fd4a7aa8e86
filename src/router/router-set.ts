/**
 * One Router per deployment a caller talks to, kept current from Snapshots. The Proxy holds one
 * set (for ingress deployments); each replica holds one (for its Bindings).
 */
import type { DeploymentRouting } from '../replica/protocol.ts';
import { Router, type Random } from './router.ts';

export class RouterSet {
  readonly #routers = new Map<string, Router>();
  readonly #random: Random | undefined;

  constructor(random?: Random) {
    this.#random = random;
  }

  get(deploymentId: string): Router | undefined {
    return this.#routers.get(deploymentId);
  }

  /** Applies new routing; routers of deployments no longer listed fail their queued requests. */
  update(routing: Iterable<DeploymentRouting>, complete = true): void {
    const seen = new Set<string>();
    for (const r of routing) {
      seen.add(r.deployment_id);
      const router = this.#routers.get(r.deployment_id);
      if (router) router.update(r);
      else this.#routers.set(r.deployment_id, new Router(r, this.#random));
    }
    if (!complete) return;
    for (const [id, router] of this.#routers) {
      if (seen.has(id)) continue;
      router.update({ ...GONE, deployment_id: id });
      this.#routers.delete(id);
    }
  }

  /** Requests waiting per deployment (for autoscaling metrics). */
  queued(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, r] of this.#routers) if (r.queued > 0) out[id] = r.queued;
    return out;
  }

  [Symbol.iterator](): IterableIterator<Router> {
    return this.#routers.values();
  }
}

const GONE: Omit<DeploymentRouting, 'deployment_id'> = {
  replicas: [], max_ongoing_requests: 1, max_queued_requests: -1, availability: 'failed', message: 'the deployment was deleted',
};
