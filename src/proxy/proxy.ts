/**
 * The Proxy: the HTTP ingress on `http_options.port`. Per request it reads the current Snapshot
 * (one reference, swapped atomically by the Controller), matches a Route, and hands the request
 * to an Exchange that routes it to a replica of the app's ingress deployment.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matchRoute } from '../compile/route-table.ts';
import type { Snapshot } from '../controller/controller.ts';
import { ERRORS, SwitchyardError } from '../errors.ts';
import { HEADERS } from '../replica/protocol.ts';
import { RouterSet } from '../router/router-set.ts';
import type { HttpOptions } from '../spec/types.ts';
import { Exchange, writeError } from './exchange.ts';
import { forwardRequestHeaders } from './hop-by-hop.ts';
import { Upstreams } from './upstreams.ts';
import { listen } from '../net/listen.ts';

/** Headers the Proxy sets itself, so a client's copy is dropped. */
const OWN_HEADERS = new Set([HEADERS.REQUEST_ID, HEADERS.FORWARDED_PREFIX, 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
/** A client-chosen request id is echoed only when it is a sane token. */
const REQUEST_ID_RE = /^[\w.:@/+=-]{1,200}$/;

export interface RequestOutcome {
  readonly app: string | undefined;
  readonly deployment: string | undefined;
  readonly status: number;
  readonly error: string | undefined;
  readonly durationMs: number;
}

export interface ProxyOptions {
  readonly http: HttpOptions;
  /** Every finished request (metrics). */
  readonly onRequest?: (outcome: RequestOutcome) => void;
}

export class Proxy {
  readonly #server: Server;
  readonly #routers = new RouterSet();
  readonly #upstreams = new Upstreams();
  readonly #opts: ProxyOptions;
  #snapshot: Snapshot | undefined;
  #draining = false;
  #inflight = 0;

  constructor(options: ProxyOptions) {
    this.#opts = options;
    this.#server = createServer(
      {
        keepAliveTimeout: options.http.keep_alive_timeout_s * 1000,
        // Timeouts are ours (request_timeout_s), not node's default 300 s request timeout.
        requestTimeout: 0,
      },
      (req, res) => this.#handle(req, res),
    );
  }

  /** Takes a new Snapshot: routers and connection pools follow it. */
  update(snapshot: Snapshot): void {
    this.#routers.update(snapshot.deployments.values());
    const live = new Set<string>();
    for (const d of snapshot.deployments.values()) for (const r of d.replicas) live.add(r.socket_path);
    this.#upstreams.retain(live);
    this.#snapshot = snapshot;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listen(this.#server, host, port);
  }

  /** Requests queued in the Proxy's routers, per deployment (autoscaling metrics). */
  queued(): Record<string, number> {
    return this.#routers.queued();
  }

  /**
   * Stops taking connections, lets in-flight requests finish (bounded), then closes.
   * `/-/healthz` answers 503 from the start so load balancers move away first.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const deadline = Date.now() + timeoutMs;
    while (this.#inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.#server.closeAllConnections();
    await closed;
    await this.#upstreams.close();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const clientId = req.headers[HEADERS.REQUEST_ID];
    const requestId = typeof clientId === 'string' && REQUEST_ID_RE.test(clientId) ? clientId : randomUUID();
    if (url.charCodeAt(1) === 45 && url.startsWith('/-/')) {
      if (this.#builtin(url, res, requestId)) return;
    }
    const snapshot = this.#snapshot;
    const match = snapshot ? matchRoute(snapshot.routes, url) : undefined;
    const started = performance.now();
    if (!match) {
      writeError(res, new SwitchyardError(ERRORS.NO_ROUTE, `No application is routed at ${url.split('?')[0]}.`), requestId);
      this.#done(undefined, undefined, 404, ERRORS.NO_ROUTE.code, started);
      return;
    }
    const { route, strippedPath } = match;
    const http = this.#opts.http;
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > http.max_body_bytes) {
      writeError(res, new SwitchyardError(ERRORS.BODY_TOO_LARGE,
        `The request body (${length} bytes) is larger than max_body_bytes (${http.max_body_bytes}).`), requestId, true);
      this.#done(route.app, route.ingress, 413, ERRORS.BODY_TOO_LARGE.code, started);
      return;
    }
    const router = this.#routers.get(route.ingress);
    if (!router) {
      writeError(res, new SwitchyardError(ERRORS.UNAVAILABLE, `Application ${route.app} has no deployment ready to serve.`), requestId);
      this.#done(route.app, route.ingress, 503, ERRORS.UNAVAILABLE.code, started);
      return;
    }
    const headers = forwardRequestHeaders(req.rawHeaders, req.headers.connection, OWN_HEADERS);
    headers.push(HEADERS.REQUEST_ID, requestId);
    if (route.prefix !== '/') headers.push(HEADERS.FORWARDED_PREFIX, route.prefix);
    const remote = req.socket.remoteAddress;
    if (remote) headers.push('x-forwarded-for', remote);
    headers.push('x-forwarded-proto', 'http');
    this.#inflight++;
    new Exchange({
      req, res, router, upstreams: this.#upstreams, path: strippedPath, headers, requestId,
      hasBody: length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined,
      maxBodyBytes: http.max_body_bytes,
      timeoutMs: http.request_timeout_s === undefined ? undefined : http.request_timeout_s * 1000,
      onDone: (status, error) => {
        this.#inflight--;
        this.#done(route.app, route.ingress, status, error, started);
      },
    }).start();
  }

  #done(app: string | undefined, deployment: string | undefined, status: number, error: string | undefined, started: number): void {
    this.#opts.onRequest?.({ app, deployment, status, error, durationMs: performance.now() - started });
  }

  /** `/-/healthz` and `/-/routes`; false for other `/-/` paths (they may be routed to an app at `/`). */
  #builtin(url: string, res: ServerResponse, requestId: string): boolean {
    const path = url.split('?')[0];
    if (path === '/-/healthz') {
      const body = JSON.stringify({ status: this.#draining ? 'draining' : 'ok' });
      res.writeHead(this.#draining ? 503 : 200, { 'content-type': 'application/json', [HEADERS.REQUEST_ID]: requestId });
      res.end(body);
      return true;
    }
    if (path === '/-/routes') {
      const routes: Record<string, string> = {};
      for (const r of this.#snapshot?.routes ?? []) routes[r.prefix] = r.app;
      res.writeHead(200, { 'content-type': 'application/json', [HEADERS.REQUEST_ID]: requestId });
      res.end(JSON.stringify(routes));
      return true;
    }
    return false;
  }
}
