/**
 * Keep-alive connection pools to replicas, one undici Pool per replica Unix socket. A pool is
 * closed (after its in-flight requests) once its replica has left the routing state.
 * Unix sockets measured ~13% faster than loopback TCP for this hop (TOOLCHAIN.md).
 */
import { Pool } from 'undici';

export class Upstreams {
  readonly #pools = new Map<string, Pool>();
  readonly #keepAliveTimeoutMs: number;

  constructor(keepAliveTimeoutMs = 30_000) {
    this.#keepAliveTimeoutMs = keepAliveTimeoutMs;
  }

  get(socketPath: string): Pool {
    let pool = this.#pools.get(socketPath);
    if (!pool) {
      pool = new Pool('http://replica', {
        socketPath,
        keepAliveTimeout: this.#keepAliveTimeoutMs,
        // The Router caps in-flight requests per replica; the pool need not cap them again.
        connections: null,
        pipelining: 1,
      });
      this.#pools.set(socketPath, pool);
    }
    return pool;
  }

  /** Closes pools whose replica is no longer routed to; their in-flight requests finish first. */
  retain(socketPaths: ReadonlySet<string>): void {
    for (const [path, pool] of this.#pools) {
      if (socketPaths.has(path)) continue;
      this.#pools.delete(path);
      pool.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => {})));
  }
}
