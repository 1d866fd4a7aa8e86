/** What the Controller knows about one Replica. Mutable, owned by its DeploymentState. */
import type { DeploymentPlan } from '../compile/types.ts';
import type { ReplicaProcess } from '../replica/launcher.ts';

export type ReplicaState = 'STARTING' | 'RUNNING' | 'STOPPING' | 'RECOVERING';

export interface ReplicaRecord {
  readonly id: string;
  /** The plan it was launched with; its code version is the replica's `version`. */
  readonly plan: DeploymentPlan;
  /** Its code version: the plan's, or that of the files on disk when they drifted (see compile/drift.ts). */
  version: string;
  state: ReplicaState;
  /** Absent for a RECOVERING slot (waiting out a crash backoff, no process yet). */
  proc: ReplicaProcess | undefined;
  readonly socketPath: string;
  readonly createdAt: number;
  readyAt: number | undefined;
  /** The user_config version this replica has applied. */
  userConfigVersion: string;
  reconfigurePending: boolean;
  /** Consecutive failed health checks. */
  healthFailures: number;
  healthSeq: number;
  healthPendingSince: number | undefined;
  nextHealthAt: number;
  /** When STOPPING: when the `stop` message goes out (after callers have seen it leave routing). */
  stopAt: number | undefined;
  stopSent: boolean;
  /** When STOPPING: when it is killed if it has not exited. */
  killAt: number | undefined;
  /** When RECOVERING: when a new process may start. */
  retryAt: number | undefined;
  /** Why it is stopping (logged when it exits). */
  stopReason: string | undefined;
  /** The start failure it reported (`failed` message), if any. */
  startError: string | undefined;
  ongoing: number;
  models: readonly string[];
}
