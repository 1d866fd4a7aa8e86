/**
 * The caller side of the handle-call socket (rpc-frames.ts): one connection per callee replica,
 * every call of this process to that replica multiplexed on it, frames of one tick sent in one
 * write. A connection that closes fails its calls: those whose CALL never left are marked
 * `unsent` (another replica may take them), the others died with the replica.
 */
import { addAbortListener } from 'node:events';
import { connect, type Socket } from 'node:net';
import { deserialize } from 'node:v8';
import { rpcSocketPath, type RemoteError } from '../replica/protocol.ts';
import { CREDIT_CHUNKS, FrameReader, FrameWriter, RPC } from '../replica/rpc-frames.ts';

/** One item of a streaming call: a chunk, or the error that ended it. */
export type Frame = { readonly type: 'chunk'; readonly value: unknown } | { readonly type: 'error'; readonly error: RemoteError };

/** The answer to a CALL, once it is known: a whole value or error, a refusal, or a stream. */
export type RpcReply =
  | { readonly kind: 'value' | 'error'; readonly payload: Buffer }
  | { readonly kind: 'rejected' }
  | { readonly kind: 'stream'; readonly stream: RpcStream };

/** A transport failure of one call; `unsent` when the callee cannot have seen it. */
export class RpcTransportError extends Error {
  readonly code: string;
  readonly unsent: boolean;
  readonly streaming: boolean;
  constructor(message: string, code: string, unsent: boolean, streaming = false) {
    super(message);
    this.code = code;
    this.unsent = unsent;
    this.streaming = streaming;
  }
}

interface Pending {
  resolve(reply: RpcReply): void;
  reject(err: Error): void;
  stream: RpcStream | undefined;
  stopListening: (() => void) | undefined;
  /** The writer's flush that carries the CALL frame. */
  batch: number;
}

/** The chunks of one streaming call, in order, as the consumer reads them. */
export class RpcStream {
  readonly #conn: RpcConnection;
  readonly #id: number;
  readonly #queue: (Frame | Error | null)[] = [];
  #wake: (() => void) | undefined = undefined;
  #done = false;
  #read = 0;

  constructor(conn: RpcConnection, id: number) {
    this.#conn = conn;
    this.#id = id;
  }

  /** From the connection: a frame, the end (`null`) or a failure (an Error). */
  push(item: Frame | Error | null): void {
    if (this.#done) return;
    if (item === null || item instanceof Error || item.type === 'error') this.#done = true;
    this.#queue.push(item);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next frame, or undefined at the end; throws a transport failure. */
  async next(): Promise<Frame | undefined> {
    while (this.#queue.length === 0) await new Promise<void>((resolve) => { this.#wake = resolve; });
    const item = this.#queue.shift()!;
    if (item === null) return undefined;
    if (item instanceof Error) throw item;
    if (item.type === 'chunk' && ++this.#read % CREDIT_CHUNKS === 0 && !this.#done) this.#conn.send(RPC.CREDIT, this.#id);
    return item;
  }

  /** The consumer stopped reading: the callee's generator is returned. */
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#conn.cancel(this.#id);
  }
}

export class RpcConnection {
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #calls = new Map<number, Pending>();
  readonly #onClose: () => void;
  #nextId = 0;
  #connected = false;
  #closed = false;
  #closeWhenIdle = false;

  constructor(socketPath: string, onClose: () => void) {
    this.#onClose = onClose;
    this.#socket = connect(rpcSocketPath(socketPath));
    this.#writer = new FrameWriter(this.#socket);
    const reader = new FrameReader((type, id, payload) => this.#onFrame(type, id, payload));
    this.#socket.once('connect', () => { this.#connected = true; });
    this.#socket.on('data', (chunk: Buffer) => reader.push(chunk));
    let error: NodeJS.ErrnoException | undefined;
    this.#socket.on('error', (err) => { error ??= err; });
    this.#socket.once('close', () => this.#fail(error));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one CALL (payload already serialized); resolves with its reply, rejects on transport failure or abort. */
  call(payload: Buffer, signal: AbortSignal | undefined): Promise<RpcReply> {
    return new Promise<RpcReply>((resolve, reject) => {
      if (this.#closed) return reject(new RpcTransportError('the connection is closed', 'ECONNRESET', true));
      const id = this.#nextId = (this.#nextId + 1) >>> 0;
      const pending: Pending = { resolve, reject, stream: undefined, stopListening: undefined, batch: 0 };
      this.#calls.set(id, pending);
      if (signal !== undefined) {
        const listener = addAbortListener(signal, () => {
          const reason = signal.reason instanceof Error ? signal.reason : new DOMException('The call was aborted.', 'AbortError');
          this.#settle(id);
          this.cancel(id);
          if (pending.stream !== undefined) pending.stream.push(reason);
          else reject(reason);
        });
        pending.stopListening = () => listener[Symbol.dispose]();
      }
      pending.batch = this.#writer.write(RPC.CALL, id, payload);
    });
  }

  send(type: number, id: number): void {
    if (!this.#closed) this.#writer.write(type, id);
  }

  cancel(id: number): void {
    if (!this.#calls.has(id) && this.#closed) return;
    this.#settle(id);
    this.send(RPC.CANCEL, id);
  }

  /** Closes once no call is in flight (the replica left the routing state but may still answer). */
  closeWhenIdle(): void {
    this.#closeWhenIdle = true;
    if (this.#calls.size === 0) this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#calls.get(id);
    if (pending === undefined) return undefined;
    this.#calls.delete(id);
    pending.stopListening?.();
    if (this.#closeWhenIdle && this.#calls.size === 0) this.#socket.end();
    return pending;
  }

  #onFrame(type: number, id: number, payload: Buffer): void {
    const pending = this.#calls.get(id);
    if (pending === undefined) return; // cancelled: late frames are dropped
    switch (type) {
      case RPC.VALUE:
        this.#settle(id);
        pending.resolve({ kind: 'value', payload });
        return;
      case RPC.ERROR:
        this.#settle(id);
        pending.resolve({ kind: 'error', payload });
        return;
      case RPC.REJECTED:
        this.#settle(id);
        pending.resolve({ kind: 'rejected' });
        return;
      case RPC.STREAM:
        pending.stream = new RpcStream(this, id);
        pending.resolve({ kind: 'stream', stream: pending.stream });
        return;
      case RPC.CHUNK:
        pending.stream?.push({ type: 'chunk', value: deserialize(payload) });
        return;
      case RPC.END:
        this.#settle(id);
        pending.stream?.push(null);
        return;
      case RPC.STREAM_ERROR:
        this.#settle(id);
        pending.stream?.push({ type: 'error', error: deserialize(payload) as RemoteError });
        return;
      default:
        this.#socket.destroy(new Error(`unknown frame type ${type} from the replica`));
    }
  }

  #fail(error: NodeJS.ErrnoException | undefined): void {
    this.#closed = true;
    this.#onClose();
    const refused = !this.#connected;
    const calls = [...this.#calls];
    this.#calls.clear();
    for (const [id, pending] of calls) {
      pending.stopListening?.();
      const unsent = refused || pending.batch > this.#writer.flushes;
      const code = refused ? (error?.code ?? 'ECONNREFUSED') : 'ECONNRESET';
      if (pending.stream !== undefined) {
        pending.stream.push(new RpcTransportError('the replica died while streaming', code, false, true));
      } else {
        pending.reject(new RpcTransportError(error?.message ?? 'the replica closed the connection', code, unsent));
      }
    }
  }
}

/** One connection per callee replica, dropped once the replica leaves the routing state. */
export class RpcConnections {
  readonly #connections = new Map<string, RpcConnection>();

  get(socketPath: string): RpcConnection {
    let conn = this.#connections.get(socketPath);
    if (conn === undefined || conn.closed) {
      const created: RpcConnection = new RpcConnection(socketPath, () => {
        if (this.#connections.get(socketPath) === created) this.#connections.delete(socketPath);
      });
      conn = created;
      this.#connections.set(socketPath, conn);
    }
    return conn;
  }

  retain(socketPaths: ReadonlySet<string>): void {
    for (const [path, conn] of this.#connections) {
      if (socketPaths.has(path)) continue;
      this.#connections.delete(path);
      conn.closeWhenIdle();
    }
  }

  async close(): Promise<void> {
    const conns = [...this.#connections.values()];
    this.#connections.clear();
    for (const c of conns) c.destroy();
  }
}
