/**
 * The seam between the replica runtime and the handle client (src/handle/). The runtime builds
 * `ctx.handles` here, hands every `routing` message here, and asks here for the queue lengths it
 * reports in `LoadMessage.queued`.
 */
import { createDeploymentHandle } from '../handle/deployment-handle.ts';
import { HandleClient } from '../handle/handle-client.ts';
import type { DeploymentRouting } from './protocol.ts';

export interface HandlesOptions {
  /** Binding name -> DeploymentId. */
  readonly bindings: Readonly<Record<string, string>>;
  /** Routing for every bound deployment, as of `init`. */
  readonly routing: readonly DeploymentRouting[];
  readonly app: string;
  readonly deployment: string;
  readonly replicaId: string;
}

export interface HandlesSeam {
  /** `ctx.handles`: one DeploymentHandle per binding. */
  readonly handles: Readonly<Record<string, unknown>>;
  /** A `routing` message from the Controller: new replica sets for bound deployments. */
  updateRouting(routing: readonly DeploymentRouting[]): void;
  /** DeploymentId -> requests waiting in this replica's handle queues. */
  queued(): Record<string, number>;
  /** The replica is stopping: fail queued calls, close connection pools. */
  close(): Promise<void>;
}

const EMPTY = Object.freeze({});

export function createHandles(options: HandlesOptions): HandlesSeam {
  if (Object.keys(options.bindings).length === 0) {
    return { handles: EMPTY, updateRouting() {}, queued: () => ({}), close: async () => {} };
  }
  const client = new HandleClient(options.routing, options.replicaId);
  const handles: Record<string, unknown> = {};
  for (const [name, target] of Object.entries(options.bindings)) handles[name] = createDeploymentHandle(client, target);
  return {
    handles: Object.freeze(handles),
    updateRouting: (routing) => client.updateRouting(routing),
    queued: () => client.queued(),
    close: () => client.close(),
  };
}
