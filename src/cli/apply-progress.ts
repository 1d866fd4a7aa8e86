/**
 * What `switchyard apply` shows and decides while a Plan rolls out, as pure functions of the
 * Plan, the status before the apply and the status now: one progress line per changing
 * Application or Deployment (printed only when it changes, so a long rollout is a short log),
 * and whether the apply has finished, failed, or is still going.
 */
import type { DeploymentAction, PlanDiff } from '../compile/types.ts';
import type { DeploymentStatusJson, StatusJson } from '../controller/status.ts';

/** Progress lines keyed by what they describe (`app` or `app/deployment`), in Plan order. */
export type ProgressLines = ReadonlyMap<string, string>;

export type ApplyOutcome =
  | { readonly state: 'pending' }
  | { readonly state: 'done' }
  | { readonly state: 'failed'; readonly message: string };

const VERB: Readonly<Record<DeploymentAction, string>> = {
  create: 'starting', restart: 'restarting', reconfigure: 'reconfiguring', scale: 'scaling', delete: 'deleting', unchanged: 'unchanged',
};

/**
 * One line per Application the Plan deletes and per Deployment it changes. For a restart,
 * "ready" counts only replicas of a version that did not run before the apply, so the count
 * climbs from 0 to the target as the rolling restart proceeds.
 */
export function progressLines(plan: PlanDiff, before: StatusJson, now: StatusJson): ProgressLines {
  const lines = new Map<string, string>();
  for (const app of plan.applications) {
    const live = now.applications[app.name];
    if (app.action === 'delete') {
      lines.set(app.name, live ? `${app.name}: deleting, ${replicas(replicaCount(Object.values(live.deployments)))} stopping` : `${app.name}: deleted`);
      continue;
    }
    for (const d of app.deployments) {
      if (d.action === 'unchanged') continue;
      const key = `${app.name}/${d.name}`;
      const state = live?.deployments[d.name];
      if (d.action === 'delete') {
        lines.set(key, state ? `${key}: deleting, ${replicas(state.replicas.length)} stopping` : `${key}: deleted`);
        continue;
      }
      if (!state) {
        lines.set(key, `${key}: ${VERB[d.action]}, waiting for the controller`);
        continue;
      }
      const old = new Set(d.action === 'restart' ? before.applications[app.name]?.deployments[d.name]?.replicas.map((r) => r.version) : []);
      const ready = state.replicas.filter((r) => r.state === 'RUNNING' && !old.has(r.version)).length;
      const count = `${ready}/${state.target_replicas} ${d.action === 'restart' ? 'new replicas' : 'replicas'} ready`;
      const stopping = state.replicas.filter((r) => r.state === 'STOPPING').length;
      const draining = stopping > 0 ? `, ${stopping} draining` : '';
      const message = state.message ? `: ${state.message}` : '';
      lines.set(key, state.status === 'HEALTHY' || state.status === 'DEPLOY_FAILED'
        ? `${key}: ${state.status}, ${count}${draining}${message}`
        : `${key}: ${VERB[d.action]} (${state.status}), ${count}${draining}${message}`);
    }
  }
  return lines;
}

/**
 * Done when every Application of the new spec is RUNNING with every Deployment HEALTHY, no
 * replaced replica still draining, and everything the Plan deletes gone; failed as soon as one
 * Application is DEPLOY_FAILED.
 */
export function applyOutcome(plan: PlanDiff, now: StatusJson): ApplyOutcome {
  const failed: string[] = [];
  let pending = false;
  for (const app of plan.applications) {
    const live = now.applications[app.name];
    if (app.action === 'delete') {
      if (live) pending = true;
      continue;
    }
    if (!live) {
      pending = true;
      continue;
    }
    if (live.status === 'DEPLOY_FAILED') {
      failed.push(`${app.name}: ${live.message || 'DEPLOY_FAILED'}`);
      continue;
    }
    const deployments = Object.entries(live.deployments);
    const leftOver = app.deployments.some((d) => d.action === 'delete' && live.deployments[d.name] !== undefined);
    // Replaced replicas still draining count as part of the rollout: when apply returns, only the new ones run.
    const draining = deployments.some(([, d]) => d.replicas.some((r) => r.state === 'STOPPING'));
    if (live.status !== 'RUNNING' || leftOver || draining || deployments.some(([, d]) => d.status !== 'HEALTHY')) pending = true;
  }
  if (failed.length > 0) return { state: 'failed', message: failed.join('; ') };
  return pending ? { state: 'pending' } : { state: 'done' };
}

function replicas(n: number): string {
  return `${n} replica${n === 1 ? '' : 's'}`;
}

function replicaCount(deployments: readonly DeploymentStatusJson[]): number {
  return deployments.reduce((n, d) => n + d.replicas.length, 0);
}
