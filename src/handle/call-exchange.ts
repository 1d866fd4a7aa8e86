/**
 * One handle call's HTTP exchange, on undici's `dispatch` with a handler of our own rather than
 * `Pool.request`: a value answer (the common case: small, whole) is collected straight into
 * buffers, with no body stream, no body mixin and no async resource per call; only a streaming
 * answer gets a Readable. Measured (one hop, small arguments, 2 shared cores): caller CPU per call
 * about 150 us instead of 200 us with `request()` + `body.arrayBuffer()`, p50 0.21 ms instead of
 * 0.25 ms (BENCHMARKS.md, "Handles").
 */
import { addAbortListener } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** The answer, once its head arrived: a whole body, or a stream of it (`x-swy-kind: stream`). */
export interface CallReply {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** The whole body; absent when `stream` is set. */
  readonly body: Buffer | undefined;
  /** The body as it arrives; `destroy()` closes the connection (the callee's generator is returned). */
  readonly stream: Readable | undefined;
}

export interface CallRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly signal: AbortSignal | undefined;
  /** Decides from the head whether the body is read whole or streamed. */
  readonly isStream: (headers: IncomingHttpHeaders) => boolean;
}

type Controller = Dispatcher.DispatchController;

/** Sends one call; resolves with the reply (whole or streaming), rejects on transport errors and aborts. */
export function exchange(dispatcher: Dispatcher, request: CallRequest): Promise<CallReply> {
  return new Promise<CallReply>((resolve, reject) => {
    const { signal } = request;
    if (signal?.aborted) return reject(signal.reason);
    let controller: Controller | undefined;
    let abortReason: Error | undefined;
    let stopListening: (() => void) | undefined;
    let settled = false;
    let ended = false;
    let stream: Readable | undefined;
    let statusCode = 0;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    if (signal !== undefined) {
      const listener = addAbortListener(signal, () => {
        abortReason = signal.reason instanceof Error ? signal.reason : new DOMException('The call was aborted.', 'AbortError');
        controller?.abort(abortReason);
      });
      stopListening = () => listener[Symbol.dispose]();
    }
    const fail = (err: Error) => {
      stopListening?.();
      if (stream !== undefined) stream.destroy(err);
      else if (!settled) {
        settled = true;
        reject(err);
      }
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (abortReason !== undefined) c.abort(abortReason);
      },
      onResponseStart(c, status, head) {
        statusCode = status;
        headers = head;
        if (!request.isStream(head)) return;
        stream = new Readable({ read: () => c.resume() });
        // The consumer going away (destroy) aborts the exchange: the connection closes.
        stream.once('close', () => {
          stopListening?.();
          if (!ended) c.abort(new Error('the stream was closed by its reader'));
        });
        settled = true;
        resolve({ statusCode, headers, body: undefined, stream });
      },
      onResponseData(c, chunk) {
        if (stream === undefined) chunks.push(chunk);
        else if (!stream.push(chunk)) c.pause();
      },
      onResponseEnd() {
        ended = true;
        stopListening?.();
        if (stream !== undefined) {
          stream.push(null);
          return;
        }
        settled = true;
        resolve({ statusCode, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), stream: undefined });
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };
    try {
      dispatcher.dispatch({ path: request.path, method: 'POST', headers: request.headers, body: request.body }, handler);
    } catch (err) {
      fail(err as Error);
    }
  });
}
