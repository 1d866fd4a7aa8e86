/**
 * Raw HTTP for the data-plane end-to-end tests: node:http instead of fetch where a test needs
 * what fetch forbids or hides (a `Connection` header, a chunked upload, exact framing, a half
 * read response). Every call is bounded by a timeout so a hang fails fast.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { existsSync } from 'node:fs';
import { sleep } from '../helpers/gateway.ts';

export interface RawResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

export interface RawOptions {
  readonly method?: string;
  readonly headers?: Record<string, string | number>;
  /** Written in these pieces (no content-length given: chunked) or as one buffer. */
  readonly body?: Buffer | string | readonly (Buffer | string)[];
  readonly timeoutMs?: number;
}

/** One request on a fresh connection; resolves with the whole response. */
export function raw(url: string, options: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, statusText: res.statusMessage ?? '', headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = options.body;
    if (Array.isArray(body)) {
      for (const piece of body) req.write(piece);
      req.end();
    } else {
      req.end(body as Buffer | string | undefined);
    }
  });
}

/** Starts a request and resolves with the response head; the body is left for the caller. */
export function rawHead(url: string, options: RawOptions = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Reads the next chunk of a response body (bounded). */
export function nextChunk(res: IncomingMessage, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no chunk within ${timeoutMs} ms`)), timeoutMs);
    res.once('data', (c: Buffer) => {
      clearTimeout(timer);
      res.pause();
      resolve(c.toString('utf8'));
    });
    res.once('error', reject);
    res.resume();
  });
}

/** Polls until `path` exists; false after `timeoutMs`. */
export async function waitForFile(path: string, timeoutMs = 5_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (existsSync(path)) return true;
    await sleep(20);
  }
  return existsSync(path);
}
