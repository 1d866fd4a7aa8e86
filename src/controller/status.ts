/**
 * The status JSON of CONTRACT section 5 (`GET /api/serve/applications/`, `status --json`),
 * derived from the Controller's state; `schemas/status.schema.json` describes it.
 */
import type { ApplicationPlan, DeploymentId } from '../compile/types.ts';
import type { DeploymentState, DeploymentStatus } from './deployment-state.ts';
import type { ReplicaState } from './replica-record.ts';

export type AppStatus = 'DEPLOYING' | 'RUNNING' | 'DEPLOY_FAILED' | 'UNHEALTHY' | 'DELETING';

export interface ReplicaStatusJson {
  replica_id: string;
  state: ReplicaState;
  pid: number | null;
  version: string;
  ongoing_requests: number;
  /** Seconds since the replica was created. */
  age_s: number;
}

export interface DeploymentStatusJson {
  status: DeploymentStatus;
  target_replicas: number;
  message: string;
  replicas: ReplicaStatusJson[];
}

export interface AppStatusJson {
  status: AppStatus;
  route_prefix: string | null;
  message: string;
  deployments: Record<string, DeploymentStatusJson>;
}

export interface StatusJson {
  applications: Record<string, AppStatusJson>;
}

export function buildStatus(
  apps: readonly { plan: ApplicationPlan; deleting: boolean }[],
  states: ReadonlyMap<DeploymentId, DeploymentState>,
  now: number = performance.now(),
): StatusJson {
  const applications: Record<string, AppStatusJson> = {};
  for (const { plan, deleting } of apps) {
    const deployments: Record<string, DeploymentStatusJson> = {};
    const problems: string[] = [];
    const statuses: DeploymentStatus[] = [];
    for (const d of plan.deployments) {
      const state = states.get(d.id);
      if (!state) continue;
      const status = state.status();
      const message = state.message();
      statuses.push(status);
      if (message && (status === 'DEPLOY_FAILED' || status === 'UNHEALTHY')) problems.push(`${d.name}: ${message}`);
      deployments[d.name] = {
        status,
        target_replicas: state.deleting ? 0 : state.target,
        message,
        replicas: [...state.replicas.values()].map((r) => ({
          replica_id: r.id,
          state: r.state,
          pid: r.proc?.pid ?? null,
          version: r.version,
          ongoing_requests: r.ongoing,
          age_s: Math.round((now - r.createdAt) / 100) / 10,
        })),
      };
    }
    applications[plan.name] = {
      status: deleting ? 'DELETING' : appStatus(statuses),
      route_prefix: plan.route_prefix,
      message: problems.join('; '),
      deployments,
    };
  }
  return { applications };
}

/** The app takes the state of its worst deployment. */
export function appStatus(statuses: readonly DeploymentStatus[]): AppStatus {
  if (statuses.includes('DEPLOY_FAILED')) return 'DEPLOY_FAILED';
  if (statuses.includes('UNHEALTHY')) return 'UNHEALTHY';
  if (statuses.includes('UPDATING')) return 'DEPLOYING';
  return 'RUNNING';
}
