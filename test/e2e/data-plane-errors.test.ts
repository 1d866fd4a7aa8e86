/**
 * Every data-plane error status through the real gateway (CONTRACT section 4): its code, its
 * JSON body, and what happened to the handler (never dispatched, cancelled, not retried).
 */
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { sleep, startGateway, tempDir } from '../helpers/gateway.ts';
import { raw, rawHead, nextChunk, waitForFile } from './data-plane-http.ts';

/** How a response body ends: 'end' (complete) or 'cut' (the connection closed mid-body). */
function ending(res: IncomingMessage): Promise<'end' | 'cut'> {
  return new Promise((resolve) => {
    res.on('error', () => resolve('cut'));
    res.on('end', () => resolve('end'));
    res.on('close', () => resolve(res.complete ? 'end' : 'cut'));
    res.resume();
  });
}

const HANDLER = `
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default class Faulty {
  constructor({ args }) {
    this.dir = args.dir;
    this.served = 0;
  }
  mark(name, text = '') { writeFileSync(join(this.dir, name), text); }
  async fetch(request) {
    const url = new URL(request.url);
    this.served++;
    switch (url.pathname) {
      case '/throw': throw new Error('secret detail from the handler');
      case '/throw-later': return (async function* () { yield 'partial'; throw new Error('mid-stream'); })();
      case '/die':
        appendFileSync(join(this.dir, 'die-calls'), 'x');
        setTimeout(() => process.exit(3), 20);
        return new Promise(() => {});
      case '/hang': {
        const tag = url.searchParams.get('tag');
        this.mark(tag + '.started');
        await new Promise((resolve) => request.signal.addEventListener('abort', resolve, { once: true }));
        this.mark(tag + '.aborted', String(request.signal.reason?.name ?? request.signal.reason));
        return 'too late';
      }
      case '/stream-forever': {
        const tag = url.searchParams.get('tag');
        const self = this;
        return (async function* () {
          try {
            for (let i = 0; ; i++) { yield 'tick ' + i + '\\n'; await new Promise((r) => setTimeout(r, 50)); }
          } finally {
            self.mark(tag + '.returned');
          }
        })();
      }
      case '/read-body': {
        let bytes = 0;
        try { for await (const c of request.body) bytes += c.length; } catch (err) { this.mark('read-body.error', String(err)); }
        this.mark('read-body.done', String(bytes));
        return { bytes };
      }
      case '/served': return { served: this.served - 1 };
      default: return 'ok';
    }
  }
}
`;

const SLOW_START = `
export default class SlowStart {
  constructor() {
    this.served = 0;
    const until = Date.now() + 3000;
    while (Date.now() < until) {}
  }
  fetch(request) { return { served: ++this.served, path: new URL(request.url).pathname }; }
}
`;

t.test('error statuses, codes and bodies', async (t) => {
  const dir = tempDir({
    'faulty.mjs': HANDLER,
    'serve.yaml': '',
  });
  writeFileSync(join(dir, 'serve.yaml'), `
http_options: { max_body_bytes: 1000, request_timeout_s: 1.5 }
applications:
  - name: faulty
    route_prefix: /f
    deployments: [{ name: F, handler: ./faulty.mjs, args: { dir: ${JSON.stringify(dir)} }, max_ongoing_requests: 10 }]
`);
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const url = (p: string) => `${gw.http}/f${p}`;
  const json = (text: string) => JSON.parse(text);

  t.test('404 no_route', async (t) => {
    const res = await raw(`${gw.http}/elsewhere?x=1`);
    t.equal(res.status, 404);
    t.match(res.headers['content-type'], /^application\/json/);
    t.same(json(res.text), { error: 'no_route', message: 'No application is routed at /elsewhere.' });
    t.ok(res.headers['x-request-id']);
  });

  t.test('413 body_too_large with a content-length over max_body_bytes', async (t) => {
    const res = await raw(url('/read-body'), { method: 'POST', body: Buffer.alloc(1001, 97), headers: { 'content-length': 1001 } });
    t.equal(res.status, 413);
    const body = json(res.text);
    t.equal(body.error, 'body_too_large');
    t.match(body.message, /1001 bytes.*max_body_bytes \(1000\)/);
    t.ok(res.headers['x-request-id']);
    t.notOk(existsSync(join(dir, 'read-body.done')), 'never reached the handler');
    const ok = await raw(url('/read-body'), { method: 'POST', body: Buffer.alloc(1000, 97), headers: { 'content-length': 1000 } });
    t.equal(ok.status, 200, 'exactly max_body_bytes is fine');
    t.same(json(ok.text), { bytes: 1000 });
  });

  t.test('413 body_too_large with a chunked body that grows over max_body_bytes', async (t) => {
    const res = await raw(url('/read-body'), { method: 'POST', body: Array.from({ length: 6 }, () => Buffer.alloc(300, 98)) });
    t.equal(res.status, 413);
    t.equal(json(res.text).error, 'body_too_large');
    const small = await raw(url('/read-body'), { method: 'POST', body: [Buffer.alloc(300), Buffer.alloc(300)] });
    t.equal(small.status, 200);
    t.same(json(small.text), { bytes: 600 }, 'a chunked body under the limit passes whole');
  });

  t.test('500 handler_error, with no stack trace', async (t) => {
    const res = await raw(url('/throw'));
    t.equal(res.status, 500);
    const body = json(res.text);
    t.equal(body.error, 'handler_error');
    t.match(body.message, /secret detail from the handler/);
    t.notMatch(res.text, /\bat .*\.mjs|faulty\.mjs|\n/, 'no stack frames in the body');
    t.same(Object.keys(body).sort(), ['error', 'message']);
    t.equal(res.headers['x-swy-error'], undefined, 'internal headers stay internal');
    const end = Date.now() + 5000;
    while (!/handler error: Error: secret detail from the handler/.test(gw.log()) && Date.now() < end) await sleep(20);
    t.match(gw.log(), /handler error: Error: secret detail from the handler.*\n.*\bat /, 'the stack goes to the log');
  });

  t.test('a handler error after streaming began cuts the response after what was sent', async (t) => {
    const res = await rawHead(url('/throw-later'));
    t.equal(res.statusCode, 200);
    t.equal(await nextChunk(res), 'partial', 'the chunk produced before the error arrives');
    t.equal(await ending(res), 'cut', 'the client sees a cut stream, not a clean end');
  });

  t.test('502 replica_died when the replica exits mid-request; not retried elsewhere', async (t) => {
    const res = await raw(url('/die'));
    t.equal(res.status, 502);
    const body = json(res.text);
    t.equal(body.error, 'replica_died');
    t.ok(res.headers['x-request-id']);
    t.equal(readFileSync(join(dir, 'die-calls'), 'utf8'), 'x', 'the request reached one replica once');
    await gw.waitFor((s) => s.applications.faulty?.status === 'RUNNING' &&
      s.applications.faulty.deployments.F.replicas.some((r: any) => r.state === 'RUNNING'), 15_000, 'a replacement replica');
  });

  t.test('504 timeout while executing aborts the handler', async (t) => {
    const started = Date.now();
    const res = await raw(url('/hang?tag=exec'));
    t.equal(res.status, 504, res.text);
    const body = json(res.text);
    t.equal(body.error, 'timeout');
    t.match(body.message, /did not finish within 1.5s/);
    t.ok(Date.now() - started >= 1400, 'after request_timeout_s');
    t.ok(existsSync(join(dir, 'exec.started')));
    t.ok(await waitForFile(join(dir, 'exec.aborted')), "the handler's request.signal aborted");
  });

  t.test('504 cuts a response that is already streaming, and returns the generator', async (t) => {
    const res = await rawHead(url('/stream-forever?tag=timeout'));
    t.equal(res.statusCode, 200);
    t.match(await nextChunk(res), /tick 0/);
    t.equal(await ending(res), 'cut', 'no clean end for a cut stream');
    t.ok(await waitForFile(join(dir, 'timeout.returned')), "the generator's finally ran");
  });

  t.test('client disconnect aborts request.signal', async (t) => {
    const ac = new AbortController();
    const pending = fetch(url('/hang?tag=gone'), { signal: ac.signal }).catch((err) => err);
    t.ok(await waitForFile(join(dir, 'gone.started')), 'the handler started');
    ac.abort();
    await pending;
    t.ok(await waitForFile(join(dir, 'gone.aborted'), 1000), 'the handler saw the abort well before the timeout');
  });

  t.test('client disconnect returns a streaming generator', async (t) => {
    const res = await rawHead(url('/stream-forever?tag=gone-stream'));
    t.match(await nextChunk(res), /tick 0/);
    res.destroy();
    t.ok(await waitForFile(join(dir, 'gone-stream.returned'), 1000), "the generator's finally ran");
  });
});

t.test('504 timeout while queued: the request is never dispatched', async (t) => {
  const dir = tempDir({
    'slow.mjs': SLOW_START,
    'serve.yaml': `
http_options: { request_timeout_s: 1 }
applications:
  - name: slow
    route_prefix: /
    deployments: [{ name: S, handler: ./slow.mjs }]
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`, { waitRunning: false });
  t.teardown(() => gw.stop());
  // The only replica is still in its constructor: the request waits in the proxy's queue.
  const res = await raw(`${gw.http}/early`);
  t.equal(res.status, 504);
  const body = JSON.parse(res.text);
  t.equal(body.error, 'timeout');
  t.match(body.message, /waited 1s .*not sent to any replica/);
  await gw.waitFor((s) => s.applications.slow?.status === 'RUNNING', 15_000, 'slow RUNNING');
  await sleep(200);
  const after = await raw(`${gw.http}/late`);
  t.same(JSON.parse(after.text), { served: 1, path: '/late' }, 'the timed-out request never reached the handler');
});
