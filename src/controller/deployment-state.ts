/**
 * One Deployment's actual replicas reconciled towards its target (a DeploymentPlan and a replica
 * count), in the manner of Ray Serve's DeploymentState: every `reconcile(now)` compares the two
 * and takes the next safe steps: start, replace, drain, stop, reconfigure, health-check.
 *
 * Invariants:
 * - A replica leaves the routing state before it is told to stop (callers stop sending first).
 * - A new code version replaces old replicas only as new ones become RUNNING, at most
 *   `rollingStep(target)` starting at a time; if the new version fails to start, old replicas
 *   keep serving.
 * - Nothing here blocks or throws into the Controller's loop; process effects go through the
 *   launcher seam and time through the `now` argument.
 */
import { randomBytes } from 'node:crypto';
import type { CodeDrift } from '../compile/drift.ts';
import type { DeploymentPlan } from '../compile/types.ts';
import type { ReplicaLauncher } from '../replica/launcher.ts';
import type { DeploymentRouting, FromReplica, RemoteError } from '../replica/protocol.ts';
import type { Logger } from '../telemetry/logger.ts';
import { BACKOFF_RESET_MS, backoffDelayMs, maxStartFailures, rollingStep } from './backoff.ts';
import { Autoscaler } from './autoscaler.ts';
import type { ReplicaRecord, ReplicaState } from './replica-record.ts';

export type DeploymentStatus = 'UPDATING' | 'HEALTHY' | 'UNHEALTHY' | 'UPSCALING' | 'DOWNSCALING' | 'DEPLOY_FAILED';

/** Consecutive failed health checks that replace a replica (CONTRACT). */
export const HEALTH_FAILURE_THRESHOLD = 3;
/** Time between a replica leaving the routing state and its `stop` message: lets handle routers in other replicas catch up. */
export const DRAIN_PROPAGATION_MS = 250;
/** Extra time after graceful_shutdown_timeout_s before a stopping replica is killed. */
export const KILL_GRACE_MS = 2_000;

export interface DeploymentStateDeps {
  readonly launcher: ReplicaLauncher;
  readonly logger: Logger;
  /** Called when something changed that the Controller should act on (reconcile, publish). */
  readonly changed: () => void;
  /** Routing for this deployment's bindings, sent to a replica at start. */
  readonly bindingRouting: (plan: DeploymentPlan) => readonly DeploymentRouting[];
  readonly loadReportIntervalMs: number;
  readonly now: () => number;
  /** Handler files changed on disk since compile? (A seam: tests need no files.) */
  readonly codeDrift?: (plan: DeploymentPlan) => CodeDrift | undefined;
  /** A replica reported requests queued in its handles for other deployments (autoscaling demand). */
  readonly onHandleQueues?: (replicaId: string, queued: Readonly<Record<string, number>>) => void;
}

export class DeploymentState {
  plan: DeploymentPlan;
  target: number;
  readonly replicas = new Map<string, ReplicaRecord>();
  /** Set when the current code version failed to start too often (DEPLOY_FAILED), or a reconfigure failed. */
  failedMessage: string | undefined;
  deleting = false;
  #startFailures = 0;
  #crashStreak = 0;
  #lastProblem = '';
  #reconfigureSeq = 0;
  /** Set when a replica started on code edited since the last apply. */
  #drift: string | undefined;
  /** The current version has reached its target once (distinguishes UPDATING from UPSCALING). */
  #reachedTarget = false;
  /** Direction of the last target change, for UPSCALING / DOWNSCALING. */
  #scaling: 'up' | 'down' | undefined;
  /** Present when the deployment autoscales. */
  autoscaler: Autoscaler | undefined;
  #nextAutoscaleAt = 0;
  #autoscaleReason = '';
  readonly #deps: DeploymentStateDeps;
  readonly #log: Logger;

  constructor(plan: DeploymentPlan, target: number, deps: DeploymentStateDeps) {
    this.plan = plan;
    this.target = target;
    this.#deps = deps;
    this.#log = deps.logger.child({ deployment: plan.id });
    this.#syncAutoscaler();
  }

  /** One Autoscaler while the plan autoscales; its config follows the plan. */
  #syncAutoscaler(): void {
    const scaling = this.plan.scaling;
    if (scaling.kind !== 'auto') {
      this.autoscaler = undefined;
      return;
    }
    if (this.autoscaler) this.autoscaler.reconfigure(scaling.config);
    else this.autoscaler = new Autoscaler(scaling.config, { reportIntervalMs: this.#deps.loadReportIntervalMs });
  }

  /**
   * Runs the autoscaling policy every metrics_interval_s (and at once when a request waits for
   * a deployment scaled to zero). Targets it sets are applied by the rest of `reconcile`.
   */
  #autoscale(now: number, queuedAtZero: boolean): void {
    const autoscaler = this.autoscaler;
    if (!autoscaler || this.deleting) return;
    let change;
    if (this.target === 0 && queuedAtZero) {
      change = autoscaler.onRequestWhileZero(now);
    } else if (now >= this.#nextAutoscaleAt) {
      this.#nextAutoscaleAt = now + autoscaler.config.metrics_interval_s * 1000;
      const running = [...this.replicas.values()].filter((r) => r.state === 'RUNNING').length;
      change = autoscaler.tick(now, this.target, running);
    }
    if (!change) return;
    if (change.target !== this.target) {
      this.#log.info(`autoscaling ${this.target} -> ${change.target}: ${change.reason}`, { scope: 'autoscaler' });
      this.#autoscaleReason = change.reason;
      this.setTarget(change.target);
    } else {
      this.#log.info(`${change.panicking ? 'entering' : 'leaving'} panic mode: ${change.reason}`, { scope: 'autoscaler' });
    }
  }

  /** Requests queued for this deployment in a Router (the Proxy's, or a replica's handles). */
  reportQueued(reporterId: string, now: number, queued: number): void {
    this.autoscaler?.report(reporterId, now, queued);
  }

  get id(): string {
    return this.plan.id;
  }

  /** A new plan for this deployment (apply). Code changes start a rolling restart on the next reconcile. */
  setPlan(plan: DeploymentPlan): void {
    const codeChanged = plan.versions.code !== this.plan.versions.code;
    const configChanged = plan.versions.user_config !== this.plan.versions.user_config;
    this.plan = plan;
    if (codeChanged || configChanged) {
      // A new version gets a fresh start: its failures are its own.
      this.failedMessage = undefined;
      this.#startFailures = 0;
      this.#crashStreak = 0;
    }
    if (codeChanged) {
      this.#reachedTarget = false;
      this.#drift = undefined;
    }
    this.#syncAutoscaler();
  }

  setTarget(target: number): void {
    if (target === this.target) return;
    this.#scaling = target > this.target ? 'up' : 'down';
    this.target = target;
  }

  /** Replicas that count towards the target (not on their way out). */
  #active(): ReplicaRecord[] {
    const out: ReplicaRecord[] = [];
    for (const r of this.replicas.values()) if (r.state !== 'STOPPING') out.push(r);
    return out;
  }

  #isCurrent(r: ReplicaRecord): boolean {
    return r.plan.versions.code === this.plan.versions.code;
  }

  /**
   * Takes the next steps towards the target. Returns true when the routing state changed.
   * `queuedAtZero`: a Router holds requests for this deployment while it has no replica.
   */
  reconcile(now: number, queuedAtZero = false): boolean {
    let routingChanged = false;
    this.#autoscale(now, queuedAtZero);
    if (this.deleting) {
      for (const r of this.#active()) routingChanged = this.#stop(r, now, 'deployment deleted') || routingChanged;
      this.#driveStopping(now);
      return routingChanged;
    }
    const active = this.#active();
    const current = active.filter((r) => this.#isCurrent(r));
    const old = active.filter((r) => !this.#isCurrent(r));

    // RECOVERING slots whose backoff is over get a process again.
    for (const r of current) {
      if (r.state === 'RECOVERING' && r.retryAt !== undefined && now >= r.retryAt && !this.failedMessage) {
        this.replicas.delete(r.id);
        this.#launch(now);
      }
    }

    // Start what the current version lacks; while old replicas serve, roll at most one step at a time.
    if (!this.failedMessage && current.length < this.target) {
      let toStart = this.target - current.length;
      if (old.length > 0) {
        const inProgress = current.filter((r) => r.state !== 'RUNNING').length;
        toStart = Math.min(toStart, Math.max(0, rollingStep(this.target) - inProgress));
      }
      for (let i = 0; i < toStart; i++) this.#launch(now);
    }

    // Scale down the current version: waiting slots first, then starting, then the least busy.
    if (current.length > this.target) {
      const order: Record<ReplicaState, number> = { RECOVERING: 0, STARTING: 1, RUNNING: 2, STOPPING: 3 };
      const victims = [...current]
        .sort((a, b) => order[a.state] - order[b.state] || a.ongoing - b.ongoing)
        .slice(0, current.length - this.target);
      for (const r of victims) routingChanged = this.#stop(r, now, 'scaled down') || routingChanged;
    }

    // Old replicas leave as new ones become RUNNING; if the new version failed, they keep serving.
    const currentRunning = current.filter((r) => r.state === 'RUNNING').length;
    const keepOld = this.failedMessage ? Math.min(old.length, this.target) : Math.max(0, this.target - currentRunning);
    if (old.length > keepOld) {
      const victims = [...old]
        .sort((a, b) => (a.state === 'RUNNING' ? 1 : 0) - (b.state === 'RUNNING' ? 1 : 0) || a.ongoing - b.ongoing)
        .slice(0, old.length - keepOld);
      for (const r of victims) routingChanged = this.#stop(r, now, 'replaced by a new version') || routingChanged;
    }

    for (const r of current) {
      if (r.state !== 'RUNNING') continue;
      if (r.readyAt !== undefined && now - r.readyAt >= BACKOFF_RESET_MS) this.#crashStreak = 0;
      if (r.userConfigVersion !== this.plan.versions.user_config && !r.reconfigurePending) this.#reconfigure(r);
      routingChanged = this.#checkHealth(r, now) || routingChanged;
    }
    for (const r of old) if (r.state === 'RUNNING') routingChanged = this.#checkHealth(r, now) || routingChanged;

    if (currentRunning >= this.target && old.length === 0) {
      this.#reachedTarget = true;
      if (current.length === this.target) this.#scaling = undefined;
    }
    this.#driveStopping(now);
    return routingChanged;
  }

  #newRecord(now: number): ReplicaRecord {
    const plan = this.plan;
    let id: string;
    // Four hex digits keep ids readable; a clash with a live replica is retried, not overwritten.
    do id = `${plan.id}#${randomBytes(2).toString('hex')}`;
    while (this.replicas.has(id));
    const record: ReplicaRecord = {
      id, plan, version: plan.versions.code, state: 'STARTING', proc: undefined, socketPath: this.#deps.launcher.socketPathFor(id), createdAt: now, readyAt: undefined,
      userConfigVersion: plan.versions.user_config, reconfigurePending: false,
      healthFailures: 0, healthSeq: 0, healthPendingSince: undefined, nextHealthAt: 0,
      stopAt: undefined, stopSent: false, killAt: undefined, retryAt: undefined, stopReason: undefined,
      startError: undefined, ongoing: 0, models: [],
    };
    this.replicas.set(id, record);
    return record;
  }

  #launch(now: number): void {
    const record = this.#newRecord(now);
    const { id, plan, socketPath } = record;
    const drift = this.#deps.codeDrift?.(plan);
    if (drift) {
      record.version = drift.version;
      this.#drift = `handler files changed on disk since the last apply (${drift.changed.join(', ')}); replica ${id} runs the changed code as version ${drift.version}. Apply the spec to roll every replica onto one version.`;
      this.#log.warn(this.#drift, { scope: 'controller' });
    }
    record.proc = this.#deps.launcher.launch(
      {
        init: {
          t: 'init', replica_id: id, deployment_id: plan.id, app: plan.app, deployment: plan.name,
          handler_path: plan.handler_path, export_name: plan.export_name, args: plan.args,
          user_config: plan.user_config, has_user_config: plan.user_config !== undefined,
          socket_path: socketPath, max_ongoing_requests: plan.max_ongoing_requests,
          bindings: plan.bindings, routing: this.#deps.bindingRouting(plan),
          load_report_interval_ms: this.#deps.loadReportIntervalMs,
        },
        env: plan.env,
      },
      {
        onMessage: (m) => this.#onMessage(record, m),
        onExit: (reason) => this.#onExit(record, reason),
      },
    );
    this.#log.info(`replica ${id} starting`, { scope: 'controller', pid: record.proc.pid, version: record.version });
  }

  #onMessage(r: ReplicaRecord, m: FromReplica): void {
    const now = this.#deps.now();
    switch (m.t) {
      case 'ready':
        if (r.state !== 'STARTING') return;
        r.state = 'RUNNING';
        r.readyAt = now;
        r.nextHealthAt = now + this.plan.health_check_period_s * 1000;
        this.#log.info(`replica ${r.id} running`, { scope: 'controller', pid: r.proc?.pid });
        break;
      case 'failed':
        r.startError = `${m.phase} failed: ${describe(m.error)}`;
        this.#log.error(`replica ${r.id} failed to start: ${r.startError}`, { scope: 'controller', stack: m.error.stack });
        break;
      case 'health':
        if (m.seq !== r.healthSeq || r.healthPendingSince === undefined) return;
        r.healthPendingSince = undefined;
        if (m.error) this.#healthFailed(r, `checkHealth() threw ${describe(m.error)}`);
        else r.healthFailures = 0;
        break;
      case 'reconfigured':
        r.reconfigurePending = false;
        if (m.error) {
          this.failedMessage = `reconfigure() failed on ${r.id}: ${describe(m.error)}`;
          this.#log.error(this.failedMessage, { scope: 'controller' });
        } else {
          r.userConfigVersion = this.plan.versions.user_config;
        }
        break;
      case 'load':
        r.ongoing = m.ongoing;
        if (m.models) r.models = m.models;
        this.autoscaler?.report(r.id, now, m.ongoing);
        this.#deps.onHandleQueues?.(r.id, m.queued);
        return; // load reports alone do not need a reconcile
    }
    this.#deps.changed();
  }

  #onExit(r: ReplicaRecord, reason: string): void {
    const now = this.#deps.now();
    const was = r.state;
    r.proc = undefined;
    this.autoscaler?.forget(r.id, now);
    if (was === 'STOPPING') {
      this.replicas.delete(r.id);
      this.#log.info(`replica ${r.id} stopped (${r.stopReason ?? 'stopped'}; ${reason})`, { scope: 'controller' });
      this.#deps.changed();
      return;
    }
    if (was === 'STARTING' && this.#isCurrent(r)) {
      this.#startFailures++;
      const why = r.startError ?? `exited during start (${reason})`;
      this.#lastProblem = `replica ${r.id} ${why}`;
      const limit = maxStartFailures(this.target);
      if (this.#startFailures >= limit) {
        this.failedMessage = `Replicas failed to start ${this.#startFailures} times (limit ${limit}); last error: ${why}`;
        this.#log.error(`deployment ${this.id} DEPLOY_FAILED: ${this.failedMessage}`, { scope: 'controller' });
      } else {
        this.#log.warn(`replica ${r.id} ${why} (${this.#startFailures}/${limit})`, { scope: 'controller' });
      }
    } else {
      this.#lastProblem = `replica ${r.id} exited unexpectedly (${reason})`;
      this.#log.warn(this.#lastProblem, { scope: 'controller' });
    }
    this.#crashStreak++;
    this.replicas.delete(r.id);
    const delay = backoffDelayMs(this.#crashStreak);
    if (delay > 0 && this.#isCurrent(r) && !this.failedMessage) {
      // A crash loop: hold the slot as RECOVERING (visible in status) until the backoff is over.
      const slot = this.#newRecord(now);
      slot.state = 'RECOVERING';
      slot.retryAt = now + delay;
      this.#lastProblem += `; next start in ${(delay / 1000).toFixed(1)}s`;
      this.#log.warn(`replica ${slot.id} waits ${(delay / 1000).toFixed(1)}s before starting (crash backoff)`, { scope: 'controller' });
    }
    this.#deps.changed();
  }

  #checkHealth(r: ReplicaRecord, now: number): boolean {
    if (r.healthPendingSince !== undefined) {
      if (now - r.healthPendingSince >= this.plan.health_check_timeout_s * 1000) {
        r.healthPendingSince = undefined;
        return this.#healthFailed(r, `checkHealth() did not answer within ${this.plan.health_check_timeout_s}s`);
      }
      return false;
    }
    if (now >= r.nextHealthAt) {
      r.healthSeq++;
      r.healthPendingSince = now;
      r.nextHealthAt = now + this.plan.health_check_period_s * 1000;
      r.proc?.send({ t: 'health', seq: r.healthSeq });
    }
    return false;
  }

  #healthFailed(r: ReplicaRecord, why: string): boolean {
    r.healthFailures++;
    this.#log.warn(`replica ${r.id} health check failed (${r.healthFailures}/${HEALTH_FAILURE_THRESHOLD}): ${why}`, { scope: 'controller' });
    if (r.healthFailures < HEALTH_FAILURE_THRESHOLD || r.state !== 'RUNNING') return false;
    this.#lastProblem = `replica ${r.id} failed ${HEALTH_FAILURE_THRESHOLD} health checks: ${why}`;
    return this.#stop(r, this.#deps.now(), 'unhealthy');
  }

  #reconfigure(r: ReplicaRecord): void {
    r.reconfigurePending = true;
    // Its own sequence: reusing the health check's would orphan a health reply in flight.
    r.proc?.send({ t: 'reconfigure', seq: ++this.#reconfigureSeq, user_config: this.plan.user_config });
  }

  /** Takes a replica out of routing now; the `stop` message follows once callers have seen that. */
  #stop(r: ReplicaRecord, now: number, reason: string): boolean {
    if (r.state === 'STOPPING') return false;
    const wasRouted = r.state === 'RUNNING';
    if (!r.proc) {
      this.replicas.delete(r.id);
      return false;
    }
    r.state = 'STOPPING';
    r.stopReason = reason;
    // A draining replica's requests finish elsewhere in time; its demand no longer counts here.
    this.autoscaler?.forget(r.id, now);
    r.stopAt = wasRouted ? now + DRAIN_PROPAGATION_MS : now;
    r.killAt = r.stopAt + this.plan.graceful_shutdown_timeout_s * 1000 + KILL_GRACE_MS;
    this.#log.info(`replica ${r.id} stopping: ${reason}`, { scope: 'controller' });
    return wasRouted;
  }

  #driveStopping(now: number): void {
    for (const r of this.replicas.values()) {
      if (r.state !== 'STOPPING' || !r.proc) continue;
      if (!r.stopSent && r.stopAt !== undefined && now >= r.stopAt) {
        r.stopSent = true;
        r.proc.send({ t: 'stop', graceful_shutdown_timeout_s: r.plan.graceful_shutdown_timeout_s });
      }
      if (r.killAt !== undefined && now >= r.killAt) {
        this.#log.warn(`replica ${r.id} did not stop in time; killing it`, { scope: 'controller' });
        r.killAt = undefined;
        r.proc.kill('SIGKILL');
      }
    }
  }

  /** Stops every replica at once (gateway shutdown); resolves when all have exited or been killed. */
  stopAllNow(now: number): void {
    this.deleting = true;
    for (const r of [...this.replicas.values()]) {
      if (r.state === 'RECOVERING' || !r.proc) {
        this.replicas.delete(r.id);
        continue;
      }
      this.#stop(r, now, 'gateway shutting down');
      r.stopAt = now;
    }
    this.#driveStopping(now);
  }

  /** True when a deleted deployment has no replica left. */
  get gone(): boolean {
    return this.deleting && this.replicas.size === 0;
  }

  routing(): DeploymentRouting {
    const replicas = [];
    for (const r of this.replicas.values()) {
      if (r.state === 'RUNNING') replicas.push({ replica_id: r.id, socket_path: r.socketPath, models: r.models });
    }
    const status = this.status();
    const failed = (status === 'DEPLOY_FAILED' || status === 'UNHEALTHY' || this.deleting) && replicas.length === 0;
    return {
      deployment_id: this.id,
      replicas,
      max_ongoing_requests: this.plan.max_ongoing_requests,
      max_queued_requests: this.plan.max_queued_requests,
      availability: failed ? 'failed' : 'ok',
      message: this.message(),
    };
  }

  status(): DeploymentStatus {
    if (this.failedMessage) return 'DEPLOY_FAILED';
    const active = this.#active();
    const current = active.filter((r) => this.#isCurrent(r));
    const running = current.filter((r) => r.state === 'RUNNING').length;
    const hasOld = active.length !== current.length;
    if (!this.#reachedTarget || hasOld) return 'UPDATING';
    // A user_config change is an update too until every running replica has run reconfigure():
    // `apply` waits for HEALTHY, which must mean the new config is live.
    if (current.some((r) => r.state === 'RUNNING' && r.userConfigVersion !== this.plan.versions.user_config)) return 'UPDATING';
    const recovering = current.some((r) => r.state === 'RECOVERING');
    if (running < this.target && (recovering || this.#crashStreak > 1)) return 'UNHEALTHY';
    if (running < this.target) return this.#scaling === 'down' ? 'DOWNSCALING' : 'UPSCALING';
    if (current.length > this.target || this.#scaling === 'down' && [...this.replicas.values()].some((r) => r.state === 'STOPPING')) return 'DOWNSCALING';
    return 'HEALTHY';
  }

  message(): string {
    if (this.failedMessage) return this.failedMessage;
    const s = this.status();
    if (s === 'UNHEALTHY' || (s === 'UPDATING' && this.#startFailures > 0)) return this.#lastProblem;
    // Below target with no target change: replacing a replica that crashed (or failed its health
    // checks). Say which and why, or status shows UPSCALING with no reason.
    if (s === 'UPSCALING' && this.#scaling === undefined && this.#lastProblem) return `${this.#lastProblem}; replacing it`;
    if ((s === 'UPSCALING' || s === 'DOWNSCALING') && this.#autoscaleReason) return `autoscaling: ${this.#autoscaleReason}`;
    return this.#drift ?? '';
  }
}

function describe(e: RemoteError): string {
  return `${e.name}: ${e.message}`;
}
