/**
 * The replica's data plane: a keep-alive `node:http` server on the replica's Unix socket, which
 * serves proxied HTTP through the handler's `fetch`, and the handle-call socket next to it
 * (rpc-server.ts). It counts ongoing requests of both, refuses what it cannot take, cancels
 * calls whose caller went away, and drains on stop.
 *
 * The per-request path is kept lean on purpose (it is every request's overhead): no closures
 * per request (shared listeners read their state from the response), the WHATWG `Request` is
 * built only for `fetch`, and the AbortController only when a signal is read.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { ERRORS } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Handler } from './handler-module.ts';
import { HEADERS, rpcSocketPath } from './protocol.ts';
import { failResponse, refuse, sendError } from './error-response.ts';
import { CallContext, requestStorage, type ReplicaIdentity } from './request-context.ts';
import { HOP_BY_HOP, writeResult } from './response-writer.ts';
import { RpcCall, RpcServer } from './rpc-server.ts';
import { listenSocketFile } from '../net/listen.ts';

export interface ReplicaServerOptions {
  readonly identity: ReplicaIdentity;
  /** For error messages: `app#Deployment`. */
  readonly deploymentId: string;
  readonly handler: Handler;
  readonly maxOngoingRequests: number;
  readonly log: Logger;
}

const CONTEXT = Symbol('switchyard.callContext');
const SERVER = Symbol('switchyard.replicaServer');
type TrackedResponse = ServerResponse & { [CONTEXT]?: CallContext; [SERVER]?: ReplicaServer };

/** Reserved for the runtime (never passed to `fetch`); no route is served under it today. */
const INTERNAL_PREFIX = '/-/swy/';
const storage = requestStorage();

export class ReplicaServer {
  readonly identity: ReplicaIdentity;
  readonly deploymentId: string;
  readonly handler: Handler;
  readonly log: Logger;
  readonly #server: Server;
  /** Handle calls: framed and multiplexed on a second socket (rpc-server.ts). */
  readonly #rpc: RpcServer;
  readonly #max: number;
  #ongoing = 0;
  #draining = false;
  #onIdle: (() => void) | undefined = undefined;

  constructor(options: ReplicaServerOptions) {
    this.identity = options.identity;
    this.deploymentId = options.deploymentId;
    this.handler = options.handler;
    this.log = options.log;
    this.#max = options.maxOngoingRequests;
    this.#server = createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => this.#onRequest(req, res));
    // The proxy's pool decides when a connection is idle for too long; the replica only needs to
    // outlast it (undici trusts the `keep-alive: timeout` hint minus one second).
    this.#server.keepAliveTimeout = 60_000;
    // Streams and long calls are bounded by the gateway's request_timeout_s, not here.
    this.#server.headersTimeout = 60_000;
    this.#rpc = new RpcServer(this);
  }

  /** Requests being served now (handle calls and proxied requests). */
  get ongoing(): number {
    return this.#ongoing;
  }

  /**
   * Binds the Unix socket (and the handle-call socket next to it), replacing stale socket files
   * left by a crashed predecessor.
   */
  async listen(socketPath: string): Promise<void> {
    await this.#rpc.listen(rpcSocketPath(socketPath));
    await listenSocketFile(this.#server, socketPath);
  }

  /**
   * Stops taking work and waits up to `timeoutMs` for in-flight requests; the rest are then
   * cancelled (their signals abort, their connections close). Resolves true when all finished.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    this.#server.close();
    this.#server.closeIdleConnections();
    this.#rpc.stopAccepting();
    let finished = this.#ongoing === 0;
    if (!finished) {
      let timer: NodeJS.Timeout | undefined;
      finished = await new Promise<boolean>((resolve) => {
        this.#onIdle = () => resolve(true);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      clearTimeout(timer);
      this.#onIdle = undefined;
    }
    // Destroying the connections fires each response's 'close', which cancels its call.
    this.#server.closeAllConnections();
    this.#rpc.closeAll();
    return finished;
  }

  #onRequest(req: IncomingMessage, res: TrackedResponse): void {
    const url = req.url ?? '/';
    if (this.#draining) {
      refuse(res, ERRORS.UNAVAILABLE, 'The replica is stopping.', true);
      return;
    }
    if (url.startsWith(INTERNAL_PREFIX)) {
      sendError(res, ERRORS.NO_ROUTE, `No replica route ${req.method} ${url}; handle calls use the replica's handle-call socket.`);
      return;
    }
    // A proxied request with a body is streamed from the client and cannot be replayed: the
    // gateway's Router already caps requests per replica, so it is accepted and only requests
    // that raced the cap (without a body) are turned back.
    if (this.#ongoing >= this.#max && !hasBody(req)) {
      refuse(res, ERRORS.UNAVAILABLE, `The replica is at max_ongoing_requests (${this.#max}).`, false);
      return;
    }
    const headers = req.headers;
    const requestId = (headers[HEADERS.REQUEST_ID] as string | undefined) || randomUUID();
    const modelId = (headers[HEADERS.MODEL_ID] as string | undefined) ?? '';
    const ctx = new CallContext(this.identity, requestId, modelId);
    ctx.response = res;
    res[CONTEXT] = ctx;
    res[SERVER] = this;
    this.#ongoing++;
    res.once('close', onResponseClose);
    // Everything the call does, generator bodies included, runs inside its context.
    storage.run(ctx, serveFetch, this, req, res, ctx);
  }

  /**
   * An exception escaped the handler inside this call (a timer or callback it started threw):
   * answer the call as failed rather than leave its caller waiting for a response.
   */
  failCall(ctx: CallContext, err: unknown): void {
    if (ctx.response instanceof RpcCall) return ctx.response.fail(err);
    const res = ctx.response as ServerResponse | undefined;
    if (res !== undefined && !res.writableEnded) failResponse(this.log, res, ctx, err);
  }

  /**
   * Takes one more call unless stopping or at max_ongoing_requests; the caller of a refused call
   * may send it to another replica. Every admitted call ends with `callEnded()`.
   */
  admit(): boolean {
    if (this.#draining || this.#ongoing >= this.#max) return false;
    this.#ongoing++;
    return true;
  }

  /** A call ended (finished, failed or cut off). */
  callEnded(): void {
    if (--this.#ongoing === 0) this.#onIdle?.();
  }
}

/**
 * The one 'close' listener of every response (`this` is the response): counts the call down
 * and cancels it when the response did not finish (the caller went away, or stop timed out).
 */
function onResponseClose(this: TrackedResponse): void {
  const ctx = this[CONTEXT]!;
  if (!this.writableFinished) ctx.abort(new DOMException('The caller went away before the response finished.', 'AbortError'));
  this[SERVER]!.callEnded();
}

function hasBody(req: IncomingMessage): boolean {
  const h = req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

const BODYLESS = new Set(['GET', 'HEAD']);

/** The WHATWG Request for `fetch`: the path as proxied (route prefix already stripped). */
function buildRequest(req: IncomingMessage, ctx: CallContext): Request {
  const raw = req.rawHeaders;
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    headers.append(name, raw[i + 1]!);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: ctx.signal };
  if (!BODYLESS.has(method) && hasBody(req)) {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(`http://${req.headers.host || 'localhost'}${req.url}`, init);
}

function callFetch(handler: Handler, request: Request): unknown {
  return handler.fetch!(request);
}

async function serveFetch(server: ReplicaServer, req: IncomingMessage, res: ServerResponse, ctx: CallContext): Promise<void> {
  try {
    if (typeof server.handler.fetch !== 'function') {
      throw new TypeError(`deployment ${server.deploymentId} has no fetch() method, so it cannot serve HTTP; call it through a handle`);
    }
    let result = callFetch(server.handler, buildRequest(req, ctx));
    if (result instanceof Promise) result = await result;
    if (ctx.aborted) return;
    await writeResult(res, ctx, result);
  } catch (err) {
    failResponse(server.log, res, ctx, err);
  }
}

