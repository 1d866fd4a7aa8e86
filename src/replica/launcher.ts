/**
 * The seam between the Controller and replica processes. Every side effect on a replica (spawn,
 * message, kill) goes through a `ReplicaLauncher`, as every one in Ray Serve goes through its
 * ActorReplicaWrapper, so the Controller is tested with an in-memory launcher and a fake clock,
 * and end to end with the process launcher.
 */
import type { FromReplica, InitMessage, ToReplica } from './protocol.ts';

export interface ReplicaEvents {
  onMessage(message: FromReplica): void;
  /** Exactly once, when the process is gone. `reason` is readable: `exit code 1`, `signal SIGKILL`. */
  onExit(reason: string, code: number | null, signal: string | null): void;
}

export interface ReplicaProcess {
  readonly pid: number | undefined;
  send(message: ToReplica): void;
  /** Hard stop; graceful stop is the `stop` message. */
  kill(signal?: NodeJS.Signals): void;
}

export interface LaunchOptions {
  readonly init: InitMessage;
  /** Extra environment (the deployment's `env`). */
  readonly env: Readonly<Record<string, string>>;
}

export interface ReplicaLauncher {
  launch(options: LaunchOptions, events: ReplicaEvents): ReplicaProcess;
  /** Where the replica with this id should listen. */
  socketPathFor(replicaId: string): string;
  /** Removes what the launcher created (socket directory). */
  close(): Promise<void>;
}
