/**
 * The server side of handle calls: a Unix socket next to the replica's HTTP one
 * (`rpcSocketPath`), speaking the frames of rpc-frames.ts. Each CALL runs inside its own request
 * context and counts in the replica's ongoing requests, exactly like an HTTP request: the
 * max_ongoing_requests cap, load reports and drain are shared with proxied HTTP.
 *
 * Why not HTTP: a handle call over HTTP/1.1 cost ~250 us of CPU (both sides) in parsing,
 * headers and per-request objects; a frame on a multiplexed connection costs a fraction of it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { serveHandleCall } from './handle-call.ts';
import type { ReplicaServer } from './http-server.ts';
import { toRemoteError } from './remote-error.ts';
import { CallContext, requestStorage } from './request-context.ts';
import { CREDIT_CHUNKS, FrameReader, FrameWriter, RPC, STREAM_WINDOW } from './rpc-frames.ts';
import { listenSocketFile } from '../net/listen.ts';

const storage = requestStorage();

/** One call being served; `ctx.response` points at it so the runtime can fail it from outside. */
export class RpcCall {
  readonly #conn: RpcConnection;
  readonly id: number;
  readonly ctx: CallContext;
  #ended = false;
  /** Stream chunks the caller may still receive before it grants more credit. */
  credit = STREAM_WINDOW;
  #onCredit: (() => void) | undefined = undefined;
  streaming = false;

  constructor(conn: RpcConnection, id: number, ctx: CallContext) {
    this.#conn = conn;
    this.id = id;
    this.ctx = ctx;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Sends a frame; a final one (`last`) ends the call. Nothing is sent once the call ended. */
  send(type: number, payload: Buffer | undefined, last: boolean): void {
    if (this.#ended) return;
    this.#conn.writer.write(type, this.id, payload);
    if (last) this.end();
  }

  /** Counts the call down once (answered, cancelled, or its connection closed). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#conn.calls.delete(this.id);
    this.#onCredit?.();
    this.#conn.server.callEnded();
  }

  cancel(reason: unknown): void {
    this.ctx.abort(reason);
    this.end();
  }

  grant(): void {
    this.credit += CREDIT_CHUNKS;
    const wake = this.#onCredit;
    this.#onCredit = undefined;
    wake?.();
  }

  /** Resolves once the caller granted credit (or the call ended). */
  waitCredit(): Promise<void> {
    return new Promise((resolve) => {
      this.#onCredit = resolve;
    });
  }

  /** The connection's write buffer is full (a slow caller, or large chunks). */
  get congested(): boolean {
    return this.#conn.socket.writableNeedDrain;
  }

  /** Resolves once the connection drained (or closed). */
  drained(): Promise<void> {
    return new Promise((resolve) => this.#conn.drainWaiters.push(resolve));
  }

  /** An exception escaped the handler inside this call: answer it as failed. */
  fail(err: unknown): void {
    if (this.#ended) return;
    this.send(this.streaming ? RPC.STREAM_ERROR : RPC.ERROR, serialize(toRemoteError(err)), true);
  }
}

class RpcConnection {
  readonly server: ReplicaServer;
  readonly socket: Socket;
  readonly writer: FrameWriter;
  readonly calls = new Map<number, RpcCall>();
  /** Streams waiting for the socket to drain: one listener for all of them. */
  drainWaiters: (() => void)[] = [];

  constructor(server: ReplicaServer, socket: Socket) {
    this.server = server;
    this.socket = socket;
    this.writer = new FrameWriter(socket);
    const reader = new FrameReader((type, id, payload) => this.#onFrame(type, id, payload));
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => {});
    const wake = () => {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    };
    socket.on('drain', wake);
    socket.once('close', () => {
      wake();
      const reason = new DOMException('The caller went away before the call finished.', 'AbortError');
      for (const call of [...this.calls.values()]) call.cancel(reason);
    });
  }

  #onFrame(type: number, id: number, payload: Buffer): void {
    if (type === RPC.CALL) {
      if (!this.server.admit()) {
        this.writer.write(RPC.REJECTED, id);
        return;
      }
      let decoded: [string, string, string, unknown];
      try {
        decoded = deserialize(payload) as [string, string, string, unknown];
      } catch (err) {
        this.server.callEnded();
        this.writer.write(RPC.ERROR, id, serialize(toRemoteError(err)));
        return;
      }
      const [method, requestId, modelId, args] = decoded;
      const ctx = new CallContext(this.server.identity, requestId || randomUUID(), modelId ?? '');
      const call = new RpcCall(this, id, ctx);
      ctx.response = call;
      this.calls.set(id, call);
      // Everything the call does, generator bodies included, runs inside its context.
      storage.run(ctx, serveHandleCall, this.server, call, method, args);
    } else if (type === RPC.CANCEL) {
      this.calls.get(id)?.cancel(new DOMException('The caller cancelled the call.', 'AbortError'));
    } else if (type === RPC.CREDIT) {
      this.calls.get(id)?.grant();
    } else {
      this.socket.destroy(new Error(`unknown frame type ${type}`));
    }
  }
}

/** The RPC listener of one replica. */
export class RpcServer {
  readonly #replica: ReplicaServer;
  readonly #server: Server;
  readonly #connections = new Set<RpcConnection>();

  constructor(replica: ReplicaServer) {
    this.#replica = replica;
    this.#server = createServer((socket) => {
      const conn = new RpcConnection(this.#replica, socket);
      this.#connections.add(conn);
      socket.once('close', () => this.#connections.delete(conn));
    });
  }

  /** Binds the socket, replacing a stale file left by a crashed predecessor. */
  async listen(path: string): Promise<void> {
    await listenSocketFile(this.#server, path);
  }

  /**
   * No new connections. Open ones stay: calls arriving on them are REJECTED (so their callers
   * re-route) until `closeAll`; callers close them once the replica leaves their routing.
   */
  stopAccepting(): void {
    this.#server.close();
  }

  /** Cuts every connection: calls still running are cancelled. */
  closeAll(): void {
    for (const conn of this.#connections) conn.socket.destroy();
  }
}
