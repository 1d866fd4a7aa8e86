import t from 'tap';
import { connect } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { CALL_PATH, FRAME, HEADERS } from '../../src/replica/protocol.ts';
import { get, startReady, type Replica } from './replica-harness.ts';

async function call(r: Replica, method: string, args: unknown[], headers: Record<string, string> = {}) {
  const res = await r.client.request({ path: CALL_PATH, method: 'POST', headers: { [HEADERS.METHOD]: method, ...headers }, body: serialize(args) });
  return { status: res.statusCode, kind: res.headers[HEADERS.KIND], headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

/** Splits a `stream` body into its frames. */
function frames(body: Buffer): { type: number; value: unknown }[] {
  const out = [];
  for (let at = 0; at < body.length;) {
    const type = body[at]!;
    const len = body.readUInt32BE(at + 1);
    out.push({ type, value: deserialize(body.subarray(at + 5, at + 5 + len)) });
    at += 5 + len;
  }
  return out;
}

t.test('handle calls (server side)', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });

  t.test('value: structured-clone values round trip', async (t) => {
    const args = [new Date(1700000000000), new Map([['k', 1n]]), 2n ** 70n, new Uint8Array([9, 8]), { nested: [1, 'x'] }];
    const res = await call(r, 'echo', args);
    t.equal(res.status, 200);
    t.equal(res.kind, 'value');
    t.same(deserialize(res.body), args);
    const back = deserialize(res.body) as unknown[];
    t.ok(back[0] instanceof Date);
    t.ok(back[1] instanceof Map);
    t.equal(typeof back[2], 'bigint');
    t.ok(back[3] instanceof Uint8Array);
  });

  t.test('stream: an async generator sends one frame per chunk', async (t) => {
    const res = await call(r, 'count', [3]);
    t.equal(res.kind, 'stream');
    t.same(frames(res.body), [0, 1, 2].map((value) => ({ type: FRAME.CHUNK, value })));
  });

  t.test('stream: an error mid-stream ends with an ERROR frame', async (t) => {
    const res = await call(r, 'badStream', []);
    t.equal(res.kind, 'stream');
    const f = frames(res.body);
    t.same(f[0], { type: FRAME.CHUNK, value: 1 });
    t.equal(f[1]!.type, FRAME.ERROR);
    t.match(f[1]!.value, { name: 'RangeError', message: 'stream broke' });
  });

  t.test('error: a throw keeps name, message and code', async (t) => {
    const res = await call(r, 'fail', []);
    t.equal(res.kind, 'error');
    const err = deserialize(res.body);
    t.match(err, { name: 'ModelError', message: 'no such model', code: 'E_MODEL' });
    t.match(err.stack, /kinds\.mjs/);
  });

  t.test('error: a result that cannot be cloned is a TypeError naming the method', async (t) => {
    const res = await call(r, 'bad', []);
    t.equal(res.kind, 'error');
    const err = deserialize(res.body);
    t.equal(err.name, 'TypeError');
    t.match(err.message, /^bad\(\) returned a value that cannot cross a process boundary: /);
  });

  t.test('error: unknown, lifecycle and Object methods are refused with the deployment named', async (t) => {
    for (const name of ['nope', 'toString', 'constructor', 'checkHealth', 'fetch', '__proto__']) {
      const res = await call(r, name, []);
      t.equal(res.kind, 'error', name);
      const err = deserialize(res.body);
      t.equal(err.name, 'TypeError');
      t.match(err.message, `deployment app#Dep has no method '${name}' that a handle can call`);
    }
  });

  t.test('the request context reaches methods and generator bodies', async (t) => {
    const v = await call(r, 'contextId', [], { 'x-request-id': 'call-7' });
    t.equal(deserialize(v.body), 'call-7');
    const s = await call(r, 'contextGen', [], { [HEADERS.MODEL_ID]: 'model-a' });
    t.same(frames(s.body), [{ type: FRAME.CHUNK, value: 'model-a' }]);
  });

  t.test('a caller that goes away returns the generator (its finally runs)', async (t) => {
    const body = serialize([]);
    const socket = connect(r.socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST ${CALL_PATH} HTTP/1.1\r\nhost: x\r\n${HEADERS.METHOD}: countForever\r\ncontent-length: ${body.length}\r\n\r\n`);
    socket.write(body);
    await new Promise((resolve) => socket.once('data', resolve));
    socket.destroy();
    let state;
    for (let i = 0; i < 100; i++) {
      state = JSON.parse((await get(r, '/state')).text);
      if (state.finallyRan) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t.equal(state.finallyRan, true);
  });
});

t.test('at max_ongoing_requests a handle call is refused before its body is read', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs', max_ongoing_requests: 1 });
  const busy = call(r, 'slowCall', [400]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const refused = await call(r, 'echo', [1]);
  t.equal(refused.status, 503);
  t.equal(refused.headers[HEADERS.REJECTED], '1');
  t.equal(JSON.parse(refused.body.toString()).error, 'unavailable');
  const plain = await get(r, '/string');
  t.equal(plain.status, 503, 'a body-less proxied request is refused too');
  t.equal(plain.headers[HEADERS.REJECTED], '1');
  const withBody = await get(r, '/echo', { method: 'POST', body: 'x' });
  t.equal(withBody.status, 200, 'a proxied request with a body is accepted (the Router caps those)');
  t.equal(deserialize((await busy).body), 'slow');
  t.equal((await call(r, 'echo', [2])).kind, 'value', 'accepted again once below the limit');
});
