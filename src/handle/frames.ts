/**
 * Reads the frames of a streaming handle call (protocol.ts: 1 byte type, 4 bytes big-endian
 * length, v8-serialized payload) from the response body as they arrive.
 */
import { deserialize } from 'node:v8';
import { FRAME, type RemoteError } from '../replica/protocol.ts';

export type Frame = { readonly type: 'chunk'; readonly value: unknown } | { readonly type: 'error'; readonly error: RemoteError };

export async function* readFrames(body: AsyncIterable<Buffer>): AsyncGenerator<Frame> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const type = buf[0];
      const payload = deserialize(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
      if (type === FRAME.ERROR) yield { type: 'error', error: payload as RemoteError };
      else yield { type: 'chunk', value: payload };
    }
  }
  if (buf.length > 0) throw new Error(`stream ended inside a frame (${buf.length} bytes left)`);
}
