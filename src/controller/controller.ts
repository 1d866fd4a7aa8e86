/**
 * The Controller: holds the desired state (the applied Plan), reconciles every Deployment towards
 * it on a short tick and on every event, and publishes an immutable Snapshot of the routing state
 * whenever it changes. The loop never dies: a step that throws is logged and retried next tick.
 */
import type { ApplicationPlan, DeploymentId, DeploymentPlan, Plan, Route } from '../compile/types.ts';
import { dirname } from 'node:path';
import { codeDrift } from '../compile/drift.ts';
import { buildRoutes } from '../compile/route-table.ts';
import type { ReplicaLauncher } from '../replica/launcher.ts';
import type { DeploymentRouting } from '../replica/protocol.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock } from './clock.ts';
import { DeploymentState } from './deployment-state.ts';
import { buildStatus, type StatusJson } from './status.ts';

/** What the Proxy reads per request; replaced, never mutated. */
export interface Snapshot {
  readonly version: number;
  readonly routes: readonly Route[];
  readonly deployments: ReadonlyMap<DeploymentId, DeploymentRouting>;
}

export const TICK_MS = 50;
export const LOAD_REPORT_INTERVAL_MS = 250;

export interface ControllerOptions {
  readonly launcher: ReplicaLauncher;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Re-hash handler files at each replica start (default true; off in tests without files). */
  readonly detectDrift?: boolean;
  /** Requests queued in the Proxy's Routers, per DeploymentId (autoscaling demand). */
  readonly proxyQueued?: () => Readonly<Record<string, number>>;
}

interface AppEntry {
  plan: ApplicationPlan;
  deleting: boolean;
}

export class Controller {
  #plan: Plan | undefined;
  readonly #apps = new Map<string, AppEntry>();
  readonly #states = new Map<DeploymentId, DeploymentState>();
  #snapshot: Snapshot = Object.freeze({ version: 0, routes: [], deployments: new Map() });
  readonly #subscribers = new Set<(s: Snapshot) => void>();
  readonly #opts: ControllerOptions;
  readonly #log: Logger;
  #timer: unknown;
  #pending = false;
  #stopped = false;
  #tickErrors = 0;

  constructor(options: ControllerOptions) {
    this.#opts = options;
    this.#log = options.logger.child({ scope: 'controller' });
  }

  get plan(): Plan | undefined {
    return this.#plan;
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** `fn` is called with every new Snapshot (and once at once with the current one). */
  subscribe(fn: (s: Snapshot) => void): () => void {
    this.#subscribers.add(fn);
    fn(this.#snapshot);
    return () => this.#subscribers.delete(fn);
  }

  start(): void {
    this.#schedule(0);
  }

  /** Makes `plan` the desired state. Deployments absent from it are drained and stopped. */
  apply(plan: Plan): void {
    this.#plan = plan;
    const keep = new Set<DeploymentId>();
    for (const app of plan.applications) {
      this.#apps.set(app.name, { plan: app, deleting: false });
      for (const d of app.deployments) {
        keep.add(d.id);
        const state = this.#states.get(d.id);
        if (state) {
          // Re-added while its replicas were draining: those finish stopping, new ones start.
          state.deleting = false;
          state.setPlan(d);
          state.setTarget(initialTarget(d, state.target));
        } else {
          this.#states.set(d.id, this.#newState(d));
        }
      }
    }
    for (const [id, state] of this.#states) if (!keep.has(id)) state.deleting = true;
    for (const [name, app] of this.#apps) if (!plan.applications.some((a) => a.name === name)) app.deleting = true;
    this.#kick();
  }

  #newState(d: DeploymentPlan): DeploymentState {
    return new DeploymentState(d, initialTarget(d, undefined), {
      launcher: this.#opts.launcher,
      logger: this.#opts.logger,
      changed: () => this.#kick(),
      bindingRouting: (p) => Object.values(p.bindings).map((id) => this.#routingOf(id)),
      loadReportIntervalMs: LOAD_REPORT_INTERVAL_MS,
      now: () => this.#opts.clock.now(),
      ...(this.#opts.detectDrift !== false && { codeDrift: (p: DeploymentPlan) => codeDrift(p, dirname(p.handler_path)) }),
      onHandleQueues: (replicaId, queued) => this.#onHandleQueues(replicaId, queued),
    });
  }

  /** DeploymentId -> requests queued for it in replicas' handles (latest report per replica, summed). */
  readonly #handleQueued = new Map<DeploymentId, number>();
  readonly #handleQueuesByReplica = new Map<string, Readonly<Record<string, number>>>();

  #onHandleQueues(replicaId: string, queued: Readonly<Record<string, number>>): void {
    const prev = this.#handleQueuesByReplica.get(replicaId) ?? {};
    const now = this.#opts.clock.now();
    for (const id of new Set([...Object.keys(prev), ...Object.keys(queued)])) {
      const n = queued[id] ?? 0;
      this.#states.get(id)?.reportQueued(`handles:${replicaId}`, now, n);
      this.#handleQueued.set(id, (this.#handleQueued.get(id) ?? 0) - (prev[id] ?? 0) + n);
    }
    if (Object.keys(queued).length === 0) this.#handleQueuesByReplica.delete(replicaId);
    else this.#handleQueuesByReplica.set(replicaId, queued);
  }

  #routingOf(id: DeploymentId): DeploymentRouting {
    return this.#snapshot.deployments.get(id) ?? this.#states.get(id)?.routing() ?? {
      deployment_id: id, replicas: [], max_ongoing_requests: 1, max_queued_requests: -1, availability: 'ok', message: '',
    };
  }

  /** Runs a reconcile soon (coalesced): events should act within a tick, not wait for one. */
  #kick(): void {
    if (this.#pending || this.#stopped) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      this.#tick();
    });
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#tick();
      this.#schedule(TICK_MS);
    }, ms);
  }

  #tick(): void {
    try {
      const now = this.#opts.clock.now();
      let changed = false;
      const proxyQueued = this.#opts.proxyQueued?.() ?? {};
      for (const [id, state] of this.#states) {
        if (state.autoscaler) {
          // The Proxy is one reporter per deployment; handle queues report through load messages.
          const q = proxyQueued[id] ?? 0;
          state.reportQueued('proxy', now, q);
          changed = state.reconcile(now, q > 0 || (this.#handleQueued.get(id) ?? 0) > 0) || changed;
        } else {
          changed = state.reconcile(now) || changed;
        }
      }
      for (const [id, state] of this.#states) if (state.gone) this.#states.delete(id);
      for (const [name, app] of this.#apps) {
        if (app.deleting && !app.plan.deployments.some((d) => this.#states.get(d.id)?.deleting)) this.#apps.delete(name);
      }
      this.#publishIfChanged(changed);
      this.#tickErrors = 0;
    } catch (err) {
      // Never let one bad step stop reconciling; say so, and back off the log noise.
      this.#tickErrors++;
      if (this.#tickErrors <= 3 || this.#tickErrors % 100 === 0) {
        this.#log.error(`reconcile step failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  #publishIfChanged(force: boolean): void {
    const deployments = new Map<DeploymentId, DeploymentRouting>();
    for (const [id, state] of this.#states) deployments.set(id, state.routing());
    // Deleting apps keep their route until their replicas are gone: requests get 503, not 404.
    const routes = buildRoutes([...this.#apps.values()].map((a) => a.plan));
    const prev = this.#snapshot;
    if (!force && sameRoutes(prev.routes, routes) && sameRouting(prev.deployments, deployments)) return;
    this.#snapshot = Object.freeze({ version: prev.version + 1, routes, deployments });
    for (const fn of this.#subscribers) fn(this.#snapshot);
    this.#pushRoutingToReplicas(prev);
  }

  /** Replicas with Bindings get the routing of the deployments they call, when it changed. */
  #pushRoutingToReplicas(prev: Snapshot): void {
    const next = this.#snapshot;
    for (const state of this.#states.values()) {
      const ids = Object.values(state.plan.bindings);
      if (ids.length === 0) continue;
      if (ids.every((id) => prev.deployments.get(id) === undefined ? next.deployments.get(id) === undefined : sameOne(prev.deployments.get(id)!, next.deployments.get(id)))) continue;
      const routing = ids.map((id) => this.#routingOf(id));
      for (const r of state.replicas.values()) if (r.state === 'STARTING' || r.state === 'RUNNING') r.proc?.send({ t: 'routing', routing });
    }
  }

  status(): StatusJson {
    // Ages are measured on the Controller's clock, the one replicas' createdAt comes from.
    return buildStatus([...this.#apps.values()], this.#states, this.#opts.clock.now());
  }

  /** Drains and stops every replica; resolves when all have exited (killing stragglers). */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    const now = this.#opts.clock.now();
    for (const app of this.#apps.values()) app.deleting = true;
    for (const state of this.#states.values()) state.stopAllNow(now);
    this.#publishIfChanged(true);
    const deadline = Date.now() + timeoutMs;
    while ([...this.#states.values()].some((s) => s.replicas.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      this.#tick();
    }
    for (const s of this.#states.values()) for (const r of s.replicas.values()) r.proc?.kill('SIGKILL');
    this.#stopped = true;
    this.#opts.clock.clearTimeout(this.#timer);
  }
}

/** The replica count a deployment starts with, or keeps across an apply. */
function initialTarget(d: DeploymentPlan, current: number | undefined): number {
  if (d.scaling.kind === 'fixed') return d.scaling.replicas;
  const c = d.scaling.config;
  if (current === undefined) return c.initial_replicas ?? c.min_replicas;
  return Math.min(c.max_replicas, Math.max(c.min_replicas, current));
}

function sameRoutes(a: readonly Route[], b: readonly Route[]): boolean {
  return a.length === b.length && a.every((r, i) => r.prefix === b[i]!.prefix && r.ingress === b[i]!.ingress);
}

function sameOne(a: DeploymentRouting, b: DeploymentRouting | undefined): boolean {
  if (!b) return false;
  return a.availability === b.availability && a.message === b.message &&
    a.max_ongoing_requests === b.max_ongoing_requests && a.max_queued_requests === b.max_queued_requests &&
    a.replicas.length === b.replicas.length &&
    a.replicas.every((r, i) => r.replica_id === b.replicas[i]!.replica_id && (r.models ?? []).join() === (b.replicas[i]!.models ?? []).join());
}

function sameRouting(a: ReadonlyMap<DeploymentId, DeploymentRouting>, b: ReadonlyMap<DeploymentId, DeploymentRouting>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, r] of a) if (!sameOne(r, b.get(id))) return false;
  return true;
}
