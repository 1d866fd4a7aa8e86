/**
 * The framing of handle calls on a replica's RPC socket (`rpcSocketPath`): every frame is
 * `[type u8][call id u32 BE][length u32 BE][payload]`, many calls multiplexed on one connection
 * per (caller process, callee replica). Frames written in one tick leave in one socket write:
 * a call's CPU cost is dominated by per-write and per-read overhead, not by bytes.
 */
import type { Socket } from 'node:net';

export const RPC = Object.freeze({
  /** Caller -> callee: payload v8.serialize([method, requestId, modelId, args]). */
  CALL: 1,
  /** Caller -> callee: the caller gave up (signal aborted, stream returned early); no payload. */
  CANCEL: 2,
  /** Caller -> callee: the caller read CREDIT_CHUNKS more chunks of a stream; no payload. */
  CREDIT: 3,
  /** Callee -> caller: v8.serialize(result). */
  VALUE: 10,
  /** Callee -> caller: v8.serialize(RemoteError); the method threw. */
  ERROR: 11,
  /** Callee -> caller: the result is an async iterable; CHUNK frames follow; no payload. */
  STREAM: 12,
  /** Callee -> caller: v8.serialize(chunk). */
  CHUNK: 13,
  /** Callee -> caller: the stream ended normally; no payload. */
  END: 14,
  /** Callee -> caller: v8.serialize(RemoteError); the stream ended with an error. */
  STREAM_ERROR: 15,
  /** Callee -> caller: refused unread (max_ongoing_requests, or stopping): send it elsewhere. */
  REJECTED: 16,
});

export const HEADER_BYTES = 9;
/** A stream's chunks in flight (sent, not yet read by the caller) before the callee waits. */
export const STREAM_WINDOW = 256;
/** The caller grants credit in batches of this many chunks read. */
export const CREDIT_CHUNKS = 64;

const EMPTY = Buffer.alloc(0);

/** Gathers the frames written during one tick into one socket write. */
export class FrameWriter {
  readonly #socket: Socket;
  #pending: Buffer[] = [];
  #scheduled = false;
  #flushes = 0;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Queues a frame; returns the number of the flush that will carry it (see `flushes`). */
  write(type: number, id: number, payload: Buffer = EMPTY): number {
    const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
    frame[0] = type;
    frame.writeUInt32BE(id, 1);
    frame.writeUInt32BE(payload.length, 5);
    payload.copy(frame, HEADER_BYTES);
    this.#pending.push(frame);
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(flush, this);
    }
    return this.#flushes + 1;
  }

  /** How many batches were handed to the socket: a frame of a later batch never left. */
  get flushes(): number {
    return this.#flushes;
  }

  flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    if (this.#socket.destroyed) return;
    this.#flushes++;
    this.#socket.write(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
  }
}

function flush(writer: FrameWriter): void {
  writer.flush();
}

export type FrameHandler = (type: number, id: number, payload: Buffer) => void;

/**
 * Splits the bytes of a connection into frames, across reads. A frame larger than one read is
 * gathered as a list and joined once it is complete (joining at every read is quadratic).
 */
export class FrameReader {
  readonly #onFrame: FrameHandler;
  #parts: Buffer[] = [];
  #length = 0;
  /** Bytes needed before the first part holds a whole frame (a header, or header + payload). */
  #need = HEADER_BYTES;

  constructor(onFrame: FrameHandler) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    this.#parts.push(chunk);
    this.#length += chunk.length;
    if (this.#length < this.#need) return;
    let buf = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#length);
    let at = 0;
    this.#need = HEADER_BYTES;
    while (buf.length - at >= HEADER_BYTES) {
      const end = at + HEADER_BYTES + buf.readUInt32BE(at + 5);
      if (buf.length < end) {
        this.#need = end - at;
        break;
      }
      this.#onFrame(buf[at]!, buf.readUInt32BE(at + 1), buf.subarray(at + HEADER_BYTES, end));
      at = end;
    }
    if (at > 0) buf = buf.subarray(at);
    this.#parts = buf.length === 0 ? [] : [buf];
    this.#length = buf.length;
  }
}
