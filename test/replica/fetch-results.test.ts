import t from 'tap';
import { connect } from 'node:net';
import { get, startReady } from './replica-harness.ts';

/** Every kind of value `fetch` may return, and how errors answer (CONTRACT sections 3 and 4). */
t.test('fetch results and errors', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });

  t.test('a string is text/plain', async (t) => {
    const res = await get(r, '/string');
    t.equal(res.status, 200);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    t.equal(res.text, 'hello');
  });

  t.test('a Uint8Array is application/octet-stream', async (t) => {
    const res = await get(r, '/bytes');
    t.equal(res.headers['content-type'], 'application/octet-stream');
    t.same([...res.bytes], [1, 2, 3]);
  });

  t.test('any other value is JSON', async (t) => {
    const res = await get(r, '/json');
    t.equal(res.headers['content-type'], 'application/json');
    t.same(JSON.parse(res.text), { a: 1, list: [true, null] });
  });

  t.test('undefined is 204', async (t) => {
    const res = await get(r, '/undefined');
    t.equal(res.status, 204);
    t.equal(res.text, '');
  });

  t.test('a Response keeps status and headers, repeated set-cookie, and drops hop-by-hop headers', async (t) => {
    const res = await get(r, '/response');
    t.equal(res.status, 201);
    t.equal(res.text, 'created');
    t.equal(res.headers['content-type'], 'text/x-custom');
    t.equal(res.headers['x-a'], '1');
    t.same(res.headers['set-cookie'], ['a=1', 'b=2']);
    t.equal(res.headers['te'], undefined);
    t.equal(res.headers['proxy-connection'], undefined);
  });

  t.test('an async generator of strings streams text/plain', async (t) => {
    const res = await get(r, '/gen');
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    t.equal(res.headers['transfer-encoding'], 'chunked');
    t.equal(res.text, 'abc');
  });

  t.test('an async generator whose first chunk is bytes streams octet-stream', async (t) => {
    const res = await get(r, '/gen-bytes');
    t.equal(res.headers['content-type'], 'application/octet-stream');
    t.equal(res.text, 'ab');
  });

  for (const path of ['/gated-sse', '/gated-gen']) {
    t.test(`${path}: the first chunk arrives before the handler finishes`, async (t) => {
      const res = await r.client.request({ path, method: 'GET' });
      const it = res.body[Symbol.asyncIterator]();
      const first = await Promise.race([
        it.next(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('first chunk was held back')), 3000)),
      ]);
      t.match(String(first.value), /first/);
      // Only now let the handler produce the rest.
      t.equal((await get(r, '/open')).text, 'opened');
      let rest = '';
      for (let s = await it.next(); !s.done; s = await it.next()) rest += String(s.value);
      t.match(rest, /second/);
      if (path === '/gated-sse') t.equal(res.headers['content-type'], 'text/event-stream');
    });
  }

  t.test('a throw is 500 handler_error with the error name and message and no stack', async (t) => {
    const res = await get(r, '/throw', { headers: { 'x-request-id': 'req-throw' } });
    t.equal(res.status, 500);
    t.equal(res.headers['x-swy-error'], 'handler_error');
    t.same(JSON.parse(res.text), { error: 'handler_error', message: 'TypeError: bad input' });
    t.notMatch(res.text, /at |kinds\.mjs/);
    // The stack goes to the replica's log, with the request id.
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.match(r.stderr(), /TypeError: bad input[\s\S]*kinds\.mjs[\s\S]*request_id=req-throw/);
  });

  t.test('an exception thrown by a timer a request started fails that request, not the replica', async (t) => {
    const res = await get(r, '/throw-later');
    t.equal(res.status, 500);
    t.same(JSON.parse(res.text), { error: 'handler_error', message: 'Error: timer blew up' });
    t.equal((await get(r, '/string')).text, 'hello', 'the replica keeps serving');
  });

  t.test('an uncaught BackPressureError is 503 backpressure with Retry-After', async (t) => {
    const res = await get(r, '/backpressure');
    t.equal(res.status, 503);
    t.equal(res.headers['retry-after'], '1');
    t.equal(JSON.parse(res.text).error, 'backpressure');
  });

  t.test('an uncaught TimeoutError is 504 timeout', async (t) => {
    const res = await get(r, '/timeout');
    t.equal(res.status, 504);
    t.equal(JSON.parse(res.text).error, 'timeout');
  });

  t.test('an error after streaming started cuts the stream', async (t) => {
    const res = await r.client.request({ path: '/stream-error', method: 'GET' });
    t.equal(res.statusCode, 200);
    await t.rejects(res.body.text());
  });

  t.test('a request body streams into the Request; hop-by-hop headers are dropped', async (t) => {
    const res = await get(r, '/echo?x=1', { method: 'POST', body: 'payload', headers: { 'content-type': 'text/x-test', host: 'example.test' } });
    t.same(JSON.parse(res.text), { method: 'POST', url: 'http://example.test/echo?x=1', body: 'payload', type: 'text/x-test', connection: null });
  });

  t.test('an unknown /-/swy/ path is 404 no_route', async (t) => {
    const res = await get(r, '/-/swy/nope');
    t.equal(res.status, 404);
    t.equal(JSON.parse(res.text).error, 'no_route');
  });

  t.test('a client disconnect aborts request.signal and the context signal', async (t) => {
    const socket = connect(r.socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /hang HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    const state = await poll(async () => JSON.parse((await get(r, '/state')).text), (s) => s.aborted === true);
    t.equal(state.aborted, true);
    t.equal(state.abortedContext, true);
  });

  t.test('a client disconnect returns a streaming generator so its finally runs', async (t) => {
    const socket = connect(r.socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /gen-forever HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    socket.destroy();
    const state = await poll(async () => JSON.parse((await get(r, '/state')).text), (s) => s.finallyRan === true);
    t.equal(state.finallyRan, true);
  });

  t.test('getRequestContext inside fetch, inside a generator, and outside a call', async (t) => {
    const res = await get(r, '/context', { headers: { 'x-request-id': 'rid-42', serve_multiplexed_model_id: 'm7' } });
    t.same(JSON.parse(res.text), {
      requestId: 'rid-42', app: 'app', deployment: 'Dep', replicaId: 'app#Dep#r1', multiplexedModelId: 'm7',
      signal: true, atImport: null, inConstructor: null,
    });
    const gen = await get(r, '/context-gen', { headers: { 'x-request-id': 'rid-gen' } });
    t.equal(gen.text, 'id=rid-gen');
    const none = JSON.parse((await get(r, '/context')).text);
    t.match(none.requestId, /^[0-9a-f-]{36}$/, 'a request id is generated when the caller sent none');
    t.equal(none.multiplexedModelId, '');
  });
});

async function poll<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
