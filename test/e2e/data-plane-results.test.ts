/**
 * Every kind of `fetch` return value (CONTRACT section 3) through the real gateway and proxy,
 * streaming both ways, headers (hop-by-hop, x-forwarded-prefix) and a full-TypeScript handler.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { startGateway, tempDir } from '../helpers/gateway.ts';
import { nextChunk, raw, rawHead } from './data-plane-http.ts';

const KINDS = `
import { createHash } from 'node:crypto';
let release;
let finished = 0;
const gate = () => new Promise((r) => { release = r; });
const enc = new TextEncoder();
export default {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/response': {
        const headers = new Headers({ 'content-type': 'text/x-custom', 'x-custom': 'yes' });
        headers.append('set-cookie', 'a=1');
        headers.append('set-cookie', 'b=2');
        return new Response('created!', { status: 201, statusText: 'Made', headers });
      }
      case '/teapot': return new Response(null, { status: 418, headers: { 'x-why': 'short and stout' } });
      case '/sse': {
        let n = 0;
        const body = new ReadableStream({
          async pull(controller) {
            n++;
            if (n === 1) return controller.enqueue(enc.encode('data: one\\n\\n'));
            if (n === 2) { await gate(); return controller.enqueue(enc.encode('data: two\\n\\n')); }
            finished++;
            controller.close();
          },
        });
        return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
      }
      case '/gated-gen': return (async function* () {
        yield 'first;';
        await gate();
        yield 'second';
        finished++;
      })();
      case '/release': { const r = release; release = undefined; r?.(); return { released: r !== undefined }; }
      case '/finished': return { finished };
      case '/string': return 'hello, world';
      case '/bytes': return new Uint8Array([0, 1, 2, 250, 255]);
      case '/gen-strings': return (async function* () { yield 'a'; yield 'b'; yield 'c'; })();
      case '/gen-bytes': return (async function* () { yield new Uint8Array([65, 66]); yield new Uint8Array([67]); })();
      case '/undefined': return undefined;
      case '/json': return { a: 1, list: [true, null, 'x'], nested: { n: 2.5 } };
      case '/json-number': return 42;
      case '/headers': return Object.fromEntries(request.headers);
      case '/hash': {
        const h = createHash('sha256');
        let bytes = 0;
        let chunks = 0;
        for await (const c of request.body) { h.update(c); bytes += c.length; chunks++; }
        return { bytes, chunks, sha256: h.digest('hex') };
      }
      case '/echo': return new Response(request.body, { headers: { 'content-type': 'application/octet-stream' } });
      default: return new Response('no such path ' + url.pathname, { status: 404 });
    }
  },
};
`;

const TS_HANDLER = `
import { greet, Mood } from './lib/greet';
import type { Shout } from './lib/types';

enum Color { Red = 'red', Green = 'green' }

class Counter {
  constructor(private count: number, public readonly label: string) {}
  next(): number { return ++this.count; }
}

export default class Greeter {
  private counter: Counter;
  constructor(private readonly ctx: { args: { start: number } }) {
    this.counter = new Counter(ctx.args.start, 'hits');
  }
  async fetch(request: Request): Promise<Response> {
    const shout: Shout = { loud: true };
    return Response.json({
      color: Color.Green,
      greeting: greet('ts', Mood.Happy),
      hit: this.counter.next(),
      label: this.counter.label,
      shout,
    });
  }
}
`;

const GREET = `
export enum Mood { Happy = 1, Sad }
export function greet(name: string, mood: Mood): string {
  return \`hi \${name} (\${Mood[mood]})\`;
}
`;

t.test('return values, streaming and headers through the proxy', async (t) => {
  const dir = tempDir({
    'kinds.mjs': KINDS,
    'greeter.ts': TS_HANDLER,
    'lib/greet.ts': GREET,
    'lib/types.ts': 'export interface Shout { loud: boolean }\n',
    'serve.yaml': `
http_options: { max_body_bytes: 20000000 }
applications:
  - name: kinds
    route_prefix: /
    deployments: [{ name: Kinds, handler: ./kinds.mjs, max_ongoing_requests: 8 }]
  - name: ts
    route_prefix: /ts
    deployments: [{ name: Greeter, handler: ./greeter.ts, args: { start: 10 } }]
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const url = (p: string) => gw.http + p;

  t.test('a Response keeps its status, status text, headers and repeated set-cookie', async (t) => {
    const res = await raw(url('/response'));
    t.equal(res.status, 201);
    t.equal(res.statusText, 'Made');
    t.equal(res.text, 'created!');
    t.equal(res.headers['content-type'], 'text/x-custom');
    t.equal(res.headers['x-custom'], 'yes');
    t.same(res.headers['set-cookie'], ['a=1', 'b=2']);
    t.ok(res.headers['x-request-id'], 'request id added');
    const teapot = await raw(url('/teapot'));
    t.equal(teapot.status, 418);
    t.equal(teapot.statusText, "I'm a Teapot", 'the default reason phrase when the handler sets none');
    t.equal(teapot.headers['x-why'], 'short and stout');
    t.equal(teapot.text, '');
  });

  t.test('a string is text/plain, bytes are octet-stream, other values JSON, undefined 204', async (t) => {
    const s = await raw(url('/string'));
    t.equal(s.status, 200);
    t.equal(s.headers['content-type'], 'text/plain; charset=utf-8');
    t.equal(s.headers['content-length'], '12');
    t.equal(s.text, 'hello, world');

    const b = await raw(url('/bytes'));
    t.equal(b.headers['content-type'], 'application/octet-stream');
    t.same([...b.body], [0, 1, 2, 250, 255]);

    const j = await raw(url('/json'));
    t.equal(j.status, 200);
    t.match(j.headers['content-type'], /^application\/json/);
    t.same(JSON.parse(j.text), { a: 1, list: [true, null, 'x'], nested: { n: 2.5 } });
    t.same(JSON.parse((await raw(url('/json-number'))).text), 42);

    const u = await raw(url('/undefined'));
    t.equal(u.status, 204);
    t.equal(u.body.length, 0);
    t.ok(u.headers['x-request-id']);
  });

  t.test('async iterables stream chunked: strings as text/plain, bytes as octet-stream', async (t) => {
    const s = await raw(url('/gen-strings'));
    t.equal(s.status, 200);
    t.equal(s.headers['content-type'], 'text/plain; charset=utf-8');
    t.equal(s.headers['transfer-encoding'], 'chunked');
    t.equal(s.text, 'abc');
    const b = await raw(url('/gen-bytes'));
    t.equal(b.headers['content-type'], 'application/octet-stream');
    t.equal(b.text, 'ABC');
  });

  for (const [path, first, second] of [['/sse', 'data: one\n\n', 'data: two\n\n'], ['/gated-gen', 'first;', 'second']] as const) {
    t.test(`${path}: the first chunk arrives before the handler finishes`, async (t) => {
      const before = (await (await fetch(url('/finished'), { signal: AbortSignal.timeout(5000) })).json()).finished;
      const res = await rawHead(url(path));
      t.equal(res.statusCode, 200);
      if (path === '/sse') t.equal(res.headers['content-type'], 'text/event-stream');
      t.equal(await nextChunk(res), first, 'first chunk while the handler waits on its gate');
      const mid = (await (await fetch(url('/finished'), { signal: AbortSignal.timeout(5000) })).json()).finished;
      t.equal(mid, before, 'the handler has not finished yet');
      const released = await (await fetch(url('/release'), { signal: AbortSignal.timeout(5000) })).json();
      t.same(released, { released: true });
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (rest += c));
      res.resume();
      await new Promise((r) => res.once('end', r));
      t.equal(rest, second);
    });
  }

  t.test('a 5 MB request body streams to the handler; a 5 MB response streams back', async (t) => {
    const data = randomBytes(5 * 1024 * 1024);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const hashed = await raw(url('/hash'), { method: 'POST', body: data, headers: { 'content-length': data.length }, timeoutMs: 20_000 });
    t.equal(hashed.status, 200);
    const h = JSON.parse(hashed.text);
    t.equal(h.bytes, data.length);
    t.equal(h.sha256, sha256);
    t.ok(h.chunks > 1, `the handler read the body in pieces (${h.chunks}), not one buffered blob`);

    const pieces = [];
    for (let i = 0; i < data.length; i += 256 * 1024) pieces.push(data.subarray(i, i + 256 * 1024));
    const echoed = await raw(url('/echo'), { method: 'POST', body: pieces, timeoutMs: 20_000 });
    t.equal(echoed.status, 200);
    t.equal(echoed.body.length, data.length, 'a chunked upload is echoed whole');
    t.equal(createHash('sha256').update(echoed.body).digest('hex'), sha256);
  });

  t.test('hop-by-hop headers and those named by Connection never reach the handler', async (t) => {
    const res = await raw(url('/headers'), {
      headers: {
        connection: 'keep-alive, x-secret', 'x-secret': 'do not forward', 'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic abc', te: 'trailers', upgrade: 'websocket', 'x-kept': 'yes',
      },
    });
    t.equal(res.status, 200);
    const seen = JSON.parse(res.text);
    for (const h of ['connection', 'x-secret', 'keep-alive', 'proxy-authorization', 'te', 'upgrade']) {
      t.equal(seen[h], undefined, `${h} not forwarded`);
    }
    t.equal(seen['x-kept'], 'yes', 'end-to-end headers are forwarded');
    t.equal(seen['x-forwarded-prefix'], undefined, 'no x-forwarded-prefix for the / prefix');
    t.equal(seen['x-request-id'], res.headers['x-request-id']);
    t.equal(seen['x-forwarded-proto'], 'http');
  });

  t.test('a client cannot forge x-forwarded-prefix', async (t) => {
    const res = await raw(url('/headers'), { headers: { 'x-forwarded-prefix': '/evil' } });
    t.equal(JSON.parse(res.text)['x-forwarded-prefix'], undefined);
  });

  t.test('a .ts handler with enums, parameter properties and extensionless imports', async (t) => {
    const first = await raw(url('/ts/anything'));
    t.equal(first.status, 200, first.text);
    t.same(JSON.parse(first.text), { color: 'green', greeting: 'hi ts (Happy)', hit: 11, label: 'hits', shout: { loud: true } });
    const second = JSON.parse((await raw(url('/ts'))).text);
    t.equal(second.hit, 12, 'one instance per replica keeps its state');
  });
});
