/**
 * The baselines of the HTTP benchmark, one process each:
 *
 * - `direct`: the hello fetch handler served in one process by a minimal node:http + WHATWG
 *   Request/Response adapter, the fair comparison for a gateway (it pays the same Request and
 *   Response construction a replica does, but no proxy hop);
 * - `plain`: a node:http server answering "hello, world" itself, the floor.
 *
 *   node bench/lib/direct-server.ts direct|plain
 *
 * Listens on a free loopback port and prints `listening PORT` on stdout.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import hello from './hello-handler.mjs';

const mode = process.argv[2];
if (mode !== 'direct' && mode !== 'plain') {
  console.error('usage: node bench/lib/direct-server.ts direct|plain');
  process.exit(2);
}

const BODY = 'hello, world';

function plain(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': BODY.length });
  res.end(BODY);
}

/** IncomingMessage -> Request, fetch(), Response -> ServerResponse: what any fetch adapter does. */
async function direct(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  const response = await hello.fetch(new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, init));
  const out: string[] = [];
  response.headers.forEach((value, name) => out.push(name, value));
  res.writeHead(response.status, out);
  if (response.body === null) return void res.end();
  const reader = response.body.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) res.write(chunk.value);
  res.end();
}

const server = createServer({ keepAliveTimeout: 30_000 }, mode === 'plain' ? plain : (req, res) => {
  direct(req, res).catch((err) => {
    res.destroy();
    console.error(err);
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
