/**
 * The wire between the gateway (Controller, Proxy) and a Replica process, and between replicas
 * (Handles). Three channels:
 *
 * 1. Control: Node's IPC channel of the child process (`process.send`), carrying the messages
 *    below. The replica exits by itself when this channel disconnects (the gateway is gone).
 * 2. Data: HTTP/1.1 over a Unix socket the replica listens on (`socket_path`), keep-alive.
 *    - Proxied HTTP: any path except under `/-/swy/` (reserved); the request as the client sent
 *      it with the route prefix stripped, plus the headers in `HEADERS`. The replica builds the
 *      WHATWG Request only for `fetch` and streams the response back.
 *    - Refusals: a 503 with `x-swy-rejected: 1` means the replica read none of the request (at
 *      max_ongoing_requests, or draining after `stop`): the caller may send it to another replica.
 * 3. Handle calls: frames on a second Unix socket (`rpcSocketPath(socket_path)`), one connection
 *    per (calling process, callee replica), calls multiplexed on it (src/replica/rpc-frames.ts):
 *    `[type u8][call id u32][length u32][payload]`. CALL carries v8.serialize([method,
 *    requestId, modelId, args]); the answer is VALUE, ERROR (a `RemoteError`), or STREAM then
 *    CHUNKs then END or STREAM_ERROR; REJECTED means what `x-swy-rejected` means for HTTP.
 *    CANCEL (caller gone, stream returned early) aborts the call's signal and returns its
 *    generator; a stream runs at most a window of chunks ahead of the caller (CREDIT). Calls
 *    count in the replica's ongoing requests with HTTP: one max_ongoing_requests cap, one drain.
 */
import type { JsonValue } from '../spec/types.ts';

export const HEADERS = Object.freeze({
  REQUEST_ID: 'x-request-id',
  FORWARDED_PREFIX: 'x-forwarded-prefix',
  /** Multiplexed model id, as the client sends it (Ray Serve's header name). */
  MODEL_ID: 'serve_multiplexed_model_id',
  /** Set on a data-plane error answered by the replica: the catalogue code (e.g. handler_error). */
  ERROR: 'x-swy-error',
  /** Set (to `1`) when the replica refused the request before reading any of it (at capacity). */
  REJECTED: 'x-swy-rejected',
  /** Application name of the caller-side context, for getRequestContext(). */
  APP: 'x-swy-app',
});

/**
 * Handle calls travel on a second Unix socket next to `socket_path`: framed and multiplexed
 * (src/replica/rpc-frames.ts), one connection per calling process. Derived, never configured.
 */
export function rpcSocketPath(socketPath: string): string {
  return `${socketPath}.rpc`;
}

/** An error as it crosses a process boundary. */
export interface RemoteError {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
  readonly stack?: string;
}

/** Where a replica can be reached, as published in the routing state. */
export interface ReplicaEndpoint {
  readonly replica_id: string;
  readonly socket_path: string;
  /** Multiplexed model ids loaded on this replica (from its load reports). */
  readonly models?: readonly string[];
}

/** What a handle (or the proxy) needs to route to one deployment. */
export interface DeploymentRouting {
  readonly deployment_id: string;
  /** Replicas that may take new requests (RUNNING and not draining). */
  readonly replicas: readonly ReplicaEndpoint[];
  readonly max_ongoing_requests: number;
  readonly max_queued_requests: number;
  /**
   * `ok`: requests wait for replicas when there are none yet (scale from zero, restart);
   * `failed`: DEPLOY_FAILED or UNHEALTHY with no replica that can serve: queued requests fail
   * at once with 503 `unavailable`.
   */
  readonly availability: 'ok' | 'failed';
  readonly message: string;
}

/* ---- Control messages, gateway -> replica ---- */

export interface InitMessage {
  readonly t: 'init';
  readonly replica_id: string;
  readonly deployment_id: string;
  readonly app: string;
  readonly deployment: string;
  readonly handler_path: string;
  readonly export_name: string | undefined;
  readonly args: JsonValue | undefined;
  /** Present when the spec sets user_config: reconfigure() is called before ready. */
  readonly user_config?: JsonValue;
  readonly has_user_config: boolean;
  readonly socket_path: string;
  readonly max_ongoing_requests: number;
  /** handle name -> DeploymentId. */
  readonly bindings: Readonly<Record<string, string>>;
  /** Routing for every bound deployment. */
  readonly routing: readonly DeploymentRouting[];
  /** How often the replica sends a `LoadMessage`. */
  readonly load_report_interval_ms: number;
}

export interface ReconfigureMessage { readonly t: 'reconfigure'; readonly seq: number; readonly user_config: JsonValue | undefined }
export interface HealthMessage { readonly t: 'health'; readonly seq: number }
export interface RoutingMessage { readonly t: 'routing'; readonly routing: readonly DeploymentRouting[] }
export interface StopMessage { readonly t: 'stop'; readonly graceful_shutdown_timeout_s: number }

export type ToReplica = InitMessage | ReconfigureMessage | HealthMessage | RoutingMessage | StopMessage;

/* ---- Control messages, replica -> gateway ---- */

export interface ReadyMessage { readonly t: 'ready' }
/** Import, construct or first reconfigure failed; the replica exits right after sending it. */
export interface FailedMessage {
  readonly t: 'failed';
  /** `listen`: the Unix socket could not be bound (after a successful construct). */
  readonly phase: 'import' | 'construct' | 'reconfigure' | 'listen';
  readonly error: RemoteError;
}
export interface ReconfiguredMessage { readonly t: 'reconfigured'; readonly seq: number; readonly error?: RemoteError }
export interface HealthReplyMessage { readonly t: 'health'; readonly seq: number; readonly error?: RemoteError }
/** Sent every load-report interval: for autoscaling (ongoing here, queued in this replica's handles). */
export interface LoadMessage {
  readonly t: 'load';
  readonly ongoing: number;
  /** DeploymentId -> requests waiting in this replica's handle queues for it. */
  readonly queued: Readonly<Record<string, number>>;
  /** Multiplexed model ids loaded on this replica; present once the handler uses multiplexed(). */
  readonly models?: readonly string[];
}

export type FromReplica = ReadyMessage | FailedMessage | ReconfiguredMessage | HealthReplyMessage | LoadMessage;
