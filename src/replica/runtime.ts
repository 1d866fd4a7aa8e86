/**
 * The replica runtime: brings one replica of a deployment up from an `init` message (import,
 * construct, first reconfigure, listen, `ready`), answers the Controller's control messages
 * (health, reconfigure, routing, stop), reports load, and never dies silently.
 */
import { unlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { createHandles, type HandlesSeam } from './handles-seam.ts';
import { constructHandler, importHandlerModule, PhaseError, pickExport, type Handler } from './handler-module.ts';
import { ReplicaServer } from './http-server.ts';
import { loadedModelIds } from './multiplexed.ts';
import type {
  DeploymentRouting, FailedMessage, FromReplica, HealthMessage, InitMessage, LoadMessage, ReconfigureMessage,
  RemoteError, StopMessage, ToReplica,
} from './protocol.ts';
import { rpcSocketPath } from './protocol.ts';
import { toRemoteError } from './remote-error.ts';
import { CallContext, getRequestContext } from './request-context.ts';

/** If the IPC channel never confirms a last message, exit anyway after this long. */
const SEND_GRACE_MS = 2_000;
/** The least time close() gets, even when draining used up graceful_shutdown_timeout_s. */
const MIN_CLOSE_MS = 1_000;

export class ReplicaRuntime {
  // The gateway stamps each forwarded line with the time and the replica id: the replica's own
  // lines carry neither, so they do not say it twice.
  #log: Logger = createLogger({ timestamps: false });
  #init: InitMessage | undefined;
  #handler: Handler | undefined;
  #server: ReplicaServer | undefined;
  #seam: HandlesSeam | undefined;
  #routing: readonly DeploymentRouting[] | undefined;
  #loadTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** Set once the replica has decided to exit with a failure; a later disconnect keeps it. */
  #exitCode = 0;

  constructor() {
    process.on('uncaughtException', (err) => this.#onUncaught(err));
    process.on('unhandledRejection', (reason) => {
      const ctx = getRequestContext();
      this.#log.error(`unhandled promise rejection: ${describe(reason)}`, { request_id: ctx?.requestId });
    });
    // Ctrl-C in a terminal signals the whole foreground process group, replicas included. The
    // gateway got it too and drains every replica in order (out of routing first, then `stop`);
    // dying here at once would fail the requests the drain exists to finish.
    process.on('SIGINT', () => this.#log.info('SIGINT: waiting for the gateway to drain this replica'));
    process.on('disconnect', () => {
      this.#log.warn('the gateway is gone (IPC channel closed); exiting');
      process.exit(this.#exitCode);
    });
    process.on('exit', () => {
      if (this.#server !== undefined && this.#init !== undefined) {
        removeSocket(this.#init.socket_path);
        removeSocket(rpcSocketPath(this.#init.socket_path));
      }
    });
  }

  onMessage(message: ToReplica): void {
    switch (message.t) {
      case 'init': void this.#start(message); break;
      case 'health': void this.#health(message); break;
      case 'reconfigure': void this.#reconfigure(message); break;
      case 'routing': this.#onRouting(message.routing); break;
      case 'stop': void this.#stop(message); break;
      default: this.#log.warn(`unknown control message ${JSON.stringify((message as { t?: unknown }).t)}`);
    }
  }

  async #start(init: InitMessage): Promise<void> {
    if (this.#init !== undefined) {
      this.#log.warn('ignoring a second init message');
      return;
    }
    this.#init = init;
    let handler: Handler;
    try {
      const mod = await importHandlerModule(init.handler_path);
      const exported = pickExport(mod, init.handler_path, init.export_name);
      this.#seam = createHandles({
        bindings: init.bindings,
        routing: this.#routing ?? init.routing,
        app: init.app,
        deployment: init.deployment,
        replicaId: init.replica_id,
      });
      const what = `${basename(init.handler_path)}${init.export_name === undefined ? '' : `#${init.export_name}`}`;
      handler = await constructHandler(exported, { args: init.args, handles: this.#seam.handles }, what);
      if (init.has_user_config) {
        if (typeof handler.reconfigure !== 'function') {
          throw new PhaseError('reconfigure', new Error('user_config is set but the handler has no reconfigure() method'));
        }
        try {
          await handler.reconfigure(init.user_config);
        } catch (err) {
          throw new PhaseError('reconfigure', err);
        }
      }
    } catch (err) {
      if (err instanceof PhaseError) this.#fail(err.phase, err.cause);
      else this.#fail('construct', err);
      return;
    }
    this.#handler = handler;
    if (this.#stopping) process.exit(0);
    const server = new ReplicaServer({
      identity: { app: init.app, deployment: init.deployment, replicaId: init.replica_id },
      deploymentId: init.deployment_id,
      handler,
      maxOngoingRequests: init.max_ongoing_requests,
      log: this.#log,
    });
    try {
      await server.listen(init.socket_path);
    } catch (err) {
      this.#fail('listen', err);
      return;
    }
    this.#server = server;
    this.#send({ t: 'ready' });
    this.#loadTimer = setInterval(() => this.#reportLoad(), init.load_report_interval_ms);
    this.#loadTimer.unref();
  }

  /** Tells the Controller why the replica cannot come up, then exits 1 once that is sent. */
  #fail(phase: FailedMessage['phase'], cause: unknown): void {
    this.#exitCode = 1;
    const error = toRemoteError(cause);
    this.#log.error(`${phase} failed: ${error.stack ?? `${error.name}: ${error.message}`}`);
    if (!process.connected) process.exit(1);
    setTimeout(() => process.exit(1), SEND_GRACE_MS);
    process.send!({ t: 'failed', phase, error } satisfies FailedMessage, undefined, undefined, () => process.exit(1));
  }

  async #health(message: HealthMessage): Promise<void> {
    let error: RemoteError | undefined;
    try {
      if (this.#handler === undefined) throw new Error('the replica is not ready yet');
      if (typeof this.#handler.checkHealth === 'function') await this.#handler.checkHealth();
    } catch (err) {
      error = toRemoteError(err);
    }
    this.#send(error === undefined ? { t: 'health', seq: message.seq } : { t: 'health', seq: message.seq, error });
  }

  async #reconfigure(message: ReconfigureMessage): Promise<void> {
    let error: RemoteError | undefined;
    try {
      const handler = this.#handler;
      if (handler === undefined) throw new Error('the replica is not ready yet');
      if (typeof handler.reconfigure === 'function') await handler.reconfigure(message.user_config);
      else if (message.user_config !== undefined) throw new Error('user_config is set but the handler has no reconfigure() method');
    } catch (err) {
      error = toRemoteError(err);
      this.#log.error(`reconfigure failed: ${error.stack ?? error.message}`);
    }
    this.#send(error === undefined ? { t: 'reconfigured', seq: message.seq } : { t: 'reconfigured', seq: message.seq, error });
  }

  #onRouting(routing: readonly DeploymentRouting[]): void {
    if (this.#seam === undefined) this.#routing = routing;
    else this.#seam.updateRouting(routing);
  }

  #reportLoad(): void {
    const models = loadedModelIds();
    const load: LoadMessage = {
      t: 'load',
      ongoing: this.#server?.ongoing ?? 0,
      queued: this.#seam?.queued() ?? {},
      ...(models === undefined ? {} : { models }),
    };
    this.#send(load);
  }

  /**
   * Graceful stop: no new work; in-flight requests get up to graceful_shutdown_timeout_s, then
   * are cancelled; then the handler's close() (bounded by what is left, at least a second).
   */
  async #stop(message: StopMessage): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#loadTimer);
    const server = this.#server;
    // Still importing or constructing: nothing is served yet, nothing to drain.
    if (server === undefined) process.exit(this.#exitCode);
    const budgetMs = message.graceful_shutdown_timeout_s * 1000;
    const deadline = Date.now() + budgetMs;
    const left = server.ongoing;
    const finished = await server.drain(budgetMs);
    if (!finished) this.#log.warn(`stop: requests still running after graceful_shutdown_timeout_s (${message.graceful_shutdown_timeout_s}s) were cancelled`, { in_flight_at_stop: left });
    const closeMs = Math.max(deadline - Date.now(), MIN_CLOSE_MS);
    await this.#bounded('handle client close', () => this.#seam?.close(), closeMs);
    const handler = this.#handler;
    if (handler !== undefined && typeof handler.close === 'function') await this.#bounded('close()', () => handler.close!(), closeMs);
    process.exit(0);
  }

  async #bounded(what: string, fn: () => unknown, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise((resolve) => { timer = setTimeout(() => { this.#log.warn(`${what} did not finish within ${ms} ms`); resolve(undefined); }, ms); }),
      ]);
    } catch (err) {
      this.#log.error(`${what} threw: ${describe(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  #onUncaught(err: unknown): void {
    const ctx = getRequestContext();
    if (ctx instanceof CallContext && this.#server !== undefined) {
      this.#log.error(`uncaught exception in a request: ${describe(err)}`, { request_id: ctx.requestId });
      this.#server.failCall(ctx, err);
      return;
    }
    this.#log.error(`uncaught exception outside any request; exiting: ${describe(err)}`);
    process.exit(1);
  }

  #send(message: FromReplica): void {
    if (process.connected) process.send!(message, undefined, undefined, ignoreSendError);
  }
}

function ignoreSendError(): void {
  // A closed channel means the gateway is gone; 'disconnect' ends the process.
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or never bound.
  }
}
