/**
 * One proxied request, from route match to the last byte. It is its own undici dispatch handler,
 * so a request costs one object instead of a set of closures, and every outcome (response,
 * retry, timeout, client gone, replica died) is decided in one place.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ERRORS, SwitchyardError, type ErrorDef } from '../errors.ts';
import { HEADERS } from '../replica/protocol.ts';
import type { Lease, Router } from '../router/router.ts';
import { forwardResponseHeaders } from './hop-by-hop.ts';
import type { Upstreams } from './upstreams.ts';

type DispatchController = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0];

/** Connect-time failures: nothing of the request reached the replica, so another may take it. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
/**
 * Once the request is on a connection (onRequestStart ran), these still prove the replica's code
 * never saw it: the write failed (EPIPE: the peer was gone), or the peer vanished with bytes
 * unread in its socket (a Unix socket reports ECONNRESET only then; a kill -9 of an idle replica
 * shows up this way on its pooled connection). A clean close after the write (UND_ERR_SOCKET,
 * "other side closed") means the replica read the request and died running it: no retry, 502,
 * or one request that crashes its replica would crash them all.
 */
const NOT_DELIVERED_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'EPIPE', 'ECONNRESET']);
/** A request is tried on at most this many replicas. */
const MAX_ATTEMPTS = 3;

export interface ExchangeInit {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly router: Router;
  readonly upstreams: Upstreams;
  readonly path: string;
  readonly headers: string[];
  readonly requestId: string;
  readonly hasBody: boolean;
  readonly maxBodyBytes: number;
  readonly timeoutMs: number | undefined;
  readonly onDone: (status: number, error: string | undefined) => void;
}

export class Exchange implements Dispatcher.DispatchHandler {
  readonly #i: ExchangeInit;
  #lease: Lease | undefined;
  #controller: DispatchController | undefined;
  #queueAbort: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Set once we decide the outcome (timeout, body too large, client gone): later errors are ours. */
  #failure: SwitchyardError | 'client_gone' | undefined;
  #finished = false;
  #bodySent = false;
  #rejected = false;
  #attempts = 0;
  #excluded: Set<string> | undefined;

  constructor(init: ExchangeInit) {
    this.#i = init;
  }

  start(): void {
    const { res, timeoutMs } = this.#i;
    res.once('close', () => {
      if (!this.#finished) this.#fail('client_gone');
    });
    if (timeoutMs !== undefined) this.#timer = setTimeout(() => this.#fail(ERRORS.TIMEOUT), timeoutMs);
    this.#route();
  }

  #route(): void {
    const options = { exclude: this.#excluded, modelId: this.#modelId() };
    const lease = this.#i.router.tryAcquire(options);
    if (lease) return this.#dispatch(lease);
    this.#queueAbort = new AbortController();
    this.#i.router.acquire({ ...options, signal: this.#queueAbort.signal }).then(
      (l) => {
        this.#queueAbort = undefined;
        if (this.#finished) l.release();
        else this.#dispatch(l);
      },
      (err) => {
        this.#queueAbort = undefined;
        if (this.#finished) return;
        if (err instanceof SwitchyardError) this.#respondError(err);
        else this.#finish(499, 'client_gone');
      },
    );
  }

  #modelId(): string | undefined {
    const v = this.#i.req.headers[HEADERS.MODEL_ID];
    return typeof v === 'string' && v !== '' ? v : undefined;
  }

  #dispatch(lease: Lease): void {
    this.#lease = lease;
    this.#attempts++;
    const { req, hasBody } = this.#i;
    let body: NodeJS.ReadableStream | null = null;
    if (hasBody) body = req.headers['content-length'] === undefined ? this.#limitedBody() : req;
    this.#i.upstreams.get(lease.replica.socket_path).dispatch(
      { path: this.#i.path, method: req.method ?? 'GET', headers: this.#i.headers, body: body as never },
      this,
    );
  }

  /** A chunked body has no declared length: count it on the way and stop at max_body_bytes. */
  #limitedBody(): Transform {
    let seen = 0;
    const max = this.#i.maxBodyBytes;
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        seen += chunk.length;
        if (seen > max) {
          this.#fail(ERRORS.BODY_TOO_LARGE);
          cb(new SwitchyardError(ERRORS.BODY_TOO_LARGE));
          return;
        }
        cb(null, chunk);
      },
    });
    return this.#i.req.pipe(counter);
  }

  onRequestStart(controller: DispatchController): void {
    this.#controller = controller;
    if (this.#finished || this.#failure) controller.abort(new Error('request already ended'));
  }

  onBodySent(): void {
    this.#bodySent = true;
  }

  onResponseStart(controller: DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusText?: string): void {
    if (this.#finished) return;
    // The replica refused before reading anything (at capacity or stopping): try another one.
    if (statusCode === 503 && headers[HEADERS.REJECTED] !== undefined && !this.#bodySent && !this.#i.hasBody) {
      this.#rejected = true;
      controller.abort(new Error('rejected by replica'));
      return;
    }
    const out = forwardResponseHeaders(headers);
    // The replica's error marker is for the gateway, not the client.
    delete out[HEADERS.ERROR];
    out[HEADERS.REQUEST_ID] = this.#i.requestId;
    // The handler's status text (`new Response(body, { statusText })`) reaches the client too.
    if (statusText) this.#i.res.writeHead(statusCode, statusText, out);
    else this.#i.res.writeHead(statusCode, out);
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    if (this.#finished) return;
    const res = this.#i.res;
    if (!res.write(chunk)) {
      // The client reads slower than the replica writes: stop reading from the replica.
      controller.pause();
      res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.#finished) return;
    this.#i.res.end();
    this.#finish(this.#i.res.statusCode, undefined);
  }

  onResponseError(_controller: DispatchController, err: Error): void {
    if (this.#finished) return;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const retryable = this.#rejected || (!this.#bodySent && !this.#i.hasBody && !this.#i.res.headersSent &&
      (this.#controller === undefined ? CONNECT_ERRORS : NOT_DELIVERED_ERRORS).has(code));
    this.#rejected = false;
    if (this.#failure === undefined && retryable && this.#attempts < MAX_ATTEMPTS) {
      const lease = this.#lease!;
      this.#lease = undefined;
      (this.#excluded ??= new Set()).add(lease.replica.replica_id);
      lease.release();
      this.#controller = undefined;
      this.#route();
      return;
    }
    if (this.#failure === 'client_gone') return this.#finish(499, 'client_gone');
    if (this.#failure) return this.#respondError(this.#failure);
    if (this.#i.res.headersSent) {
      // Mid-stream: the only honest signal left is a cut connection.
      this.#i.res.destroy();
      return this.#finish(this.#i.res.statusCode, ERRORS.REPLICA_DIED.code);
    }
    this.#respondError(new SwitchyardError(ERRORS.REPLICA_DIED,
      `Replica ${this.#lease?.replica.replica_id ?? ''} failed before answering: ${err.message}`));
  }

  /** We decided the outcome (timeout, body too large, client gone): stop whatever is in progress. */
  #fail(why: ErrorDef | 'client_gone'): void {
    if (this.#finished || this.#failure) return;
    const queued = this.#queueAbort !== undefined;
    const failure = why === 'client_gone' ? why
      : new SwitchyardError(why, why === ERRORS.TIMEOUT ? timeoutMessage(this.#i.timeoutMs, queued ? 'queued' : 'executing') : undefined);
    this.#failure = failure;
    const reason = failure === 'client_gone' ? new Error('client disconnected') : failure;
    // The queue rejects, or onResponseError follows; either answers (504, 413) or just finishes.
    if (queued) this.#queueAbort!.abort(reason);
    else this.#controller?.abort(reason);
  }

  #respondError(err: SwitchyardError): void {
    const res = this.#i.res;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return this.#finish(res.statusCode, err.code);
    }
    writeError(res, err, this.#i.requestId, err.code === ERRORS.BODY_TOO_LARGE.code);
    this.#finish(err.status, err.code);
  }

  #finish(status: number, error: string | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#lease?.release();
    this.#lease = undefined;
    this.#i.onDone(status, error);
  }
}

/** Answers `{"error": CODE, "message": ...}` with the catalogue's status (and Retry-After for 503). */
export function writeError(res: ServerResponse, err: SwitchyardError, requestId: string, close = false): void {
  const body = JSON.stringify(err.toJSON());
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    [HEADERS.REQUEST_ID]: requestId,
  };
  if (err.status === 503) headers['retry-after'] = 1;
  // An unread body cannot be left on a keep-alive connection.
  if (close) headers.connection = 'close';
  res.writeHead(err.status, headers);
  res.end(body);
}

function timeoutMessage(ms: number | undefined, where: 'queued' | 'executing'): string {
  const s = (ms ?? 0) / 1000;
  return where === 'queued'
    ? `The request waited ${s}s (request_timeout_s) without a replica becoming free; it was not sent to any replica.`
    : `The handler did not finish within ${s}s (request_timeout_s); it was cancelled.`;
}
